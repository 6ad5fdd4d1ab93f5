//! Self-test: one scenario per mock behaviour and fault (`tests/selftest/`), run
//! by the real suite against the embedded mock. Every verdict and message is
//! pinned with insta (`tests/snapshots/selftest__verdicts.snap`), job and worker
//! ids filtered, so a harness that stops detecting a fault (or a mock that stops
//! producing it) fails CI. Review a deliberate change with `cargo insta review`
//! (or accept it with `INSTA_UPDATE=always cargo test --test it -- selftest::`).

use crate::common::run_suite;

#[test]
fn every_behaviour_and_fault_gets_its_pinned_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().to_string_lossy().to_string();
    let out = run_suite(
        &["--test-threads", "8"],
        &[
            ("HARNESS_SCENARIOS", "tests/selftest"),
            ("HARNESS_REPORTS", &reports),
        ],
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report.json"))
            .unwrap_or_else(|e| panic!("{e}\n{}", out.all())),
    )
    .unwrap();
    let mut got = String::new();
    for s in report["scenarios"].as_array().unwrap() {
        got.push_str(&format!(
            "== {}: {}\n",
            s["name"].as_str().unwrap(),
            s["verdict"].as_str().unwrap()
        ));
        if let Some(m) = s["message"].as_str() {
            for line in m.lines().skip(1) {
                got.push_str(line);
                got.push('\n');
            }
        }
    }
    // Job ids, worker ids and wall-clock figures vary per run; everything else is pinned.
    insta::with_settings!({filters => vec![
        (r"(sync-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-u1", "[JOB]"),
        (r"mock[0-9a-f]{10}", "[WORKER]"),
        // The worker's log lines beside a red trial carry wall-clock times and,
        // with trials sharing a behaviour's worker, lines of other jobs
        // (tests/it/evidence.rs pins them); the verdicts are pinned here.
        (r"  · worker [^\n]*\n(      \d{4}-\d\d-\d\dT[^\n]*\n)*", ""),
        // Builds without the `ffmpeg` feature add a "pixels not checked" note for
        // MP4/WebM; the verdicts are the same either way.
        (r"  · video \d+ \([^)]*\): pixels of [^\n]* not checked[^\n]*\n", ""),
    ]}, {
        insta::assert_snapshot!("verdicts", got);
    });
    // The binary's own exit status agrees: the expected failures make it fail.
    assert_eq!(out.code, 101, "{}", out.all());
}
