//! `reports/history.jsonl`: one line per scenario per run, appended and never
//! rewritten, so a nightly job that keeps the file (as a CI cache or artifact)
//! accumulates the trend that `endpoint-harness trend` and the HTML report read.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{RunReport, ScenarioReport, Verdict};

/// One scenario in one run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HistoryLine {
    pub time: String,
    /// Groups the lines of one run (nextest's run id under nextest).
    #[serde(default)]
    pub run_id: String,
    pub scenario: String,
    pub verdict: Verdict,
    pub target: String,
    #[serde(default)]
    pub git_commit: Option<String>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub execution_ms: Option<u64>,
    #[serde(default)]
    pub total_ms: Option<u64>,
    /// p95 of total wall time over `repeat` runs (= the value for one run).
    #[serde(default)]
    pub p95_total_ms: Option<u64>,
    /// Lowest snapshot similarity of the run's images, when snapshots are compared.
    #[serde(default)]
    pub similarity: Option<f64>,
    #[serde(default)]
    pub distance: Option<u32>,
    #[serde(default)]
    pub cost: Option<f64>,
    /// The GPU type the endpoint's workers list named for the scenario's
    /// worker(s), when it says (several joined by `,`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<String>,
    /// The release the worker(s) ran (several joined by `,`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
}

impl HistoryLine {
    pub fn from_scenario(report: &RunReport, s: &ScenarioReport) -> Self {
        let metrics = s.snapshots.iter().filter_map(|r| r.metrics.as_ref());
        let similarity = metrics.clone().map(|m| m.similarity).reduce(f64::min);
        let distance = metrics.map(|m| m.distance).max();
        HistoryLine {
            time: report.started_at.clone(),
            run_id: report.run_id.clone(),
            scenario: s.name.clone(),
            verdict: s.verdict,
            target: report.target.clone(),
            git_commit: report.git_commit.clone(),
            delay_ms: s.runs.iter().filter_map(|r| r.delay_ms).max(),
            execution_ms: s.runs.iter().filter_map(|r| r.execution_ms).max(),
            total_ms: s.runs.iter().map(|r| r.total_ms).max(),
            p95_total_ms: s
                .budget
                .as_ref()
                .and_then(|b| b.total.as_ref())
                .map(|t| t.p95_ms),
            similarity,
            distance,
            cost: s.cost,
            gpu: joined(s.runs.iter().filter_map(|r| r.worker.as_ref()?.gpu_type.clone())),
            release: joined(s.runs.iter().filter_map(|r| r.worker.as_ref()?.version.clone())),
        }
    }
}

/// The distinct values, sorted and joined by `,`; None when there are none.
fn joined(values: impl Iterator<Item = String>) -> Option<String> {
    let set: std::collections::BTreeSet<String> = values.collect();
    (!set.is_empty()).then(|| set.into_iter().collect::<Vec<_>>().join(","))
}

/// Appends the lines of `scenarios`.
pub fn append(dir: &Path, report: &RunReport, scenarios: &[ScenarioReport]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut buf = String::new();
    for s in scenarios {
        let line = serde_json::to_string(&HistoryLine::from_scenario(report, s))
            .map_err(std::io::Error::other)?;
        buf.push_str(&crate::redact::redact(&line));
        buf.push('\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("history.jsonl"))?;
    f.write_all(buf.as_bytes())
}

/// Reads a history file; unreadable lines are skipped and counted.
pub fn read(path: &Path) -> std::io::Result<(Vec<HistoryLine>, usize)> {
    let text = std::fs::read_to_string(path)?;
    let mut bad = 0;
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).map_err(|_| bad += 1).ok())
        .collect();
    Ok((lines, bad))
}
