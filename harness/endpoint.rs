//! RunPod serverless v2 client: `/run`, `/runsync?wait=`, `/status/{id}`,
//! `/cancel/{id}`, `/health`, and plain downloads of `s3_url` results.
//!
//! Answers are parsed leniently (unknown keys ignored, unknown states kept as
//! [`JobState::Other`]) but a malformed answer is an error naming the request and
//! job. Errors and bodies pass through [`crate::redact`]; the key is never shown.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::redact::redact;
use crate::wire::{Health, StatusAnswer, MAX_BODY};

/// HTTP timeout for local calls that run a whole job; the scenario deadline bounds them first.
const LOCAL_CALL: Duration = Duration::from_secs(24 * 3600);

/// A failed request, naming the operation and job.
#[derive(Debug, thiserror::Error)]
#[error("{op}{}: {kind}", job.as_ref().map(|j| format!(" (job {j})")).unwrap_or_default())]
pub struct EndpointError {
    pub op: String,
    pub job: Option<String>,
    pub kind: ErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("401 Unauthorized: the endpoint refused the API key (check RUNPOD_API_KEY)")]
    Unauthorized,
    #[error("404 Not Found{0}")]
    NotFound(String),
    #[error("429 Too Many Requests (rate limited{})", .0.map(|d| format!(", Retry-After {}s", d.as_secs())).unwrap_or_default())]
    RateLimited(Option<Duration>),
    #[error("HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("transport error: {0}")]
    Transport(String),
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    #[error("malformed answer: {0}")]
    Malformed(String),
    #[error("answer larger than {} MB", MAX_BODY / 1_000_000)]
    BodyTooLarge,
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

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ErrorKind::RateLimited(d) => *d,
            _ => None,
        }
    }
}

/// How a submission is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submit {
    Run,
    /// `/runsync?wait=ms`.
    RunSync(Duration),
}

/// A client for one endpoint base URL (`.../v2/<endpoint id>`).
#[derive(Clone)]
pub struct Endpoint {
    http: reqwest::Client,
    /// Downloads of presigned URLs must never carry the Authorization header.
    plain: reqwest::Client,
    base: String,
    /// runpod-python's `--rp_serve_api` test server: routes at the root, POST-only
    /// status that runs the job while the request waits, no cancel and no health.
    local: bool,
    /// Whether `/status-sync/{id}?wait=` (long poll) works here; cleared on the first
    /// sign it does not, then plain `/status` polling is used.
    long_poll: Arc<AtomicBool>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// `base` is the endpoint URL including its id, e.g. `https://api.runpod.ai/v2/abc123`.
    pub fn new(base: &str, api_key: Option<&str>) -> Result<Self, String> {
        let mut headers = HeaderMap::new();
        if let Some(key) = api_key {
            crate::redact::register_secret(key);
            let mut v = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                "the API key contains characters not allowed in a header".to_string()
            })?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        let build = |h: HeaderMap| {
            reqwest::Client::builder()
                .default_headers(h)
                .user_agent(concat!("endpoint-harness/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
                .pool_max_idle_per_host(64)
                .build()
                .map_err(|e| format!("cannot build HTTP client: {e}"))
        };
        Ok(Endpoint {
            http: build(headers)?,
            plain: build(HeaderMap::new())?,
            base: base.trim_end_matches('/').to_string(),
            local: false,
            long_poll: Arc::new(AtomicBool::new(true)),
        })
    }

    /// Whether long-polling is (still) used for this endpoint.
    pub fn long_poll(&self) -> bool {
        !self.local && self.long_poll.load(Ordering::Relaxed)
    }

    /// Stops long-polling this endpoint (the route is missing or does not wait).
    pub fn disable_long_poll(&self) {
        self.long_poll.store(false, Ordering::Relaxed);
    }

    /// `GET /status-sync/{id}?wait=ms`: answers when the job is final or `wait` passes
    /// (used by RunPod's JS and Go SDKs; it shares the status rate limit).
    pub async fn status_sync(
        &self,
        id: &str,
        wait: Duration,
    ) -> Result<StatusAnswer, EndpointError> {
        let ms = wait.as_millis().clamp(1000, 90_000) as u64;
        let op = "GET /status-sync".to_string();
        let v = self
            .call(
                Method::GET,
                &format!("/status-sync/{id}?wait={ms}"),
                None,
                Duration::from_millis(ms) + Duration::from_secs(15),
                &op,
                Some(id),
            )
            .await?;
        status_answer(v, op, Some(id))
    }

    /// A client for a local `python handler.py --rp_serve_api` worker at `root`.
    pub fn new_local(root: &str) -> Result<Self, String> {
        Ok(Endpoint {
            local: true,
            ..Self::new(root, None)?
        })
    }

    fn unsupported(&self, op: &str, job: Option<&str>) -> EndpointError {
        EndpointError {
            op: op.to_string(),
            job: job.map(str::to_string),
            kind: ErrorKind::Status {
                status: 405,
                body: "the local test server (--rp_serve_api) has no such route".into(),
            },
        }
    }

    /// Submits `body` (the JSON request, already serialised) with `/run` or `/runsync`.
    pub async fn submit(&self, how: Submit, body: Vec<u8>) -> Result<StatusAnswer, EndpointError> {
        let (path, timeout) = match how {
            Submit::Run => ("/run".to_string(), Duration::from_secs(60)),
            // The local server runs the job inside this request and has no `wait`;
            // the caller bounds it with the scenario deadline.
            Submit::RunSync(_) if self.local => ("/runsync".to_string(), LOCAL_CALL),
            Submit::RunSync(wait) => {
                let ms = wait.as_millis().clamp(1000, 300_000);
                (
                    format!("/runsync?wait={ms}"),
                    Duration::from_millis(ms as u64) + Duration::from_secs(30),
                )
            }
        };
        let op = format!("POST {}", path.split('?').next().unwrap_or(&path));
        let v = self
            .call(Method::POST, &path, Some(body), timeout, &op, None)
            .await?;
        status_answer(v, op, None)
    }

    pub async fn status(&self, id: &str) -> Result<StatusAnswer, EndpointError> {
        // Locally, POST /status runs the stored job once and answers when it is done.
        let (method, op, timeout) = if self.local {
            (Method::POST, "POST /status", LOCAL_CALL)
        } else {
            (Method::GET, "GET /status", Duration::from_secs(30))
        };
        let op = op.to_string();
        let v = self
            .call(
                method,
                &format!("/status/{id}"),
                None,
                timeout,
                &op,
                Some(id),
            )
            .await?;
        status_answer(v, op, Some(id))
    }

    pub async fn cancel(&self, id: &str) -> Result<(), EndpointError> {
        if self.local {
            return Err(self.unsupported("POST /cancel", Some(id)));
        }
        self.call(
            Method::POST,
            &format!("/cancel/{id}"),
            Some(b"{}".to_vec()),
            Duration::from_secs(10),
            "POST /cancel",
            Some(id),
        )
        .await
        .map(|_| ())
    }

    pub async fn health(&self) -> Result<Health, EndpointError> {
        if self.local {
            return Err(self.unsupported("GET /health", None));
        }
        let v = self
            .call(
                Method::GET,
                "/health",
                None,
                Duration::from_secs(10),
                "GET /health",
                None,
            )
            .await?;
        Ok(Health::from_value(&v))
    }

    /// Downloads a result URL (`s3_url`) without credentials.
    pub async fn download(&self, url: &str) -> Result<Vec<u8>, EndpointError> {
        let op = format!("GET {}", crate::redact::url_for_display(url));
        let err = |kind| EndpointError {
            op: op.clone(),
            job: None,
            kind,
        };
        let resp = self
            .plain
            .get(url)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .map_err(|e| err(transport(e)))?;
        let status = resp.status();
        let body = read_capped(resp).await.map_err(err)?;
        if !status.is_success() {
            return Err(err(ErrorKind::Status {
                status: status.as_u16(),
                body: snippet(&body),
            }));
        }
        Ok(body)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
        op: &str,
        job: Option<&str>,
    ) -> Result<Value, EndpointError> {
        let err = |kind| EndpointError {
            op: op.to_string(),
            job: job.map(str::to_string),
            kind,
        };
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .timeout(timeout);
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b);
        }
        let resp = req.send().await.map_err(|e| {
            err(if e.is_timeout() {
                ErrorKind::Timeout(timeout)
            } else {
                transport(e)
            })
        })?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = read_capped(resp).await.map_err(err)?;
        match status {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(err(ErrorKind::Unauthorized))
            }
            StatusCode::NOT_FOUND => {
                let b = snippet(&bytes);
                return Err(err(ErrorKind::NotFound(if b.is_empty() {
                    String::new()
                } else {
                    format!(": {b}")
                })));
            }
            StatusCode::TOO_MANY_REQUESTS => return Err(err(ErrorKind::RateLimited(retry_after))),
            s => {
                return Err(err(ErrorKind::Status {
                    status: s.as_u16(),
                    body: snippet(&bytes),
                }))
            }
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            err(ErrorKind::Malformed(format!(
                "not JSON ({e}): {}",
                snippet(&bytes)
            )))
        })
    }
}

fn transport(e: reqwest::Error) -> ErrorKind {
    // reqwest's Display includes the URL; keep the cause chain, redacted.
    let mut causes = String::new();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        causes.push_str(": ");
        causes.push_str(&s.to_string());
        src = s.source();
    }
    let msg = format!("{}{causes}", e.without_url());
    ErrorKind::Transport(redact(&msg).into_owned())
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, ErrorKind> {
    if resp.content_length().is_some_and(|n| n as usize > MAX_BODY) {
        return Err(ErrorKind::BodyTooLarge);
    }
    let mut out = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(ErrorKind::BodyTooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn parse_retry_after(v: &str) -> Option<Duration> {
    // Seconds; an HTTP date is rare for APIs and treated as "unspecified".
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

/// The first 300 characters of a body, redacted, on one line.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let one_line: String = text
        .chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let more = if text.chars().count() > 300 {
        "…"
    } else {
        ""
    };
    format!("{}{more}", redact(one_line.trim()))
}

/// A status answer, or a Malformed error naming the request and job.
fn status_answer(v: Value, op: String, job: Option<&str>) -> Result<StatusAnswer, EndpointError> {
    StatusAnswer::from_value(v).map_err(|m| EndpointError {
        op,
        job: job.map(str::to_string),
        kind: ErrorKind::Malformed(m.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
