//! `cargo bench --bench output_memory`: the peak memory of reading one job's
//! output of many large presigned URLs (a hostile or broken endpoint), side
//! by side: with the default caps (64 items, 512 MiB a job) and without any
//! (what the harness did before: every item downloaded and held at once).
//! Each case runs in a child process of its own, so its peak resident memory
//! (`VmHWM`) is its own. The downloads are served in memory (the transfer is
//! not what is measured). `BENCH_SIZES_MB=8,40` and `BENCH_COUNTS=16,120`
//! change the grid.

use std::process::Command;

use endpoint_harness::http::EndpointError;
use endpoint_harness::runpod::output::{decode_within, Download, Limits};
use serde_json::{json, Value};

/// Serves every URL as `size` bytes.
struct Served(usize);

impl Download for Served {
    fn download<'a>(
        &'a self,
        _url: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<Vec<u8>, EndpointError>> {
        Box::pin(async move { Ok(vec![7u8; self.0]) })
    }
}

fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn child(count: usize, size_mb: usize, capped: bool) {
    let items: Vec<Value> = (0..count)
        .map(|i| json!({"filename": format!("{i}.png"), "type": "s3_url", "data": format!("https://b.s3/{i}.png?X-Amz-Signature=s")}))
        .collect();
    let limits = if capped {
        Limits::default()
    } else {
        Limits {
            items: usize::MAX,
            bytes: u64::MAX,
            expected: None,
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt
        .block_on(decode_within(
            Some(json!({"images": items})),
            &Served(size_mb << 20),
            &limits,
        ))
        .unwrap();
    let kept: usize = out
        .images
        .iter()
        .filter_map(|r| r.bytes.as_ref().ok())
        .map(Vec::len)
        .sum();
    println!("{:.0} {}", peak_mb(), kept >> 20);
}

fn list(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let n = |i: usize| args[i].parse::<usize>().unwrap();
        child(n(2), n(3), args[4] == "capped");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    println!("Peak resident memory of reading one job's output (MB), caps on (64 items, 512 MiB) and off:\n");
    println!("| items | MB each | capped: peak MB | kept MB | uncapped: peak MB | kept MB |\n|---|---|---|---|---|---|");
    for size in list("BENCH_SIZES_MB", &[8, 40]) {
        for count in list("BENCH_COUNTS", &[16, 120]) {
            let mut row = format!("| {count} | {size} |");
            for mode in ["capped", "uncapped"] {
                // The uncapped case of 120 x 40 MB holds 4.8 GB: it is the
                // failure being shown, and fits this machine's memory.
                let out = Command::new(&exe)
                    .args(["--child", &count.to_string(), &size.to_string(), mode])
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stdout);
                let mut it = text.split_whitespace();
                let (peak, kept) = (
                    it.next().unwrap_or("?").to_string(),
                    it.next().unwrap_or("?").to_string(),
                );
                row.push_str(&format!(" {peak} | {kept} |"));
            }
            println!("{row}");
        }
    }
}
