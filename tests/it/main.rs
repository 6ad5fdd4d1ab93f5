//! The integration tests, as one test binary (one link instead of one per
//! file, as insta and nextest arrange theirs): each module is one area, and
//! `common` holds what they share (running the suite, the standalone mock,
//! a browser).
//!
//! `cargo test --test it` runs them all; `cargo test --test it -- load::` one area.

mod common;

mod architecture;
mod cli;
mod client;
mod comfyui_target;
mod docs;
mod drift_corpus;
mod e2e;
mod evidence;
mod fleet;
mod fuzz;
mod load;
mod loader;
mod local_target;
mod mock_api;
mod own_repo;
mod provision;
mod record_replay;
mod reliability;
mod report_browser;
mod report_consumers;
mod schemas;
mod sdk_compat;
mod selftest;
mod shards;
mod snapshots;
mod video;
mod worker_outputs;
