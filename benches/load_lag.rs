//! `cargo bench --bench load_lag`: does a job's completion lag grow while the
//! harness decodes other jobs' large images? A closed-model load run (4 jobs
//! in flight, 1 s jobs) against the standalone mock in its own process, twice
//! in the same run: jobs that return one 64x64 PNG, and jobs that return four
//! large PNGs each, which the harness reads, samples and checks while the
//! other jobs are in flight. A job's lag is its time from submission to its
//! result seen, less what the endpoint reported it spent (`delayTime` +
//! `executionTime`): the submission, the polls, and any wait for a busy
//! worker thread. Decoding runs off the async workers (`block_in_place`), so
//! the lag of the large run should match the small one's. The mock renders
//! each workflow once and caches it; a one-job run first fills that cache, so
//! the mock's rendering is not counted as the harness's lag. `BENCH_SIDE=2048`
//! and `BENCH_JOBS=24` change the image side and the job count.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};

#[path = "../tests/it/common/mod.rs"]
mod common;
use common::MockProcess;

const KEY: &str = "bench-key-0123456789";

fn env_num(var: &str, default: u32) -> u32 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[(((v.len() - 1) as f64) * p / 100.0).round() as usize]
}

/// One load run of `jobs` jobs whose workflow asks for `batch` images of
/// `side`; (lags in ms, harness CPU s, wall s).
fn run(dir: &Path, mock: &MockProcess, side: u32, batch: u32, jobs: u32) -> (Vec<f64>, f64, f64) {
    let s = dir.join("s");
    std::fs::create_dir_all(&s).unwrap();
    let workflow = json!({
        "3": {"class_type": "KSampler", "inputs": {"seed": 7}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": side, "height": side, "batch_size": batch}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}}
    });
    std::fs::write(s.join("w.json"), workflow.to_string()).unwrap();
    std::fs::write(
        s.join("load.yaml"),
        format!("workflow: w.json\ntimeout: 2m\nload:\n  concurrency: 4\n  jobs: {jobs}\nexpect:\n  images: {{count: {batch}, width: {side}, height: {side}}}\n"),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_endpoint-harness"));
    cmd.arg("run").stdout(Stdio::null()).stderr(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("HARNESS_") || k.starts_with("RUNPOD_") {
            cmd.env_remove(k);
        }
    }
    let reports = dir.join("r");
    cmd.env("HARNESS_PROGRESS", "off")
        .env("HARNESS_LOAD", "1")
        .env("HARNESS_SCENARIOS", &s)
        .env("HARNESS_REPORTS", &reports)
        .env("RUNPOD_API_KEY", KEY)
        .env("RUNPOD_ENDPOINT_ID", "ep")
        .env("RUNPOD_ENDPOINT_URL", mock.endpoint_url("ep"));
    let t = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut status = 0;
    // SAFETY: wait4 on our own child, writing into locals.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
    let _ = child.try_wait();
    let wall = t.elapsed().as_secs_f64();
    let cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) as f64
        + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) as f64 / 1e6;
    let report: Value =
        serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap()).unwrap();
    let points = report["scenarios"][0]["load"]["jobs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(points.len(), jobs as usize, "{}", report["scenarios"][0]);
    for p in &points {
        assert_eq!(p["ok"], true, "a job failed: {p}");
    }
    let lags = points
        .iter()
        .map(|p| {
            let spent =
                p["queue_ms"].as_f64().unwrap_or(0.0) + p["execution_ms"].as_f64().unwrap_or(0.0);
            p["total_ms"].as_f64().unwrap() - spent
        })
        .collect();
    (lags, cpu, wall)
}

fn main() {
    let side = env_num("BENCH_SIDE", 2048);
    let jobs = env_num("BENCH_JOBS", 24);
    let tmp = tempfile::tempdir().unwrap();
    let mocks = tmp.path().join("mocks");
    std::fs::create_dir_all(&mocks).unwrap();
    std::fs::write(mocks.join("default.yaml"), "{}\n").unwrap();
    std::fs::write(mocks.join("steady.yaml"), "queue: 0s\nexecution: 1s\n").unwrap();
    let mocks_arg = mocks.to_string_lossy().to_string();
    println!("Completion lag of a closed-model load run, 4 jobs in flight, 1 s jobs, {jobs} jobs (ms):\n");
    println!("| images per job | lag p50 | p95 | max | harness CPU per job | wall |");
    println!("|---|---|---|---|---|---|");
    for (label, s, batch) in [
        ("1 x 64x64", 64, 1),
        (&*format!("4 x {side}x{side}"), side, 4),
    ] {
        let mock = MockProcess::start(&[
            "--api-key",
            KEY,
            "--endpoint-id",
            "ep",
            "--behaviour",
            "steady",
            "--speed",
            "1",
            "--mocks",
            &mocks_arg,
        ]);
        // The mock renders a workflow's images once and serves them from a
        // cache after: one job first, so its rendering is not in the figures.
        run(&tmp.path().join(format!("warm-{s}")), &mock, s, batch, 1);
        let dir = tmp.path().join(format!("run-{s}"));
        let (lags, cpu, wall) = run(&dir, &mock, s, batch, jobs);
        println!(
            "| {label} | {:.0} | {:.0} | {:.0} | {:.0} ms | {:.1} s |",
            pct(lags.clone(), 50.0),
            pct(lags.clone(), 95.0),
            pct(lags, 100.0),
            cpu * 1000.0 / jobs as f64,
            wall
        );
    }
}
