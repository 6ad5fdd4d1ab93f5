//! The verdict of a scenario and the counts of a run: a rich outcome in the
//! style of nextest (passed, failed check, over budget, endpoint or harness
//! error, timed out, ignored), never a bool.

use serde::{Deserialize, Serialize};

/// The verdict of one scenario.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check and budget held.
    Passed,
    /// A check failed (status, error text, images, videos, warnings, snapshots).
    Failed,
    /// Checks passed but a latency budget (or a load threshold) was missed.
    OverBudget,
    /// The endpoint or the harness failed (bad scenario, HTTP error, malformed answer).
    Error,
    /// The scenario's deadline passed before the job finished.
    TimedOut,
    /// Not run: the target lacks a capability, the cost cap was reached, or the
    /// scenario is a load run that was not asked for.
    Ignored,
}

impl Verdict {
    /// Every verdict, worst first (the order reports list failures in).
    pub const ALL: [Verdict; 6] = [
        Verdict::Error,
        Verdict::Failed,
        Verdict::TimedOut,
        Verdict::OverBudget,
        Verdict::Passed,
        Verdict::Ignored,
    ];

    /// The words shown to people (`over budget`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::OverBudget => "over budget",
            Verdict::Error => "error",
            Verdict::TimedOut => "timed out",
            Verdict::Ignored => "ignored",
        }
    }

    /// The name in report.json (`over_budget`), also a CSS class.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::OverBudget => "over_budget",
            Verdict::Error => "error",
            Verdict::TimedOut => "timed_out",
            Verdict::Ignored => "ignored",
        }
    }

    /// Passed or ignored: nothing for a person to look at.
    pub fn is_success(self) -> bool {
        matches!(self, Verdict::Passed | Verdict::Ignored)
    }

    /// How bad a verdict is, for sorting failures first (0 = worst).
    pub fn severity(self) -> usize {
        Self::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// Scenarios per verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counts {
    /// Every scenario, ignored ones included.
    pub total: usize,
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios with a failed check.
    pub failed: usize,
    /// Scenarios that missed a latency budget.
    pub over_budget: usize,
    /// Scenarios stopped by an endpoint or harness error.
    pub error: usize,
    /// Scenarios whose deadline passed.
    pub timed_out: usize,
    /// Scenarios not run.
    pub ignored: usize,
    /// Scenarios with an image in the review band of the snapshot comparison
    /// (counted within their verdicts as well: a review alone does not fail).
    #[serde(default)]
    pub review: usize,
}

impl Counts {
    /// Counts the verdicts given.
    pub fn tally(verdicts: impl IntoIterator<Item = Verdict>) -> Self {
        let mut c = Counts::default();
        for v in verdicts {
            c.total += 1;
            *match v {
                Verdict::Passed => &mut c.passed,
                Verdict::Failed => &mut c.failed,
                Verdict::OverBudget => &mut c.over_budget,
                Verdict::Error => &mut c.error,
                Verdict::TimedOut => &mut c.timed_out,
                Verdict::Ignored => &mut c.ignored,
            } += 1;
        }
        c
    }

    /// Scenarios that did not pass and were not ignored.
    pub fn not_passing(&self) -> usize {
        self.failed + self.over_budget + self.error + self.timed_out
    }
}
