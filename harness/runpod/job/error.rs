//! Why a job did not reach a terminal state the harness could read, and the
//! verdict that follows from it (decided here, where the error is made).

use std::time::Duration;

use super::guard::CancelFailure;
use crate::http::EndpointError;
use crate::model::{Seen, Verdict};

/// Why a job did not reach a terminal state the harness could read.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// `/run` or `/runsync` failed; it is never repeated.
    #[error("submission failed: {0}")]
    Submit(EndpointError),
    /// Status calls failed for good (after retries, or at once for 401/404).
    #[error("{error}{}", cancel_note(.cancelled))]
    Status {
        /// The last error.
        error: EndpointError,
        /// The job.
        job: String,
        /// The worker the status answers named, if any.
        worker: Option<String>,
        /// Whether the abandoned job was cancelled.
        cancelled: Option<Result<(), CancelFailure>>,
    },
    /// The scenario's deadline passed.
    #[error("job {job} was still {last_state} when the {} deadline passed{}{}", humantime::format_duration(*.deadline), diagnosis.as_ref().map(|d| format!("; {d}")).unwrap_or_default(), cancel_note(.cancelled))]
    Deadline {
        /// The job.
        job: String,
        /// The last state seen.
        last_state: String,
        /// The deadline.
        deadline: Duration,
        /// What `/health` said, for a job still queued.
        diagnosis: Option<String>,
        /// Whether the job was cancelled.
        cancelled: Option<Result<(), CancelFailure>>,
        /// The states seen.
        timeline: Vec<Seen>,
        /// The worker the status answers named, if any.
        worker: Option<String>,
    },
    /// The job sat in the queue while `/health` said no worker can start.
    #[error("job {job} stayed IN_QUEUE for {}: {diagnosis}{}", humantime::format_duration(Duration::from_secs(.waited.as_secs())), cancel_note(.cancelled))]
    Stuck {
        /// The job.
        job: String,
        /// How long it waited.
        waited: Duration,
        /// What `/health` said.
        diagnosis: String,
        /// Whether the job was cancelled.
        cancelled: Option<Result<(), CancelFailure>>,
    },
    /// The run gave the job up (a load run that stopped early).
    #[error("job {job} was given up while {last_state}: the run stopped{}", cancel_note(.cancelled))]
    Abandoned {
        /// The job.
        job: String,
        /// The last state seen.
        last_state: String,
        /// Whether the job was cancelled.
        cancelled: Option<Result<(), CancelFailure>>,
    },
    /// Ctrl-C or SIGTERM came first.
    #[error("the run was interrupted before this job was submitted")]
    Interrupted,
}

impl DriveError {
    /// The verdict this stop gives the scenario: the deadline is a timeout,
    /// everything else an endpoint (or harness) error.
    pub fn verdict(&self) -> Verdict {
        match self {
            DriveError::Deadline { .. } => Verdict::TimedOut,
            _ => Verdict::Error,
        }
    }

    /// The job it concerned, once one was submitted.
    pub fn job(&self) -> Option<&str> {
        match self {
            DriveError::Status { job, .. }
            | DriveError::Deadline { job, .. }
            | DriveError::Stuck { job, .. }
            | DriveError::Abandoned { job, .. } => Some(job),
            DriveError::Submit(_) | DriveError::Interrupted => None,
        }
    }

    /// The worker the job ran on, when a status answer named one.
    pub fn worker(&self) -> Option<&str> {
        match self {
            DriveError::Status { worker, .. } | DriveError::Deadline { worker, .. } => worker.as_deref(),
            _ => None,
        }
    }

    /// The last state seen, when the job was abandoned before it ended.
    pub fn last_state(&self) -> Option<&str> {
        match self {
            DriveError::Deadline { last_state, .. } | DriveError::Abandoned { last_state, .. } => {
                Some(last_state)
            }
            DriveError::Stuck { .. } => Some("IN_QUEUE"),
            _ => None,
        }
    }
}

fn cancel_note(c: &Option<Result<(), CancelFailure>>) -> String {
    match c {
        Some(Ok(())) => "; the job was cancelled".into(),
        Some(Err(e)) => format!("; cancelling the job failed: {e}"),
        None => String::new(),
    }
}
