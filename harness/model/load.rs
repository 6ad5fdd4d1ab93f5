//! The figures of a load run: how many jobs, how fast, latency percentiles
//! per phase, errors by kind, cold starts (and which rule found each), the
//! latency of every job over the run, and the workers and queue over time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// p50 / p95 / p99 / max of one phase over a load run's jobs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoadSpread {
    /// Median.
    pub p50_ms: u64,
    /// 95th percentile (nearest rank).
    pub p95_ms: u64,
    /// 99th percentile (nearest rank).
    pub p99_ms: u64,
    /// Largest value.
    pub max_ms: u64,
}

/// One job of a load run, when it finished and how long it took.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoadPoint {
    /// The job's number in the run (0-based).
    pub job: u64,
    /// When it was submitted, ms after the run started.
    pub submitted_ms: u64,
    /// When its result was seen, ms after the run started.
    pub at_ms: u64,
    /// `delayTime`, when reported.
    pub queue_ms: Option<u64>,
    /// `executionTime`, when reported.
    pub execution_ms: Option<u64>,
    /// Submission to result seen; in the open model (`rate`), from when the
    /// job was due, so a late send is counted (no coordinated omission).
    pub total_ms: u64,
    /// Open model: how much later than due the job was sent (included in `total_ms`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub late_ms: u64,
    /// The worker that ran it, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Passed every check.
    pub ok: bool,
    /// What went wrong, when it did (`FAILED`, `checks`, `submit error`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A job whose wait included a worker starting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ColdStart {
    /// The job's number.
    pub job: u64,
    /// The worker it ran on, when reported.
    pub worker: Option<String>,
    /// Its `delayTime`.
    pub delay_ms: u64,
    /// Which rule found it: `new worker` or `delay over <threshold>`.
    pub rule: String,
    /// When the job's result was seen, ms after the run started.
    pub at_ms: u64,
}

/// One `/health` sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HealthPoint {
    /// ms after the run started.
    pub at_ms: u64,
    /// Workers idle.
    pub idle: i64,
    /// Workers running a job.
    pub running: i64,
    /// Workers starting.
    pub initializing: i64,
    /// Workers throttled.
    pub throttled: i64,
    /// Jobs queued.
    pub in_queue: i64,
    /// Jobs running.
    pub in_progress: i64,
}

/// Everything a load run measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoadReport {
    /// Jobs submitted.
    pub submitted: u64,
    /// Jobs that completed and passed every check.
    pub ok: u64,
    /// Jobs that did not, by kind.
    pub errors: BTreeMap<String, u64>,
    /// First submission to last result, ms.
    pub wall_ms: u64,
    /// Jobs that completed and passed, per minute of the run.
    #[serde(deserialize_with = "super::lenient::f64_or_nan")]
    #[schemars(with = "Option<f64>")]
    pub throughput_per_min: f64,
    /// `delayTime` spread (when the target reports it).
    pub queue: Option<LoadSpread>,
    /// `executionTime` spread (when the target reports it).
    pub execution: Option<LoadSpread>,
    /// Submission to result, spread.
    pub total: Option<LoadSpread>,
    /// Cold starts, in the order their results were seen.
    pub cold_starts: Vec<ColdStart>,
    /// Every job, in the order results were seen.
    pub jobs: Vec<LoadPoint>,
    /// Workers and queue over the run (targets with `/health`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health: Vec<HealthPoint>,
    /// Estimated cost of the run.
    pub cost: Option<f64>,
    /// Why submitting stopped before the planned end, if it did.
    pub stopped: Option<String>,
}

impl LoadReport {
    /// Jobs that did not complete and pass, as a share of those that ended.
    pub fn error_rate(&self) -> f64 {
        let failed: u64 = self.errors.values().sum();
        let ended = self.ok + failed;
        if ended == 0 {
            0.0
        } else {
            failed as f64 / ended as f64
        }
    }
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}
