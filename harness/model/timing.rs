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
}

impl std::fmt::Display for BudgetMiss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} time over budget: {} {} > budget {}",
            self.phase,
            self.statistic,
            crate::text::fmt_ms(self.measured_ms),
            crate::text::fmt_ms(self.budget_ms)
        )
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
