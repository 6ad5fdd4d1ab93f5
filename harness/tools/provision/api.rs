//! RunPod's management API, REST v2 (`{RUNPOD_MANAGEMENT_URL}/v2/serverless`):
//! create, get, list, workers, delete. The key goes in the `Authorization`
//! header only, never in a URL; every error names the call and carries the
//! problem body's `detail` (redacted), never the key. Idempotent calls (GET,
//! DELETE) are retried with backoff on 429 (honouring `Retry-After`), 5xx and
//! transport errors; a create is never retried here: its caller decides, after
//! looking for the endpoint by name.

use std::time::Duration;

use serde_json::Value;

use crate::redact::redact;

/// The default `RUNPOD_MANAGEMENT_URL`.
pub const MANAGEMENT_URL: &str = crate::runpod::rollout::RUNPOD_MANAGEMENT;

/// Why a management client cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    /// The base URL is not HTTP(S).
    #[error("RUNPOD_MANAGEMENT_URL must be an http(s) URL, not `{0}`")]
    NotHttp(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(crate::http::ClientError),
}

/// How a management call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API refused it (4xx other than 404/429): retrying will not help.
    #[error("{call}: {status} {detail}")]
    Refused {
        /// `POST /v2/serverless`.
        call: String,
        /// The HTTP status.
        status: u16,
        /// The problem body's title/detail/errors, redacted.
        detail: String,
    },
    /// 429: wait this long (from `Retry-After`, or 2 s).
    #[error("{call}: 429 rate limited (retry after {}s)", .after.as_secs())]
    RateLimited {
        /// The call.
        call: String,
        /// How long to wait.
        after: Duration,
    },
    /// 5xx, a dropped connection, a timeout, an unreadable answer: the call
    /// may or may not have been carried out.
    #[error("{call}: no usable answer: {detail}")]
    Unknown {
        /// The call.
        call: String,
        /// What happened, redacted.
        detail: String,
    },
}

impl ApiError {
    /// Worth retrying (the same idempotent call).
    fn transient(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { after, .. } => Some(*after),
            ApiError::Unknown { .. } => Some(Duration::ZERO),
            ApiError::Refused { .. } => None,
        }
    }
}

/// The worker list's summary (`GET /v2/serverless/{id}/workers`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct WorkerSummary {
    /// Processing a job.
    #[serde(default)]
    pub running: u32,
    /// Ready, polling for jobs.
    #[serde(default)]
    pub idle: u32,
    /// Starting (image pull, cold start).
    #[serde(default)]
    pub initializing: u32,
    /// Waiting on GPU capacity.
    #[serde(default)]
    pub throttled: u32,
    /// Failing health checks.
    #[serde(default)]
    pub unhealthy: u32,
    /// All of them.
    #[serde(default)]
    pub total: u32,
}

impl std::fmt::Display for WorkerSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} worker(s): {} running, {} idle, {} initializing, {} throttled, {} unhealthy",
            self.total, self.running, self.idle, self.initializing, self.throttled, self.unhealthy
        )
    }
}

/// A management API client.
#[derive(Clone)]
pub struct Manager {
    /// The one HTTP stack every RunPod call goes through (`http::send`):
    /// the key as a sensitive header, registered for redaction; bodies capped.
    http: crate::http::send::Http,
    base: String,
    key: String,
    /// Attempts for an idempotent call.
    attempts: u32,
    /// First backoff; doubles per attempt.
    backoff: Duration,
}

impl Manager {
    /// A client for `base` (e.g. `https://api.runpod.io`) with `key`.
    pub fn new(base: &str, key: &str) -> Result<Self, ManagerError> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ManagerError::NotHttp(crate::redact::url_for_display(base).to_string()));
        }
        crate::redact::register_secret(key);
        let http = crate::http::send::Http::new(&crate::http::send::Auth::Bearer(key.to_string())).map_err(ManagerError::Client)?;
        Ok(Manager {
            http,
            base: base.trim_end_matches('/').to_string(),
            key: key.to_string(),
            attempts: 6,
            backoff: Duration::from_millis(500),
        })
    }

    /// The evidence routes (workers, releases, logs) of endpoint `id`.
    pub(crate) fn endpoint_api(&self, id: &str) -> Option<crate::runpod::evidence::EndpointApi> {
        crate::runpod::evidence::EndpointApi::new(&self.base, id, &self.key)
    }

    /// The base URL as shown to people.
    pub fn base(&self) -> String {
        crate::redact::url_for_display(&self.base)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ApiError> {
        let shown = format!("{method} {path}");
        let body = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        let (status, retry_after, bytes) = self
            .http
            .exchange(method, &format!("{}{path}", self.base), body, Duration::from_secs(30), &shown)
            .await
            .map_err(|e| ApiError::Unknown {
                call: shown.clone(),
                detail: redact(&crate::text::one_line(&e.kind.to_string())).into_owned(),
            })?;
        let status = status.as_u16();
        let retry_after = retry_after.map(|d| d.as_secs());
        let json: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        match status {
            200..=299 | 404 => Ok((status, json)),
            429 => Err(ApiError::RateLimited {
                call: shown,
                after: Duration::from_secs(retry_after.unwrap_or(2).min(120)),
            }),
            500..=599 => Err(ApiError::Unknown {
                call: shown,
                detail: format!("{status} {}", problem(&json, &bytes)),
            }),
            _ => Err(ApiError::Refused {
                call: shown,
                status,
                detail: problem(&json, &bytes),
            }),
        }
    }

    /// An idempotent call, retried on 429/5xx/transport errors with backoff.
    async fn retried(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<(u16, Value), ApiError> {
        let mut wait = self.backoff;
        let mut n = 0;
        loop {
            n += 1;
            match self.call(method.clone(), path, None).await {
                Err(e) if n < self.attempts => match e.transient() {
                    Some(after) => {
                        tokio::time::sleep(after.max(wait)).await;
                        wait = (wait * 2).min(Duration::from_secs(30));
                    }
                    None => return Err(e),
                },
                other => return other,
            }
        }
    }

    /// `POST /v2/serverless`: the created endpoint (201), once, never retried.
    pub async fn create(&self, body: &Value) -> Result<Value, ApiError> {
        let call = "POST /v2/serverless";
        match self.call(reqwest::Method::POST, "/v2/serverless", Some(body)).await? {
            (200..=299, v) if v.get("id").and_then(Value::as_str).is_some() => Ok(v),
            (s, _) => Err(ApiError::Unknown {
                call: call.into(),
                detail: format!("answer {s} without an endpoint id"),
            }),
        }
    }

    /// `GET /v2/serverless/{id}`: None once it is gone (404).
    pub async fn get(&self, id: &str) -> Result<Option<Value>, ApiError> {
        let path = format!("/v2/serverless/{}", crate::http::send::segment(id));
        match self.retried(reqwest::Method::GET, &path).await? {
            (404, _) => Ok(None),
            (_, v) => Ok(Some(v)),
        }
    }

    /// `GET /v2/serverless`: every endpoint of the account.
    pub async fn list(&self) -> Result<Vec<Value>, ApiError> {
        let (_, v) = self.retried(reqwest::Method::GET, "/v2/serverless").await?;
        // v2 wraps lists (`{"endpoints": [...]}`); a bare array is accepted too.
        Ok(match v {
            Value::Array(a) => a,
            mut v => match v.get_mut("endpoints").map(Value::take) {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            },
        })
    }

    /// The endpoints whose name is exactly `name`.
    pub async fn find_by_name(&self, name: &str) -> Result<Vec<Value>, ApiError> {
        Ok(self
            .list()
            .await?
            .into_iter()
            .filter(|e| e.get("name").and_then(Value::as_str) == Some(name))
            .collect())
    }

    /// `GET /v2/serverless/{id}/workers`: the summary (counted from the list
    /// when the summary is missing) and the raw answer.
    pub async fn workers(&self, id: &str) -> Result<(WorkerSummary, Value), ApiError> {
        let path = format!("/v2/serverless/{}/workers", crate::http::send::segment(id));
        let (status, v) = self.retried(reqwest::Method::GET, &path).await?;
        if status == 404 {
            return Err(ApiError::Refused {
                call: format!("GET {path}"),
                status,
                detail: "the endpoint is gone".into(),
            });
        }
        let summary = match v.get("summary") {
            Some(s) => serde_json::from_value(s.clone()).unwrap_or_default(),
            None => {
                let mut s = WorkerSummary::default();
                for w in v.get("workers").and_then(Value::as_array).into_iter().flatten() {
                    s.total += 1;
                    match w.get("status").and_then(Value::as_str).unwrap_or("") {
                        "RUNNING" => s.running += 1,
                        "IDLE" => s.idle += 1,
                        "THROTTLED" => s.throttled += 1,
                        "UNHEALTHY" => s.unhealthy += 1,
                        _ => s.initializing += 1,
                    }
                }
                s
            }
        };
        Ok((summary, v))
    }

    /// What the endpoint's runtime `/health` answers, as one line (for errors).
    pub async fn health(&self, endpoint_url: &str) -> String {
        let url = format!("{endpoint_url}/health");
        match self.http.exchange(reqwest::Method::GET, &url, None, Duration::from_secs(10), "GET /health").await {
            Ok((status, _, body)) => format!("{} {}", status.as_u16(), crate::http::send::snippet(&body)),
            Err(e) => format!("no answer: {}", redact(&e.kind.to_string())),
        }
    }

    /// `DELETE /v2/serverless/{id}`: Ok when deleted (204) or already gone (404).
    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        let path = format!("/v2/serverless/{}", crate::http::send::segment(id));
        self.retried(reqwest::Method::DELETE, &path).await.map(|_| ())
    }
}

/// An RFC 9457 body as one line: `title: detail (errors)`, redacted.
fn problem(json: &Value, bytes: &[u8]) -> String {
    let s = |k: &str| json.get(k).and_then(Value::as_str).unwrap_or("");
    let errors: Vec<&str> = json
        .get("errors")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let text = match (s("title"), s("detail")) {
        ("", "") if json.get("error").is_some() => s("error").to_string(),
        ("", "") => crate::http::send::snippet(bytes),
        (t, "") => t.to_string(),
        ("", d) => d.to_string(),
        (t, d) => format!("{t}: {d}"),
    };
    let text = if errors.is_empty() {
        text
    } else {
        format!("{text} ({})", errors.join("; "))
    };
    redact(&crate::text::truncate(&crate::text::one_line(&text), 600)).into_owned()
}
