//! What a comparison of two report folders says: per scenario the verdict
//! change, image metrics against the counterpart, timing and cost deltas and
//! new warnings; for the whole, regressed / improved / same. Written as
//! `compare.json` (this shape) and read by the renderers.

use serde::{Deserialize, Serialize};

use crate::model::{Metrics, Verdict};

/// What changed, for one scenario or for the whole comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Worse in the candidate (a verdict, an image, a time or the cost).
    Regressed,
    /// In the baseline but not in the candidate.
    Missing,
    /// Better in the candidate, and nothing worse.
    Improved,
    /// Only in the candidate.
    New,
    /// Ignored on one side or both: nothing to compare.
    NotCompared,
    /// Nothing past the thresholds.
    Same,
}

impl Change {
    /// The words shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Regressed => "regressed",
            Change::Missing => "missing",
            Change::Improved => "improved",
            Change::New => "new",
            Change::NotCompared => "not compared",
            Change::Same => "same",
        }
    }
}

/// When a difference counts (the CLI's flags).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Thresholds {
    /// A time regresses when the candidate's is more than this many times the baseline's...
    pub latency_ratio: f64,
    /// ...and more than this many milliseconds longer (small times jitter).
    pub latency_slack_ms: u64,
    /// An image regresses below this similarity to its counterpart.
    pub min_similarity: f64,
    /// An image regresses above this hash distance (bits of 64) from its counterpart.
    pub max_distance: u32,
    /// The cost regresses above this ratio.
    pub cost_ratio: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            latency_ratio: 1.5,
            latency_slack_ms: 500,
            min_similarity: 0.9,
            max_distance: 10,
            cost_ratio: 1.5,
        }
    }
}

/// One side of the comparison.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Side {
    /// The report folder as given.
    pub dir: String,
    /// Its run id.
    pub run_id: String,
    /// Its target.
    pub target: String,
    /// When it started.
    pub started_at: String,
    /// Its commit.
    pub git_commit: Option<String>,
}

/// A time or the cost on both sides.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Delta {
    /// `queue`, `execution`, `total` (median ms over the scenario's jobs) or `cost`.
    pub what: String,
    /// The baseline's figure.
    pub baseline: f64,
    /// The candidate's figure.
    pub candidate: f64,
    /// Regressed, improved or same, by the thresholds.
    pub change: Change,
}

/// One returned image against its counterpart (same scenario, same job, same index).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImageDiff {
    /// The job (0-based, for `repeat`).
    pub run: usize,
    /// The image's index in the job's output.
    pub index: usize,
    /// The baseline's file (relative to its folder), if kept.
    pub baseline_file: Option<String>,
    /// The candidate's file.
    pub candidate_file: Option<String>,
    /// `WxH` on each side when they differ.
    pub size_changed: Option<String>,
    /// The snapshot metrics of the pair (none when neither pixels nor thumbnails could be read).
    pub metrics: Option<Metrics>,
    /// Baseline thumbnail (data URI) for the side-by-side view.
    pub baseline_thumbnail: Option<String>,
    /// Candidate thumbnail.
    pub candidate_thumbnail: Option<String>,
    /// Full-size copies and the diff image written under `--out`, for a regressed pair.
    pub evidence: Option<Evidence>,
    /// Whether this pair regressed.
    pub regressed: bool,
}

/// A regressed pair's files under `--out` (relative to it): both images at full
/// size and the diff, for the side-by-side view.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Evidence {
    /// The baseline's image.
    pub baseline: String,
    /// The candidate's image.
    pub candidate: String,
    /// The diff (baseline dimmed, changed pixels red).
    pub diff: String,
}

/// One scenario on both sides.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioDiff {
    /// The scenario.
    pub name: String,
    /// Its tags (the candidate's, else the baseline's).
    pub tags: Vec<String>,
    /// What changed.
    pub change: Change,
    /// The baseline's verdict.
    pub baseline: Option<Verdict>,
    /// The candidate's verdict.
    pub candidate: Option<Verdict>,
    /// Why it regressed.
    pub regressions: Vec<String>,
    /// What got better.
    pub improvements: Vec<String>,
    /// Times and cost.
    pub deltas: Vec<Delta>,
    /// Images against their counterparts.
    pub images: Vec<ImageDiff>,
    /// Warnings of the candidate's jobs the baseline's did not have.
    pub new_warnings: Vec<String>,
    /// What changed on the endpoint's side, which is not a regression of the
    /// workflow: another GPU type, another worker release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// How many scenarios changed how.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ChangeCounts {
    /// Regressed.
    pub regressed: usize,
    /// Improved.
    pub improved: usize,
    /// Same.
    pub same: usize,
    /// Only in the candidate.
    pub new: usize,
    /// Only in the baseline.
    pub missing: usize,
    /// Ignored on a side.
    pub not_compared: usize,
}

/// The whole comparison (`compare.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Comparison {
    /// 1.
    pub schema_version: u32,
    /// The reference (production, last night, the old image).
    pub baseline: Side,
    /// What is judged against it.
    pub candidate: Side,
    /// The thresholds used.
    pub thresholds: Thresholds,
    /// Regressed when any scenario regressed or went missing; else improved when any improved; else same.
    pub verdict: Change,
    /// Scenarios by change.
    pub counts: ChangeCounts,
    /// Every scenario of either side, regressed first.
    pub scenarios: Vec<ScenarioDiff>,
}
