//! Helpers for end-to-end tests: run the suite (through the `endpoint-harness`
//! binary cargo built, found by `CARGO_BIN_EXE_*`) in a controlled environment,
//! copy scenario folders into temp dirs, start the standalone mock.

// Each test module uses a different part of it.
#![allow(dead_code)]

pub mod cdp;
pub mod mockenv;

use std::path::Path;
use std::process::Command;

/// The suite as a command: `endpoint-harness run -- <libtest args>` runs exactly
/// what the `scenarios` test target runs (both call `runner::main_with`), and
/// cargo tells integration tests where that binary is.
pub fn suite_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_endpoint-harness"));
    cmd.arg("run").arg("--");
    cmd
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Removes the caller's harness settings from `cmd`'s environment
/// (`HARNESS_*`, `RUNPOD_*`, `COMFYUI_*`, nextest's, the step summary, and `CI`:
/// a test that wants CI behaviour, verify-only snapshots, sets it itself).
pub fn scrub_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("HARNESS_")
            || k.starts_with("RUNPOD_")
            || k.starts_with("COMFYUI_")
            || k.starts_with("NEXTEST")
            || k == "GITHUB_STEP_SUMMARY"
            || k == "GITHUB_ACTIONS"
            || k == "CI"
        {
            cmd.env_remove(k);
        }
    }
}

/// Runs the scenarios binary from the repository root with only the given HARNESS_/RUNPOD_ variables.
pub fn run_suite(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = suite_command();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
    scrub_env(&mut cmd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Every file under `dir`, read as (lossy) text.
pub fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push_str(&all_text(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push_str(&String::from_utf8_lossy(&b));
        }
    }
    out
}

/// A standalone `endpoint-harness mock` process; killed on drop.
pub struct MockProcess {
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT`
    pub root: String,
}

impl MockProcess {
    pub fn start(args: &[&str]) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("mock")
            .args(["--port", "0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        // Keep draining so the mock never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"));
        MockProcess {
            child,
            root: url.split("/v2/").next().unwrap().to_string(),
        }
    }

    pub fn endpoint_url(&self, id: &str) -> String {
        format!("{}/v2/{id}", self.root)
    }

    /// GET a path with the key, as JSON.
    pub fn get(&self, path: &str, key: &str) -> serde_json::Value {
        get_json(&format!("{}{path}", self.root), key)
    }
}

/// A blocking GET with a Bearer key, answered as JSON (for code outside a runtime).
pub fn get_json(url: &str, key: &str) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to its end and returns its output, failing with its stderr unless it succeeded.
pub fn succeed(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
