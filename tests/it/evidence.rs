//! The endpoint's own evidence beside a red trial, against the standalone
//! mock's live face (`RUNPOD_ENDPOINT_URL`; its management routes answer on
//! the same server): the worker's log lines in the terminal, report.json and
//! index.html with secrets redacted; a 403 and a cut stream as one-line notes;
//! the opt-in wait for a rolling release; `check --format json` and GitHub
//! annotations.

use std::path::Path;

use crate::common::{copy_dir, run_suite, MockProcess, Output};

const KEY: &str = "rpa_EVIDENCE_5e1f0c9a7b2d4e6f";

/// One scenario (SDXL txt2img, 512²) in a temp folder, run against the
/// standalone mock's endpoint `behaviour` (served under its own name).
fn red_run(
    behaviour: &str,
    extra: &[(&str, &str)],
) -> (Output, serde_json::Value, String, tempfile::TempDir) {
    let mock = MockProcess::start(&["--api-key", KEY, "--speed", "10"]);
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scenarios");
    copy_dir(
        Path::new("scenarios/sdxl/workflows"),
        &scen.join("workflows"),
    );
    std::fs::write(
        scen.join("smoke.yaml"),
        "workflow: workflows/sdxl_txt2img.json\nexpect:\n  images: {count: 1}\n",
    )
    .unwrap();
    let reports = tmp.path().join("reports");
    // Behaviours in a folder are served under `folder~name`.
    let id = format!("evidence~{behaviour}");
    let url = mock.endpoint_url(&id);
    let mut env = vec![
        ("HARNESS_SCENARIOS", scen.to_str().unwrap()),
        ("HARNESS_REPORTS", reports.to_str().unwrap()),
        ("RUNPOD_API_KEY", KEY),
        ("RUNPOD_ENDPOINT_ID", &id),
        ("RUNPOD_ENDPOINT_URL", &url),
    ];
    env.extend_from_slice(extra);
    let out = run_suite(&[], &env);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    let html = std::fs::read_to_string(reports.join("index.html")).unwrap();
    (out, report, html, tmp)
}

fn first_run(report: &serde_json::Value) -> &serde_json::Value {
    &report["scenarios"][0]["runs"][0]
}

#[test]
fn a_red_trial_carries_its_workers_last_lines_redacted_everywhere() {
    let (out, report, html, tmp) = red_run("oom-worker", &[]);
    assert_eq!(out.code, 101, "{}", out.all());
    let all = out.all();
    // The terminal: the failure message ends with the worker's last lines.
    assert!(all.contains("worker"), "{all}");
    assert!(
        all.contains("torch.OutOfMemoryError: CUDA out of memory"),
        "{all}"
    );
    assert!(all.contains("NVIDIA RTX A4000"), "{all}");
    // report.json: structured lines, the worker's identity.
    let run = first_run(&report);
    assert_eq!(run["worker"]["gpu_type"], "NVIDIA RTX A4000", "{run:#}");
    assert_eq!(run["worker"]["version"], "7", "{run:#}");
    let logs = &run["worker_logs"];
    assert_eq!(logs["worker_id"], run["worker_id"], "{run:#}");
    let lines = logs["lines"].as_array().expect("lines");
    assert!(lines.len() >= 6, "{logs:#}");
    for l in lines {
        assert!(l["ts"].as_str().is_some_and(|t| t.contains('T')), "{l}");
        assert!(
            matches!(l["source"].as_str(), Some("container" | "system")),
            "{l}"
        );
    }
    let text: Vec<&str> = lines.iter().filter_map(|l| l["line"].as_str()).collect();
    assert!(text.iter().any(|l| l.contains("got prompt")), "{text:?}");
    assert!(
        text.iter().any(|l| l.contains("OutOfMemoryError")),
        "{text:?}"
    );
    assert!(logs.get("note").is_none(), "{logs:#}");
    // index.html: a collapsible block with the job's timeline marks.
    assert!(html.contains("<details"), "no collapsible block");
    assert!(
        html.contains("OutOfMemoryError"),
        "no worker lines in index.html"
    );
    assert!(html.contains("NVIDIA RTX A4000"));
    // Nowhere the key or the signed URL's signature.
    let reports = crate::common::all_text(&tmp.path().join("reports"));
    for (name, text) in [("output", &all), ("reports", &reports)] {
        assert!(!text.contains(KEY), "the key leaked into {name}");
        assert!(
            !text.contains("X-Amz-Signature=deadbeef"),
            "a signed URL leaked into {name}"
        );
    }
    assert!(
        reports.contains("RUNPOD_AI_API_KEY="),
        "the line itself is kept"
    );
}

#[test]
fn worker_logs_can_be_turned_off() {
    let (out, report, _, _tmp) = red_run("oom-worker", &[("HARNESS_WORKER_LOGS", "off")]);
    assert_eq!(out.code, 101, "{}", out.all());
    let run = first_run(&report);
    assert!(run.get("worker_logs").is_none(), "{run:#}");
    // Who ran it is still said.
    assert_eq!(run["worker"]["gpu_type"], "NVIDIA RTX A4000", "{run:#}");
    assert!(!out.all().contains("got prompt"), "{}", out.all());
}

#[test]
fn a_key_without_log_permission_is_a_note_not_a_failure_of_its_own() {
    let (out, report, _, _tmp) = red_run("logs-forbidden", &[]);
    assert_eq!(out.code, 101, "{}", out.all());
    let s = &report["scenarios"][0];
    // The verdict is the job's, not the log route's.
    assert_eq!(s["verdict"], "failed", "{s:#}");
    let note = first_run(&report)["worker_logs"]["note"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(note.contains("403"), "{note}");
    assert!(!note.contains('\n'), "one line: {note}");
    assert!(
        out.all().contains(&note),
        "the note is in the failure message: {}",
        out.all()
    );
}

#[test]
fn a_cut_log_stream_keeps_what_was_read_and_says_so() {
    let (out, report, _, _tmp) = red_run("logs-cut", &[]);
    assert_eq!(out.code, 101, "{}", out.all());
    let logs = &first_run(&report)["worker_logs"];
    let text: Vec<&str> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["line"].as_str())
        .collect();
    assert_eq!(text.len(), 3, "{logs:#}");
    assert!(!text.iter().any(|l| l.contains("never read")), "{text:?}");
    let note = logs["note"].as_str().unwrap_or_default();
    assert!(note.contains("cut"), "{logs:#}");
}

#[test]
fn the_run_waits_for_a_rolling_release_when_asked() {
    // 2 simulated minutes at 10x: about 12 s of real time.
    let (out, report, _, _tmp) = red_run("rolling-release", &[("HARNESS_WAIT_ROLLOUT", "2m")]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr.contains("rolling release to version 4"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("reached every worker"),
        "{}",
        out.stderr
    );
    assert_eq!(first_run(&report)["worker"]["version"], "4", "{report:#}");
}

#[test]
fn a_rollout_past_its_deadline_stops_the_run_naming_the_share_reached() {
    let mock = MockProcess::start(&["--api-key", KEY]);
    let tmp = tempfile::tempdir().unwrap();
    let url = mock.endpoint_url("evidence~rolling-release");
    let out = run_suite(
        &[],
        &[
            ("HARNESS_SCENARIOS", "scenarios/sdxl"),
            ("HARNESS_REPORTS", tmp.path().to_str().unwrap()),
            ("RUNPOD_API_KEY", KEY),
            ("RUNPOD_ENDPOINT_ID", "evidence~rolling-release"),
            ("RUNPOD_ENDPOINT_URL", &url),
            ("HARNESS_WAIT_ROLLOUT", "1s"),
        ],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("HARNESS_WAIT_ROLLOUT"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("% of workers"), "{}", out.stderr);
    assert!(out.stderr.contains("version 4"), "{}", out.stderr);
    let jobs = mock.get("/_mock/stats", KEY)["jobs_created"]["evidence~rolling-release"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(jobs, 0, "no job is sent before the release is out");
}

#[test]
fn check_speaks_json_and_github_annotations() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("scenarios");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bad.yaml"),
        "workflow: nowhere.json\nexpect:\n  imgaes: {count: 1}\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .args(["check", "--format", "json"])
        .arg(&dir)
        .env("GITHUB_ACTIONS", "true")
        .env_remove("HARNESS_INVENTORY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["files"], 1);
    assert_eq!(doc["bad_files"], 1);
    let findings = doc["findings"].as_array().unwrap();
    let typo = findings
        .iter()
        .find(|f| f["message"].as_str().is_some_and(|m| m.contains("imgaes")))
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(typo["line"], 3);
    assert_eq!(typo["col"], 3);
    assert_eq!(typo["severity"], "error");
    assert!(typo["file"].as_str().unwrap().ends_with("bad.yaml"));
    // The annotations go to stderr so stdout stays JSON.
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("::error file=") && l.contains("imgaes"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains(",line=3,col=3,"), "{line}");
    assert!(!line[2..].contains('\n'));
}
