//! endpoint-harness: declarative regression tests for RunPod serverless ComfyUI
//! endpoints.
//!
//! The pipeline, one module per noun:
//! [`scenario`] (load a YAML file, with `file:line:col` diagnostics) ->
//! [`workflow`] (the ComfyUI graph and its `set:` overrides) ->
//! [`endpoint`] (the RunPod v2 client) -> [`poll`] (drive a job to a terminal
//! state, cancel on timeout) -> [`output`] (worker-comfyui output shapes) ->
//! [`checks`], [`budget`] and [`snapshot`] (verdicts) -> [`report`] (JSON, JUnit, Markdown, HTML).
//! [`trial`] runs one scenario through all of it; [`runner`] makes the libtest
//! binary; [`mock`] is the RunPod-compatible mock endpoint; [`target`] picks
//! the endpoint from the environment; [`redact`] keeps secrets out of output.

pub mod budget;
pub mod checks;
pub mod cost;
pub mod endpoint;
pub mod history;
pub mod hub;
pub mod mock;
pub mod model;
pub mod output;
mod paths;
mod png;
pub mod poll;
pub mod progress;
pub mod record;
pub mod redact;
pub mod report;
pub mod runner;
pub mod sample;
pub mod scaffold;
pub mod scenario;
pub mod schema;
pub mod snapshot;
pub mod target;
mod text;
pub mod trend;
pub mod trial;
pub mod wire;
pub mod workflow;
