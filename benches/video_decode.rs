//! `cargo bench --bench video_decode`: frames per second decoding a 512x512
//! H.264 MP4 (libx264 defaults, as ComfyUI's SaveVideo writes it through
//! PyAV) with each decoder this build has, in one run: the bundled OpenH264
//! the default build uses, an `ffmpeg` executable (the fallback for other
//! codecs; its process start is part of its cost), and FFmpeg's libraries with
//! `--features ffmpeg`. The clip is made with the `ffmpeg` executable, so the
//! benchmark needs one on PATH.

use std::process::Command;
use std::time::Instant;

use endpoint_harness::media::{frames_by, VideoDecoder};

const FRAMES: u64 = 96;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let clip = tmp.path().join("clip.mp4");
    let made = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=512x512:rate=24",
            "-frames:v",
        ])
        .arg(FRAMES.to_string())
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&clip)
        .status();
    if !made.is_ok_and(|s| s.success()) {
        println!("no ffmpeg executable to make the 512x512 clip with: nothing measured");
        return;
    }
    let bytes = std::fs::read(&clip).unwrap();
    let all: Vec<u64> = (0..FRAMES).collect();
    let decoders = [
        ("OpenH264 (bundled, default build)", VideoDecoder::OpenH264),
        ("ffmpeg executable", VideoDecoder::FfmpegExecutable),
        #[cfg(feature = "ffmpeg")]
        (
            "FFmpeg libraries (--features ffmpeg)",
            VideoDecoder::FfmpegLibraries,
        ),
    ];
    println!(
        "decoding all {FRAMES} frames of a 512x512 H.264 MP4 ({} bytes), best of 5 runs:\n",
        bytes.len()
    );
    println!("| decoder | frames/s | ms per clip | first frame only, ms |\n|---|---:|---:|---:|");
    let mut reference: Option<Vec<(u64, image::RgbImage)>> = None;
    for (name, d) in decoders {
        let mut best = f64::INFINITY;
        let mut first = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            let got = frames_by(d, &bytes, &all).unwrap_or_else(|e| panic!("{name}: {e}"));
            best = best.min(t.elapsed().as_secs_f64());
            assert_eq!(got.len() as u64, FRAMES, "{name}");
            let t = Instant::now();
            frames_by(d, &bytes, &[0]).unwrap();
            first = first.min(t.elapsed().as_secs_f64());
            if reference.is_none() {
                reference = Some(got);
            } else if let Some(r) = &reference {
                let worst = r
                    .iter()
                    .zip(&got)
                    .map(|((_, a), (_, b))| {
                        a.iter()
                            .zip(b.iter())
                            .map(|(x, y)| f64::from(x.abs_diff(*y)))
                            .sum::<f64>()
                            / a.len() as f64
                    })
                    .fold(0.0, f64::max);
                assert!(
                    worst < 3.0,
                    "{name} differs from OpenH264 by {worst:.2} levels on average in a frame"
                );
            }
        }
        println!(
            "| {name} | {:.0} | {:.1} | {:.1} |",
            FRAMES as f64 / best,
            best * 1000.0,
            first * 1000.0
        );
    }
}
