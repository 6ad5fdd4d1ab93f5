//! `cargo bench --bench mock_memory`: the standalone mock as a long-running
//! server. 100,000 jobs (`/runsync`, one 64x64 PNG each) go through
//! `endpoint-harness mock` in its own process, twice in one run, side by side:
//! with retention on (`--speed 1000` and a 200 ms real-time floor, so finished
//! jobs and their files are forgotten 200 ms after they end) and
//! with eviction effectively off (a floor of a day, what the mock did before
//! it evicted). Prints the mock's resident memory (`VmRSS`) and the jobs and
//! files it holds after every 10,000 jobs. `BENCH_JOBS=N` changes the count.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

#[path = "../tests/it/common/mod.rs"]
mod common;
use common::MockProcess;

const KEY: &str = "bench-key-0123456789";
const CONCURRENCY: usize = 32;

/// Resident memory of a process, MB (Linux `/proc`).
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

struct Sample {
    jobs: usize,
    rss_mb: f64,
    held_jobs: u64,
    held_files: u64,
}

/// Runs `total` jobs through a mock with `floor` as its retention floor.
fn run(floor: &str, total: usize, mocks: &Path) -> (Vec<Sample>, f64) {
    let mocks = mocks.to_string_lossy();
    let mock = MockProcess::start(&[
        "--api-key",
        KEY,
        "--endpoint-id",
        "ep",
        "--behaviour",
        "instant",
        "--speed",
        "1000",
        "--mocks",
        &mocks,
        "--retention-floor",
        floor,
    ]);
    let pid = mock.child.id();
    let url = format!("{}/runsync", mock.endpoint_url("ep"));
    let body = serde_json::to_vec(&json!({"input": {"workflow": {
        "3": {"class_type": "KSampler", "inputs": {"seed": 1}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}}
    }}}))
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let mut samples = vec![Sample {
        jobs: 0,
        rss_mb: rss_mb(pid),
        held_jobs: 0,
        held_files: 0,
    }];
    let started = Instant::now();
    let step = (total / 10).max(1);
    while samples.last().unwrap().jobs < total {
        let target = (samples.last().unwrap().jobs + step).min(total);
        rt.block_on(async {
            let mut workers = Vec::new();
            for _ in 0..CONCURRENCY {
                let (client, url, body, done) =
                    (client.clone(), url.clone(), body.clone(), done.clone());
                workers.push(tokio::spawn(async move {
                    while done.fetch_add(1, Ordering::Relaxed) < target {
                        let r = client
                            .post(&url)
                            .bearer_auth(KEY)
                            .body(body.clone())
                            .send()
                            .await
                            .unwrap();
                        let v: Value = r.json().await.unwrap();
                        assert_eq!(v["status"], "COMPLETED", "{v}");
                    }
                    done.fetch_sub(1, Ordering::Relaxed);
                }));
            }
            for w in workers {
                w.await.unwrap();
            }
        });
        let s = mock.get("/_mock/stats", KEY);
        samples.push(Sample {
            jobs: target,
            rss_mb: rss_mb(pid),
            held_jobs: s["held_jobs"].as_u64().unwrap_or(0),
            held_files: s["held_files"].as_u64().unwrap_or(0),
        });
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    // Idle past the floor: what is still held then is what a quiet server keeps.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let _ = mock.get("/_mock/stats", KEY);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let s = mock.get("/_mock/stats", KEY);
    samples.push(Sample {
        jobs: total,
        rss_mb: rss_mb(pid),
        held_jobs: s["held_jobs"].as_u64().unwrap_or(0),
        held_files: s["held_files"].as_u64().unwrap_or(0),
    });
    (samples, rate)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let total: usize = std::env::var("BENCH_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("default.yaml"), "{}\n").unwrap();
    std::fs::write(
        dir.path().join("instant.yaml"),
        "queue: 0s\nexecution: 0s\n",
    )
    .unwrap();
    println!(
        "mock memory over {total} jobs (/runsync, one 64x64 PNG each, {CONCURRENCY} in flight)\n"
    );
    let (evicting, rate_e) = run("200ms", total, dir.path());
    let (keeping, rate_k) = run("1d", total, dir.path());
    println!("| jobs | RSS, evicting (MB) | held jobs / files | RSS, no eviction (MB) | held jobs / files |");
    println!("|---:|---:|---:|---:|---:|");
    let last = evicting.len() - 1;
    for (i, (e, k)) in evicting.iter().zip(&keeping).enumerate() {
        let label = if i == last {
            format!("{} + 2 s idle", e.jobs)
        } else {
            e.jobs.to_string()
        };
        println!(
            "| {label} | {:.1} | {} / {} | {:.1} | {} / {} |",
            e.rss_mb, e.held_jobs, e.held_files, k.rss_mb, k.held_jobs, k.held_files
        );
    }
    let growth = |s: &[Sample]| s[s.len() - 2].rss_mb - s[1].rss_mb;
    println!(
        "\nRSS growth from {} to {total} jobs: {:.1} MB evicting ({rate_e:.0} jobs/s), {:.1} MB without eviction ({rate_k:.0} jobs/s)",
        evicting[1].jobs,
        growth(&evicting),
        growth(&keeping)
    );
}
