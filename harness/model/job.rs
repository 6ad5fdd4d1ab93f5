//! What was observed of one job: its id, worker, state, RunPod timings, the
//! harness's own timeline, the output shape and every returned file.

use serde::{Deserialize, Serialize};

use super::check::ImageInfo;

/// Which output shape the worker used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputShape {
    /// worker-comfyui >= 5.0: `images[]`.
    Images,
    /// `{status: success_no_images, images: []}`.
    NoImages,
    /// worker-comfyui < 5.0: `message`.
    LegacyMessage,
}

/// A state change seen while following a job, at a time since submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Seen {
    /// Milliseconds since submission.
    pub at_ms: u64,
    /// The state (`IN_QUEUE`, `IN_PROGRESS`, `COMPLETED`, ...).
    pub state: String,
}

/// One job submitted for a scenario.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunRecord {
    /// The endpoint's job id.
    pub job_id: Option<String>,
    /// The worker that ran it, when reported.
    pub worker_id: Option<String>,
    /// The last state seen.
    pub state: Option<String>,
    /// The job's error text (redacted).
    pub error: Option<String>,
    /// RunPod `delayTime`.
    pub delay_ms: Option<u64>,
    /// RunPod `executionTime`.
    pub execution_ms: Option<u64>,
    /// Submission to result seen by the harness.
    pub total_ms: u64,
    /// Status requests made.
    pub status_calls: u32,
    /// The output shape.
    pub output_shape: Option<OutputShape>,
    /// Every returned still image.
    pub images: Vec<ImageRecord>,
    /// Every returned animation and video.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub videos: Vec<super::media::VideoRecord>,
    /// `output.errors[]` (redacted).
    pub warnings: Vec<String>,
    /// Estimated cost of this job.
    #[serde(default)]
    pub cost: Option<f64>,
    /// The states seen, with when (for the HTML timeline).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<Seen>,
    /// Per-node timings, where the target reports them (`comfyui`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<super::timing::NodeTiming>,
    /// Progress updates the worker put in `output` while the job ran
    /// (worker-comfyui PR #221), each kept once, at most [`PROGRESS_KEPT`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub progress: Vec<ProgressSeen>,
    /// When the job was submitted (RFC 3339 with milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<String>,
    /// The worker that ran it, as the endpoint's workers list describes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<super::worker::WorkerFacts>,
    /// The hardware and software that ran the job (`unknown` where not said):
    /// the class its references are kept under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<super::fingerprint::Fingerprint>,
    /// The worker's log around the job, fetched when the trial is red or slow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_logs: Option<super::worker::WorkerLogs>,
}

/// Progress updates kept per job (the first ones and the last).
pub const PROGRESS_KEPT: usize = 64;

/// A progress update seen while following a job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProgressSeen {
    /// Milliseconds since submission.
    pub at_ms: u64,
    /// What the worker reported.
    #[serde(flatten)]
    pub progress: super::progress::JobProgress,
}

/// One returned file.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImageRecord {
    /// What was learnt about it.
    #[serde(flatten)]
    pub info: ImageInfo,
    /// Where the returned bytes were saved, relative to the reports folder.
    pub file: Option<String>,
    /// A small PNG thumbnail as a data URI, for the self-contained HTML report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}
