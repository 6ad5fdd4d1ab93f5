//! One scenario run end to end: build the request, submit and follow the job
//! on the target (within the in-flight cap), decode and check the output, save
//! the files, apply budgets, and turn it all into a [`ScenarioReport`].
//!
//! [`ScenarioReport`]: crate::model::ScenarioReport

pub mod env;
pub mod fingerprint;
mod evidence;
mod inspect;
pub mod once;
pub mod request;
pub mod run;
pub mod save;
pub mod stop;

pub use env::TrialEnv;
pub use run::{hard_deadline, invalid, run, without_runs};
