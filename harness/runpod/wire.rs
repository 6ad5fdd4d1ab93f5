//! What crosses the wire: RunPod serverless v2 ([`runpod`]) and worker-comfyui
//! ([`worker`]) types, used alike by the client, the mock, the trial and the
//! recorder, so the two sides of every exchange share one definition.

pub mod runpod;
pub mod worker;

pub use runpod::{
    Health, JobState, Policy, PurgeAnswer, RunRequest, StatusAnswer, RETENTION_RUN,
    RETENTION_SYNC, RUNSYNC_LIMIT, RUN_LIMIT, WAIT_RANGE_MS,
};
#[cfg(any(test, feature = "internals"))]
pub use runpod::{Malformed, DEFAULT_WAIT_MS};
pub use worker::{
    InputImage, ItemType, JobProgress, OutputItem, WorkerInput, WorkerOutput, LEGACY_SUCCESS,
    SUCCESS_NO_IMAGES,
};
