//! Reference snapshots: the images an endpoint returned once and a person
//! accepted, compared on decoded pixels (never on file bytes: PNG metadata,
//! compression level and encoder do not matter).
//!
//! Layout: `snapshots/<scenario>/<n>.png` (the reference pixels, re-encoded by
//! us) and `<n>.snap` (a small metadata record in insta's `.snap` layout:
//! format, size, colour, hash and the tolerances in force). Per target variant
//! (`HARNESS_SNAPSHOT_VARIANT=a100-fp16`) references may live under
//! `snapshots/<scenario>/variants/<variant>/`, falling back to the default ones.
//!
//! Modes: `verify` (default, and always on CI) fails on a missing or changed
//! reference; locally it also writes the candidate as `<n>.png.new` + `<n>.snap.new`
//! for review (`endpoint-harness snapshots accept|reject`). `update` writes or
//! overwrites the references. Read `verify` first.

pub mod config;
// Only the corpus test and the benchmark read it.
#[cfg(any(test, feature = "internals"))]
pub mod corpus;
pub mod drift_model;
pub mod metrics;
pub mod provenance;
pub mod review;
pub mod store;
pub mod verify;

pub use config::{Candidate, Config, Mode, Pixels};
pub use provenance::Provenance;
pub use review::{calibrate, orphans, pending, resolve_pending, suggest};
pub use verify::{verify, Verifier};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod class_tests;
