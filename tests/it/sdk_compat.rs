//! The official runpod Python SDK (pinned in `.ci/run`) drives the standalone mock:
//! `endpoint-harness mock` is started as a process and `tests/sdk/runpod_sdk_check.py`
//! runs every client call against it. Python comes from `HARNESS_PYTHON` or `.venv/`;
//! without it the test is skipped locally and fails on CI (`CI` set).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("HARNESS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv/bin/python"));
    let ok = Command::new(&candidate)
        .args(["-c", "import runpod"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(candidate)
}

#[test]
#[ignore = "needs Python with the runpod package, which .ci/run installs (HARNESS_PYTHON): cargo test --test it -- --ignored"]
fn the_official_runpod_sdk_works_against_the_standalone_mock() {
    let Some(py) = python() else {
        panic!("no Python with the runpod package: set HARNESS_PYTHON to one (.ci/run installs it into .venv)");
    };
    let key = "sdk-test-key-123456";
    let mut mock = Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .args([
            "mock",
            "--port",
            "0",
            "--api-key",
            key,
            "--speed",
            "50",
            "--behaviour",
            "default",
            "--endpoint-id",
            "my-endpoint",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first_line_then_drain(&mut mock);
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the mock prints its URL")
        .to_string();
    let root = url.split("/v2/").next().unwrap().to_string();
    // "slow" is a behaviour whose job outlasts /runsync's wait; served from mocks/.
    let out = Command::new(&py)
        .args(["tests/sdk/runpod_sdk_check.py", &root, key])
        .output()
        .unwrap();
    let _ = mock.kill();
    let _ = mock.wait();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" passed, 0 failed"), "{text}");
}

#[test]
fn the_standalone_mock_stops_cleanly_on_ctrl_c() {
    let mut mock = Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .args(["mock", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first_line_then_drain(&mut mock);
    assert!(
        first.starts_with("mock RunPod endpoint listening on http://127.0.0.1:"),
        "{first}"
    );
    let killed = Command::new("kill")
        .args(["-INT", &mock.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = mock.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// Reads the mock's first line, then keeps draining its stdout so it never sees a closed pipe.
fn first_line_then_drain(child: &mut std::process::Child) -> String {
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    first
}
