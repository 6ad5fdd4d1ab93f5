//! Comparisons of hand-made reports: each rule and threshold on its own.

use std::path::Path;

use super::model::{Change, Thresholds};
use crate::model::{RunInfo, RunRecord, RunReport, ScenarioHead, ScenarioReport, TargetKind, Verdict};

fn scenario(name: &str, verdict: Verdict, runs: Vec<RunRecord>) -> ScenarioReport {
    let head = ScenarioHead {
        name: name.into(),
        file: format!("{name}.yaml"),
        description: None,
        tags: vec!["t".into()],
        warnings: Vec::new(),
    };
    let mut s = ScenarioReport::new(head, verdict, None);
    s.runs = runs;
    s
}

fn job(delay: u64, exec: u64, total: u64) -> RunRecord {
    RunRecord {
        job_id: Some("j".into()),
        delay_ms: Some(delay),
        execution_ms: Some(exec),
        total_ms: total,
        ..RunRecord::default()
    }
}

fn write(dir: &Path, scenarios: Vec<ScenarioReport>) {
    let info = RunInfo {
        run_id: dir.file_name().unwrap().to_string_lossy().into(),
        started_at: "2026-11-27T00:00:00Z".into(),
        target: "t".into(),
        target_kind: TargetKind::Mock,
        git_commit: None,
    };
    std::fs::create_dir_all(dir).unwrap();
    let r = RunReport::new(&info, scenarios);
    std::fs::write(dir.join("report.json"), serde_json::to_vec(&r).unwrap()).unwrap();
}

fn change_of(c: &super::model::Comparison, name: &str) -> Change {
    c.scenarios.iter().find(|s| s.name == name).unwrap().change
}

#[test]
fn each_rule_judges_its_own_difference() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("base"), tmp.path().join("cand"));
    let mut warned = job(100, 1000, 1200);
    warned.warnings.push("ComfyUI warned: deprecated node".into());
    write(
        &a,
        vec![
            scenario("steady", Verdict::Passed, vec![job(100, 1000, 1200)]),
            scenario("breaks", Verdict::Passed, vec![job(100, 1000, 1200)]),
            scenario("heals", Verdict::Failed, vec![job(100, 1000, 1200)]),
            scenario("slower", Verdict::Passed, vec![job(100, 1000, 1200)]),
            scenario("jitter", Verdict::Passed, vec![job(10, 100, 120)]),
            scenario("faster", Verdict::Passed, vec![job(100, 4000, 4200)]),
            scenario("gone", Verdict::Passed, vec![job(100, 1000, 1200)]),
            scenario("skipped", Verdict::Passed, vec![job(100, 1000, 1200)]),
            scenario("warns", Verdict::Passed, vec![job(100, 1000, 1200)]),
        ],
    );
    write(
        &b,
        vec![
            scenario("steady", Verdict::Passed, vec![job(110, 1100, 1300)]),
            scenario("breaks", Verdict::Error, vec![job(100, 1000, 1200)]),
            scenario("heals", Verdict::Passed, vec![job(100, 1000, 1200)]),
            scenario("slower", Verdict::Passed, vec![job(100, 2000, 2200)]),
            // 3x slower but only 240 ms: under the slack.
            scenario("jitter", Verdict::Passed, vec![job(10, 300, 360)]),
            scenario("faster", Verdict::Passed, vec![job(100, 1000, 1200)]),
            scenario("skipped", Verdict::Ignored, Vec::new()),
            scenario("warns", Verdict::Passed, vec![warned]),
            scenario("added", Verdict::Passed, vec![job(100, 1000, 1200)]),
        ],
    );
    let c = super::compare(&a, &b, &Thresholds::default(), None).unwrap();
    for (name, want) in [
        ("steady", Change::Same),
        ("breaks", Change::Regressed),
        ("heals", Change::Improved),
        ("slower", Change::Regressed),
        ("jitter", Change::Same),
        ("faster", Change::Improved),
        ("gone", Change::Missing),
        ("skipped", Change::NotCompared),
        ("warns", Change::Same),
        ("added", Change::New),
    ] {
        assert_eq!(change_of(&c, name), want, "{name}");
    }
    let warns = c.scenarios.iter().find(|s| s.name == "warns").unwrap();
    assert_eq!(warns.new_warnings, ["ComfyUI warned: deprecated node"]);
    let slower = c.scenarios.iter().find(|s| s.name == "slower").unwrap();
    assert!(slower.regressions.iter().any(|r| r.starts_with("execution 1s → 2s")), "{:?}", slower.regressions);
    assert_eq!(c.verdict, Change::Regressed);
    // Regressed (and missing) first.
    assert_eq!(c.scenarios[0].change, Change::Regressed);
    assert_eq!((c.counts.regressed, c.counts.missing, c.counts.improved), (2, 1, 2));
    // A looser ratio forgives the slowdown; the broken and missing ones stay.
    let loose = Thresholds { latency_ratio: 3.0, ..Thresholds::default() };
    let c = super::compare(&a, &b, &loose, None).unwrap();
    assert_eq!(change_of(&c, "slower"), Change::Same);
    assert_eq!(c.verdict, Change::Regressed);
}

#[test]
fn a_run_against_itself_is_the_same_and_bad_folders_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("base");
    write(&a, vec![scenario("s", Verdict::Passed, vec![job(1, 2, 3)])]);
    let c = super::compare(&a, &a, &Thresholds::default(), None).unwrap();
    assert_eq!(c.verdict, Change::Same);
    let e = super::compare(&a, &tmp.path().join("nope"), &Thresholds::default(), None).unwrap_err();
    assert!(e.to_string().contains("nope/report.json"), "{e}");
    std::fs::write(a.join("report.json"), "{").unwrap();
    let e = super::compare(&a, &a, &Thresholds::default(), None).unwrap_err();
    assert!(e.to_string().contains("not a report.json"), "{e}");
}

#[test]
fn another_gpu_or_release_is_said_beside_the_change_not_judged() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("base"), tmp.path().join("cand"));
    let on = |gpu: &str, version: &str| RunRecord {
        worker: Some(crate::model::WorkerFacts {
            gpu_type: Some(gpu.into()),
            version: Some(version.into()),
            stale: None,
        }),
        ..job(100, 1000, 1200)
    };
    write(&a, vec![scenario("s", Verdict::Passed, vec![on("NVIDIA A40", "3")])]);
    write(&b, vec![scenario("s", Verdict::Passed, vec![on("NVIDIA L4", "3")])]);
    let c = super::compare(&a, &b, &Thresholds::default(), None).unwrap();
    let s = &c.scenarios[0];
    assert_eq!(s.change, Change::Same);
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(s.notes[0].contains("GPU type changed: NVIDIA A40 -> NVIDIA L4"), "{:?}", s.notes);
    let text = super::render::text(&c);
    assert!(text.contains("NVIDIA L4"), "{text}");
}
