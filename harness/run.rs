//! The scenario suite as a libtest-mimic test binary: read the environment,
//! discover `scenarios/**/*.yaml`, make one trial per file (a malformed file is
//! a failing trial of its own), run them on one shared tokio runtime, and write
//! the reports. `tests/scenarios.rs` (and a user crate's own) only calls [`main`].

mod alloc;
mod ctx;
mod discover;
mod info;
mod order;
mod probe;
mod provisioned;
mod signal;
mod suite;
mod trials;
mod write;

internal!(load, progress, trial);

pub use crate::settings::{EXIT_INTERRUPTED, EXIT_SETUP};
pub use discover::discover;
pub use suite::{main, main_with, main_with_argv};
