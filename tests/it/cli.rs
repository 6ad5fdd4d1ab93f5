//! The `endpoint-harness` command: check, new, import-hub, schema, trend and
//! snapshots, each as a user would run it, and the results run by the suite.

use std::path::Path;
use std::process::Command;

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn check_lists_every_error_and_exits_1() {
    let (code, out, _) = cli(&["check", "scenarios"]);
    assert_eq!(code, 0);
    assert!(out.contains("scenario file(s) OK"), "{out}");
    let (code, _, err) = cli(&["check", "tests/fixtures/invalid"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("unknown key `timout`") && err.contains("this is a UI-format workflow"),
        "{err}"
    );
    let n = std::fs::read_dir("tests/fixtures/invalid")
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert!(
        err.contains(&format!("{n} of {n} scenario file(s) have errors")),
        "{err}"
    );
}

#[test]
fn new_scaffolds_a_scenario_that_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("scenarios");
    let (code, out, err) = cli(&[
        "new",
        "flux/fox",
        "--workflow",
        "scenarios/flux/workflows/flux1_schnell_txt2img.json",
        "--scenarios",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("run it: endpoint-harness run -- --exact flux/fox"),
        "{out}"
    );
    let yaml = std::fs::read_to_string(dir.join("flux/fox.yaml")).unwrap();
    assert!(
        yaml.contains("\"RandomNoise.noise_seed\": 108") && yaml.contains("width: 1024"),
        "{yaml}"
    );
    let run = crate::common::run_suite(
        &[],
        &[
            ("HARNESS_SCENARIOS", &dir.to_string_lossy()),
            ("HARNESS_REPORTS", &tmp.path().join("r").to_string_lossy()),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let (code, _, err) = cli(&[
        "new",
        "x",
        "--workflow",
        "tests/fixtures/invalid/workflows/ui_format.json",
        "--dir",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("UI-format") && err.contains("Export (API)"),
        "{err}"
    );
}

#[test]
fn hub_tests_import_and_run_directly() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("scenarios/hub");
    let (code, out, _) = cli(&[
        "import-hub",
        "tests/fixtures/hub/tests.json",
        "--out",
        &out_dir.to_string_lossy(),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("1 scenario(s) imported"), "{out}");
    let yaml = std::fs::read_to_string(out_dir.join("basic_test.yaml")).unwrap();
    assert!(
        yaml.contains("timeout: 5m")
            && yaml.contains("count: 2")
            && yaml.contains("path: fixtures/basic_test/test.png"),
        "{yaml}"
    );
    assert!(image::open(out_dir.join("fixtures/basic_test/test.png")).is_ok());
    let scen = tmp.path().join("scenarios");
    let run = crate::common::run_suite(
        &[],
        &[
            ("HARNESS_SCENARIOS", &scen.to_string_lossy()),
            ("HARNESS_REPORTS", &tmp.path().join("r").to_string_lossy()),
        ],
    );
    assert!(run.stdout.contains("1 passed; 0 failed"), "{}", run.all());
    let empty = tempfile::tempdir().unwrap();
    let direct = crate::common::run_suite(
        &[],
        &[
            ("HARNESS_HUB_TESTS", "tests/fixtures/hub/tests.json"),
            ("HARNESS_SCENARIOS", &empty.path().to_string_lossy()),
            ("HARNESS_REPORTS", &tmp.path().join("r2").to_string_lossy()),
        ],
    );
    assert!(
        direct.stdout.contains("hub/basic_test") && direct.stdout.contains("1 passed; 0 failed"),
        "{}",
        direct.all()
    );
    std::fs::write(tmp.path().join("bad.json"), "{\"tests\": [{\"nam\": 1}]}").unwrap();
    let bad = crate::common::run_suite(
        &[],
        &[
            (
                "HARNESS_HUB_TESTS",
                &tmp.path().join("bad.json").to_string_lossy(),
            ),
            ("HARNESS_SCENARIOS", &empty.path().to_string_lossy()),
            ("HARNESS_REPORTS", &tmp.path().join("r3").to_string_lossy()),
        ],
    );
    assert!(
        bad.stdout
            .contains("not a RunPod Hub tests.json: missing field `name`"),
        "{}",
        bad.all()
    );
}

#[test]
fn trend_flags_a_regression_with_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for run in 1..=6 {
        let total = if run == 6 { 5000 } else { 1000 };
        lines.push_str(&format!("{{\"time\":\"2026-11-0{run}T00:00:00Z\",\"run_id\":\"r{run}\",\"scenario\":\"sdxl/a\",\"verdict\":\"passed\",\"target\":\"t\",\"total_ms\":{total}}}\n"));
    }
    lines.push_str("not json\n");
    let path = tmp.path().join("history.jsonl");
    std::fs::write(&path, lines).unwrap();
    let (code, out, err) = cli(&["trend", "--history", &path.to_string_lossy()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("total p95 5.0s vs baseline 1.0s (x5.00 > x1.5, +4.0s > 1.0s)"),
        "{out}"
    );
    assert!(err.contains("1 unreadable line(s)"), "{err}");
    let (code, _, _) = cli(&["trend", "--history", &path.to_string_lossy(), "--no-fail"]);
    assert_eq!(code, 0);
}

#[test]
fn schema_prints_the_checked_in_schemas() {
    for (kind, file) in [
        ("scenario", "scenario"),
        ("behaviour", "mock-behaviour"),
        ("report", "report"),
    ] {
        let (code, out, _) = cli(&["schema", kind]);
        assert_eq!(code, 0);
        assert_eq!(
            out,
            std::fs::read_to_string(Path::new("schemas").join(format!("{file}.schema.json")))
                .unwrap()
        );
    }
}

#[test]
fn snapshot_orphans_fail_ci_and_pending_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snaps");
    crate::common::copy_dir(Path::new("snapshots"), &snaps);
    let (code, out, _) = cli(&[
        "snapshots",
        "--snapshot-dir",
        &snaps.to_string_lossy(),
        "orphans",
    ]);
    assert_eq!(code, 0, "{out}");
    std::fs::create_dir_all(snaps.join("gone/scenario")).unwrap();
    std::fs::write(snaps.join("gone/scenario/0.png"), b"x").unwrap();
    let (code, out, _) = cli(&[
        "snapshots",
        "--snapshot-dir",
        &snaps.to_string_lossy(),
        "orphans",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("gone/scenario/0.png"), "{out}");
    std::fs::write(snaps.join("gone/scenario/0.png.new"), b"x").unwrap();
    let (_, out, _) = cli(&[
        "snapshots",
        "--snapshot-dir",
        &snaps.to_string_lossy(),
        "pending",
    ]);
    assert!(out.contains("1 pending file(s)"), "{out}");
    // The old spelling still works for a release, with a note.
    let (_, out, err) = cli(&["snapshots", "--dir", &snaps.to_string_lossy(), "reject"]);
    assert!(out.contains("1 file(s) rejected"), "{out}");
    assert!(
        err.contains("`snapshots --dir` is now `snapshots --snapshot-dir`"),
        "{err}"
    );
}

/// `--version` names the release and the commit it was built from.
#[test]
fn version_names_the_release_and_the_commit() {
    let (code, out, _) = cli(&["--version"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(&format!(
            "endpoint-harness {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{out}"
    );
    assert!(!out.contains("(commit )"), "{out}");
}
