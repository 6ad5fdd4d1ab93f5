//! A failed request, naming the operation and the job it concerned, in one
//! struct-plus-kind shape for every HTTP API the harness speaks (RunPod's
//! serverless and management APIs, a local worker, ComfyUI, downloads).

use std::time::Duration;

/// Largest response body the client reads; worker results are limited to about 20 MB.
pub const MAX_BODY: usize = 64 * 1024 * 1024;


/// A failed request: `POST /run`, `GET /status (job abc-u1)`, with what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("{op}{}: {kind}", job.as_ref().map(|j| format!(" (job {j})")).unwrap_or_default())]
pub struct EndpointError {
    /// The request, as `METHOD /route` (no host, no query, no secrets).
    pub op: String,
    /// The job (or node, or endpoint) it concerned.
    pub job: Option<String>,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// 401 or 403: the key was refused.
    #[error("401 Unauthorized: the endpoint refused the API key (check RUNPOD_API_KEY)")]
    Unauthorized,
    /// 404, with the body or an explanation.
    #[error("404 Not Found{0}")]
    NotFound(String),
    /// 429, with `Retry-After` when given.
    #[error("429 Too Many Requests (rate limited{})", .0.map(|d| format!(", Retry-After {}s", d.as_secs())).unwrap_or_default())]
    RateLimited(Option<Duration>),
    /// Any other non-2xx status.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the body, redacted.
        body: String,
    },
    /// Connection refused, reset, DNS, TLS.
    #[error("transport error: {0}")]
    Transport(String),
    /// No answer within the request's timeout.
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    /// An answer that is not what the API promises.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// An answer over `MAX_BODY`.
    #[error("answer larger than {} MB", MAX_BODY / 1_000_000)]
    BodyTooLarge,
    /// The target has no such route (runpod-python's local server has no `/cancel`).
    #[error("not supported by this target: {0}")]
    Unsupported(&'static str),
}

impl ErrorKind {
    /// Worth retrying for idempotent calls (status, health, downloads).
    pub fn is_transient(&self) -> bool {
        match self {
            ErrorKind::RateLimited(_) | ErrorKind::Transport(_) | ErrorKind::Timeout(_) => true,
            ErrorKind::Status { status, .. } => *status >= 500 || *status == 408,
            // A proxy's HTML error page or a cut body: the next poll may be fine.
            ErrorKind::Malformed(_) => true,
            _ => false,
        }
    }

    /// The wait a 429 asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ErrorKind::RateLimited(d) => *d,
            _ => None,
        }
    }
}

/// A client that could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The API key holds characters a header cannot carry.
    #[error("the API key contains characters not allowed in an HTTP header")]
    BadKey,
    /// The base URL does not parse.
    #[error("`{url}` is not an http(s) URL")]
    BadUrl {
        /// The URL as given (redacted).
        url: String,
    },
    /// reqwest refused to build (TLS roots, ...).
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}
