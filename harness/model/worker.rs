//! The endpoint's own evidence about a job: which worker ran it (its GPU type
//! and the release it ran, where the workers list says), and the worker's log
//! lines around the job's lifetime, fetched for a red or slow trial.

use serde::{Deserialize, Serialize};

/// Who ran a job, as the endpoint's workers list describes the worker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkerFacts {
    /// The GPU type (`gpuTypeId`: `NVIDIA A40`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_type: Option<String>,
    /// The release (`version`) the worker runs: a rolling release leaves old
    /// and new workers side by side for a while.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The workers list marks it stale (running an older release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<bool>,
}

/// One line a worker printed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LogLine {
    /// When (RFC 3339, as the log stream gives it).
    pub ts: String,
    /// `container` (the handler's output) or `system` (the platform's).
    pub source: String,
    /// The line, redacted.
    pub line: String,
}

/// A worker's log around one job.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkerLogs {
    /// The worker.
    pub worker_id: String,
    /// The window asked for (RFC 3339): from shortly before submission.
    pub since: String,
    /// The lines, oldest first (at most [`LOG_LINES_KEPT`]).
    pub lines: Vec<LogLine>,
    /// Older lines were left out to stay within the bounds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Why the lines are missing or incomplete (no permission, worker gone,
    /// a cut stream), in one line; never a failure of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Log lines kept per job (the last ones: an error is printed at the end).
pub const LOG_LINES_KEPT: usize = 200;
