//! The one small trait every target kind implements (a RunPod endpoint, the
//! mock, a local worker, ComfyUI itself): run a job to its end, download what
//! an answer points to, and report health where the target has it.

use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::http::EndpointError;
use crate::runpod::job::{DriveError, Finished, Watch};
use crate::runpod::output::Download;
use crate::runpod::wire::Health;

/// One job to run: the worker-comfyui request body, already serialised.
#[derive(Clone, Debug)]
pub struct JobRequest {
    /// `{"input": {"workflow": ..., "images": [...]}}`.
    pub body: Vec<u8>,
    /// `/runsync` (then poll) instead of `/run` (then poll), where the target has both.
    pub sync: bool,
    /// When to give up (and cancel the job).
    pub deadline: Duration,
}

/// Something that runs scenario jobs.
/// Downloads of URLs an answer pointed to come through its [`Download`] side.
pub trait Target: Download + Send + Sync {
    /// The target as shown to people (`live endpoint https://api.runpod.ai/v2/abc`).
    fn label(&self) -> &str;

    /// Submits the job once and follows it to a terminal state or the deadline;
    /// the job is owned until settled and cancelled if this future is dropped.
    fn run<'a>(
        &'a self,
        request: JobRequest,
        watch: &'a Watch,
    ) -> BoxFuture<'a, Result<Finished, DriveError>>;

    /// Worker and queue counts, where the target has them.
    fn health(&self) -> BoxFuture<'_, Result<Health, EndpointError>>;

    /// What the target says of the hardware and software it runs on (asked
    /// once, best effort): the provenance of references written against it.
    fn facts(&self) -> BoxFuture<'_, TargetFacts> {
        Box::pin(async { TargetFacts::default() })
    }

    /// The endpoint's management API (workers, releases, worker logs), where
    /// the target has one: a live RunPod endpoint and the harness's mock.
    fn endpoint_api(&self) -> Option<&crate::runpod::evidence::EndpointApi> {
        None
    }

    /// Whether a load run may use a virtual clock here: only the harness's own
    /// mock, which understands `X-Harness-Sim`; every real endpoint runs in real time.
    fn virtual_time(&self) -> bool {
        false
    }
}

/// The hardware and software a target runs on, where it says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetFacts {
    /// The GPU (or `cpu`).
    pub gpu: Option<String>,
    /// The worker image or server software and version.
    pub software: Option<String>,
    /// The stack the target says it runs (`unknown` where it does not say).
    pub fingerprint: crate::model::Fingerprint,
}
