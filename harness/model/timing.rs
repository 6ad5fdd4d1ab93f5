//! Latency figures of a scenario: each job's phases, their spread over runs,
//! and the budgets they missed.

use serde::{Deserialize, Serialize};

/// Timings of one job.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Timing {
    /// Queue plus cold start (RunPod `delayTime`), when the target reports it.
    pub queue_ms: Option<u64>,
    /// Execution (RunPod `executionTime`), when the target reports it.
    pub execution_ms: Option<u64>,
    /// Submission to result seen by the harness.
    pub total_ms: u64,
}

/// A phase that went over its budget.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BudgetMiss {
    /// `queue`, `execution`, `total` (or a load figure such as `error_rate`).
    pub phase: String,
    /// The budget, in ms (or the figure's own unit for load thresholds).
    pub budget_ms: u64,
    /// What was measured, in the same unit.
    pub measured_ms: u64,
    /// `max` for one run, `p95` over several.
    pub statistic: String,
    /// Load runs: when in the run the figure crossed its threshold, ms after the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crossed_at_ms: Option<u64>,
    /// Load figures that are not times: `(measured, threshold, unit)`, e.g. `(0.04, 0.01, "error rate")`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<(f64, f64, String)>,
}

impl std::fmt::Display for BudgetMiss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.figure {
            Some((measured, threshold, unit)) if unit == "error rate" => write!(
                f,
                "error rate over budget: {:.1}% > budget {:.1}%",
                measured * 100.0,
                threshold * 100.0
            )?,
            Some((measured, threshold, unit)) if unit == "jobs/min" => write!(
                f,
                "throughput under budget: {measured:.1} jobs/min < budget {threshold:.1} jobs/min"
            )?,
            Some((measured, threshold, unit)) => {
                write!(f, "{unit} over budget: {measured} > budget {threshold}")?
            }
            None => write!(
                f,
                "{} time over budget: {} {} > budget {}",
                self.phase,
                self.statistic,
                crate::text::fmt_ms(self.measured_ms),
                crate::text::fmt_ms(self.budget_ms)
            )?,
        }
        match self.crossed_at_ms {
            Some(at) => write!(f, " (crossed {} into the run)", crate::text::fmt_ms(at)),
            None => Ok(()),
        }
    }
}

/// p50 / p95 / max of one phase over the runs.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Spread {
    /// Median.
    pub p50_ms: u64,
    /// 95th percentile (nearest rank).
    pub p95_ms: u64,
    /// Largest value.
    pub max_ms: u64,
}

/// Budget verdicts and figures for a scenario.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BudgetReport {
    /// Budgets that were missed.
    pub misses: Vec<BudgetMiss>,
    /// Budgets that could not be checked (the target does not report that phase).
    pub not_applicable: Vec<String>,
    /// Spread of the queue phase.
    pub queue: Option<Spread>,
    /// Spread of the execution phase.
    pub execution: Option<Spread>,
    /// Spread of the total time.
    pub total: Option<Spread>,
}

/// One node's share of a ComfyUI execution (the `comfyui` target follows the
/// progress websocket): from its `executing` message to the next node's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NodeTiming {
    /// The node id (`12`, or `5:3` inside a subgraph).
    pub node: String,
    /// Its class.
    pub class_type: String,
    /// Its `_meta.title`, when the graph gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// When it started, ms after execution started.
    pub start_ms: u64,
    /// How long it ran (0 when cached).
    pub ms: u64,
    /// ComfyUI reused its output from a previous prompt.
    pub cached: bool,
}
