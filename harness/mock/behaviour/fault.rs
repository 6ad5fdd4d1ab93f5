//! The HTTP faults a behaviour declares: which requests (`on`, `nth`) get
//! which answer (`respond`: a status, a 429, a reset, a slow or cut answer,
//! damaged image data). The mock's RunPod face serves them.

use std::time::Duration;

use serde::Deserialize;

use super::error::BehaviourError;

/// Which requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    /// `POST /run`.
    Run,
    /// `POST /runsync`.
    Runsync,
    /// `/status/{id}` (and `/status-sync/{id}`, counted together).
    Status,
    /// `/status-sync/{id}` only.
    StatusSync,
    /// `POST /cancel/{id}`.
    Cancel,
    /// `GET /health`.
    Health,
    /// Downloads of `s3_url` files.
    Download,
    /// `POST /retry/{id}`.
    Retry,
    /// `POST /purge-queue`.
    PurgeQueue,
    /// A worker's log stream (`GET /v2/serverless/{id}/workers/{worker}/logs`).
    Logs,
    /// The release history (`GET /v2/serverless/{id}/releases`).
    Releases,
    /// Every request.
    Any,
}

/// The kind of a fault, as written in `respond:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultType {
    /// An HTTP status (`status`, `body`).
    Http,
    /// 429 with `Retry-After` (`retry_after`).
    RateLimit,
    /// The connection drops mid-answer.
    Reset,
    /// The answer comes late (`delay`).
    Slow,
    /// A 200 whose body is cut JSON.
    MalformedJson,
    /// Image base64 cut short.
    TruncatedBase64,
    /// Image data that is not base64.
    InvalidBase64,
    /// PNG bytes damaged after the header.
    CorruptPng,
    /// A PNG declaring 100000x100000 pixels.
    HugePng,
}

/// What a faulty answer is, resolved from a [`Fault`]'s fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// An HTTP status with a short body.
    Http {
        /// The status code.
        status: u16,
        /// The body (a JSON error by default).
        body: Option<String>,
    },
    /// 429 with `Retry-After` seconds.
    RateLimit {
        /// Seconds.
        retry_after: u64,
    },
    /// The connection drops before the answer is complete.
    Reset,
    /// The answer comes after this long (real time, not scaled).
    Slow {
        /// How long.
        delay: Duration,
    },
    /// A 200 whose body is not JSON.
    MalformedJson,
    /// The image's base64 is cut short.
    TruncatedBase64,
    /// The image's data is not base64 at all.
    InvalidBase64,
    /// The PNG bytes are damaged after the header.
    CorruptPng,
    /// A PNG header declaring 100000x100000 pixels.
    HugePng,
}

/// One fault rule: on `on` requests numbered `nth` (1-based, counted per job for
/// job routes and per endpoint otherwise; empty = every request), answer `respond`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The requests it applies to (default: any).
    #[serde(default = "any_route")]
    pub on: Route,
    /// 1-based request numbers; empty = every request.
    #[serde(default)]
    pub nth: Vec<u32>,
    /// What to answer.
    pub respond: FaultType,
    /// HTTP status for `respond: http` (default 500).
    #[serde(default)]
    pub status: Option<u16>,
    /// Body for `respond: http`.
    #[serde(default)]
    pub body: Option<String>,
    /// Seconds for `respond: rate_limit` (default 1).
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Delay for `respond: slow` (default 5s).
    #[serde(default)]
    pub delay: Option<String>,
    #[serde(skip)]
    pub(crate) kind: Option<FaultKind>,
}

fn any_route() -> Route {
    Route::Any
}

impl Fault {
    pub(crate) fn resolve(&mut self) -> Result<(), BehaviourError> {
        self.kind = Some(match self.respond {
            FaultType::Http => FaultKind::Http {
                status: self.status.unwrap_or(500),
                body: self.body.clone(),
            },
            FaultType::RateLimit => FaultKind::RateLimit {
                retry_after: self.retry_after.unwrap_or(1),
            },
            FaultType::Reset => FaultKind::Reset,
            FaultType::Slow => {
                let text = self.delay.as_deref().unwrap_or("5s");
                FaultKind::Slow {
                    delay: humantime::parse_duration(text).map_err(|_| {
                        BehaviourError::Duration {
                            field: "faults: slow delay",
                            value: text.to_string(),
                        }
                    })?,
                }
            }
            FaultType::MalformedJson => FaultKind::MalformedJson,
            FaultType::TruncatedBase64 => FaultKind::TruncatedBase64,
            FaultType::InvalidBase64 => FaultKind::InvalidBase64,
            FaultType::CorruptPng => FaultKind::CorruptPng,
            FaultType::HugePng => FaultKind::HugePng,
        });
        if let Some(s) = self.status.filter(|s| !(100..=599).contains(s)) {
            return Err(BehaviourError::Fault(format!(
                "status {s} is not an HTTP status"
            )));
        }
        Ok(())
    }

    /// The resolved fault.
    pub fn kind(&self) -> &FaultKind {
        self.kind
            .as_ref()
            .expect("faults are resolved when the behaviour is parsed")
    }
}
