//! Why a trial stopped before its checks could run, with the verdict that
//! follows (decided here, where the reason is made).

use super::request::RequestError;
use crate::runpod::job::DriveError;
use crate::model::Verdict;

/// Why a scenario's job did not give an answer to check.
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    /// The request could not be built (an unreadable input image, over the size limit).
    #[error("{0}")]
    Request(#[from] RequestError),
    /// The spending cap would be passed: the job is not submitted.
    #[error("{0}")]
    CostCap(String),
    /// The job could not be driven to a terminal state.
    #[error("{0}")]
    Drive(#[from] DriveError),
}

impl Stop {
    /// The scenario's verdict: the cost cap ignores it, a deadline times it out,
    /// anything else is an error.
    pub fn verdict(&self) -> Verdict {
        match self {
            Stop::Request(_) => Verdict::Error,
            Stop::CostCap(_) => Verdict::Ignored,
            Stop::Drive(d) => d.verdict(),
        }
    }

    /// The message shown, redacted.
    pub fn message(&self) -> String {
        crate::redact::redact(&self.to_string()).into_owned()
    }
}
