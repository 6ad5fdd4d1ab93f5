//! `cargo bench --bench load_lag`: does an in-flight job's completion lag grow
//! while the harness decodes other jobs' large images? Two closed-model load
//! scenarios against the standalone mock in its own process (1 s jobs):
//! `probe`, 2 jobs in flight returning one 64x64 PNG each, and `heavy`, 2 jobs
//! in flight returning four large PNGs each, which the harness reads, samples
//! and checks while the probe's jobs are in flight. The probe runs alone, then
//! beside the heavy one (one `run`, the two scenarios at once), and its lag is
//! compared. A job's lag is its submission-to-result time less what the
//! endpoint reported it spent (`delayTime` + `executionTime`): the submission,
//! the polls, and any wait for a busy thread. The mock renders each workflow
//! once and caches it; a one-job run of each first fills that cache, so the
//! mock's rendering is not counted. `BENCH_SIDE=4096` and `BENCH_JOBS=12`
//! change the large images' side and the probe's job count.

use std::path::Path;
use std::process::Stdio;

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

/// One scenario of a run: its name, image side, images per job, jobs, in flight.
struct Load {
    name: &'static str,
    side: u32,
    batch: u32,
    jobs: u32,
    concurrency: u32,
}

/// One `run` of `loads` at once; per scenario, its jobs' lags in ms, and the
/// harness's CPU seconds.
fn run(dir: &Path, mock: &MockProcess, loads: &[Load]) -> (Vec<(String, Vec<f64>)>, f64) {
    let s = dir.join("s");
    std::fs::create_dir_all(&s).unwrap();
    for l in loads {
        let workflow = json!({
            "3": {"class_type": "KSampler", "inputs": {"seed": 7}},
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": l.side, "height": l.side, "batch_size": l.batch}},
            "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}}
        });
        std::fs::write(s.join(format!("{}.json", l.name)), workflow.to_string()).unwrap();
        std::fs::write(
            s.join(format!("{}.yaml", l.name)),
            format!(
                "workflow: {}.json\ntimeout: 2m\nload:\n  concurrency: {}\n  jobs: {}\nexpect:\n  images: {{count: {}, width: {}, height: {}}}\n",
                l.name, l.concurrency, l.jobs, l.batch, l.side, l.side
            ),
        )
        .unwrap();
    }
    let mut cmd = common::suite_command();
    common::scrub_env(&mut cmd);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let reports = dir.join("r");
    cmd.env("HARNESS_PROGRESS", "off")
        .env("HARNESS_LOAD", "1")
        .env("HARNESS_SCENARIOS", &s)
        .env("HARNESS_REPORTS", &reports)
        .env("RUNPOD_API_KEY", KEY)
        .env("RUNPOD_ENDPOINT_ID", "ep")
        .env("RUNPOD_ENDPOINT_URL", mock.endpoint_url("ep"));
    let mut child = cmd.spawn().unwrap();
    let mut status = 0;
    // SAFETY: wait4 on our own child, writing into locals.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
    let _ = child.try_wait();
    let cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) as f64
        + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) as f64 / 1e6;
    let report: Value =
        serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for sc in report["scenarios"].as_array().unwrap() {
        let points = sc["load"]["jobs"].as_array().cloned().unwrap_or_default();
        for p in &points {
            assert_eq!(p["ok"], true, "a job of {} failed: {p}", sc["name"]);
        }
        let lags = points
            .iter()
            .map(|p| {
                let spent = p["queue_ms"].as_f64().unwrap_or(0.0)
                    + p["execution_ms"].as_f64().unwrap_or(0.0);
                p["total_ms"].as_f64().unwrap() - spent
            })
            .collect();
        out.push((sc["name"].as_str().unwrap().to_string(), lags));
    }
    (out, cpu)
}

fn main() {
    let side = env_num("BENCH_SIDE", 4096);
    let jobs = env_num("BENCH_JOBS", 12);
    let tmp = tempfile::tempdir().unwrap();
    let mocks = tmp.path().join("mocks");
    std::fs::create_dir_all(&mocks).unwrap();
    std::fs::write(mocks.join("default.yaml"), "{}\n").unwrap();
    std::fs::write(mocks.join("steady.yaml"), "queue: 0s\nexecution: 1s\n").unwrap();
    let mocks_arg = mocks.to_string_lossy().to_string();
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
    let probe = |jobs| Load {
        name: "probe",
        side: 64,
        batch: 1,
        jobs,
        concurrency: 2,
    };
    // Enough heavy jobs to cover the probe's run (jobs / 2 seconds) and more.
    let heavy = |jobs| Load {
        name: "heavy",
        side,
        batch: 4,
        jobs,
        concurrency: 2,
    };
    run(&tmp.path().join("warm"), &mock, &[probe(1), heavy(1)]);
    println!(
        "Completion lag (ms) of 1 s jobs, 2 in flight, {jobs} jobs of one 64x64 PNG (`probe`),"
    );
    println!("alone and beside 2 in flight of four {side}x{side} PNGs each (`heavy`):\n");
    println!("| run | scenario | jobs | lag p50 | p95 | max | harness CPU |");
    println!("|---|---|---|---|---|---|---|");
    let (alone, cpu_alone) = run(&tmp.path().join("alone"), &mock, &[probe(jobs)]);
    let (beside, cpu_beside) = run(
        &tmp.path().join("beside"),
        &mock,
        &[probe(jobs), heavy(jobs + 4)],
    );
    for (label, results, cpu) in [
        ("probe alone", alone, cpu_alone),
        ("probe beside heavy", beside, cpu_beside),
    ] {
        for (name, lags) in results {
            println!(
                "| {label} | {name} | {} | {:.0} | {:.0} | {:.0} | {:.2} s (whole run) |",
                lags.len(),
                pct(lags.clone(), 50.0),
                pct(lags.clone(), 95.0),
                pct(lags, 100.0),
                cpu
            );
        }
    }
}
