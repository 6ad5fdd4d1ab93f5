//! Jobs on an endpoint, from submission to a terminal state: `drive` submits
//! once and polls, and every submitted job is owned by a guard that cancels it
//! if it is dropped before it is settled (a deadline, a panic, the trial's hard
//! deadline) or when the run is interrupted.

mod abort;
mod drive;
mod error;
mod guard;

pub use abort::Abort;
pub use drive::{drive_with, Finished, Observer, Watch};
pub use error::DriveError;
#[cfg(any(test, feature = "internals"))]
pub use drive::drive;
#[cfg(any(test, feature = "internals"))]
pub use guard::CancelFailure;
pub(crate) use guard::{drain, interrupt, interrupted, Canceller, InFlight};

#[cfg(test)]
mod tests;
