//! `cargo bench --bench harness`: the harness's own cost, measured in one run on
//! this machine, side by side with the official runpod Python SDK. Prints a
//! table and writes `reports/bench.json`. The mock always runs in its own
//! process (`endpoint-harness mock`), so the harness's CPU is measured alone.
//!
//! Sections: the default path (`cargo test`'s dev profile against the release
//! build, and an incremental rebuild), client cost (1,000 scenarios of one 1024x1024 PNG each, CPU split
//! by phase, the bare decode floor, the Python SDK at the same concurrency),
//! detection lag (long poll vs the SDK's 1 s polling; without long poll, 0.8 s
//! and 5-10 s jobs with and without their expected duration, beside the SDK),
//! a suite of mixed durations (file-name order vs longest expected first), and
//! scale (10,000-file discovery, one nextest-style trial, 200 concurrent
//! 5-second jobs), and the load generator (an open-model load run with 10 and
//! with 1,000 jobs in flight: percentiles, memory of both processes).
//! `BENCH_SCENARIOS=N` shrinks the client-cost run for a quick look.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

#[path = "../tests/it/common/mod.rs"]
mod common;
use common::MockProcess;

const KEY: &str = "bench-key-0123456789";
const CONCURRENCY: usize = 4;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_endpoint-harness")
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Waits for a child and returns (exit code, (user CPU, system CPU), peak RSS in MB).
fn wait_rusage(child: &mut Child) -> (i32, (Duration, Duration), f64) {
    let mut status = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child pid, writing into locals.
    unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec * 1000) as u32);
    (
        libc::WEXITSTATUS(status),
        (tv(ru.ru_utime), tv(ru.ru_stime)),
        ru.ru_maxrss as f64 / 1024.0,
    )
}

/// The standalone mock in its own process, serving `behaviour` as endpoint `ep`
/// (and every behaviour of `mocks` under its own name).
fn start_mock(mocks: &Path, behaviour: &str, speed: f64) -> MockProcess {
    let speed = speed.to_string();
    let mocks = mocks.to_string_lossy();
    MockProcess::start(&[
        "--api-key",
        KEY,
        "--endpoint-id",
        "ep",
        "--behaviour",
        behaviour,
        "--speed",
        &speed,
        "--mocks",
        &mocks,
    ])
}

fn stats(mock: &MockProcess) -> Value {
    mock.get("/_mock/stats", KEY)
}

/// Environment for a run of the suite against the mock as a live endpoint.
fn live_env(scenarios: &Path, reports: &Path, mock: &MockProcess) -> Vec<(&'static str, String)> {
    vec![
        ("HARNESS_SCENARIOS", scenarios.to_string_lossy().to_string()),
        ("HARNESS_REPORTS", reports.to_string_lossy().to_string()),
        ("RUNPOD_API_KEY", KEY.to_string()),
        ("RUNPOD_ENDPOINT_ID", "ep".to_string()),
        ("RUNPOD_ENDPOINT_URL", mock.endpoint_url("ep")),
    ]
}

fn workflow(w: u32, h: u32, seed: u64) -> Value {
    json!({
        "3": {"class_type": "KSampler", "inputs": {"seed": seed}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": w, "height": h, "batch_size": 1}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}}
    })
}

fn write_behaviours(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("default.yaml"), "{}\n").unwrap();
    std::fs::write(dir.join("instant.yaml"), "queue: 0s\nexecution: 0s\n").unwrap();
    // Jobs of 1.25 to 2.1 s: durations that do not line up with a 1 s polling period.
    for (name, exec) in [
        ("lag-a", "950ms"),
        ("lag-b", "1200ms"),
        ("lag-c", "1450ms"),
        ("lag-d", "1800ms"),
    ] {
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            format!("queue: 300ms\nexecution: {exec}\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.join("five.yaml"), "queue: 0s\nexecution: 5s\n").unwrap();
    // Jobs of about 0.8 s and of 5 to 10 s (queue + execution), for polling
    // without long poll.
    for (name, total_ms) in SHORT.iter().chain(LONG.iter()) {
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            format!("queue: 100ms\nexecution: {}ms\n", total_ms - 100),
        )
        .unwrap();
    }
}

/// Behaviours of about 0.8 s jobs, and their length in ms.
const SHORT: [(&str, u64); 4] = [
    ("short-a", 750),
    ("short-b", 800),
    ("short-c", 850),
    ("short-d", 800),
];
/// Behaviours of 5 to 10 s jobs.
const LONG: [(&str, u64); 4] = [
    ("long-a", 5000),
    ("long-b", 6500),
    ("long-c", 8000),
    ("long-d", 10000),
];

/// The harness polling `/status` only (no long poll) for `jobs` jobs spread over
/// `eps`, with or without each job's expected duration (as its scenario's history
/// gives it): lag from the job's end to the answer seen (p50, p95, max, ms) and
/// status requests per job.
fn polling_lag(
    rt: &tokio::runtime::Runtime,
    mock: &MockProcess,
    eps: &[(&str, u64)],
    jobs: usize,
    with_history: bool,
) -> (f64, f64, f64, f64) {
    let clients: Vec<_> = eps
        .iter()
        .map(|(n, ms)| {
            let c =
                endpoint_harness::runpod::Client::new(&format!("{}/v2/{n}", mock.root), Some(KEY))
                    .unwrap();
            c.disable_long_poll();
            (c, *ms)
        })
        .collect();
    let observed: Vec<(String, u64, u32)> = rt.block_on(async {
        let futs = (0..jobs).map(|i| {
            let (ep, ms) = clients[i % clients.len()].clone();
            async move {
                let body = serde_json::to_vec(&json!({"input": {"workflow": workflow(64, 64, 1)}}))
                    .unwrap();
                let watch = endpoint_harness::runpod::job::Watch {
                    expected: with_history.then(|| Duration::from_millis(ms)),
                    ..Default::default()
                };
                let job = endpoint_harness::runpod::job::drive_with(
                    &ep,
                    endpoint_harness::runpod::Submit::Run,
                    body,
                    Duration::from_secs(60),
                    &watch,
                )
                .await
                .unwrap();
                let now = epoch_ms();
                (job.status.id, now, job.status_calls)
            }
        });
        futures_util::future::join_all(futs).await
    });
    let done = stats(mock)["done_at"].clone();
    let lags: Vec<f64> = observed
        .iter()
        .map(|(id, seen, _)| *seen as f64 - done[id].as_u64().unwrap() as f64)
        .collect();
    let calls = observed.iter().map(|o| o.2 as f64).sum::<f64>() / jobs as f64;
    (
        pct(lags.clone(), 50.0),
        pct(lags.clone(), 95.0),
        pct(lags, 100.0),
        calls,
    )
}

/// One 60 s video, ten 10 s and thirty 2 s scenarios on the embedded mock at
/// speed 10, three in flight; the video's file sorts last. Run twice with one
/// reports folder: the first run has no history (file-name order), the second
/// orders by it. Returns both walls and the lower bound, in seconds.
fn mixed_suite(dir: &Path) -> (f64, f64, f64) {
    let mocks = dir.join("mocks");
    let s = dir.join("s");
    std::fs::create_dir_all(&mocks).unwrap();
    std::fs::create_dir_all(s.join("workflows")).unwrap();
    std::fs::write(mocks.join("default.yaml"), "{}\n").unwrap();
    std::fs::write(s.join("workflows/w.json"), workflow(64, 64, 1).to_string()).unwrap();
    let mut total = 0.0;
    let mut longest: f64 = 0.0;
    let mut add = |name: &str, secs: u64| {
        std::fs::write(
            mocks.join(format!("job{secs}.yaml")),
            format!("queue: 0s\nexecution: {secs}s\n"),
        )
        .unwrap();
        std::fs::write(
            s.join(format!("{name}.yaml")),
            format!("workflow: workflows/w.json\nmock: job{secs}\ntimeout: 10m\nexpect:\n  images: {{count: 1}}\n"),
        )
        .unwrap();
        total += secs as f64 / 10.0;
        longest = longest.max(secs as f64 / 10.0);
    };
    for i in 0..30 {
        add(&format!("a-image-{i:02}"), 2);
    }
    for i in 0..10 {
        add(&format!("b-image-{i:02}"), 10);
    }
    add("z-video", 60);
    let env = vec![
        ("HARNESS_SCENARIOS", s.display().to_string()),
        ("HARNESS_REPORTS", dir.join("r").display().to_string()),
        ("HARNESS_MOCKS", mocks.display().to_string()),
        ("HARNESS_MOCK_SPEED", "10".to_string()),
        ("HARNESS_MAX_IN_FLIGHT", "3".to_string()),
    ];
    let mut walls = Vec::new();
    for _ in 0..2 {
        let (code, wall, _, _, out) = run_suite(&[], &env);
        assert_eq!(code, 0, "{out}");
        walls.push(wall.as_secs_f64());
    }
    (walls[0], walls[1], (total / 3.0).max(longest))
}

/// `cargo test --test scenarios --no-run` as a user's machine runs it (dev
/// profile), in its own target folder (this bench's cargo holds the main one):
/// returns how long it took and the dev-profile binary it built.
fn dev_build(target: &Path) -> (Duration, PathBuf) {
    let t = Instant::now();
    common::succeed(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["test", "--test", "scenarios", "--no-run", "--quiet"])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(env!("CARGO_MANIFEST_DIR")),
    );
    (t.elapsed(), target.join("debug/endpoint-harness"))
}

/// `n` one-image scenarios (1024x1024, each its own seed) for the embedded mock.
fn seeded_scenarios(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir.join("workflows")).unwrap();
    for i in 0..n {
        std::fs::write(
            dir.join(format!("workflows/w{i}.json")),
            workflow(1024, 1024, 1000 + i as u64).to_string(),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{i:04}.yaml")),
            format!("workflow: workflows/w{i}.json\nexpect:\n  images: {{count: 1, format: png, width: 1024, height: 1024, not_blank: true}}\n"),
        )
        .unwrap();
    }
}

/// CPU per scenario (ms, user + system) of `binary` running `scenarios` on the embedded mock.
fn embedded_cpu(binary: &Path, scenarios: &Path, reports: &Path, n: usize) -> f64 {
    let mut cmd = Command::new(binary);
    cmd.args(["run", "--", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("HARNESS_") || k.starts_with("RUNPOD_") || k.starts_with("NEXTEST") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HARNESS_PROGRESS", "off")
        .env("HARNESS_SCENARIOS", scenarios)
        .env("HARNESS_REPORTS", reports);
    let mut child = cmd.spawn().unwrap();
    let (code, cpu, _) = wait_rusage(&mut child);
    assert_eq!(code, 0, "{} failed on the embedded mock", binary.display());
    ms(cpu.0 + cpu.1) / n as f64
}

/// The runpod SDK's `run()` + `output(timeout)` on the same behaviours: lag and
/// status requests per job, measured at the mock.
fn sdk_lag(
    py: &Path,
    mock: &MockProcess,
    eps: &[(&str, u64)],
    jobs: usize,
) -> (f64, f64, f64, f64) {
    let names: Vec<&str> = eps.iter().map(|e| e.0).collect();
    let out = Command::new(py)
        .args([
            "benches/runpod_sdk_client.py",
            &mock.root,
            KEY,
            "run_output",
            &jobs.to_string(),
            &CONCURRENCY.to_string(),
            &names.join(","),
        ])
        .output()
        .unwrap();
    let p: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let done = stats(mock)["done_at"].clone();
    let lags: Vec<f64> = p["seen"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(id, t)| Some(t.as_f64()? - done[id].as_u64()? as f64))
        .collect();
    let reqs = stats(mock)["requests"].clone();
    let calls = names
        .iter()
        .filter_map(|n| reqs[format!("{n} status")].as_f64())
        .sum::<f64>()
        / jobs as f64;
    (
        pct(lags.clone(), 50.0),
        pct(lags.clone(), 95.0),
        pct(lags, 100.0),
        calls,
    )
}

/// `n` scenario files (one 1024x1024 image each, perceptual snapshot against a shared reference).
fn write_scenarios(dir: &Path, snaps: &Path, n: usize, size: u32, snapshot: Option<(&[u8], &str)>) {
    std::fs::create_dir_all(dir.join("s/workflows")).unwrap();
    std::fs::write(
        dir.join("s/workflows/w.json"),
        workflow(size, size, 7).to_string(),
    )
    .unwrap();
    let compare = if snapshot.is_some() {
        "perceptual"
    } else {
        "off"
    };
    for i in 0..n {
        let yaml = format!("workflow: workflows/w.json\nexpect:\n  images: {{count: 1, format: png, width: {size}, height: {size}}}\nsnapshot:\n  compare: {compare}\n");
        std::fs::write(dir.join(format!("s/{i:05}.yaml")), yaml).unwrap();
        if let Some((png, meta)) = snapshot {
            // One reference and its record, hard-linked into every scenario's folder.
            let d = snaps.join(format!("s/{i:05}"));
            std::fs::create_dir_all(&d).unwrap();
            for (name, bytes) in [("0.png", png), ("0.snap", meta.as_bytes())] {
                let first = snaps.join("s/00000").join(name);
                if i == 0 {
                    std::fs::write(&first, bytes).unwrap();
                } else {
                    std::fs::hard_link(&first, d.join(name)).unwrap();
                }
            }
        }
    }
}

/// Runs `endpoint-harness run -- args` with env; returns (code, wall, (user, sys) CPU, rss MB, stdout).
fn run_suite(
    args: &[&str],
    env: &[(&str, String)],
) -> (i32, Duration, (Duration, Duration), f64, String) {
    let mut cmd = Command::new(bin());
    cmd.arg("run")
        .arg("--")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("HARNESS_") || k.starts_with("RUNPOD_") || k.starts_with("NEXTEST") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HARNESS_PROGRESS", "off");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let t = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    let (code, cpu, rss) = wait_rusage(&mut child);
    (code, t.elapsed(), cpu, rss, out)
}

fn python() -> Option<PathBuf> {
    let py = std::env::var_os("HARNESS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv/bin/python"));
    let ok = |p: &Path| {
        Command::new(p)
            .args(["-c", "import runpod, PIL"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ok(&py) {
        return Some(py);
    }
    // The bench needs Pillow beside the SDK; install both into the project venv once.
    if !py.is_file() {
        let _ = Command::new("python3")
            .args(["-m", "venv", ".venv"])
            .status();
    }
    let pip = py.with_file_name("pip");
    let _ = Command::new(pip)
        .args(["install", "--quiet", "runpod==1.12.0", "pillow"])
        .status();
    ok(&py).then_some(py)
}

/// Wall-clock time, ms since the Unix epoch (the mock's job timelines use the same clock).
fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[(((p / 100.0) * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Phase split: the same work as one scenario, in-process on one thread, timed by thread CPU.
fn phase_split(
    mock: &MockProcess,
    n: usize,
    reference: &image::DynamicImage,
    snap_dir: &Path,
) -> Value {
    // A reference recorded once (update mode), then verified per job as a scenario would.
    let snap_spec = endpoint_harness::scenario::SnapshotSpec::tolerant();
    let snap_cfg = &endpoint_harness::snapshot::Config {
        root: snap_dir.to_path_buf(),
        mode: endpoint_harness::snapshot::Mode::Update,
        ci: false,
        variant: None,
        reports: snap_dir.join("reports"),
        strict: false,
        class: None,
    };
    let thumb = endpoint_harness::media::sample::sample(reference).thumb;
    endpoint_harness::snapshot::verify(
        snap_cfg,
        "bench/x",
        &snap_spec,
        &[Some(endpoint_harness::snapshot::Candidate {
            pixels: &endpoint_harness::snapshot::Pixels::from(reference),
            thumb: &thumb,
        })],
        &Default::default(),
    );
    let snap_cfg = &endpoint_harness::snapshot::Config {
        mode: endpoint_harness::snapshot::Mode::Verify,
        ci: true,
        ..snap_cfg.clone()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let names = [
        "submit",
        "poll",
        "transfer",
        "json",
        "base64",
        "png_decode",
        "checks",
        "snapshot",
    ];
    let mut total = [Duration::ZERO; 8];
    let client = ::reqwest::Client::new();
    let url = mock.endpoint_url("ep");
    let spec = endpoint_harness::scenario::ImageExpect {
        color: None,
        alpha: None,
        max_bytes: None,
        count: endpoint_harness::scenario::CountRange {
            min: 1,
            max: Some(1),
        },
        format: Some(endpoint_harness::model::ImageFormat::Png),
        width: Some(1024),
        height: Some(1024),
        not_blank: true,
        not_noise: true,
    };
    rt.block_on(async {
        for _ in 0..n {
            let mut t = thread_cpu();
            let mut lap = |i: usize| {
                let now = thread_cpu();
                total[i] += now - t;
                t = now;
            };
            let body = serde_json::to_vec(&json!({"input": {"workflow": workflow(1024, 1024, 7)}}))
                .unwrap();
            let run: Value = client
                .post(format!("{url}/run"))
                .bearer_auth(KEY)
                .body(body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = run["id"].as_str().unwrap().to_string();
            lap(0);
            let resp = client
                .get(format!("{url}/status-sync/{id}?wait=30000"))
                .bearer_auth(KEY)
                .send()
                .await
                .unwrap();
            lap(1);
            let bytes = resp.bytes().await.unwrap();
            lap(2);
            let status: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(status["status"], "COMPLETED");
            lap(3);
            let data = status["output"]["images"][0]["data"].as_str().unwrap();
            let (_, png) = endpoint_harness::runpod::output::decode_base64(data);
            let png = png.unwrap();
            lap(4);
            let img = endpoint_harness::media::decode(&png).unwrap();
            lap(5);
            let sampled = endpoint_harness::media::sample::sample(&img);
            let info = endpoint_harness::model::ImageInfo {
                index: 0,
                filename: "x".into(),
                bytes: png.len(),
                format: Some(endpoint_harness::model::ImageFormat::Png),
                width: Some(img.width()),
                height: Some(img.height()),
                color: Some("rgb8".into()),
                stddev: Some(sampled.stddev),
                mean_color: None,
                neighbour_correlation: sampled.correlation,
                problem: None,
            };
            assert!(endpoint_harness::checks::images(&spec, &[info]).is_empty());
            lap(6);
            let cand = endpoint_harness::snapshot::Candidate {
                pixels: &endpoint_harness::snapshot::Pixels::from(&img),
                thumb: &sampled.thumb,
            };
            let out = endpoint_harness::snapshot::verify(
                snap_cfg,
                "bench/x",
                &snap_spec,
                &[Some(cand)],
                &Default::default(),
            );
            assert!(out.failures.is_empty(), "{:?}", out.failures);
            lap(7);
        }
    });
    let per: serde_json::Map<String, Value> = names
        .iter()
        .zip(total)
        .map(|(k, d)| {
            (
                k.to_string(),
                json!((ms(d) / n as f64 * 1000.0).round() / 1000.0),
            )
        })
        .collect();
    Value::Object(per)
}

/// The bare floor: base64 + PNG decode of the same image, and nothing else.
fn floor(b64: &str, n: usize) -> f64 {
    let t = thread_cpu();
    for _ in 0..n {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let img = image::load_from_memory(&bytes).unwrap();
        std::hint::black_box(img);
    }
    ms(thread_cpu() - t) / n as f64
}

/// The PNG's zlib stream (its IDAT chunks joined), its width and its bytes per
/// pixel (an 8-bit PNG).
fn idat(png: &[u8]) -> (Vec<u8>, usize, usize) {
    let (mut data, mut dims) = (Vec::new(), (0, 0));
    let mut i = 8;
    while i + 12 <= png.len() {
        let len = u32::from_be_bytes(png[i..i + 4].try_into().unwrap()) as usize;
        let body = &png[i + 8..i + 8 + len];
        match &png[i + 4..i + 8] {
            b"IHDR" => {
                let channels = match body[9] {
                    0 | 3 => 1,
                    4 => 2,
                    2 => 3,
                    _ => 4,
                };
                let w = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                dims = (w, channels);
            }
            b"IDAT" => data.extend_from_slice(body),
            _ => {}
        }
        i += 12 + len;
    }
    (data, dims.0, dims.1)
}

/// The PNG decode taken apart: the harness's streamed decode (png row by row,
/// what `checks` does when no snapshot needs the pixels), the zlib inflate alone
/// (fdeflate, png's inflater), and the rows' filter types (None, Sub, Up,
/// Average, Paeth): what is not inflate is un-filtering, which for Up, Average
/// and Paeth rows needs the row above, so every row must be un-filtered.
fn decode_anatomy(png: &[u8], n: usize) -> (f64, f64, [usize; 5]) {
    let t = thread_cpu();
    for _ in 0..n {
        let mut d = ::png::Decoder::new(std::io::Cursor::new(png));
        d.set_transformations(::png::Transformations::EXPAND);
        let mut r = d.read_info().unwrap();
        let mut rows = 0usize;
        while let Some(row) = r.next_row().unwrap() {
            rows += usize::from(row.data()[0] & 1);
        }
        std::hint::black_box(rows);
    }
    let streamed = ms(thread_cpu() - t) / n as f64;
    let (z, ..) = idat(png);
    let t = thread_cpu();
    for _ in 0..n {
        std::hint::black_box(fdeflate::decompress_to_vec(&z).unwrap());
    }
    let inflate = ms(thread_cpu() - t) / n as f64;
    (streamed, inflate, row_filters(png).unwrap())
}

/// How many rows of an 8-bit PNG use each filter type.
fn row_filters(png: &[u8]) -> Option<[usize; 5]> {
    let (z, w, bpp) = idat(png);
    let raw = fdeflate::decompress_to_vec(&z).ok()?;
    let mut filters = [0; 5];
    for line in raw.chunks(1 + w * bpp) {
        filters[usize::from(line[0]).min(4)] += 1;
    }
    Some(filters)
}

/// Row filter types of `png` re-encoded by Pillow at ComfyUI's SaveImage
/// setting (`compress_level=4`), when the bench's Python has Pillow.
fn pillow_filters(py: &Path, png: &[u8]) -> Option<[usize; 5]> {
    let dir = tempfile::tempdir().ok()?;
    let (src, dst) = (dir.path().join("in.png"), dir.path().join("out.png"));
    std::fs::write(&src, png).ok()?;
    let ok = Command::new(py)
        .args(["-c", "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2], compress_level=4)"])
        .arg(&src)
        .arg(&dst)
        .status()
        .is_ok_and(|s| s.success());
    row_filters(&std::fs::read(&dst).ok().filter(|_| ok)?)
}

fn python_client(py: &Path, mock: &MockProcess, jobs: usize, mode: &str) -> Value {
    let out = Command::new(py)
        .args([
            "benches/runpod_sdk_client.py",
            &mock.root,
            KEY,
            mode,
            &jobs.to_string(),
            &CONCURRENCY.to_string(),
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| json!({"error": String::from_utf8_lossy(&out.stderr).chars().take(400).collect::<String>()}))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches: nothing to list here.
    }
    let n: usize = std::env::var("BENCH_SCENARIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let tmp = tempfile::tempdir().unwrap();
    let mocks = tmp.path().join("mocks");
    write_behaviours(&mocks);
    let mut results = serde_json::Map::new();
    let mut lines: Vec<String> = Vec::new();
    let row = |lines: &mut Vec<String>, k: &str, v: String| {
        println!("{k:<58} {v}");
        lines.push(format!("| {k} | {v} |"));
    };

    // ---- 0. The default path: `cargo test`'s dev profile vs the release build ----
    // BENCH_SKIP_DEV=1 skips it (its first run builds the dev profile from cold).
    if std::env::var_os("BENCH_SKIP_DEV").is_none() {
        let dev_target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-dev");
        let (_, dev_bin) = dev_build(&dev_target);
        // An incremental rebuild after an edit to one file of harness/ (a comment
        // line: the file's content changes, as when a user edits it), then the
        // file is put back as it was.
        let touched = Path::new(env!("CARGO_MANIFEST_DIR")).join("harness/runner/suite.rs");
        let text = std::fs::read(&touched).unwrap();
        // Prepended, so every span after it moves (a small edit high in a file).
        let mut edited = b"// edited by cargo bench --bench harness\n".to_vec();
        edited.extend_from_slice(&text);
        std::fs::write(&touched, &edited).unwrap();
        let (rebuild, _) = dev_build(&dev_target);
        std::fs::write(&touched, &text).unwrap();
        let m = 300;
        let scen = tmp.path().join("seeded");
        seeded_scenarios(&scen, m);
        let dev = embedded_cpu(&dev_bin, &scen, &tmp.path().join("r-dev"), m);
        let rel = embedded_cpu(Path::new(bin()), &scen, &tmp.path().join("r-rel"), m);
        row(&mut lines, &format!("`cargo test` build (dev profile) vs release, {m} one-image scenarios, embedded mock"), format!("{dev:.2} vs {rel:.2} ms CPU/scenario: {:.2}x (target <= 2x)", dev / rel));
        row(&mut lines, "incremental `cargo test --test scenarios --no-run` after an edit to harness/runner/suite.rs", format!("{:.1} s (target < 30 s)", rebuild.as_secs_f64()));
        results.insert("default_path".into(), json!({"scenarios": m, "dev_cpu_ms": dev, "release_cpu_ms": rel, "ratio": dev / rel, "incremental_rebuild_s": rebuild.as_secs_f64()}));
    }

    // ---- 1. Client cost ----------------------------------------------------------
    let mock = start_mock(&mocks, "instant", 1.0);
    // One job to get the image (reference and floor input).
    let sample = reqwest_run_sync(&mock);
    let b64 = sample["output"]["images"][0]["data"]
        .as_str()
        .unwrap()
        .to_string();
    let png = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .unwrap();
    let reference = image::load_from_memory(&png).unwrap();
    let scen = tmp.path().join("scen");
    let snaps = tmp.path().join("snaps");
    let thumb = endpoint_harness::media::sample::sample(&reference).thumb;
    let spec = endpoint_harness::scenario::SnapshotSpec::tolerant();
    // The class the mock's workers say they are (its default GPU and stack),
    // so every job is judged within its class, as on a settled endpoint.
    let mut fp = endpoint_harness::model::Fingerprint::default();
    fp.set(endpoint_harness::model::ClassField::Gpu, "NVIDIA A40");
    fp.set(endpoint_harness::model::ClassField::Comfyui, "0.3.64");
    fp.set(endpoint_harness::model::ClassField::Torch, "2.11.0+cu130");
    let class = fp.class(&spec.class);
    let provenance = endpoint_harness::snapshot::Provenance {
        fingerprint: fp,
        ..Default::default()
    };
    let inputs = endpoint_harness::snapshot::store::MetaInputs {
        spec: &spec,
        scenario: "s/00000",
        i: 0,
        provenance: &provenance,
        variant: None,
        class: &class,
    };
    let meta = endpoint_harness::snapshot::store::metadata(&reference, &thumb, &inputs, None);
    write_scenarios(&scen, &snaps, n, 1024, Some((&png, &meta)));
    let mut env = live_env(&scen, &tmp.path().join("reports"), &mock);
    env.push(("HARNESS_SNAPSHOT_DIR", snaps.to_string_lossy().to_string()));
    env.push(("HARNESS_MAX_IN_FLIGHT", CONCURRENCY.to_string()));
    env.push(("CI", "true".to_string()));
    let (code, wall, cpu, rss, out) =
        run_suite(&["--test-threads", &CONCURRENCY.to_string()], &env);
    assert_eq!(
        code,
        0,
        "the {n}-scenario suite failed:\n{}",
        out.lines().rev().take(20).collect::<Vec<_>>().join("\n")
    );
    let (user, sys) = (ms(cpu.0) / n as f64, ms(cpu.1) / n as f64);
    let harness_cpu = user + sys;
    let harness_rate = n as f64 / wall.as_secs_f64();
    row(&mut lines, &format!("harness: {n} scenarios (1024x1024 PNG, concurrency {CONCURRENCY})"), format!("{harness_rate:.1} scenarios/s, {harness_cpu:.2} ms CPU/scenario ({user:.2} user + {sys:.2} system), peak RSS {rss:.0} MB"));
    let split = phase_split(
        &mock,
        100.min(n),
        &reference,
        &tmp.path().join("split-snaps"),
    );
    row(
        &mut lines,
        "harness phase split (ms CPU per scenario, in-process)",
        split.to_string(),
    );
    let floor_ms = floor(&b64, 100);
    row(
        &mut lines,
        "bare floor: base64 + PNG decode of the same image",
        format!("{floor_ms:.2} ms CPU"),
    );
    let (streamed, inflate, filters) = decode_anatomy(&png, 100);
    // The project venv with the runpod SDK and Pillow (also for the SDK rows below).
    let py = python();
    let pillow = py.as_deref().and_then(|py| pillow_filters(py, &png));
    row(
        &mut lines,
        "the decode taken apart: png row by row (the harness's streamed decode) / zlib inflate alone",
        format!(
            "{streamed:.2} / {inflate:.2} ms CPU: un-filtering {:.2} ms; row filters [None, Sub, Up, Avg, Paeth] {filters:?}, the same image saved by Pillow as ComfyUI saves it {}",
            streamed - inflate,
            pillow.map_or("(no Pillow)".to_string(), |f| format!("{f:?}"))
        ),
    );
    let phases: f64 = split
        .as_object()
        .map(|m| m.values().filter_map(Value::as_f64).sum())
        .unwrap_or(f64::NAN);
    row(
        &mut lines,
        "client CPU per scenario (sum of the phases above) / floor",
        format!(
            "{phases:.2} ms = {:.2}x (target <= 1.5x)",
            phases / floor_ms
        ),
    );
    row(
        &mut lines,
        "whole process / floor (adds report files, thumbnails, loading, scheduling)",
        format!(
            "{:.2}x user, {:.2}x user+system",
            user / floor_ms,
            harness_cpu / floor_ms
        ),
    );
    // The same run with the reports in memory (tmpfs), when the machine has one:
    // separates the harness's own cost from the disk filesystem's (on this VM,
    // creating files soon after many deletions costs several times the usual).
    let shm = Path::new("/dev/shm");
    let in_memory = shm.is_dir().then(|| {
        let dir = tempfile::tempdir_in(shm).unwrap();
        let mut env = env.clone();
        env.retain(|(k, _)| *k != "HARNESS_REPORTS");
        env.push((
            "HARNESS_REPORTS",
            dir.path().join("reports").to_string_lossy().to_string(),
        ));
        let (code, _, cpu, _, _) = run_suite(&["--test-threads", &CONCURRENCY.to_string()], &env);
        assert_eq!(code, 0, "the suite failed with its reports in /dev/shm");
        (ms(cpu.0) / n as f64, ms(cpu.1) / n as f64)
    });
    if let Some((u, s)) = in_memory {
        row(
            &mut lines,
            "the same, reports on tmpfs (/dev/shm) / floor",
            format!(
                "{:.2} ms ({u:.2} user + {s:.2} system): {:.2}x user, {:.2}x user+system",
                u + s,
                u / floor_ms,
                (u + s) / floor_ms
            ),
        );
    }
    results.insert("client".into(), json!({"scenarios": n, "concurrency": CONCURRENCY, "wall_s": wall.as_secs_f64(), "rate_per_s": harness_rate, "cpu_ms_per_scenario": harness_cpu, "user_cpu_ms_per_scenario": user, "system_cpu_ms_per_scenario": sys, "peak_rss_mb": rss, "phase_cpu_ms": split, "phase_sum_cpu_ms": phases, "floor_cpu_ms": floor_ms, "streamed_decode_cpu_ms": streamed, "inflate_cpu_ms": inflate, "row_filters": filters, "pillow_row_filters": pillow, "tmpfs_cpu_ms_per_scenario": in_memory.map(|(u, s)| u + s)}));
    match &py {
        Some(py) => {
            let jobs = n.min(1000);
            let p = python_client(py, &mock, jobs, "run_sync");
            let py_cpu = p["cpu_ms_per_job"].as_f64().unwrap_or(f64::NAN);
            let py_rate = p["rate_per_s"].as_f64().unwrap_or(f64::NAN);
            row(
                &mut lines,
                &format!("runpod SDK 1.12.0 + Pillow: {jobs} jobs (run_sync, decode, size)"),
                format!(
                    "{py_rate:.1} jobs/s, {py_cpu:.2} ms CPU/job, peak RSS {:.0} MB",
                    p["peak_rss_mb"].as_f64().unwrap_or(f64::NAN)
                ),
            );
            row(
                &mut lines,
                "harness CPU / SDK CPU",
                format!("{:.2}x (target <= 0.5x)", harness_cpu / py_cpu),
            );
            row(
                &mut lines,
                "harness rate / SDK rate",
                format!("{:.2}x (target >= 1x)", harness_rate / py_rate),
            );
            results.insert("python_sdk".into(), p);
        }
        None => row(
            &mut lines,
            "runpod SDK comparison",
            "skipped: no Python with runpod and Pillow".into(),
        ),
    }
    drop(mock);

    // ---- 2. Detection lag ---------------------------------------------------------
    let mock = start_mock(&mocks, "lag-a", 1.0);
    let lag_jobs = 20;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for long_poll in [true, false] {
        let eps: Vec<_> = ["lag-a", "lag-b", "lag-c", "lag-d"]
            .iter()
            .map(|n| {
                endpoint_harness::runpod::Client::new(&format!("{}/v2/{n}", mock.root), Some(KEY))
                    .unwrap()
            })
            .collect();
        if !long_poll {
            eps.iter().for_each(|e| e.disable_long_poll());
        }
        let observed: Vec<(String, u64, u32, f64)> = rt.block_on(async {
            let futs = (0..lag_jobs).map(|i| {
                let ep = eps[i % eps.len()].clone();
                async move {
                    let body =
                        serde_json::to_vec(&json!({"input": {"workflow": workflow(64, 64, 1)}}))
                            .unwrap();
                    let t = Instant::now();
                    let job = endpoint_harness::runpod::job::drive(
                        &ep,
                        endpoint_harness::runpod::Submit::Run,
                        body,
                        Duration::from_secs(30),
                    )
                    .await
                    .unwrap();
                    let now = epoch_ms();
                    (
                        job.status.id,
                        now,
                        job.status_calls + 1,
                        t.elapsed().as_secs_f64(),
                    )
                }
            });
            futures_util::future::join_all(futs).await
        });
        let done = stats(&mock)["done_at"].clone();
        let lags: Vec<f64> = observed
            .iter()
            .map(|(id, seen, _, _)| *seen as f64 - done[id].as_u64().unwrap() as f64)
            .collect();
        let calls: f64 = observed.iter().map(|o| o.2 as f64).sum::<f64>() / lag_jobs as f64;
        let per_job_s: f64 = observed.iter().map(|o| o.3).sum::<f64>() / lag_jobs as f64;
        let how = if long_poll {
            "long poll /status-sync"
        } else {
            "adaptive /status polling, for targets without long poll"
        };
        row(&mut lines, &format!("harness detection lag ({lag_jobs} jobs of 1.25-2.1 s, {how})"), format!("p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; {calls:.1} requests/job ({:.2} per job-second)", pct(lags.clone(), 50.0), pct(lags.clone(), 95.0), pct(lags.clone(), 100.0), calls / per_job_s));
        let key = if long_poll {
            "lag_harness"
        } else {
            "lag_harness_polling"
        };
        results.insert(key.into(), json!({"jobs": lag_jobs, "p50_ms": pct(lags.clone(), 50.0), "p95_ms": pct(lags.clone(), 95.0), "max_ms": pct(lags, 100.0), "requests_per_job": calls, "requests_per_job_second": calls / per_job_s}));
    }
    drop(mock);
    if let Some(py) = &py {
        let mock = start_mock(&mocks, "lag-a", 1.0);
        let p = python_client(py, &mock, lag_jobs, "run_output");
        let done = stats(&mock)["done_at"].clone();
        let seen = p["seen"].as_object().cloned().unwrap_or_default();
        let lags: Vec<f64> = seen
            .iter()
            .filter_map(|(id, t)| Some(t.as_f64()? - done[id].as_u64()? as f64))
            .collect();
        let reqs = stats(&mock)["requests"].clone();
        let status_calls = ["lag-a", "lag-b", "lag-c", "lag-d"]
            .iter()
            .filter_map(|n| reqs[format!("{n} status")].as_f64())
            .sum::<f64>()
            / lag_jobs as f64;
        row(
            &mut lines,
            "runpod SDK detection lag (run() + output(timeout), 1 s polls)",
            format!(
                "p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; {status_calls:.1} status requests/job",
                pct(lags.clone(), 50.0),
                pct(lags.clone(), 95.0),
                pct(lags.clone(), 100.0)
            ),
        );
        results.insert("lag_python_sdk".into(), json!({"jobs": lag_jobs, "p50_ms": pct(lags.clone(), 50.0), "p95_ms": pct(lags.clone(), 95.0), "max_ms": pct(lags, 100.0), "requests_per_job": status_calls}));
    }

    // ---- 2b. Polling without long poll, by the job's expected duration ------------
    // Each case on a fresh mock, so the status counts are the case's own.
    for (label, eps, jobs) in [("0.8 s jobs", &SHORT, 40), ("5-10 s jobs", &LONG, 12)] {
        for with_history in [false, true] {
            let mock = start_mock(&mocks, "default", 1.0);
            let (p50, p95, max, calls) = polling_lag(&rt, &mock, eps, jobs, with_history);
            let how = if with_history {
                "with history (expected duration)"
            } else {
                "no history"
            };
            row(&mut lines, &format!("harness, /status only, {label}, {how} ({jobs} jobs)"), format!("lag p50 {p50:.0} ms, p95 {p95:.0} ms, max {max:.0} ms; {calls:.1} status requests/job"));
            results.insert(format!("polling_{}_{}", if jobs == 40 { "short" } else { "long" }, if with_history { "history" } else { "no_history" }), json!({"jobs": jobs, "p50_ms": p50, "p95_ms": p95, "max_ms": max, "requests_per_job": calls}));
        }
        if let Some(py) = &py {
            let mock = start_mock(&mocks, "default", 1.0);
            let (p50, p95, max, calls) = sdk_lag(py, &mock, eps, jobs);
            row(&mut lines, &format!("runpod SDK, run() + output(), {label} ({jobs} jobs)"), format!("lag p50 {p50:.0} ms, p95 {p95:.0} ms, max {max:.0} ms; {calls:.1} status requests/job"));
            results.insert(format!("polling_{}_sdk", if jobs == 40 { "short" } else { "long" }), json!({"jobs": jobs, "p50_ms": p50, "p95_ms": p95, "max_ms": max, "requests_per_job": calls}));
        }
    }

    // ---- 2c. Suites of mixed durations: file-name order vs longest first ----------
    let (fifo, lpt, bound) = mixed_suite(&tmp.path().join("mixed"));
    row(&mut lines, "mixed suite (1 x 60 s video, 10 x 10 s, 30 x 2 s at speed 10; k = 3)", format!("file-name order {fifo:.2} s, longest first (history) {lpt:.2} s; lower bound max(total/k, longest) {bound:.2} s: {:.2}x (target <= 1.1x)", lpt / bound));
    results.insert(
        "mixed_suite".into(),
        json!({"file_order_s": fifo, "longest_first_s": lpt, "lower_bound_s": bound}),
    );

    // ---- 3. Scale -----------------------------------------------------------------
    let big = tmp.path().join("big");
    write_scenarios(&big, &tmp.path().join("nosnaps"), 10_000, 64, None);
    let mock = start_mock(&mocks, "instant", 1.0);
    let env10k = live_env(&big, &tmp.path().join("r10k"), &mock);
    let (code, wall, _, rss, out) = run_suite(&["--list"], &env10k);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 10_000);
    row(
        &mut lines,
        "discover + parse 10,000 scenario files (--list, whole process)",
        format!("{:.0} ms, peak RSS {rss:.0} MB (target <= 1 s)", ms(wall)),
    );
    results.insert(
        "discovery_10k".into(),
        json!({"wall_ms": ms(wall), "peak_rss_mb": rss}),
    );
    let mut starts = Vec::new();
    for i in [17, 4242, 9999] {
        let mut env = env10k.clone();
        env.push(("NEXTEST", "1".into()));
        let name = format!("s/{i:05}");
        let (code, wall, _, _, _) = run_suite(&["--exact", &name], &env);
        assert_eq!(code, 0);
        starts.push(ms(wall));
    }
    let start = pct(starts.clone(), 50.0);
    row(
        &mut lines,
        "one trial of 10,000 under nextest (--exact, whole process incl. its instant job)",
        format!("median {start:.0} ms of 3 (target <= 50 ms)"),
    );
    results.insert("nextest_one_trial_ms".into(), json!(starts));
    drop(mock);
    let mock = start_mock(&mocks, "five", 1.0);
    let many = tmp.path().join("many");
    write_scenarios(&many, &tmp.path().join("nosnaps2"), 200, 64, None);
    let mut env200 = live_env(&many, &tmp.path().join("r200"), &mock);
    env200.push(("HARNESS_MAX_IN_FLIGHT", "200".to_string()));
    let (code, wall, cpu, rss, _) = run_suite(&["--test-threads", "200"], &env200);
    assert_eq!(code, 0);
    row(
        &mut lines,
        "200 scenarios of 5 s jobs, HARNESS_MAX_IN_FLIGHT=200",
        format!(
            "{:.2} s against the 5 s ideal (target <= 5.5 s), {:.0} ms CPU, peak RSS {rss:.0} MB",
            wall.as_secs_f64(),
            ms(cpu.0 + cpu.1)
        ),
    );
    results.insert(
        "suite_200x5s".into(),
        json!({"wall_s": wall.as_secs_f64(), "cpu_ms": ms(cpu.0 + cpu.1), "peak_rss_mb": rss}),
    );
    drop(mock);

    // ---- 4. The load generator: 10 vs 1,000 jobs in flight --------------------------
    // Open model, 5 s jobs on the standalone mock: rate x 5 s are in flight.
    for (rate, concurrency, secs) in [(2, 10, 20), (200, 1000, 20)] {
        let mock = start_mock(&mocks, "five", 1.0);
        let dir = tmp.path().join(format!("load-{concurrency}"));
        std::fs::create_dir_all(dir.join("s")).unwrap();
        std::fs::write(dir.join("s/w.json"), workflow(64, 64, 1).to_string()).unwrap();
        std::fs::write(
            dir.join("s/load.yaml"),
            format!("workflow: w.json\ntimeout: 2m\nload:\n  rate: {rate}\n  concurrency: {concurrency}\n  duration: {secs}s\n  sample_every: 1s\nexpect:\n  images: {{count: 1}}\n"),
        )
        .unwrap();
        let mut env = live_env(&dir.join("s"), &dir.join("r"), &mock);
        env.push(("HARNESS_LOAD", "1".into()));
        let (code, wall, cpu, rss, out) = run_suite(&[], &env);
        assert_eq!(code, 0, "load run at {rate}/s failed: {out}");
        let mock_rss = std::fs::read_to_string(format!("/proc/{}/status", mock.child.id()))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            })
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN);
        let r: Value =
            serde_json::from_slice(&std::fs::read(dir.join("r/report.json")).unwrap()).unwrap();
        let l = &r["scenarios"][0]["load"];
        let t = &l["total"];
        let late_max = l["jobs"]
            .as_array()
            .map(|p| {
                p.iter()
                    .filter_map(|p| p["late_ms"].as_u64())
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        row(&mut lines, &format!("load: {rate}/s open model, 5 s jobs ({concurrency} in flight), {secs} s"), format!("{} jobs ok of {}; total p50 {} ms, p95 {} ms, p99 {} ms; latest send {late_max} ms late; harness {:.1} s CPU, peak RSS {rss:.0} MB; mock peak RSS {mock_rss:.0} MB (wall {:.1} s)", l["ok"], l["submitted"], t["p50_ms"], t["p95_ms"], t["p99_ms"], ms(cpu.0 + cpu.1) / 1000.0, wall.as_secs_f64()));
        results.insert(format!("load_{concurrency}_in_flight"), json!({"rate": rate, "ok": l["ok"], "submitted": l["submitted"], "total": t, "late_max_ms": late_max, "harness_cpu_s": ms(cpu.0 + cpu.1) / 1000.0, "harness_rss_mb": rss, "mock_rss_mb": mock_rss}));
    }

    let machine = json!({"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), "os": std::env::consts::OS});
    results.insert("machine".into(), machine);
    let _ = std::fs::create_dir_all("reports");
    std::fs::write(
        "reports/bench.json",
        serde_json::to_string_pretty(&Value::Object(results)).unwrap(),
    )
    .unwrap();
    println!(
        "\n| measurement | result |\n|---|---|\n{}",
        lines.join("\n")
    );
    println!("\nwrote reports/bench.json");
}

fn reqwest_run_sync(mock: &MockProcess) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        ::reqwest::Client::new()
            .post(format!("{}/runsync", mock.endpoint_url("ep")))
            .bearer_auth(KEY)
            .body(
                serde_json::to_vec(&json!({"input": {"workflow": workflow(1024, 1024, 7)}}))
                    .unwrap(),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}
