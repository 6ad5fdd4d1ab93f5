//! Reliability and security, measured: an interrupted run leaves no job behind,
//! jobs stuck in the queue fail fast with a diagnosis, the in-flight cap holds,
//! and a recognisable key never appears in any output or report of the fault matrix.
//! Each test prints the figure the README's "Reliability" section quotes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{all_text, copy_dir, run_suite, suite_command, MockProcess};

fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("HARNESS_")
            || k.starts_with("RUNPOD_")
            || k.starts_with("NEXTEST")
            || k == "CI"
        {
            cmd.env_remove(k);
        }
    }
}

#[test]
fn an_interrupted_run_cancels_every_job_in_flight() {
    let key = "interrupt-test-key-123456";
    let mock = MockProcess::start(&[
        "--api-key",
        key,
        "--speed",
        "1",
        "--behaviour",
        "slow-execution",
        "--endpoint-id",
        "ep",
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scenarios");
    copy_dir(Path::new("scenarios/sdxl"), &scen.join("sdxl"));
    let mut cmd = suite_command();
    clean_env(&mut cmd);
    let child = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--test-threads", "3"])
        .envs([
            ("HARNESS_SCENARIOS", scen.to_string_lossy().to_string()),
            (
                "HARNESS_REPORTS",
                tmp.path().join("reports").to_string_lossy().to_string(),
            ),
            ("RUNPOD_API_KEY", key.to_string()),
            ("RUNPOD_ENDPOINT_ID", "ep".to_string()),
            ("RUNPOD_ENDPOINT_URL", mock.endpoint_url("ep")),
            ("HARNESS_CAPABILITIES", "sdxl".to_string()),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until all three scenarios have a job running on the mock.
    let t = Instant::now();
    while mock.get("/_mock/stats", key)["jobs_created"]["ep"]
        .as_u64()
        .unwrap_or(0)
        < 3
    {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "jobs were never submitted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let sent = Instant::now();
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("cancelled 3 job(s)"), "{stderr}");
    assert!(took < Duration::from_secs(10), "exit took {took:?}");
    let health = mock.get("/v2/ep/health", key);
    assert_eq!(health["jobs"]["inQueue"], 0, "{health}");
    assert_eq!(health["jobs"]["inProgress"], 0, "{health}");
    assert_eq!(mock.get("/_mock/stats", key)["requests"]["ep cancel"], 3);
    println!(
        "FIGURE interrupt: 3 of 3 jobs cancelled, exit 130 after {} ms",
        took.as_millis()
    );
}

#[test]
fn jobs_stuck_in_the_queue_fail_fast_with_the_diagnosis() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scenarios");
    copy_dir(
        Path::new("tests/selftest/workflows"),
        &scen.join("workflows"),
    );
    std::fs::write(
        scen.join("stuck.yaml"),
        "workflow: workflows/tiny.json\nmock: stuck-in-queue\ntimeout: 10m\n",
    )
    .unwrap();
    let t = Instant::now();
    let out = run_suite(
        &[],
        &[
            ("HARNESS_SCENARIOS", &scen.to_string_lossy()),
            ("HARNESS_REPORTS", &tmp.path().join("r").to_string_lossy()),
            ("HARNESS_QUEUE_GRACE", "300ms"),
        ],
    );
    let took = t.elapsed();
    assert_eq!(out.code, 101, "{}", out.all());
    assert!(out.stdout.contains("stayed IN_QUEUE for"), "{}", out.stdout);
    assert!(
        out.stdout.contains("no worker is running or can start"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("the job was cancelled"),
        "{}",
        out.stdout
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    println!(
        "FIGURE stuck queue: failed after {} ms instead of the 10 min timeout",
        took.as_millis()
    );
}

#[test]
fn the_in_flight_cap_holds_across_trial_threads() {
    let key = "cap-test-key-123456";
    // 30 s declared execution at 100x = 300 ms per job.
    let mock = MockProcess::start(&[
        "--api-key",
        key,
        "--speed",
        "100",
        "--behaviour",
        "default",
        "--endpoint-id",
        "ep",
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scenarios");
    copy_dir(
        Path::new("tests/selftest/workflows"),
        &scen.join("workflows"),
    );
    for i in 0..6 {
        std::fs::write(
            scen.join(format!("s{i}.yaml")),
            format!("workflow: workflows/tiny.json\nset:\n  \"3.seed\": {i}\n"),
        )
        .unwrap();
    }
    let ep = mock.endpoint_url("ep");
    let root = mock.root.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut max = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let h = crate::common::get_json(&format!("{root}/v2/ep/health"), key);
                max = max.max(
                    h["jobs"]["inQueue"].as_u64().unwrap_or(0)
                        + h["jobs"]["inProgress"].as_u64().unwrap_or(0),
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            max
        })
    };
    let out = run_suite(
        &["--test-threads", "6"],
        &[
            ("HARNESS_SCENARIOS", &scen.to_string_lossy()),
            ("HARNESS_REPORTS", &tmp.path().join("r").to_string_lossy()),
            ("RUNPOD_API_KEY", key),
            ("RUNPOD_ENDPOINT_ID", "ep"),
            ("RUNPOD_ENDPOINT_URL", &ep),
            ("HARNESS_MAX_IN_FLIGHT", "2"),
        ],
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let max = sampler.join().unwrap();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!((1..=2).contains(&max), "max jobs in flight {max}");
    println!("FIGURE in-flight cap: HARNESS_MAX_IN_FLIGHT=2 with 6 trial threads, at most {max} jobs in flight");
}

#[test]
fn a_recognisable_key_never_appears_in_output_or_reports() {
    let key = "rpa_LEAKCHECK_7f3a9c2e41d8b6a5";
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().join("reports");
    let out = run_suite(
        &["--test-threads", "8"],
        &[
            ("HARNESS_SCENARIOS", "tests/selftest"),
            ("HARNESS_REPORTS", &reports.to_string_lossy()),
            ("HARNESS_MOCK_API_KEY", key),
        ],
    );
    assert!(out.stdout.contains("test result:"), "{}", out.all());
    let written = all_text(&reports);
    let everything = format!("{}{}", out.all(), written);
    assert_eq!(everything.matches(key).count(), 0, "the key leaked");
    // Presigned URL signatures are redacted too.
    let sig = regex::Regex::new(r"X-Amz-Signature=[0-9a-f]{8,}").unwrap();
    assert!(!sig.is_match(&everything), "a signature leaked");
    let files = walk_count(&reports);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    let scenarios = report["counts"]["total"].as_u64().unwrap();
    assert!(scenarios >= 30);
    println!("FIGURE secrets: 0 hits for the key and 0 signatures in {} bytes of output and {files} report files ({} bytes) over the {scenarios}-scenario fault matrix", out.all().len(), written.len());
}

fn walk_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|es| {
            es.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk_count(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
