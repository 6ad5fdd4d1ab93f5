//! A throwaway endpoint's whole life against the standalone mock's management
//! API: created from an image, waited for, the suite run on it, deleted and
//! verified gone, and every interruption point (a refused create, a lost
//! create answer, 429 and 5xx, workers that never get ready, an unhealthy
//! worker, long throttling, SIGTERM mid-run, a killed run and its cleanup).
//! After every test the mock holds no endpoint.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{get_json, MockProcess};
use serde_json::Value;

const KEY: &str = "prov-key-0123456789abcdef";

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    mock: MockProcess,
}

/// A standalone mock (speed 100) with behaviours for the provisioning cases,
/// a one-scenario suite and a price table.
fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let mocks = root.join("mocks");
    std::fs::create_dir_all(&mocks).unwrap();
    let behaviours = [
        ("default", "queue: 200ms\nexecution: 1s\n"),
        ("worker", "queue: 200ms\nexecution: 1s\nprovision:\n  pull: 30s\n  cold_start: 10s\n"),
        ("slowjob", "queue: 0s\nexecution: 3000s\n"),
        ("never", "provision:\n  workers: never_ready\n"),
        ("sick", "provision:\n  pull: 5s\n  workers: unhealthy\n"),
        ("throttled", "provision:\n  workers: throttled\n"),
        (
            "lost",
            "queue: 0s\nexecution: 1s\nprovision:\n  faults:\n    - {on: create, respond: lost, nth: [1]}\n",
        ),
        (
            "busy",
            "queue: 0s\nexecution: 1s\nprovision:\n  faults:\n    - {on: create, respond: rate_limit, retry_after: 1, nth: [1]}\n    - {on: delete, respond: http, status: 503, nth: [1]}\n    - {on: workers, respond: http, status: 502, nth: [1]}\n",
        ),
    ];
    for (name, yaml) in behaviours {
        std::fs::write(mocks.join(format!("{name}.yaml")), yaml).unwrap();
    }
    let s = root.join("s");
    std::fs::create_dir_all(s.join("workflows")).unwrap();
    std::fs::write(
        s.join("workflows/w.json"),
        r#"{"3": {"class_type": "KSampler", "inputs": {"seed": 7}},
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
            "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}}}"#,
    )
    .unwrap();
    std::fs::write(
        s.join("one.yaml"),
        "workflow: workflows/w.json\ntimeout: 10m\nexpect:\n  images: {count: 1, format: png, width: 64, height: 64}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("costs.yaml"),
        "currency: USD\nper_second:\n  ADA_24: 0.00031\n",
    )
    .unwrap();
    let mock = MockProcess::start(&[
        "--api-key",
        KEY,
        "--speed",
        "100",
        "--mocks",
        &mocks.to_string_lossy(),
    ]);
    Env {
        _dir: dir,
        root,
        mock,
    }
}

impl Env {
    fn spec(&self, image: &str, extra: &str) -> PathBuf {
        let p = self.root.join("provision.yaml");
        std::fs::write(
            &p,
            format!("image: {image}\nname_prefix: ehtest\ngpu:\n  pools: [ADA_24]\n{extra}"),
        )
        .unwrap();
        p
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_endpoint-harness"));
        cmd.current_dir(&self.root).args(args);
        crate::common::scrub_env(&mut cmd);
        cmd.env("RUNPOD_API_KEY", KEY)
            .env("RUNPOD_MANAGEMENT_URL", &self.mock.root)
            .env("HARNESS_SCENARIOS", self.root.join("s"))
            .env("HARNESS_REPORTS", self.root.join("r"))
            .env("HARNESS_PROGRESS", "off")
            .env("HARNESS_MAX_COST", "5");
        cmd
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(KEY), "the key leaked: {text}");
        (out.status.code().unwrap_or(-1), text)
    }

    fn endpoints(&self) -> Vec<Value> {
        get_json(&format!("{}/v2/serverless", self.mock.root), KEY)["endpoints"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn calls(&self, route: &str) -> u64 {
        self.mock.get("/_mock/stats", KEY)["requests"][format!("serverless {route}")]
            .as_u64()
            .unwrap_or(0)
    }

    fn report(&self) -> Value {
        let text = std::fs::read_to_string(self.root.join("r/report.json")).unwrap();
        assert!(!text.contains(KEY));
        serde_json::from_str(&text).unwrap()
    }

    fn state_files(&self) -> usize {
        std::fs::read_dir(self.root.join("r/.provision"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// The test's last word: nothing left on the mock, no state file left.
    fn assert_clean(&self) {
        assert_eq!(
            self.endpoints(),
            Vec::<Value>::new(),
            "endpoints left on the mock"
        );
        assert_eq!(self.state_files(), 0, "state files left");
    }
}

#[test]
fn the_suite_runs_on_a_fresh_endpoint_which_is_deleted_and_verified_gone() {
    let e = env();
    let spec = e.spec("mock/worker:sha-1234", "");
    let (code, out) = e.run(&["provision", "--file", spec.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("creating endpoint ehtest-"), "{out}");
    assert!(out.contains("(GET answered 404)"), "{out}");
    let r = e.report();
    assert_eq!(r["counts"]["passed"], 1, "{r}");
    let p = &r["provision"];
    assert_eq!(p["deleted"], true, "{p}");
    assert_eq!(p["image"], "mock/worker:sha-1234");
    assert!(p["name"].as_str().unwrap().starts_with("ehtest-"));
    // Pull 30 s + cold start 10 s at speed 100: ready after about 0.4 s.
    let ready = p["ready_after_s"].as_f64().unwrap();
    assert!((0.3..5.0).contains(&ready), "{p}");
    assert!(p["estimated_cost"].as_f64().unwrap() > 0.0, "{p}");
    assert!(
        r["target"].as_str().unwrap().starts_with("live endpoint"),
        "{r}"
    );
    assert_eq!(e.calls("create"), 1);
    assert!(e.calls("delete") >= 1 && e.calls("get") >= 1);
    let md = std::fs::read_to_string(e.root.join("r/summary.md")).unwrap();
    assert!(md.contains("Provisioned endpoint"), "{md}");
    e.assert_clean();
}

#[test]
fn the_same_through_cargo_test_style_environment_variables() {
    let e = env();
    let spec = e.spec("ghcr.io/acme/any-image:1", "workers: {min: 0, max: 2}\n");
    let (code, out) = e.run(
        &["run", "--"],
        &[("HARNESS_PROVISION", spec.to_str().unwrap())],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("workers.min is 0: not waiting"), "{out}");
    assert_eq!(e.report()["provision"]["deleted"], true);
    e.assert_clean();
}

#[test]
fn nothing_is_created_without_a_cost_cap_or_a_key() {
    let e = env();
    let spec = e.spec("mock/worker", "");
    let (code, out) = e.run(
        &["provision", "--file", spec.to_str().unwrap()],
        &[("HARNESS_MAX_COST", "")],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("set HARNESS_MAX_COST"), "{out}");
    let (code, out) = e.run(
        &["provision", "--file", spec.to_str().unwrap()],
        &[("HARNESS_MAX_COST", ""), ("RUNPOD_API_KEY", "")],
    );
    assert_eq!(code, 2, "{out}");
    let bad = e.root.join("bad.yaml");
    std::fs::write(&bad, "image: x\ngpu: {pools: [ADA_24]}\nworkres: 3\n").unwrap();
    let (code, out) = e.run(&["provision", "--file", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("bad.yaml:3:1"), "{out}");
    assert_eq!(e.calls("create"), 0);
    // With --no-cost-cap it goes ahead.
    let (code, out) = e.run(
        &[
            "provision",
            "--no-cost-cap",
            "--file",
            spec.to_str().unwrap(),
        ],
        &[("HARNESS_MAX_COST", "")],
    );
    assert_eq!(code, 0, "{out}");
    e.assert_clean();
}

#[test]
fn a_lost_create_answer_is_found_by_name_never_created_twice() {
    let e = env();
    let spec = e.spec("mock/lost", "");
    let (code, out) = e.run(&["provision", "--file", spec.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("looking for ehtest-"), "{out}");
    assert!(out.contains("found it: the create went through"), "{out}");
    assert_eq!(e.calls("create"), 1, "{out}");
    e.assert_clean();
}

#[test]
fn rate_limits_and_server_errors_are_waited_out_and_teardown_still_verifies() {
    let e = env();
    let spec = e.spec("mock/busy", "");
    let (code, out) = e.run(&["provision", "--file", spec.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("429 rate limited"), "{out}");
    assert_eq!(e.calls("create"), 2, "one refused with 429, one created");
    assert!(e.calls("delete") >= 2, "the 503 delete was retried");
    e.assert_clean();
}

#[test]
fn unhealthy_never_ready_and_throttled_workers_fail_fast_and_leave_nothing() {
    let e = env();
    for (image, extra, says) in [
        (
            "mock/sick",
            "",
            "a worker is UNHEALTHY: workers list: 1 worker(s)",
        ),
        (
            "mock/never",
            "ready_timeout: 1500ms\n",
            "s (ready_timeout): workers list: 1 worker(s)",
        ),
        (
            "mock/throttled",
            "throttled_limit: 800ms\n",
            "workers THROTTLED for",
        ),
    ] {
        let spec = e.spec(image, extra);
        let t = Instant::now();
        let (code, out) = e.run(&["provision", "--file", spec.to_str().unwrap()], &[]);
        assert_eq!(code, 2, "{image}: {out}");
        assert!(out.contains(says), "{image}: {out}");
        assert!(out.contains("/health: 200"), "{image}: {out}");
        assert!(out.contains("teardown: deleted"), "{image}: {out}");
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{image} took {:?}",
            t.elapsed()
        );
        e.assert_clean();
    }
}

#[test]
fn the_mock_refuses_bad_fields_with_a_problem_body() {
    let e = env();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (code, v): (u16, Value) = rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}/v2/serverless", e.mock.root))
            .bearer_auth(KEY)
            .json(&serde_json::json!({"name": "", "type": "QUEUE", "image": "mock/default", "bogus": 1,
                                      "gpu": {"pools": []}, "workers": {"min": 3, "max": 1}}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    });
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["status"], 400);
    let errors = v["errors"].to_string();
    for want in [
        "bogus",
        "$.name",
        "scaling",
        "gpu.pools",
        "min (3) must not exceed max (1)",
    ] {
        assert!(errors.contains(want), "{want}: {v}");
    }
    e.assert_clean();
}

fn wait_for(mut f: impl FnMut() -> bool, what: &str) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn(e: &Env, spec: &Path) -> std::process::Child {
    e.command(&["provision", "--file", spec.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn sigterm_mid_run_cancels_the_job_and_deletes_the_endpoint() {
    let e = env();
    let spec = e.spec("mock/slowjob", "");
    let child = spawn(&e, &spec);
    // Wait until the job is being polled on the provisioned endpoint: the
    // harness owns it from then on (its id is known), so SIGTERM cancels it.
    wait_for(
        || {
            let stats = e.mock.get("/_mock/stats", KEY);
            stats["requests"].as_object().is_some_and(|m| {
                m.keys()
                    .any(|k| k.ends_with(" status") || k.ends_with(" status-sync"))
            })
        },
        "the job's first status request",
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("cancelled 1 job(s)"), "{err}");
    assert!(!err.contains(KEY));
    assert_eq!(e.report()["provision"]["deleted"], true);
    e.assert_clean();
}

#[test]
fn a_killed_run_leaves_a_state_file_that_cleanup_finishes() {
    let e = env();
    let spec = e.spec("mock/slowjob", "");
    let mut child = spawn(&e, &spec);
    wait_for(
        || !e.endpoints().is_empty() && e.state_files() == 1,
        "the endpoint",
    );
    wait_for(
        || {
            let dir = e.root.join("r/.provision");
            std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .any(|f| {
                    std::fs::read_to_string(f.path())
                        .is_ok_and(|t| t.contains("\"endpoint_id\": \"mk"))
                })
        },
        "the id in the state file",
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(e.endpoints().len(), 1);
    // Younger than the limit: kept.
    let (code, out) = e.run(&["provision", "cleanup", "--reports", "r"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 deleted, 1 kept"), "{out}");
    assert_eq!(e.endpoints().len(), 1);
    let (code, out) = e.run(
        &[
            "provision",
            "cleanup",
            "--older-than",
            "0s",
            "--reports",
            "r",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 deleted"), "{out}");
    e.assert_clean();
}

#[test]
fn cleanup_by_prefix_finds_what_no_state_file_remembers() {
    let e = env();
    let spec = e.spec("mock/slowjob", "");
    let mut child = spawn(&e, &spec);
    wait_for(
        || e.state_files() == 1 && !e.endpoints().is_empty(),
        "the endpoint",
    );
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(e.root.join("r/.provision")).unwrap();
    // `provision cleanup --older-than AGE ARGS...`, which must exit 0; its output.
    let spec_arg = spec.to_str().unwrap();
    let cleanup = |age: &str, args: &[&str]| {
        let mut all = vec!["provision", "cleanup", "--older-than", age];
        all.extend_from_slice(args);
        let (code, out) = e.run(&all, &[]);
        assert_eq!(code, 0, "{out}");
        out
    };
    cleanup("0s", &["--prefix", "other"]);
    assert_eq!(e.endpoints().len(), 1, "another prefix is left alone");
    let out = cleanup("0s", &["--state-only", "--file", spec_arg]);
    assert!(
        out.contains("state files only") && out.contains("0 deleted"),
        "{out}"
    );
    assert_eq!(
        e.endpoints().len(),
        1,
        "--state-only leaves what only the prefix shows"
    );
    // An endpoint younger than --older-than may belong to a run still going.
    let out = cleanup("1h", &["--file", spec_arg]);
    assert!(
        out.contains("0 deleted, 1 kept") && out.contains("  kept ehtest-"),
        "{out}"
    );
    assert_eq!(e.endpoints().len(), 1, "a young endpoint is kept");
    let out = cleanup("0s", &["--file", spec_arg]);
    assert!(
        out.contains("prefix `ehtest-`") && out.contains("1 deleted"),
        "{out}"
    );
    e.assert_clean();
}
