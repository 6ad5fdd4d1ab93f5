//! `cargo bench --bench nextest_scale`: what running the suite under nextest
//! (one process per scenario, then `endpoint-harness report build` once) costs
//! in harness CPU per scenario, side by side with the same suite in one
//! process, and with the bare cost of starting the binary. The mock runs in its
//! own process, so only the harness's CPU is counted.
//!
//! `BENCH_SCENARIOS=N` (default 1000) sets the suite's size; `BENCH_JOBS`
//! (default 2, the cores of the project machine) how many trial processes run
//! at once, as nextest's `--test-threads` would; `BENCH_SIZE` (default 1024,
//! as in `--bench harness`) the side of the returned PNG; `BENCH_REPEAT`
//! (default 3) how many interleaved passes the medians are taken over;
//! `BENCH_BIN` another build of the binary to measure (default: this bench's
//! release build; `target/debug/endpoint-harness` is the one nextest runs).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/it/common/mod.rs"]
mod common;
use common::MockProcess;

const KEY: &str = "bench-key-0123456789";

/// The binary measured: this bench's own (release) build, or `BENCH_BIN`, e.g.
/// `target/debug/endpoint-harness`, the dev-profile build `cargo test` and
/// `cargo nextest run` use.
fn bin() -> String {
    std::env::var("BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_endpoint-harness").into())
}

/// A command of the binary with none of the caller's harness settings.
fn command(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("HARNESS_")
            || k.starts_with("RUNPOD_")
            || k.starts_with("NEXTEST")
            || k == "GITHUB_STEP_SUMMARY"
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("HARNESS_PROGRESS", "off");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// User + system CPU of all children waited for so far.
fn children_cpu() -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec * 1000) as u32);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Runs the commands side by side to their end; returns the CPU they used. (The
/// mock is a child too, but it is not waited for until the end, so it is not counted.)
fn cpu_of(mut batch: Vec<Command>) -> Duration {
    let before = children_cpu();
    let mut children: Vec<_> = batch.iter_mut().map(|c| c.spawn().unwrap()).collect();
    for c in &mut children {
        let mut err = String::new();
        std::io::Read::read_to_string(c.stderr.as_mut().unwrap(), &mut err).unwrap();
        let status = c.wait().unwrap();
        assert!(status.success(), "{status}: {err}");
    }
    children_cpu() - before
}

fn write_scenarios(dir: &Path, n: usize, size: usize) -> Vec<String> {
    std::fs::create_dir_all(dir.join("s/workflows")).unwrap();
    let workflow = serde_json::json!({
        "3": {"class_type": "KSampler", "inputs": {"seed": 7}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": size, "height": size, "batch_size": 1}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}}
    });
    std::fs::write(dir.join("s/workflows/w.json"), workflow.to_string()).unwrap();
    (0..n)
        .map(|i| {
            let yaml = format!("workflow: workflows/w.json\nexpect:\n  images: {{count: 1, format: png, width: {size}, height: {size}, not_blank: true}}\n");
            std::fs::write(dir.join(format!("s/{i:05}.yaml")), yaml).unwrap();
            format!("{i:05}")
        })
        .collect()
}

fn per(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1000.0 / n as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches: nothing to list here.
    }
    let var = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let n = var("BENCH_SCENARIOS", 1000);
    let jobs = var("BENCH_JOBS", 2);
    let size = var("BENCH_SIZE", 1024);
    let reps = var("BENCH_REPEAT", 3).max(1);
    let tmp = tempfile::tempdir().unwrap();
    let mocks = tmp.path().join("mocks");
    std::fs::create_dir_all(&mocks).unwrap();
    std::fs::write(mocks.join("instant.yaml"), "queue: 0s\nexecution: 0s\n").unwrap();
    let mock = MockProcess::start(&[
        "--api-key",
        KEY,
        "--endpoint-id",
        "ep",
        "--behaviour",
        "instant",
        "--mocks",
        &mocks.to_string_lossy(),
    ]);
    let names = write_scenarios(tmp.path(), n, size);
    let env = |reports: &str| {
        vec![
            (
                "HARNESS_SCENARIOS",
                tmp.path().join("s").display().to_string(),
            ),
            (
                "HARNESS_REPORTS",
                tmp.path().join(reports).display().to_string(),
            ),
            ("RUNPOD_API_KEY", KEY.to_string()),
            ("RUNPOD_ENDPOINT_ID", "ep".to_string()),
            ("RUNPOD_ENDPOINT_URL", mock.endpoint_url("ep")),
        ]
    };
    // Warm the page cache and the binary.
    cpu_of(vec![command(&["run", "--", "--list"], &env("warm"))]);

    // 1. The bare start of the binary: `--version`, 50 times.
    let start = per(
        cpu_of((0..50).map(|_| command(&["--version"], &[])).collect()),
        50,
    );

    // 2. In one process: the whole suite, reports written at the end.
    let threads = jobs.to_string();
    let in_process = |folder: &str| {
        let t = Instant::now();
        let cpu = cpu_of(vec![command(
            &["run", "--", "--test-threads", &threads],
            &env(folder),
        )]);
        (cpu, t.elapsed())
    };

    // 3. As nextest runs it: one `--exact` process per scenario, `jobs` at a time,
    //    one run id; then `report build` once. Twice: as is, and with glibc's
    //    malloc left at its defaults (any GLIBC_TUNABLES, even empty, makes the
    //    harness leave the allocator alone: harness/runner/alloc.rs).
    let nextest = |folder: &str, extra: &[(&'static str, String)]| {
        let mut e = env(folder);
        e.push(("NEXTEST_RUN_ID", format!("bench-{folder}")));
        e.push(("NEXTEST", "1".to_string()));
        e.extend(extra.iter().cloned());
        let t = Instant::now();
        let mut trials = Duration::ZERO;
        for chunk in names.chunks(jobs) {
            trials += cpu_of(
                chunk
                    .iter()
                    .map(|name| command(&["run", "--", "--exact", name], &e))
                    .collect(),
            );
        }
        let reports = tmp.path().join(folder).display().to_string();
        let build = cpu_of(vec![command(
            &["report", "build", "--reports", &reports],
            &[],
        )]);
        (trials, build, t.elapsed(), e)
    };
    // Each measurement `reps` times, interleaved, and the median taken: on a
    // shared 2-core VM one pass moves by up to 10% (the filesystem's state
    // after recent deletions alone does that).
    let untuned = [("GLIBC_TUNABLES", String::new())];
    let (mut inprocs, mut nextests, mut plains) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for r in 0..reps {
        inprocs.push(in_process(&format!("in-process-{r}")));
        let (trials, build, wall, e) = nextest(&format!("nextest-{r}"), &[]);
        nextests.push((trials, build, wall));
        let (trials, build, _, _) = nextest(&format!("nextest-default-malloc-{r}"), &untuned);
        plains.push(trials + build);
        last = Some(e);
    }
    let e = last.expect("BENCH_REPEAT is at least 1");
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let spread = |v: &[f64]| {
        let (lo, hi) = v
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        format!("{lo:.2}..{hi:.2}")
    };
    // 4. The harness's own start in a trial process: runtime, settings, target,
    //    one scenario file found and loaded, its trial filtered out; 50 times,
    //    in the same nextest run (its identity is cached by then, as for most trials).
    let one = tmp.path().join("start");
    write_scenarios(&one, 1, size);
    let mut start_env = e.clone();
    start_env[0].1 = one.join("s").display().to_string();
    let harness_start = per(
        cpu_of(
            (0..50)
                .map(|_| command(&["run", "--", "--exact", "not-this-one"], &start_env))
                .collect(),
        ),
        50,
    );
    let dirs = (0..reps).flat_map(|r| {
        ["in-process", "nextest", "nextest-default-malloc"].map(|d| format!("{d}-{r}"))
    });
    for dir in dirs {
        let r: serde_json::Value = serde_json::from_slice(
            &std::fs::read(tmp.path().join(&dir).join("report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            r["counts"]["passed"].as_u64(),
            Some(n as u64),
            "{dir}: {}",
            r["counts"]
        );
    }

    let inproc_all: Vec<f64> = inprocs.iter().map(|(c, _)| per(*c, n)).collect();
    let nextest_all: Vec<f64> = nextests.iter().map(|(t, b, _)| per(*t + *b, n)).collect();
    let plain_all: Vec<f64> = plains.iter().map(|c| per(*c, n)).collect();
    let (inproc_ms, nextest_ms, plain_ms) = (
        median(inproc_all.clone()),
        median(nextest_all.clone()),
        median(plain_all.clone()),
    );
    let inproc_wall = median(inprocs.iter().map(|(_, w)| w.as_secs_f64()).collect());
    let nextest_wall = median(nextests.iter().map(|(_, _, w)| w.as_secs_f64()).collect());
    let trial_ms = median(nextests.iter().map(|(t, _, _)| per(*t, n)).collect());
    let build_ms = median(
        nextests
            .iter()
            .map(|(_, b, _)| b.as_secs_f64() * 1000.0)
            .collect(),
    );
    let allowed = 1.5 * inproc_ms + harness_start;
    let rows = [
        (
            "scenarios".to_string(),
            format!("{n}, one {size}x{size} PNG each from the standalone mock, {jobs} at a time; medians of {reps} interleaved passes (range)"),
        ),
        (
            "binary start (`--version`), CPU".into(),
            format!("{start:.2} ms"),
        ),
        (
            "harness start in a trial process (`--exact` selecting nothing), CPU".into(),
            format!("{harness_start:.2} ms"),
        ),
        (
            "in one process: CPU per scenario (wall)".into(),
            format!("{inproc_ms:.2} ms ({}; {inproc_wall:.1} s)", spread(&inproc_all)),
        ),
        (
            "under nextest: CPU per scenario, trials + one `report build` (wall)".into(),
            format!(
                "{nextest_ms:.2} ms ({}) = {trial_ms:.2} trial + {:.3} build ({nextest_wall:.1} s)",
                spread(&nextest_all),
                build_ms / n as f64,
            ),
        ),
        (
            "the same with glibc's default malloc settings (before): CPU per scenario".into(),
            format!("{plain_ms:.2} ms ({})", spread(&plain_all)),
        ),
        (
            "`report build` of the run, CPU".into(),
            format!("{build_ms:.0} ms"),
        ),
        (
            "nextest vs 1.5 x in-process + harness start".into(),
            format!(
                "{nextest_ms:.2} vs {allowed:.2} ms: {}",
                if nextest_ms <= allowed {
                    "within ✔"
                } else {
                    "over ✘"
                }
            ),
        ),
    ];
    println!("| measurement | result |\n|---|---|");
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
}
