//! How an endpoint created through the mock's management API behaves (the
//! `provision:` block of a behaviour file): how long its image pull and cold
//! start take, whether its workers ever become ready, and which faults the
//! management calls answer with. A leaf: the behaviour file embeds it.

use std::time::Duration;

use serde::Deserialize;

/// Which management call a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ManageRoute {
    /// `POST /v2/serverless`.
    Create,
    /// `GET /v2/serverless/{id}`.
    Get,
    /// `GET /v2/serverless`.
    List,
    /// `GET /v2/serverless/{id}/workers`.
    Workers,
    /// `DELETE /v2/serverless/{id}`.
    Delete,
    /// Every management call.
    Any,
}

/// What a faulty management answer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ManageFaultType {
    /// An HTTP status (`status`, default 500) with an RFC 9457 body; nothing is done.
    Http,
    /// 429 with `Retry-After` (`retry_after`, default 1 s); nothing is done.
    RateLimit,
    /// The call is carried out, then the connection drops before the answer:
    /// a create whose answer is lost (the endpoint exists), a delete whose
    /// answer is lost (it is gone).
    Lost,
}

/// One management fault: on `on` calls numbered `nth` (1-based, counted per
/// behaviour and call; empty = every call), answer `respond`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManageFault {
    /// The calls it applies to (default: any).
    #[serde(default = "any")]
    pub on: ManageRoute,
    /// 1-based call numbers; empty = every call.
    #[serde(default)]
    pub nth: Vec<u32>,
    /// What to answer.
    pub respond: ManageFaultType,
    /// Status for `respond: http` (default 500).
    #[serde(default)]
    pub status: Option<u16>,
    /// Seconds for `respond: rate_limit` (default 1).
    #[serde(default)]
    pub retry_after: Option<u64>,
}

fn any() -> ManageRoute {
    ManageRoute::Any
}

/// What the workers of a created endpoint do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkerFate {
    /// INITIALIZING during pull and cold start, then IDLE (RUNNING while a job runs).
    #[default]
    Ready,
    /// INITIALIZING for ever (an image that never starts).
    NeverReady,
    /// UNHEALTHY once the image is pulled (a handler that crashes at start).
    Unhealthy,
    /// THROTTLED for ever (no capacity in the GPU pools).
    Throttled,
}

/// The `provision:` block of a behaviour: used when a created endpoint's
/// image is `mock/<behaviour>`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provisioning {
    /// Image pull before the workers start (simulated time; default 20s).
    #[serde(default = "pull")]
    pub pull: String,
    /// Worker start after the pull (simulated time; default 10s).
    #[serde(default = "cold")]
    pub cold_start: String,
    /// What the workers do.
    #[serde(default)]
    pub workers: WorkerFate,
    /// Faults on the management calls.
    #[serde(default)]
    pub faults: Vec<ManageFault>,
    #[serde(skip)]
    pub(crate) pull_d: Duration,
    #[serde(skip)]
    pub(crate) cold_start_d: Duration,
}

impl Default for Provisioning {
    fn default() -> Self {
        let mut p = Provisioning {
            pull: pull(),
            cold_start: cold(),
            workers: WorkerFate::Ready,
            faults: Vec::new(),
            pull_d: Duration::ZERO,
            cold_start_d: Duration::ZERO,
        };
        p.resolve().expect("defaults parse");
        p
    }
}

fn pull() -> String {
    "20s".into()
}
fn cold() -> String {
    "10s".into()
}

impl Provisioning {
    /// Parses the durations; the error names the field.
    pub(crate) fn resolve(&mut self) -> Result<(), crate::mock::behaviour::error::BehaviourError> {
        let d = |field: &'static str, v: &str| {
            humantime::parse_duration(v).map_err(|_| {
                crate::mock::behaviour::error::BehaviourError::Duration {
                    field,
                    value: v.to_string(),
                }
            })
        };
        self.pull_d = d("provision.pull", &self.pull)?;
        self.cold_start_d = d("provision.cold_start", &self.cold_start)?;
        Ok(())
    }

    /// The fault for call number `n` of `route`, if one applies.
    pub(crate) fn fault(&self, route: ManageRoute, n: u32) -> Option<&ManageFault> {
        self.faults.iter().find(|f| {
            (f.on == route || f.on == ManageRoute::Any) && (f.nth.is_empty() || f.nth.contains(&n))
        })
    }
}
