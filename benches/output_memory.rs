//! `cargo bench --bench output_memory`: the peak memory of one job whose
//! output is many large presigned URLs (a hostile or broken endpoint), three
//! ways side by side, each in a child process of its own so that its peak
//! resident memory (`VmHWM`) is its own:
//!
//! - `streamed` (what a trial does now): [`Stream`] fetches one file, the
//!   inspection the checks run (`media::inspect_keeping`: the PNG is read and
//!   sampled) takes it, and it is dropped before the next is fetched; the
//!   default caps (64 items, 512 MiB a job) bound the transfer;
//! - `collected` (the last round): every file within the caps fetched and
//!   held, then inspected;
//! - `uncapped` (before any cap): every file fetched and held.
//!
//! The files are real PNGs of random pixels (so they do not compress), of
//! about the given size, encoded once by the parent and served from the
//! child's memory (its `base`): the transfer is not what is measured. `BENCH_SIZES_MB=8,40` and `BENCH_COUNTS=16,120`
//! change the grid.

use std::io::Cursor;
use std::process::Command;
use std::sync::Arc;

use endpoint_harness::http::EndpointError;
use endpoint_harness::media::inspect_keeping;
use endpoint_harness::runpod::output::{decode_within, Download, Limits, Stream};
use serde_json::{json, Value};

/// Serves every URL as the same PNG.
struct Served(Arc<Vec<u8>>);

impl Download for Served {
    fn download<'a>(
        &'a self,
        _url: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<Vec<u8>, EndpointError>> {
        Box::pin(async move { Ok(self.0.as_ref().clone()) })
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

/// A PNG of random RGB pixels of about `mb` MiB.
fn noise_png(mb: usize) -> Vec<u8> {
    let side = (((mb << 20) / 3) as f64).sqrt() as u32;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let img = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let b = state.to_le_bytes();
        image::Rgb([b[0], b[1], b[2]])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_with_encoder(image::codecs::png::PngEncoder::new_with_quality(
            &mut out,
            image::codecs::png::CompressionType::Fast,
            image::codecs::png::FilterType::NoFilter,
        ))
        .unwrap();
    out.into_inner()
}

fn child(count: usize, png: &str, mode: &str) {
    let png = Arc::new(std::fs::read(png).unwrap());
    let items: Vec<Value> = (0..count)
        .map(|i| json!({"filename": format!("{i}.png"), "type": "s3_url", "data": format!("https://b.s3/{i}.png?X-Amz-Signature=s")}))
        .collect();
    let output = Some(json!({"images": items}));
    let limits = match mode {
        "uncapped" => Limits {
            items: usize::MAX,
            bytes: u64::MAX,
            expected: None,
        },
        _ => Limits::default(),
    };
    let target = Served(png);
    // The served PNG is held throughout (the "server"): the base.
    let base = peak_mb();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let inspected = rt.block_on(async {
        let mut read = 0usize;
        if mode == "streamed" {
            let mut stream = Stream::open(output, &target, &limits).await.unwrap();
            let mut i = 0;
            while let Some(r) = stream.next(&target).await {
                let seen = inspect_keeping(i, &r, false);
                read += usize::from(seen.info.width.is_some());
                i += 1;
            }
        } else {
            let out = decode_within(output, &target, &limits).await.unwrap();
            for (i, r) in out.images.iter().enumerate() {
                let seen = inspect_keeping(i, r, false);
                read += usize::from(seen.info.width.is_some());
            }
        }
        read
    });
    println!("{:.0} {:.0} {inspected}", peak_mb(), base);
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
        child(args[2].parse().unwrap(), &args[3], &args[4]);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    println!("Peak resident memory of one job's output of large PNGs behind presigned URLs (MB),");
    println!("each case in its own process; `base` is the process holding the served PNG, before the job;");
    println!("`read` is how many files were read and inspected:\n");
    println!("| items | MB each | base MB | streamed: peak MB | read | collected (capped): peak MB | read | uncapped: peak MB | read |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    for size in list("BENCH_SIZES_MB", &[8, 40]) {
        let png = dir.path().join(format!("{size}.png"));
        std::fs::write(&png, noise_png(size)).unwrap();
        let png = png.display().to_string();
        for count in list("BENCH_COUNTS", &[16, 120]) {
            let mut row = format!("| {count} | {size} |");
            let mut base_shown = false;
            for mode in ["streamed", "collected", "uncapped"] {
                // The uncapped case of 120 x 40 MB holds 4.8 GB: it is the
                // failure being shown, and fits this machine's memory.
                let out = Command::new(&exe)
                    .args(["--child", &count.to_string(), &png, mode])
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stdout);
                let mut it = text.split_whitespace();
                let (peak, base, read) = (
                    it.next().unwrap_or("?").to_string(),
                    it.next().unwrap_or("?").to_string(),
                    it.next().unwrap_or("?").to_string(),
                );
                if !base_shown {
                    row.push_str(&format!(" {base} |"));
                    base_shown = true;
                }
                row.push_str(&format!(" {peak} | {read} |"));
            }
            println!("{row}");
        }
    }
}
