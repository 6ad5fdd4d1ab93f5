//! A run of the suite and each scenario in it. Building a [`RunReport`] takes
//! the run's identity ([`RunInfo`]: run id, clock reading, commit) as input, so
//! the model stays pure data: no clock, no environment, no I/O.

use serde::{Deserialize, Serialize};

use super::check::CheckFailure;
use super::job::RunRecord;
use super::snapshot::{Calibration, SnapshotRecord};
use super::timing::BudgetReport;
use super::verdict::{Counts, Verdict};

/// Bumped when a field changes meaning or disappears (additions keep the version).
pub const SCHEMA_VERSION: u32 = 1;

/// What kind of endpoint a run talked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// The embedded mock endpoint.
    Mock,
    /// A live RunPod serverless endpoint (or anything speaking its v2 API).
    Live,
    /// A runpod-python `--rp_serve_api` worker.
    Local,
    /// A ComfyUI server, through its own API.
    Comfyui,
}

/// Who ran what, when: the identity of one run, decided by the runner.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunInfo {
    /// Groups the history lines and fragments of one run.
    pub run_id: String,
    /// RFC 3339, seconds.
    pub started_at: String,
    /// The target as shown to people (`live endpoint https://api.runpod.ai/v2/abc`).
    pub target: String,
    /// The kind of target.
    pub target_kind: TargetKind,
    /// The commit being tested, when known.
    pub git_commit: Option<String>,
}

/// Every scenario of one run of the suite.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The harness's version.
    pub tool_version: String,
    /// Groups history lines of one run; nextest's run id under nextest.
    #[serde(default)]
    pub run_id: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// The target as shown to people.
    pub target: String,
    /// The kind of target.
    pub target_kind: TargetKind,
    /// The commit being tested, when known.
    pub git_commit: Option<String>,
    /// Scenarios per verdict.
    pub counts: Counts,
    /// Estimated cost of the run, when a price table is configured.
    #[serde(default)]
    pub cost: Option<CostSummary>,
    /// The throwaway endpoint the run created (`HARNESS_PROVISION`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provision: Option<super::provision::ProvisionReport>,
    /// Every scenario, sorted by name.
    pub scenarios: Vec<ScenarioReport>,
}

impl RunReport {
    /// A report of `scenarios` (sorted by name, counted) for the run `info`.
    pub fn new(info: &RunInfo, mut scenarios: Vec<ScenarioReport>) -> Self {
        scenarios.sort_by(|a, b| a.name.cmp(&b.name));
        RunReport {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            run_id: info.run_id.clone(),
            started_at: info.started_at.clone(),
            target: info.target.clone(),
            target_kind: info.target_kind,
            git_commit: info.git_commit.clone(),
            counts: Counts {
                review: scenarios.iter().filter(|s| s.in_review()).count(),
                ..Counts::tally(scenarios.iter().map(|s| s.verdict))
            },
            cost: None,
            provision: None,
            scenarios,
        }
    }

    /// The run's identity, as it was given.
    pub fn info(&self) -> RunInfo {
        RunInfo {
            run_id: self.run_id.clone(),
            started_at: self.started_at.clone(),
            target: self.target.clone(),
            target_kind: self.target_kind,
            git_commit: self.git_commit.clone(),
        }
    }
}

/// The run's estimated cost (executionTime x price per second).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CostSummary {
    /// The price table's currency.
    pub currency: String,
    /// The GPU class whose price applied.
    pub gpu: String,
    /// Price per second of execution.
    #[serde(deserialize_with = "super::lenient::f64_or_nan")]
    #[schemars(with = "Option<f64>")]
    pub per_second: f64,
    /// Sum over the run's jobs.
    #[serde(deserialize_with = "super::lenient::f64_or_nan")]
    #[schemars(with = "Option<f64>")]
    pub total: f64,
}

impl CostSummary {
    /// The sum of `costs`, 0 when there are none. `Iterator::sum` of no
    /// floats is -0.0, which the reports printed as "-0.0000" for a run whose
    /// target reports no execution time (a local worker).
    pub(crate) fn total_of(costs: impl Iterator<Item = f64>) -> f64 {
        costs.fold(0.0, |a, b| a + b)
    }
}

#[cfg(test)]
mod cost_tests {
    #[test]
    fn no_costs_sum_to_zero_not_minus_zero() {
        let total = super::CostSummary::total_of(std::iter::empty());
        assert_eq!(format!("{total:.4}"), "0.0000");
        assert_eq!(super::CostSummary::total_of([0.5, 0.25].into_iter()), 0.75);
    }
}

/// What identifies a scenario in reports, whatever became of it.
#[derive(Clone, Debug, Default)]
pub struct ScenarioHead {
    /// The trial name (path under the scenario folder, no extension).
    pub name: String,
    /// The scenario file as shown to people.
    pub file: String,
    /// The scenario's description.
    pub description: Option<String>,
    /// The scenario's tags.
    pub tags: Vec<String>,
    /// Remarks found while loading.
    pub warnings: Vec<String>,
}

/// One scenario's result.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioReport {
    /// The trial name.
    pub name: String,
    /// The scenario file.
    pub file: String,
    /// The scenario's description.
    pub description: Option<String>,
    /// The scenario's tags.
    pub tags: Vec<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// The human message shown by the test runner (all problems together).
    pub message: Option<String>,
    /// Every failed check.
    pub failures: Vec<CheckFailure>,
    /// Budget verdicts and figures.
    pub budget: Option<BudgetReport>,
    /// Every job submitted.
    pub runs: Vec<RunRecord>,
    /// Remarks found while loading.
    pub warnings: Vec<String>,
    /// How long the scenario took, in ms.
    pub duration_ms: u64,
    /// Reference-snapshot outcomes per image (empty when `snapshot.compare` is off).
    #[serde(default)]
    pub snapshots: Vec<SnapshotRecord>,
    /// With `repeat` > 1: the spread of the metrics between runs of the same seed.
    #[serde(default)]
    pub calibration: Option<Calibration>,
    /// Estimated cost of this scenario's jobs.
    #[serde(default)]
    pub cost: Option<f64>,
    /// The figures of a load run (`load:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<super::load::LoadReport>,
}

impl ScenarioReport {
    /// Whether an image of this scenario was in the review band (between a
    /// match and a mismatch) while the scenario itself did not fail for it.
    pub fn in_review(&self) -> bool {
        self.snapshots.iter().any(|s| s.outcome == "review")
    }

    /// A scenario that ended with `verdict` and `message` before any job ran (ignored,
    /// invalid, no endpoint, given up); runs and figures are filled by whoever has them.
    pub fn new(head: ScenarioHead, verdict: Verdict, message: Option<String>) -> Self {
        ScenarioReport {
            name: head.name,
            file: head.file,
            description: head.description,
            tags: head.tags,
            verdict,
            message,
            failures: Vec::new(),
            budget: None,
            runs: Vec::new(),
            warnings: head.warnings,
            duration_ms: 0,
            snapshots: Vec::new(),
            calibration: None,
            cost: None,
            load: None,
        }
    }
}
