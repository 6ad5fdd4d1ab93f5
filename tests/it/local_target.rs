//! `HARNESS_TARGET=local` against a worker served by the real runpod package
//! (`python tests/local_worker/handler.py --rp_serve_api`): the current and the
//! legacy output shapes and a handler error, async and sync. Budgets that need
//! RunPod's timing fields are reported as not checked, never as passes.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Worker(std::process::Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> Option<PathBuf> {
    let py = std::env::var_os("HARNESS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv/bin/python"));
    Command::new(&py)
        .args(["-c", "import runpod"])
        .stderr(Stdio::null())
        .status()
        .ok()
        .filter(|s| s.success())
        .map(|_| py)
}

#[test]
#[ignore = "needs Python with the runpod package, which .ci/run installs (HARNESS_PYTHON): cargo test --test it -- --ignored"]
fn scenarios_run_against_a_local_rp_serve_api_worker() {
    let Some(py) = python() else {
        panic!("no Python with the runpod package: set HARNESS_PYTHON to one (.ci/run installs it into .venv)");
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _worker = Worker(
        Command::new(py)
            .args([
                "tests/local_worker/handler.py",
                "--rp_serve_api",
                "--rp_api_host",
                "127.0.0.1",
                "--rp_api_port",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the local worker did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let out = crate::common::run_suite(
        &[],
        &[
            ("HARNESS_TARGET", "local"),
            ("RUNPOD_ENDPOINT_URL", &url),
            ("HARNESS_SCENARIOS", "tests/local"),
            ("HARNESS_REPORTS", &tmp.path().to_string_lossy()),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains(&format!("against the local worker {url}")),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("3 passed; 0 failed"), "{}", out.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("report.json")).unwrap())
            .unwrap();
    let current = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "current-shape")
        .unwrap();
    assert_eq!(
        current["runs"][0]["job_id"]
            .as_str()
            .map(|j| j.starts_with("test-")),
        Some(true)
    );
    assert_eq!(
        current["budget"]["not_applicable"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{current}"
    );
    assert!(current["message"]
        .as_str()
        .unwrap()
        .contains("queue budget not checked: the target does not report `delayTime`"));
}
