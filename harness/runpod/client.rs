//! The RunPod serverless v2 client: `/run`, `/runsync?wait=`, `/status/{id}`,
//! `/status-sync/{id}?wait=` (long poll), `/cancel/{id}`, `/health`. The same
//! client speaks runpod-python's local test server (`--rp_serve_api`): routes
//! at the root, a POST `/status` that runs the stored job while the request
//! waits, no cancel and no health.
//!
//! Answers are parsed leniently ([`StatusAnswer::from_value`]) but a malformed
//! one is an error naming the request and job; the key is never shown.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;

use crate::http::{ClientError, EndpointError, ErrorKind};
use crate::http::send::{segment, Auth, Http};
use crate::runpod::wire::{Health, StatusAnswer, WAIT_RANGE_MS};
#[cfg(any(test, feature = "internals"))]
use crate::runpod::wire::DEFAULT_WAIT_MS;

/// HTTP timeout for local calls that run a whole job; the scenario deadline bounds them first.
const LOCAL_CALL: Duration = Duration::from_secs(24 * 3600);
/// Longest `?wait=` the client asks of `/status-sync` (RunPod's SDKs use up to 90 s).
const STATUS_SYNC_MAX_MS: u64 = 90_000;

/// Which protocol the server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// RunPod's v2 API (live, a proxy, or the mock).
    Serverless,
    /// runpod-python's `--rp_serve_api` test server.
    LocalServer,
}

/// How a submission is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submit {
    /// `POST /run`, then poll.
    Run,
    /// `POST /runsync?wait=ms`, then poll if the answer is not final.
    RunSync(Duration),
}

/// A client for one endpoint base URL (`.../v2/<endpoint id>`). Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: Http,
    base: Arc<str>,
    flavour: Flavour,
    /// Whether `/status-sync/{id}?wait=` (long poll) works here; cleared on the first
    /// sign it does not, then plain `/status` polling is used.
    long_poll: Arc<AtomicBool>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &crate::redact::url_for_display(&self.base))
            .field("flavour", &self.flavour)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `base` (the endpoint URL including its id, e.g.
    /// `https://api.runpod.ai/v2/abc123`), sending `api_key` as a Bearer token.
    pub fn new(base: &str, api_key: Option<&str>) -> Result<Self, ClientError> {
        Self::with_flavour(base, api_key, Flavour::Serverless)
    }

    /// A client for a local `python handler.py --rp_serve_api` worker at `root`.
    pub fn local(root: &str) -> Result<Self, ClientError> {
        Self::with_flavour(root, None, Flavour::LocalServer)
    }

    fn with_flavour(
        base: &str,
        api_key: Option<&str>,
        flavour: Flavour,
    ) -> Result<Self, ClientError> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::BadUrl {
                url: crate::redact::url_for_display(base),
            });
        }
        let auth = api_key.map_or(Auth::None, |k| Auth::Bearer(k.to_string()));
        Ok(Client {
            http: Http::new(&auth)?,
            base: base.trim_end_matches('/').into(),
            flavour,
            long_poll: Arc::new(AtomicBool::new(true)),
        })
    }

    /// The protocol this client speaks.
    #[cfg(any(test, feature = "internals"))]
    pub fn flavour(&self) -> Flavour {
        self.flavour
    }

    /// Whether long-polling is (still) used for this endpoint.
    pub fn long_poll(&self) -> bool {
        self.flavour == Flavour::Serverless && self.long_poll.load(Ordering::Relaxed)
    }

    /// Stops long-polling this endpoint (the route is missing or does not wait).
    pub fn disable_long_poll(&self) {
        self.long_poll.store(false, Ordering::Relaxed);
    }

    fn url(&self, route: &str, id: Option<&str>, query: Option<String>) -> String {
        let mut u = format!("{}/{route}", self.base);
        if let Some(id) = id {
            u.push('/');
            u.push_str(&segment(id));
        }
        if let Some(q) = query {
            u.push('?');
            u.push_str(&q);
        }
        u
    }

    /// Submits `body` (the JSON request, already serialised) with `/run` or `/runsync`.
    pub async fn submit(&self, how: Submit, body: Vec<u8>) -> Result<StatusAnswer, EndpointError> {
        let (route, query, timeout) = match how {
            Submit::Run => ("run", None, Duration::from_secs(60)),
            // The local server runs the job inside this request and has no `wait`;
            // the caller bounds it with the scenario deadline.
            Submit::RunSync(_) if self.flavour == Flavour::LocalServer => {
                ("runsync", None, LOCAL_CALL)
            }
            Submit::RunSync(wait) => {
                let ms = (wait.as_millis() as u64).clamp(WAIT_RANGE_MS.0, WAIT_RANGE_MS.1);
                (
                    "runsync",
                    Some(format!("wait={ms}")),
                    Duration::from_millis(ms) + Duration::from_secs(30),
                )
            }
        };
        let op = format!("POST /{route}");
        let v = self
            .http
            .json(
                Method::POST,
                &self.url(route, None, query),
                Some(body),
                timeout,
                &op,
                None,
            )
            .await?;
        answer(v, op, None)
    }

    /// `GET /status/{id}` (locally `POST`, which runs the stored job once and answers when done).
    pub async fn status(&self, id: &str) -> Result<StatusAnswer, EndpointError> {
        let (method, op, timeout) = match self.flavour {
            Flavour::LocalServer => (Method::POST, "POST /status", LOCAL_CALL),
            Flavour::Serverless => (Method::GET, "GET /status", Duration::from_secs(30)),
        };
        let v = self
            .http
            .json(
                method,
                &self.url("status", Some(id), None),
                None,
                timeout,
                op,
                Some(id),
            )
            .await?;
        answer(v, op.to_string(), Some(id))
    }

    /// `GET /status-sync/{id}?wait=ms`: answers when the job is final or `wait` passes
    /// (used by RunPod's JS and Go SDKs; it shares the status rate limit).
    pub async fn status_sync(
        &self,
        id: &str,
        wait: Duration,
    ) -> Result<StatusAnswer, EndpointError> {
        let ms = (wait.as_millis() as u64).clamp(WAIT_RANGE_MS.0, STATUS_SYNC_MAX_MS);
        let op = "GET /status-sync";
        let v = self
            .http
            .json(
                Method::GET,
                &self.url("status-sync", Some(id), Some(format!("wait={ms}"))),
                None,
                Duration::from_millis(ms) + Duration::from_secs(15),
                op,
                Some(id),
            )
            .await?;
        answer(v, op.to_string(), Some(id))
    }

    /// `POST /cancel/{id}`.
    pub async fn cancel(&self, id: &str) -> Result<(), EndpointError> {
        let op = "POST /cancel";
        if self.flavour == Flavour::LocalServer {
            return Err(EndpointError {
                op: op.into(),
                job: Some(id.into()),
                kind: ErrorKind::Unsupported(
                    "the local test server (--rp_serve_api) has no /cancel",
                ),
            });
        }
        self.http
            .json(
                Method::POST,
                &self.url("cancel", Some(id), None),
                Some(b"{}".to_vec()),
                Duration::from_secs(10),
                op,
                Some(id),
            )
            .await
            .map(|_| ())
    }

    /// `GET /health`.
    pub async fn health(&self) -> Result<Health, EndpointError> {
        let op = "GET /health";
        if self.flavour == Flavour::LocalServer {
            return Err(EndpointError {
                op: op.into(),
                job: None,
                kind: ErrorKind::Unsupported(
                    "the local test server (--rp_serve_api) has no /health",
                ),
            });
        }
        let v = self
            .http
            .json(
                Method::GET,
                &self.url("health", None, None),
                None,
                Duration::from_secs(10),
                op,
                None,
            )
            .await?;
        Ok(Health::from_value(&v))
    }

    /// Downloads a result URL (`s3_url`) without credentials.
    pub async fn download(&self, url: &str) -> Result<Vec<u8>, EndpointError> {
        self.http.download(url).await
    }
}

/// RunPod's default `?wait=` for `/runsync`, for callers that do not choose one.
#[cfg(any(test, feature = "internals"))]
pub const DEFAULT_RUNSYNC_WAIT: Duration = Duration::from_millis(DEFAULT_WAIT_MS);

/// A status answer, or a Malformed error naming the request and job.
fn answer(
    v: serde_json::Value,
    op: String,
    job: Option<&str>,
) -> Result<StatusAnswer, EndpointError> {
    StatusAnswer::from_value(v).map_err(|m| EndpointError {
        op,
        job: job.map(str::to_string),
        kind: ErrorKind::Malformed(m.0),
    })
}
