//! The files written from a run's [`RunReport`] (the model lives in
//! [`crate::model`]) under `reports/`: `report.json`, `junit.xml`, `summary.md`, `index.html`,
//! `images/`, and one `history.jsonl` line per scenario.
//!
//! Under nextest (one process per trial) each process writes only a fragment
//! ([`crate::results::shards`]); the reports are built from them once.

mod html;
pub(crate) mod theme;
mod junit;
mod load;
mod markdown;
mod releases;

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::model::{RunReport, ScenarioReport};

/// Writes every report file for `report` under `dir`, and appends the
/// summary to `GITHUB_STEP_SUMMARY` when it is set.
pub fn write_all(dir: &Path, report: &RunReport) -> std::io::Result<()> {
    let summary = write_files(dir, report)?;
    // Set but empty (a shard that leaves the summary to the merge): none.
    if let Some(path) = crate::settings::Env::process().get("GITHUB_STEP_SUMMARY") {
        if let Ok(mut f) = fs::OpenOptions::new().append(true).create(true).open(path) {
            let _ = f.write_all(crate::redact::redact(&summary).as_bytes());
        }
    }
    Ok(())
}

/// Writes every report file for `report` under `dir` (not the step summary);
/// returns the Markdown summary.
pub fn write_files(dir: &Path, report: &RunReport) -> std::io::Result<String> {
    fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    crate::paths::atomic_write(
        &dir.join("report.json"),
        crate::redact::redact(&json).as_bytes(),
    )?;
    crate::paths::atomic_write(
        &dir.join("junit.xml"),
        crate::redact::redact(&junit::render(report)).as_bytes(),
    )?;
    let summary = markdown::render(report);
    crate::paths::atomic_write(
        &dir.join("summary.md"),
        crate::redact::redact(&summary).as_bytes(),
    )?;
    // The HTML charts each scenario's recent history (appended before this call).
    let history = crate::results::history::read(&dir.join("history.jsonl"))
        .map(|(l, _)| l)
        .unwrap_or_default();
    crate::paths::atomic_write(
        &dir.join("index.html"),
        crate::redact::redact(&html::render(report, &history)).as_bytes(),
    )?;
    Ok(summary)
}

/// Deletes files under `dir/images/` that `report` does not refer to (and folders
/// left empty), so the folder holds this run's images only: a person browsing
/// `reports/` never sees a picture from an earlier run beside this run's.
/// Returns how many files were removed.
pub fn prune_images(dir: &Path, report: &RunReport) -> usize {
    let mut keep = std::collections::HashSet::new();
    for s in &report.scenarios {
        for r in &s.runs {
            keep.extend(r.images.iter().filter_map(|i| i.file.clone()));
            keep.extend(r.videos.iter().filter_map(|v| v.file.clone()));
        }
        for snap in &s.snapshots {
            keep.extend(
                [&snap.expected, &snap.actual, &snap.diff]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
    }
    prune_dir(dir, &dir.join("images"), &keep)
}

fn prune_dir(root: &Path, dir: &Path, keep: &std::collections::HashSet<String>) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            removed += prune_dir(root, &p, keep);
            let _ = fs::remove_dir(&p); // only succeeds when empty
        } else {
            let rel = crate::paths::slashed(p.strip_prefix(root).unwrap_or(&p));
            if !keep.contains(&rel) && fs::remove_file(&p).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// Appends one history line per scenario (see [`crate::results::history`]).
pub fn append_history(
    dir: &Path,
    report: &RunReport,
    scenarios: &[ScenarioReport],
) -> std::io::Result<()> {
    crate::results::history::append(dir, report, scenarios)
}


#[cfg(test)]
mod render_tests {
    //! Each renderer pinned with insta from one fixed report.
    use super::*;
    use crate::model::{
        BudgetMiss, BudgetReport, CostSummary, RunInfo, RunRecord, Spread, TargetKind, Verdict,
    };

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
            load: None,
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
                crossed_at_ms: None,
                figure: None,
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
        let info = RunInfo {
            run_id: "fixed-run".into(),
            started_at: "2026-11-26T20:00:00Z".into(),
            target: "embedded mock".into(),
            target_kind: TargetKind::Mock,
            git_commit: Some("0123456789ab".into()),
        };
        let mut r = RunReport::new(&info, scenarios);
        // The failing job's worker, on a newer release than the passing one's,
        // with its log lines around the job.
        let facts = |v: &str| crate::model::WorkerFacts {
            gpu_type: Some("NVIDIA A40".into()),
            version: Some(v.into()),
            stale: None,
        };
        let named = |r: &mut RunReport, n: &str| r.scenarios.iter().position(|s| s.name == n).unwrap();
        let ok = named(&mut r, "sdxl/ok");
        r.scenarios[ok].runs[0].worker = Some(facts("3"));
        let xss = named(&mut r, "negative/xss");
        let xss = &mut r.scenarios[xss].runs[0];
        xss.worker = Some(facts("4"));
        xss.submitted_at = Some("2026-11-26T20:00:01.000Z".into());
        let line = |ts: &str, line: &str| crate::model::LogLine {
            ts: ts.into(),
            source: "container".into(),
            line: line.into(),
        };
        xss.worker_logs = Some(crate::model::WorkerLogs {
            worker_id: "mockworker01".into(),
            since: "2026-11-26T20:00:00.000Z".into(),
            lines: vec![
                line("2026-11-26T20:00:01.100Z", "got prompt"),
                line("2026-11-26T20:00:02.200Z", "<script>alert('log')</script>"),
                line("2026-11-26T20:00:03.300Z", "worker-comfyui - Job job-negative/xss-u1 failed"),
            ],
            truncated: false,
            note: None,
        });
        r.cost = Some(CostSummary {
            currency: "USD".into(),
            gpu: "ADA_24".into(),
            per_second: 0.00031,
            total: 0.00465,
        });
        r
    }

    #[test]
    fn images_of_earlier_runs_are_pruned() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut r = fixed();
        r.scenarios[0].runs[0].images.push(crate::model::ImageRecord {
            info: crate::model::ImageInfo::default(),
            file: Some("images/sdxl/ok.r0-0-x.png".into()),
            thumbnail: None,
        });
        std::fs::create_dir_all(dir.join("images/sdxl")).unwrap();
        std::fs::create_dir_all(dir.join("images/old/gone")).unwrap();
        std::fs::write(dir.join("images/sdxl/ok.r0-0-x.png"), b"this run").unwrap();
        std::fs::write(dir.join("images/sdxl/ok.r0-0-y.png"), b"an earlier run").unwrap();
        std::fs::write(dir.join("images/old/gone/a.png"), b"an earlier run").unwrap();
        assert_eq!(prune_images(dir, &r), 2);
        assert!(dir.join("images/sdxl/ok.r0-0-x.png").is_file());
        assert!(!dir.join("images/old").exists(), "empty folders go too");
    }

    #[test]
    fn jobs_on_two_releases_are_said_once() {
        use super::releases::releases_line;
        let line = releases_line(&fixed()).expect("two releases");
        assert!(line.contains("2 releases of the endpoint (3, 4)"), "{line}");
        let mut one = fixed();
        for s in &mut one.scenarios {
            if s.name == "negative/xss" {
                s.runs[0].worker = None;
            }
        }
        assert_eq!(releases_line(&one), None);
    }

    #[test]
    fn the_runs_strip_and_trends_compare_runs_against_the_same_target_only() {
        let r = fixed();
        let mut history = Vec::new();
        for (i, target) in ["live endpoint https://api.runpod.ai/v2/x", "embedded mock"].iter().enumerate() {
            for run in 0..3 {
                let mut other = r.clone();
                other.target = target.to_string();
                other.started_at = format!("2026-11-2{}T0{run}:00:00Z", i);
                for s in &other.scenarios {
                    let mut l = crate::results::history::HistoryLine::from_scenario(&other, s);
                    l.time = other.started_at.clone();
                    l.run_id = format!("{i}-{run}");
                    history.push(l);
                }
            }
        }
        let page = html::render(&r, &history);
        assert!(page.contains("2026-11-21T00:00:00Z"), "this target's runs are drawn");
        assert!(!page.contains("2026-11-20T00:00:00Z"), "another target's runs are not");
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
        assert!(html.contains("&lt;script&gt;alert('pwned')&lt;/script&gt;"));
        assert_eq!(
            html.matches("<script").count(),
            1,
            "the page's own script only: endpoint text reaches the page unescaped"
        );
        insta::assert_snapshot!(html);
    }

    #[test]
    fn json() {
        insta::assert_snapshot!(serde_json::to_string_pretty(&fixed()).unwrap());
    }
}
