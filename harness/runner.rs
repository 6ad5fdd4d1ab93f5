//! The scenario suite as a libtest-mimic test binary: read the environment,
//! discover `scenarios/**/*.yaml`, make one trial per file (a malformed file is
//! a failing trial of its own), run them on one shared tokio runtime, and write
//! the reports. `harness/main.rs` only calls [`main`].

mod alloc;
mod ctx;
mod discover;
mod info;
mod order;
mod preflight;
mod provisioned;
mod settings;
mod signal;
mod suite;
mod trials;
mod write;

pub use discover::discover;
pub use settings::{EXIT_INTERRUPTED, EXIT_SETUP};
pub use suite::{main, main_with};
