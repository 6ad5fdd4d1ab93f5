//! One report model ([`RunReport`]) for a run, and the files written from it
//! under `reports/`: `report.json`, `junit.xml`, `summary.md`, `index.html`,
//! `images/`, and one `history.jsonl` line per scenario.
//!
//! Under nextest (one process per trial) each process writes its scenario as a
//! fragment under `reports/.trials/<run id>/` and re-merges the fragments of its
//! run while holding a lock, so no trial is lost or counted twice.

mod html;
mod junit;
mod markdown;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::budget::BudgetReport;
use crate::checks::{CheckFailure, ImageInfo};

/// Bumped when a field changes meaning or disappears (additions keep the version).
pub const SCHEMA_VERSION: u32 = 1;

/// The verdict of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    /// A check failed (status, error text, images, warnings).
    Failed,
    /// Checks passed but a latency budget was exceeded.
    OverBudget,
    /// The endpoint or the harness failed (bad scenario, HTTP error, malformed answer).
    Error,
    /// The scenario's deadline passed before the job finished.
    TimedOut,
    Ignored,
}

impl Verdict {
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

    pub fn is_success(self) -> bool {
        matches!(self, Verdict::Passed | Verdict::Ignored)
    }
}

/// Every run of the whole suite.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunReport {
    pub schema_version: u32,
    pub tool_version: String,
    /// Groups history lines of one run; nextest's run id under nextest.
    #[serde(default)]
    pub run_id: String,
    pub started_at: String,
    pub target: String,
    pub target_kind: crate::target::Kind,
    pub git_commit: Option<String>,
    pub counts: Counts,
    /// Estimated cost of the run, when a price table is configured.
    #[serde(default)]
    pub cost: Option<CostSummary>,
    pub scenarios: Vec<ScenarioReport>,
}

/// The run's estimated cost (executionTime x price per second).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CostSummary {
    pub currency: String,
    pub gpu: String,
    pub per_second: f64,
    pub total: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counts {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub over_budget: usize,
    pub error: usize,
    pub timed_out: usize,
    pub ignored: usize,
}

/// One scenario's result.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioReport {
    pub name: String,
    pub file: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub verdict: Verdict,
    /// The human message shown by the test runner (all problems together).
    pub message: Option<String>,
    pub failures: Vec<CheckFailure>,
    pub budget: Option<BudgetReport>,
    pub runs: Vec<RunRecord>,
    pub warnings: Vec<String>,
    pub duration_ms: u64,
    /// Reference-snapshot outcomes per image (empty when `snapshot.compare` is off).
    #[serde(default)]
    pub snapshots: Vec<crate::snapshot::SnapshotRecord>,
    /// With `repeat` > 1: the spread of the metrics between runs of the same seed.
    #[serde(default)]
    pub calibration: Option<crate::snapshot::Calibration>,
    /// Estimated cost of this scenario's jobs.
    #[serde(default)]
    pub cost: Option<f64>,
}

/// One job submitted for a scenario.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunRecord {
    pub job_id: Option<String>,
    pub worker_id: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub delay_ms: Option<u64>,
    pub execution_ms: Option<u64>,
    pub total_ms: u64,
    pub status_calls: u32,
    pub output_shape: Option<crate::output::Shape>,
    pub images: Vec<ImageRecord>,
    pub warnings: Vec<String>,
    /// Estimated cost of this job.
    #[serde(default)]
    pub cost: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImageRecord {
    #[serde(flatten)]
    pub info: ImageInfo,
    /// Where the returned bytes were saved, relative to the reports folder.
    pub file: Option<String>,
    /// A small PNG thumbnail as a data URI, for the self-contained HTML report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

impl RunReport {
    pub fn new(
        target: &str,
        kind: crate::target::Kind,
        mut scenarios: Vec<ScenarioReport>,
    ) -> Self {
        scenarios.sort_by(|a, b| a.name.cmp(&b.name));
        let mut counts = Counts {
            total: scenarios.len(),
            ..Counts::default()
        };
        for s in &scenarios {
            *match s.verdict {
                Verdict::Passed => &mut counts.passed,
                Verdict::Failed => &mut counts.failed,
                Verdict::OverBudget => &mut counts.over_budget,
                Verdict::Error => &mut counts.error,
                Verdict::TimedOut => &mut counts.timed_out,
                Verdict::Ignored => &mut counts.ignored,
            } += 1;
        }
        RunReport {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            target: target.to_string(),
            target_kind: kind,
            git_commit: git_commit(),
            run_id: run_id(),
            counts,
            cost: None,
            scenarios,
        }
    }
}

/// This run's id: nextest's when under nextest (shared by its processes), else time and pid.
pub fn run_id() -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        std::env::var("NEXTEST_RUN_ID").unwrap_or_else(|_| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            format!("{t:x}-{:x}", std::process::id())
        })
    })
    .clone()
}

fn git_commit() -> Option<String> {
    if let Ok(sha) = std::env::var("GITHUB_SHA") {
        return Some(sha);
    }
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Writes every report file for `report` under `dir`.
pub fn write_all(dir: &Path, report: &RunReport) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    atomic_write(
        &dir.join("report.json"),
        crate::redact::redact(&json).as_bytes(),
    )?;
    atomic_write(
        &dir.join("junit.xml"),
        crate::redact::redact(&junit::render(report)).as_bytes(),
    )?;
    let summary = markdown::render(report);
    atomic_write(
        &dir.join("summary.md"),
        crate::redact::redact(&summary).as_bytes(),
    )?;
    // The HTML charts each scenario's recent history (appended before this call).
    let history = crate::history::read(&dir.join("history.jsonl"))
        .map(|(l, _)| l)
        .unwrap_or_default();
    atomic_write(
        &dir.join("index.html"),
        crate::redact::redact(&html::render(report, &history)).as_bytes(),
    )?;
    if let Ok(path) = std::env::var("GITHUB_STEP_SUMMARY") {
        if let Ok(mut f) = fs::OpenOptions::new().append(true).create(true).open(path) {
            let _ = f.write_all(crate::redact::redact(&summary).as_bytes());
        }
    }
    Ok(())
}

/// Appends one history line per scenario (see [`crate::history`]).
pub fn append_history(
    dir: &Path,
    report: &RunReport,
    scenarios: &[ScenarioReport],
) -> std::io::Result<()> {
    crate::history::append(dir, report, scenarios)
}

fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)
}

/// Nextest mode: saves this process's scenarios and rebuilds the reports from all
/// fragments of the same run, under an exclusive lock.
pub fn write_fragment_and_merge(
    dir: &Path,
    run_id: &str,
    target: &str,
    kind: crate::target::Kind,
    mine: &[ScenarioReport],
    cost: Option<CostSummary>,
) -> std::io::Result<()> {
    let frag_dir = dir.join(".trials").join(sanitize(run_id));
    fs::create_dir_all(&frag_dir)?;
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".trials").join("lock"))?;
    lock.lock()?;
    for s in mine {
        let json = serde_json::to_string(s).map_err(std::io::Error::other)?;
        atomic_write(
            &frag_dir.join(format!("{}.json", sanitize(&s.name))),
            json.as_bytes(),
        )?;
    }
    let mut all = Vec::new();
    for e in fs::read_dir(&frag_dir)?.flatten() {
        if e.path().extension().is_some_and(|x| x == "json") {
            if let Ok(s) = fs::read(e.path()).map_err(|e| e.to_string()).and_then(|b| {
                serde_json::from_slice::<ScenarioReport>(&b).map_err(|e| e.to_string())
            }) {
                all.push(s);
            }
        }
    }
    let mut report = RunReport::new(target, kind, all);
    report.cost = cost.map(|mut c| {
        c.total = report.scenarios.iter().filter_map(|s| s.cost).sum();
        c
    });
    append_history(dir, &report, mine)?;
    write_all(dir, &report)?;
    let _ = lock.unlock();
    // Fragments of runs finished more than a day ago are of no further use.
    if let Ok(entries) = fs::read_dir(dir.join(".trials")) {
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(86_400));
            if old && e.path().is_dir() && e.path() != frag_dir {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

/// A file-name-safe form of a scenario name or endpoint filename: only
/// `[A-Za-z0-9._-]`, no leading dots, so nothing escapes the reports folder.
pub fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        "_".into()
    } else {
        s.chars().take(120).collect()
    }
}

/// The folder for one scenario's images, relative to the reports folder.
pub fn images_dir(scenario: &str) -> PathBuf {
    let mut p = PathBuf::from("images");
    for seg in scenario.split('/') {
        p.push(sanitize(seg));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_neutralises_paths() {
        assert_eq!(sanitize("../../x.png"), "_.._x.png");
        assert_eq!(sanitize("..\\evil"), "_evil");
        assert!(!sanitize("/etc/passwd").contains('/'));
        assert_eq!(
            images_dir("sdxl/txt2img"),
            PathBuf::from("images/sdxl/txt2img")
        );
        assert_eq!(images_dir("../x"), PathBuf::from("images/_/x"));
    }
}

#[cfg(test)]
mod render_tests {
    //! Each renderer pinned with insta from one fixed report.
    use super::*;
    use crate::budget::{BudgetMiss, BudgetReport, Spread};

    fn run(job: &str, total: u64) -> RunRecord {
        RunRecord {
            job_id: Some(job.into()),
            worker_id: Some("mockworker01".into()),
            state: Some("COMPLETED".into()),
            delay_ms: Some(800),
            execution_ms: Some(3000),
            total_ms: total,
            status_calls: 4,
            cost: Some(0.00093),
            ..RunRecord::default()
        }
    }

    fn scenario(name: &str, verdict: Verdict, message: Option<&str>) -> ScenarioReport {
        ScenarioReport {
            name: name.into(),
            file: format!("scenarios/{name}.yaml"),
            description: Some(format!("{name} <b>described</b>")),
            tags: vec!["smoke".into()],
            verdict,
            message: message.map(str::to_string),
            failures: Vec::new(),
            budget: None,
            runs: vec![run(&format!("job-{name}-u1"), 1234)],
            warnings: Vec::new(),
            duration_ms: 1300,
            snapshots: Vec::new(),
            calibration: None,
            cost: Some(0.00093),
        }
    }

    pub(crate) fn fixed() -> RunReport {
        let mut slow = scenario("sdxl/slow", Verdict::OverBudget, Some("OVER BUDGET against embedded mock\n  ✗ queue time over budget: max 45.0s > budget 30.0s"));
        let spread = Spread {
            p50_ms: 45_000,
            p95_ms: 45_000,
            max_ms: 45_000,
        };
        slow.budget = Some(BudgetReport {
            misses: vec![BudgetMiss {
                phase: "queue".into(),
                budget_ms: 30_000,
                measured_ms: 45_000,
                statistic: "max".into(),
            }],
            not_applicable: Vec::new(),
            queue: Some(spread.clone()),
            execution: None,
            total: None,
        });
        let scenarios = vec![
            scenario("sdxl/ok", Verdict::Passed, None),
            scenario("negative/xss", Verdict::Failed, Some("FAILED against embedded mock\n  ✗ job error: expected an error containing \"x\", got \"<script>alert('pwned')</script>\"")),
            scenario("faults/run-500", Verdict::Error, Some("ERROR against embedded mock\n  ✗ submission failed: POST /run: HTTP 500: {\"error\": \"boom\"}")),
            scenario("negative/sd3", Verdict::Ignored, Some("requires sd3-large which the embedded mock does not offer")),
            slow,
        ];
        let mut r = RunReport::new("embedded mock", crate::target::Kind::Mock, scenarios);
        r.started_at = "2026-11-26T20:00:00Z".into();
        r.git_commit = Some("0123456789ab".into());
        r.run_id = "fixed-run".into();
        r.cost = Some(CostSummary {
            currency: "USD".into(),
            gpu: "ADA_24".into(),
            per_second: 0.00031,
            total: 0.00465,
        });
        r
    }

    #[test]
    fn junit() {
        insta::assert_snapshot!(junit::render(&fixed()));
    }

    #[test]
    fn markdown() {
        insta::assert_snapshot!(markdown::render(&fixed()));
    }

    #[test]
    fn html() {
        let html = html::render(&fixed(), &[]);
        assert!(html.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"));
        assert!(
            !html.contains("<script>"),
            "endpoint text reaches the page unescaped"
        );
        insta::assert_snapshot!(html);
    }

    #[test]
    fn json() {
        insta::assert_snapshot!(serde_json::to_string_pretty(&fixed()).unwrap());
    }
}
