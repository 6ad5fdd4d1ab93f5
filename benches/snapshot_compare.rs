//! `cargo bench --bench snapshot_compare`: how well, and how fast, the
//! tolerant snapshot comparison tells drift from regressions.
//!
//! 1. The drift corpus of real diffusion outputs (`tests/fixtures/drift/`):
//!    the confusion matrix and the margins under the default bands (the
//!    same table `tests/drift_corpus.rs` asserts on).
//! 2. The cost of one comparison of a 1024x1024 image against its reference,
//!    in the same run, side by side: the full-size figures the verdict uses
//!    (PSNR, SSIM, the worst block), the thumbnail hash and similarity the
//!    harness used before, the xxh3 digest that settles identical pixels, and
//!    the reference's PNG decode the comparison needs first. The 1024x1024
//!    pair is a real corpus output (D-base, 256x256) scaled up, and the same
//!    picture from a server with a bf16 VAE (D-bf16-vae) scaled the same way.

use std::path::Path;
use std::time::Instant;

use endpoint_harness::scenario::SnapshotSpec;
use endpoint_harness::snapshot::corpus;
use endpoint_harness::snapshot::metrics::{judge, measure, measure_thumbs, pixel_hash};
use image::imageops::FilterType;
use image::DynamicImage;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = Path::new("tests/fixtures/drift");
    let c = corpus::load(dir).expect("the drift corpus");
    let spec = SnapshotSpec::tolerant();
    let judged = corpus::judge_all(dir, &c, &spec).expect("judged");
    println!("## The drift corpus under the default bands\n");
    println!("{}", corpus::report(&judged, &spec));

    let big = |file: &str| {
        let img = image::open(dir.join(file)).expect("a corpus image");
        DynamicImage::ImageRgb8(
            img.resize_exact(1024, 1024, FilterType::CatmullRom)
                .to_rgb8(),
        )
    };
    let (reference, candidate) = (big("D-base.png"), big("D-bf16-vae.png"));
    let mut png = Vec::new();
    reference
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode");
    let thumb = |img: &DynamicImage| img.thumbnail(96, 96).to_rgb8();
    let (ta, tb) = (thumb(&reference), thumb(&candidate));

    let runs = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30usize);
    let time = |f: &mut dyn FnMut()| {
        let mut all: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        all.sort_by(f64::total_cmp);
        (all[all.len() / 2], all[all.len() * 9 / 10])
    };
    let mut verdict = String::new();
    let rows: Vec<(&str, (f64, f64))> = vec![
        (
            "full-size figures + judgement (the verdict)",
            time(&mut || {
                let m = measure(&reference, &candidate);
                verdict = format!("{:?}", judge(&spec, &m));
            }),
        ),
        (
            "  of which: the full-size diff (PSNR, SSIM, blocks)",
            time(&mut || {
                let (a, b) = (reference.as_rgb8().unwrap(), candidate.as_rgb8().unwrap());
                std::hint::black_box(endpoint_harness_pixels::diff::diff(
                    a.as_raw(),
                    b.as_raw(),
                    1024,
                    1024,
                    3,
                ));
            }),
        ),
        (
            "  of which: the reference's thumbnail (sampling)",
            time(&mut || {
                std::hint::black_box(endpoint_harness::media::sample::sample(&reference));
            }),
        ),
        (
            "thumbnail hash + similarity only (before)",
            time(&mut || {
                std::hint::black_box(measure_thumbs(&ta, &tb));
            }),
        ),
        (
            "xxh3 digest of the candidate's pixels",
            time(&mut || {
                std::hint::black_box(pixel_hash(&candidate));
            }),
        ),
        (
            "decode the reference PNG",
            time(&mut || {
                std::hint::black_box(image::load_from_memory(&png).expect("decode"));
            }),
        ),
    ];
    println!("## One comparison of a 1024x1024 image ({runs} runs)\n");
    println!("| step | median ms | p90 ms |\n|---|---:|---:|");
    for (name, (median, p90)) in &rows {
        println!("| {name} | {median:.2} | {p90:.2} |");
    }
    println!("\nverdict of the bf16-VAE pair at 1024x1024: {verdict}");
    let total = rows[0].1 .0 + rows[5].1 .0;
    println!("comparison including the reference's decode: {total:.2} ms (target: under 10 ms in release)");
}
