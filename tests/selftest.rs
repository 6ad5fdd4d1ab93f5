//! Self-test: one scenario per mock behaviour and fault (`tests/selftest/`), run
//! by the real `scenarios` binary against the embedded mock. Every verdict and
//! message is pinned in `tests/selftest.expected`, so a harness that stops
//! detecting a fault (or a mock that stops producing it) fails CI.
//! `BLESS=1 cargo test --test selftest` rewrites the pinned file.

mod common;

use common::run_suite;
use regex::Regex;

/// Job ids, worker ids and wall-clock figures vary per run; everything else is pinned.
fn normalise(text: &str) -> String {
    let job =
        Regex::new(r"(sync-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-u1")
            .unwrap();
    let worker = Regex::new(r"mock[0-9a-f]{10}").unwrap();
    let text = job.replace_all(text, "[JOB]");
    let text = worker.replace_all(&text, "[WORKER]");
    text.into_owned()
}

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
                got.push_str(&normalise(line));
                got.push('\n');
            }
        }
    }
    let pinned = std::path::Path::new("tests/selftest.expected");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(pinned, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(pinned).unwrap_or_default();
    if want != got {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(10)
            .map(|(i, (a, b))| format!("line {}:\n  pinned: {a}\n  got:    {b}", i + 1))
            .collect();
        panic!(
            "self-test verdicts changed (BLESS=1 to accept):\n{}\n\nfull output:\n{got}",
            diff.join("\n")
        );
    }
    // The binary's own exit status agrees: the expected failures make it fail.
    assert_eq!(out.code, 101, "{}", out.all());
}
