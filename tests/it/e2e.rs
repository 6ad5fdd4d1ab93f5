//! End to end: the `scenarios` binary against the embedded mock and against a
//! RunPod-compatible server reached as a live target.

use std::path::Path;

use crate::common::{all_text, copy_dir, run_suite};
use endpoint_harness::mock::catalogue::Catalogue;
use endpoint_harness::mock::{MockOptions, MockServer};

/// libtest pads names into columns; compare lines with runs of spaces collapsed.
fn has_line(out: &str, want: &str) -> bool {
    out.lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") == want)
}

fn workspace() -> (tempfile::TempDir, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scenarios");
    copy_dir(Path::new("scenarios/sdxl"), &scen.join("sdxl"));
    let reports = tmp.path().join("reports");
    (
        tmp,
        scen.to_string_lossy().into(),
        reports.to_string_lossy().into(),
    )
}

#[test]
fn a_malformed_scenario_fails_alone_with_file_line_and_the_others_pass() {
    let (tmp, scen, reports) = workspace();
    // Dropped in after the build: it must show up as a trial without a rebuild.
    std::fs::write(
        Path::new(&scen).join("broken.yaml"),
        "workflow: sdxl/workflows/sdxl_txt2img.json\ntimout: 5m\n",
    )
    .unwrap();
    let out = run_suite(
        &[],
        &[("HARNESS_SCENARIOS", &scen), ("HARNESS_REPORTS", &reports)],
    );
    assert_eq!(out.code, 101, "{}", out.all());
    assert!(
        has_line(&out.stdout, "test [smoke,sdxl] sdxl/txt2img-basic ... ok"),
        "{}",
        out.stdout
    );
    assert!(
        has_line(&out.stdout, "test broken ... FAILED"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("broken.yaml:2:1"), "{}", out.stdout);
    assert!(
        out.stdout.contains("unknown key `timout`"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("did you mean `timeout`?"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("test result: FAILED. 3 passed; 1 failed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("against the embedded mock"),
        "{}",
        out.stderr
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("reports/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["counts"]["total"], 4);
    assert_eq!(report["counts"]["error"], 1);
    let junit = std::fs::read_to_string(tmp.path().join("reports/junit.xml")).unwrap();
    assert!(
        junit.contains("tests=\"4\"") && junit.contains("errors=\"1\""),
        "{junit}"
    );
    assert!(tmp
        .path()
        .join("reports/images/sdxl/batch-of-4.r0-3-ComfyUI_00004_.png")
        .is_file());
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("reports/history.jsonl"))
            .unwrap()
            .lines()
            .count(),
        4
    );
}

#[test]
fn libtest_selection_flags_work() {
    let (_tmp, scen, reports) = workspace();
    let env = [
        ("HARNESS_SCENARIOS", scen.as_str()),
        ("HARNESS_REPORTS", reports.as_str()),
    ];
    let list = run_suite(&["--list"], &env);
    assert_eq!(list.code, 0);
    assert_eq!(list.stdout, "[sdxl] sdxl/batch-of-4: test\n[sdxl,img2img] sdxl/img2img: test\n[smoke,sdxl] sdxl/txt2img-basic: test\n");
    let smoke = run_suite(&["smoke"], &env);
    assert!(
        smoke
            .stdout
            .contains("1 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out"),
        "{}",
        smoke.stdout
    );
    // Several filters, as libtest takes them: a trial runs when any selects it.
    let two = run_suite(&["batch-of-4", "sdxl/img2img"], &env);
    assert!(two.stdout.contains("2 passed; 0 failed"), "{}", two.all());
    let two = run_suite(
        &[
            "--exact",
            "sdxl/img2img",
            "sdxl/batch-of-4",
            "--test-threads",
            "1",
        ],
        &env,
    );
    assert!(two.stdout.contains("2 passed; 0 failed"), "{}", two.all());
    let exact = run_suite(&["--exact", "sdxl/img2img"], &env);
    assert!(
        exact.stdout.contains("1 passed; 0 failed"),
        "{}",
        exact.stdout
    );
    let skip = run_suite(
        &[
            "--skip",
            "img2img",
            "--format",
            "terse",
            "--test-threads",
            "1",
        ],
        &env,
    );
    assert!(
        skip.stdout
            .contains("2 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out"),
        "{}",
        skip.stdout
    );
}

#[test]
fn a_missing_capability_is_ignored_with_the_reason() {
    let (_tmp, scen, reports) = workspace();
    std::fs::write(
        Path::new(&scen).join("sd3.yaml"),
        "workflow: sdxl/workflows/sdxl_txt2img.json\nrequires: [sd3-large]\n",
    )
    .unwrap();
    let env = [
        ("HARNESS_SCENARIOS", scen.as_str()),
        ("HARNESS_REPORTS", reports.as_str()),
    ];
    let out = run_suite(&["sd3"], &env);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(has_line(&out.stdout, "test sd3 ... ignored (requires sd3-large which the embedded mock does not offer (capabilities: sdxl, flux1-schnell, img2img, vhs, sd15; set HARNESS_CAPABILITIES))"), "{}", out.stdout);
    let out = run_suite(
        &["sd3"],
        &[env[0], env[1], ("HARNESS_CAPABILITIES", "sd3-large")],
    );
    assert!(has_line(&out.stdout, "test sd3 ... ok"), "{}", out.stdout);
}

#[test]
fn discovery_that_finds_nothing_fails_loudly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_suite(&[], &[("HARNESS_SCENARIOS", &tmp.path().to_string_lossy())]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("no scenario files (*.yaml) found under"),
        "{}",
        out.stderr
    );
}

fn standalone(key: &str) -> MockServer {
    let cat = Catalogue::load(Path::new("mocks"));
    let mut opts = MockOptions::from_catalogue(&cat, key, 100.0);
    opts.endpoints
        .insert("live-endpoint".into(), cat.get(None).unwrap());
    MockServer::start(opts, 0).unwrap()
}

#[test]
fn live_target_runs_against_any_runpod_compatible_server() {
    let key = "rpa_E2E_LIVE_KEY_0123456789";
    let server = standalone(key);
    let (tmp, scen, reports) = workspace();
    let env = [
        ("HARNESS_SCENARIOS", scen.as_str()),
        ("HARNESS_REPORTS", reports.as_str()),
        ("HARNESS_TARGET", "live"),
        ("RUNPOD_API_KEY", key),
        ("RUNPOD_ENDPOINT_ID", "live-endpoint"),
        ("RUNPOD_ENDPOINT_URL", &server.endpoint_url("live-endpoint")),
        ("HARNESS_CAPABILITIES", "sdxl"),
    ];
    let out = run_suite(&[], &env);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "against the live endpoint {}",
            server.endpoint_url("live-endpoint")
        )),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("3 passed; 0 failed"), "{}", out.stdout);
    assert!(!out.all().contains(key) && !all_text(tmp.path()).contains(key));
}

#[test]
fn a_wrong_key_fails_clearly_as_unauthorized_and_is_never_printed() {
    let server = standalone("the-right-key-123456");
    let (tmp, scen, reports) = workspace();
    let wrong = "rpa_WRONG_KEY_abcdef123456";
    let env = [
        ("HARNESS_SCENARIOS", scen.as_str()),
        ("HARNESS_REPORTS", reports.as_str()),
        ("RUNPOD_API_KEY", wrong),
        ("RUNPOD_ENDPOINT_ID", "live-endpoint"),
        ("RUNPOD_ENDPOINT_URL", &server.endpoint_url("live-endpoint")),
        ("HARNESS_CAPABILITIES", "sdxl"),
    ];
    let out = run_suite(&["txt2img"], &env);
    assert_eq!(out.code, 101, "{}", out.all());
    // Said once by the preflight; the trial points at it and sends no job.
    assert!(
        out.stderr.contains(
            "GET /health: 401 Unauthorized: the endpoint refused the API key (check RUNPOD_API_KEY)"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("not run: the endpoint refused the API key"),
        "{}",
        out.stdout
    );
    assert!(!out.all().contains(wrong) && !all_text(tmp.path()).contains(wrong));
}

#[test]
fn the_cost_cap_stops_submitting_and_says_so() {
    let (tmp, scen, reports) = workspace();
    let costs = tmp.path().join("costs.yaml");
    // 3 s of execution per job at 0.001/s: 0.003 per job; a cap of 0.005 allows one job.
    std::fs::write(
        &costs,
        "currency: USD\ngpu: TEST\nper_second:\n  TEST: 0.001\n",
    )
    .unwrap();
    let out = run_suite(
        &["--test-threads", "1"],
        &[
            ("HARNESS_SCENARIOS", &scen),
            ("HARNESS_REPORTS", &reports),
            ("HARNESS_COSTS", &costs.to_string_lossy()),
            ("HARNESS_MAX_COST", "0.005"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("1 passed; 0 failed; 2 ignored"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("not submitted: HARNESS_MAX_COST USD 0.0050 would be passed"),
        "{}",
        out.stdout
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&reports).join("report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        report["cost"]["total"]
            .as_f64()
            .map(|t| (t * 1000.0).round()),
        Some(3.0)
    );
    assert!(
        std::fs::read_to_string(Path::new(&reports).join("summary.md"))
            .unwrap()
            .contains("Estimated cost: USD 0.0030")
    );
}

#[test]
fn retention_warning_and_unknown_mock_behaviour_are_reported() {
    let (_tmp, scen, reports) = workspace();
    std::fs::write(Path::new(&scen).join("long.yaml"), "workflow: sdxl/workflows/sdxl_txt2img.json\ntimeout: 45m\nset:\n  \"Empty Latent Image.width\": 64\n  \"Empty Latent Image.height\": 64\n").unwrap();
    std::fs::write(
        Path::new(&scen).join("typo.yaml"),
        "workflow: sdxl/workflows/sdxl_txt2img.json\nmock: cold-strat\n",
    )
    .unwrap();
    let out = run_suite(
        &["--skip", "sdxl"],
        &[("HARNESS_SCENARIOS", &scen), ("HARNESS_REPORTS", &reports)],
    );
    assert!(
        out.stderr.contains(
            "warning: long: timeout 45m is longer than RunPod's 30-minute result retention"
        ),
        "{}",
        out.stderr
    );
    assert!(has_line(&out.stdout, "test long ... ok"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("no mock behaviour `cold-strat` (did you mean `cold-start`?)"),
        "{}",
        out.stdout
    );
}

#[test]
fn progress_lines_go_to_stderr_and_leave_terse_output_alone() {
    let (_tmp, scen, reports) = workspace();
    std::fs::write(Path::new(&scen).join("slow.yaml"), "workflow: sdxl/workflows/sdxl_txt2img.json\nmock: slow-execution\nset:\n  \"Empty Latent Image.width\": 64\n  \"Empty Latent Image.height\": 64\n").unwrap();
    // slow-execution runs 2 min of simulated time: 1.2 s at the default speed of 100.
    let out = run_suite(
        &["--format", "terse", "--exact", "slow"],
        &[
            ("HARNESS_SCENARIOS", &scen),
            ("HARNESS_REPORTS", &reports),
            ("HARNESS_PROGRESS", "300ms"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains("endpoint-harness: waiting (1): slow IN_"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("waiting"), "{}", out.stdout);
    assert!(out.stdout.contains("running 1 test\n."), "{}", out.stdout);
}

/// The nightly `init` writes runs `run --target live`: with its secrets
/// missing or empty it must go red, not test the mock; locally too, unless the
/// fallback is asked for.
#[test]
fn an_explicit_live_target_without_its_secrets_fails_and_never_runs_the_mock() {
    let (_tmp, scen, reports) = workspace();
    for ci in ["true", ""] {
        let env = [
            ("HARNESS_SCENARIOS", scen.as_str()),
            ("HARNESS_REPORTS", reports.as_str()),
            ("HARNESS_TARGET", "live"),
            ("RUNPOD_API_KEY", ""),
            ("RUNPOD_ENDPOINT_ID", ""),
            ("CI", ci),
        ];
        let out = run_suite(&[], &env);
        assert_ne!(out.code, 0, "CI={ci}: {}", out.all());
        assert!(
            out.all().contains(
                "RUNPOD_API_KEY and RUNPOD_ENDPOINT_ID (or RUNPOD_ENDPOINT_URL) is not set"
            ),
            "{}",
            out.all()
        );
        assert!(
            !out.all().contains("passed;") || out.all().contains("0 passed"),
            "nothing ran: {}",
            out.all()
        );
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .args([
            "run",
            "--target",
            "live",
            "--scenarios",
            &scen,
            "--reports",
            &reports,
        ])
        .env_remove("RUNPOD_API_KEY")
        .env_remove("RUNPOD_ENDPOINT_ID")
        .env_remove("RUNPOD_ENDPOINT_URL")
        .env("CI", "true")
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Asked for by name, locally, the fallback runs the mock and says so.
    let env = [
        ("HARNESS_SCENARIOS", scen.as_str()),
        ("HARNESS_REPORTS", reports.as_str()),
        ("HARNESS_TARGET", "live"),
        ("HARNESS_MOCK_FALLBACK", "1"),
    ];
    let out = run_suite(&[], &env);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.all()
            .contains("running against the embedded mock instead (HARNESS_MOCK_FALLBACK)"),
        "{}",
        out.all()
    );
}

/// `repeat: 3` whose first run fails its checks, then the cost cap refuses
/// the second: the verdict stays failed (it once became ignored, exit 0,
/// JUnit "skipped"), and the failure is printed under a failed verdict.
#[test]
fn a_failure_followed_by_the_cost_cap_stays_failed() {
    let (tmp, scen, reports) = workspace();
    let costs = tmp.path().join("costs.yaml");
    std::fs::write(
        &costs,
        "currency: USD\ngpu: TEST\nper_second:\n  TEST: 0.001\n",
    )
    .unwrap();
    std::fs::write(
        Path::new(&scen).join("repeat.yaml"),
        "workflow: sdxl/workflows/sdxl_txt2img.json\nrepeat: 3\nbudget: {execution: 3s}\nexpect:\n  images: {count: 1, width: 512}\n",
    )
    .unwrap();
    let out = run_suite(
        &["--exact", "repeat"],
        &[
            ("HARNESS_SCENARIOS", &scen),
            ("HARNESS_REPORTS", &reports),
            ("HARNESS_COSTS", &costs.to_string_lossy()),
            ("HARNESS_MAX_COST", "0.005"),
        ],
    );
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("0 passed; 1 failed"), "{}", out.stdout);
    assert!(out.stdout.contains("FAILED against"), "{}", out.stdout);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&reports).join("report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["scenarios"][0]["verdict"], "failed");
    let junit = std::fs::read_to_string(Path::new(&reports).join("junit.xml")).unwrap();
    assert!(
        junit.contains("<failure") && !junit.contains("<skipped"),
        "{junit}"
    );
}
