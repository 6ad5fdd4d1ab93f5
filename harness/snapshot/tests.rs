//! Reference snapshots: written in update mode then verified; pixels, not bytes,
//! are compared; noise passes perceptual and fails exact; another seed fails with
//! a diff image; a missing reference fails on CI; orphans are found.

use std::io::Cursor;
use std::path::Path;

use image::DynamicImage;

use crate::mock::behaviour::ImageKind;
use crate::mock::runpod::render;
use crate::scenario::{CompareMode, SnapshotSpec};
use crate::snapshot::{self, Config, Mode};

pub(super) fn rendered(seed: u64, kind: ImageKind, nonce: u64) -> DynamicImage {
    rendered_at(256, 192, seed, kind, nonce)
}

fn rendered_at(width: u32, height: u32, seed: u64, kind: ImageKind, nonce: u64) -> DynamicImage {
    let graph = crate::scenario::workflow::normalise(serde_json::json!({
        "3": {"class_type": "KSampler", "inputs": {"seed": seed}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": height, "batch_size": 1}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "t"}}
    }), None)
    .unwrap();
    let plan = render::plan(&graph, &|_| None);
    let (_, bytes) = render::render(&plan, kind, nonce).remove(0);
    image::load_from_memory(&bytes).unwrap()
}

pub(super) fn spec(compare: CompareMode) -> SnapshotSpec {
    SnapshotSpec { compare, ..SnapshotSpec::tolerant() }
}

pub(super) fn config(dir: &Path, mode: Mode, ci: bool) -> Config {
    Config {
        root: dir.join("snapshots"),
        mode,
        ci,
        variant: None,
        reports: dir.join("reports"),
        strict: false,
        class: None,
    }
}

pub(super) fn provenance() -> snapshot::Provenance {
    snapshot::Provenance {
        endpoint: Some("live endpoint https://api.runpod.ai/v2/abc".into()),
        gpu: Some("NVIDIA A100 80GB PCIe".into()),
        worker_image: Some("runpod/worker-comfyui:5.8.5-sdxl".into()),
        commit: Some("0123456789ab".into()),
        fingerprint: Default::default(),
    }
}

fn check(cfg: &Config, compare: CompareMode, img: &DynamicImage) -> snapshot::verify::Outcome {
    check_spec(cfg, &spec(compare), img)
}

pub(super) fn check_spec(cfg: &Config, spec: &SnapshotSpec, img: &DynamicImage) -> snapshot::verify::Outcome {
    let thumb = crate::media::sample::sample(img).thumb;
    snapshot::verify(
        cfg,
        "sdxl/fox",
        spec,
        &[Some(snapshot::Candidate {
            pixels: &snapshot::Pixels::from(img),
            thumb: &thumb,
        })],
        &provenance(),
    )
}

/// The same pixels, encoded differently: best compression and an extra tEXt chunk.
fn reencoded(img: &DynamicImage) -> DynamicImage {
    let mut bytes = Vec::new();
    let enc = image::codecs::png::PngEncoder::new_with_quality(
        Cursor::new(&mut bytes),
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Paeth,
    );
    image::ImageEncoder::write_image(
        enc,
        img.to_rgb8().as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    // Insert a tEXt chunk (as ComfyUI's prompt metadata) right after IHDR.
    let mut chunk = Vec::new();
    crate::png::chunk(
        &mut chunk,
        b"tEXt",
        b"prompt\0{\"3\": {\"class_type\": \"KSampler\"}}",
    );
    let at = 8 + 25;
    bytes.splice(at..at, chunk);
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!(decoded.to_rgb8(), img.to_rgb8());
    decoded
}

#[test]
fn update_then_verify_and_pixels_not_bytes_are_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let img = rendered(1, ImageKind::Render, 0);
    let written = check(
        &config(tmp.path(), Mode::Update, false),
        CompareMode::Exact,
        &img,
    );
    assert!(written.failures.is_empty());
    assert_eq!(written.records[0].outcome, "written");
    let meta = std::fs::read_to_string(tmp.path().join("snapshots/sdxl/fox/0.snap")).unwrap();
    assert!(meta.starts_with("---\nsource: endpoint-harness\nexpression: \"sdxl/fox image 0\"\n---\nformat: png\nwidth: 256\nheight: 192\ncolor: rgb8\nhash: "), "{meta}");
    let verified = check(
        &config(tmp.path(), Mode::Verify, true),
        CompareMode::Exact,
        &reencoded(&img),
    );
    assert!(verified.failures.is_empty(), "{:?}", verified.failures);
    assert_eq!(verified.records[0].outcome, "matched");
}

#[test]
fn mild_noise_passes_perceptual_and_fails_exact() {
    let tmp = tempfile::tempdir().unwrap();
    check(
        &config(tmp.path(), Mode::Update, false),
        CompareMode::Perceptual,
        &rendered(1, ImageKind::Render, 0),
    );
    let noisy = rendered(1, ImageKind::Drift, 77);
    let ci = config(tmp.path(), Mode::Verify, true);
    let p = check(&ci, CompareMode::Perceptual, &noisy);
    assert!(p.failures.is_empty(), "{:?}", p.failures);
    let m = p.records[0].metrics.clone().unwrap();
    assert!(m.psnr.unwrap() > crate::scenario::DEFAULT_TOLERANCE.pass.psnr, "{m:?}");
    assert!(m.max_diff.unwrap() <= 2 && m.differing_pixels.unwrap() > 0, "{m:?}");
    let e = check(&ci, CompareMode::Exact, &noisy);
    assert_eq!(e.failures.len(), 1);
    assert!(
        e.failures[0].actual.contains("differing pixels"),
        "{}",
        e.failures[0]
    );
}

#[test]
fn a_different_seed_fails_perceptual_with_metrics_and_a_diff_image() {
    let tmp = tempfile::tempdir().unwrap();
    check(
        &config(tmp.path(), Mode::Update, false),
        CompareMode::Perceptual,
        &rendered(1, ImageKind::Render, 0),
    );
    let out = check(
        &config(tmp.path(), Mode::Verify, true),
        CompareMode::Perceptual,
        &rendered(2, ImageKind::Render, 0),
    );
    assert_eq!(out.failures.len(), 1);
    let f = &out.failures[0];
    assert!(f.check.starts_with("snapshot 0 (pass: psnr >= "), "{f}");
    assert!(f.actual.starts_with("psnr "), "{f}");
    assert_eq!(out.records[0].outcome, "mismatched");
    assert!(!out.records[0].reasons.is_empty());
    // Evidence paths open from the current directory, not from inside reports/.
    let shown = crate::paths::display_path(&tmp.path().join("reports/images/sdxl/fox/snapshot-0-diff.png"));
    assert!(f.actual.contains(&format!("diff {}", shown.display())), "{f}");
    let diff = image::open(
        tmp.path()
            .join("reports/images/sdxl/fox/snapshot-0-diff.png"),
    )
    .unwrap()
    .to_rgb8();
    assert!(
        diff.pixels().any(|p| p.0[0] >= 200 && p.0[1] == 0),
        "changed pixels are red"
    );
    assert!(tmp
        .path()
        .join("reports/images/sdxl/fox/snapshot-0-expected.png")
        .is_file());
    assert!(
        !tmp.path().join("snapshots/sdxl/fox/0.png.new").exists(),
        "nothing is written on CI"
    );
}

#[test]
fn size_changes_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    check(
        &config(tmp.path(), Mode::Update, false),
        CompareMode::Perceptual,
        &rendered(1, ImageKind::Render, 0),
    );
    let small = rendered(1, ImageKind::Render, 0).thumbnail(128, 96);
    let out = check(
        &config(tmp.path(), Mode::Verify, true),
        CompareMode::Perceptual,
        &small,
    );
    assert!(
        out.failures[0]
            .actual
            .starts_with("a 128x96 image where the reference is 256x192: the size changed"),
        "{}",
        out.failures[0]
    );
    let full = rendered(1, ImageKind::Render, 0);
    let (full_thumb, small_thumb) = (
        crate::media::sample::sample(&full).thumb,
        crate::media::sample::sample(&small).thumb,
    );
    let cand = |p, t| snapshot::Candidate {
        pixels: p,
        thumb: t,
    };
    let two = snapshot::verify(
        &config(tmp.path(), Mode::Verify, true),
        "sdxl/fox",
        &spec(CompareMode::Perceptual),
        &[
            Some(cand(&snapshot::Pixels::from(&full), &full_thumb)),
            Some(cand(&snapshot::Pixels::from(&small), &small_thumb)),
        ],
        &provenance(),
    );
    assert!(
        two.failures
            .iter()
            .any(|f| f.check == "snapshot count" && f.actual == "2 image(s)"),
        "{:?}",
        two.failures
    );
}

#[test]
fn a_missing_reference_fails_on_ci_and_is_proposed_locally() {
    let tmp = tempfile::tempdir().unwrap();
    let img = rendered(3, ImageKind::Render, 0);
    let ci = check(
        &config(tmp.path(), Mode::Verify, true),
        CompareMode::Perceptual,
        &img,
    );
    assert_eq!(ci.failures.len(), 1);
    assert!(
        ci.failures[0]
            .actual
            .contains("record it locally with HARNESS_SNAPSHOTS=update"),
        "{}",
        ci.failures[0]
    );
    assert!(snapshot::pending(&tmp.path().join("snapshots")).is_empty());
    let local = check(
        &config(tmp.path(), Mode::Verify, false),
        CompareMode::Perceptual,
        &img,
    );
    assert!(local.failures[0].actual.contains("candidate was written beside it as .new"), "{}", local.failures[0]);
    assert!(local.failures[0].actual.starts_with("no reference there yet, so the returned image was not compared"), "{}", local.failures[0]);
    let pending = snapshot::pending(&tmp.path().join("snapshots"));
    assert_eq!(pending.len(), 2, "{pending:?}");
    let proposed = std::fs::read_to_string(tmp.path().join("snapshots/sdxl/fox/0.snap.new")).unwrap();
    assert!(!proposed.contains("accepted: "), "a candidate is not accepted yet:\n{proposed}");
    snapshot::resolve_pending(&tmp.path().join("snapshots"), None, true).unwrap();
    let accepted = std::fs::read_to_string(tmp.path().join("snapshots/sdxl/fox/0.snap")).unwrap();
    assert!(accepted.lines().any(|l| l.starts_with("accepted: 20")), "{accepted}");
    let again = check(
        &config(tmp.path(), Mode::Verify, true),
        CompareMode::Perceptual,
        &img,
    );
    assert!(again.failures.is_empty());
}

#[test]
fn an_update_or_a_match_removes_superseded_candidates() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snapshots");
    let first = rendered(3, ImageKind::Render, 0);
    let other = rendered(4, ImageKind::Render, 0);
    check(&config(tmp.path(), Mode::Update, false), CompareMode::Perceptual, &first);
    // A local verify of another picture leaves a candidate for review...
    check(&config(tmp.path(), Mode::Verify, false), CompareMode::Perceptual, &other);
    assert_eq!(snapshot::pending(&root).len(), 2);
    // ...which an update supersedes: no stale `.new` stays behind.
    check(&config(tmp.path(), Mode::Update, false), CompareMode::Perceptual, &other);
    assert!(snapshot::pending(&root).is_empty(), "{:?}", snapshot::pending(&root));
    // A candidate left by a mismatch is stale once the image matches again.
    check(&config(tmp.path(), Mode::Verify, false), CompareMode::Perceptual, &first);
    assert_eq!(snapshot::pending(&root).len(), 2);
    let matched = check(&config(tmp.path(), Mode::Verify, false), CompareMode::Perceptual, &other);
    assert!(matched.failures.is_empty());
    assert!(snapshot::pending(&root).is_empty());
}

#[test]
fn orphans_and_variants() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snapshots");
    let img = rendered(1, ImageKind::Render, 0);
    check(&config(tmp.path(), Mode::Update, false), CompareMode::Perceptual, &img);
    let mut v = config(tmp.path(), Mode::Update, false);
    v.variant = Some("a100-fp16".into());
    let other = rendered(9, ImageKind::Render, 0);
    check(&v, CompareMode::Perceptual, &other);
    assert!(root.join("sdxl/fox/variants/a100-fp16/0.png").is_file());
    let meta = std::fs::read_to_string(root.join("sdxl/fox/variants/a100-fp16/0.snap")).unwrap();
    for line in [
        "variant: a100-fp16",
        "endpoint: live endpoint https://api.runpod.ai/v2/abc",
        "gpu: NVIDIA A100 80GB PCIe",
        "worker_image: runpod/worker-comfyui:5.8.5-sdxl",
        "commit: 0123456789ab",
    ] {
        assert!(meta.lines().any(|l| l == line), "{line} in\n{meta}");
    }
    assert!(meta.lines().any(|l| l.starts_with("accepted: 20")), "{meta}");
    assert!(meta.lines().any(|l| l.starts_with("harness: endpoint-harness ")), "{meta}");
    // A variant is a class named by hand: its own references, strictly.
    v.mode = Mode::Verify;
    let out = check(&v, CompareMode::Perceptual, &other);
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.records[0].variant.as_deref(), Some("a100-fp16"));
    assert_eq!(out.records[0].across, None, "judged within its own class");
    let plain = config(tmp.path(), Mode::Verify, true);
    let out = check(&plain, CompareMode::Perceptual, &img);
    assert!(out.failures.is_empty(), "the default set is the job's class: {:?}", out.failures);
    let out = check(&plain, CompareMode::Perceptual, &other);
    assert_eq!(out.records[0].outcome, "mismatched", "another variant's reference does not make a match");
    v.variant = Some("h100".into());
    let out = check(&v, CompareMode::Perceptual, &img);
    assert!(out.failures.is_empty(), "no h100 references: the nearest class, judged across: {:?}", out.failures);
    assert!(out.records[0].across.is_some(), "{:?}", out.records[0]);
    std::fs::create_dir_all(root.join("ghost")).unwrap();
    std::fs::write(root.join("ghost/0.png"), b"x").unwrap();
    let orphans = snapshot::orphans(&root, &["sdxl/fox".to_string()]);
    assert_eq!(orphans, vec![root.join("ghost/0.png")]);
}

/// An image between the bands is flagged for review: evidence, a note, no
/// failure; it fails under `snapshot.review: fail` and in strict mode.
#[test]
fn the_review_band_is_shown_and_fails_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let img = rendered(1, ImageKind::Render, 0);
    check(&config(tmp.path(), Mode::Update, false), CompareMode::Perceptual, &img);
    // One level up on a share f of the values has a PSNR of 48.13 - 10 log10(f)
    // dB: pick f inside the default review band.
    let t = crate::scenario::DEFAULT_TOLERANCE;
    let f = 10f64.powf(-(t.pass.psnr + t.fail.psnr) / 2.0 / 10.0) * 255.0 * 255.0;
    assert!(f > 0.0 && f < 1.0, "f = {f}");
    let every = (1.0 / (1.0 - f)).round() as usize;
    let mut shifted = img.to_rgb8();
    for (i, v) in shifted.iter_mut().enumerate() {
        if i % every != 0 {
            *v = v.saturating_add(1);
        }
    }
    let shifted = DynamicImage::ImageRgb8(shifted);
    let ci = config(tmp.path(), Mode::Verify, true);
    let out = check(&ci, CompareMode::Perceptual, &shifted);
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.records[0].outcome, "review");
    assert!(out.records[0].reasons[0].starts_with("psnr "), "{:?}", out.records[0].reasons);
    assert!(out.records[0].diff.is_some() && out.records[0].thumbnails.len() == 3);
    assert_eq!(out.reviews.len(), 1);
    assert!(out.reviews[0].starts_with("snapshot 0 in review against "), "{}", out.reviews[0]);
    let mut failing = spec(CompareMode::Perceptual);
    failing.review = crate::scenario::ReviewPolicy::Fail;
    let out = check_spec(&ci, &failing, &shifted);
    assert_eq!(out.failures.len(), 1);
    assert_eq!(out.failures[0].check, "snapshot 0 (snapshot.review: fail)");
    let strict = Config { strict: true, ..config(tmp.path(), Mode::Verify, true) };
    let out = check(&strict, CompareMode::Perceptual, &shifted);
    assert_eq!(out.failures[0].check, "snapshot 0 (HARNESS_STRICT)");
    assert_eq!(out.records[0].outcome, "review");
    // Tighter bands written in the scenario make the same image a mismatch.
    let mut tight = spec(CompareMode::Perceptual);
    tight.tolerance.fail.psnr = t.pass.psnr;
    assert_eq!(check_spec(&ci, &tight, &shifted).records[0].outcome, "mismatched");
}

#[test]
fn calibration_measures_the_spread_between_repeats() {
    let runs: Vec<Vec<DynamicImage>> = (0..4)
        .map(|n| vec![rendered(1, ImageKind::Drift, n)])
        .collect();
    let c = snapshot::calibrate(&runs).unwrap();
    assert_eq!(c.pairs, 3);
    let psnr = c.min_psnr.unwrap();
    assert!(psnr < 100.0 && psnr > crate::scenario::DEFAULT_TOLERANCE.pass.psnr, "{c:?}");
    let band = snapshot::suggest(&c);
    let d = crate::scenario::DEFAULT_TOLERANCE;
    assert!(band.psnr <= d.pass.psnr && band.psnr >= d.fail.psnr, "{band:?}");
    assert!(band.block >= c.max_block_diff.unwrap(), "{band:?} {c:?}");
}

/// The mock's drift (what its `drift` behaviour adds) stays inside the default
/// pass band and other seeds of the mock's render fall beyond the fail band:
/// the mock agrees with the bands the drift corpus of real outputs chose.
#[test]
fn the_mock_drift_passes_and_other_seeds_fail_with_the_default_bands() {
    let spec = spec(CompareMode::Perceptual);
    let reference = rendered_at(512, 512, 1, ImageKind::Render, 0);
    for nonce in 1..=4 {
        let m = snapshot::metrics::measure(&reference, &rendered_at(512, 512, 1, ImageKind::Drift, nonce));
        assert_eq!(snapshot::metrics::judge(&spec, &m), snapshot::metrics::Judgement::Pass, "{m:?}");
    }
    for seed in 2..=8 {
        let m = snapshot::metrics::measure(&reference, &rendered_at(512, 512, seed, ImageKind::Render, 0));
        assert!(matches!(snapshot::metrics::judge(&spec, &m), snapshot::metrics::Judgement::Fail(_)), "{m:?}");
    }
}

/// A returned image's PNG bytes, as the endpoint sent them.
fn png_bytes(img: &DynamicImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

/// Verifies a still known only by its bytes (decoded on demand), as a trial does.
fn check_lazy(
    cfg: &Config,
    compare: CompareMode,
    bytes: &[u8],
) -> (snapshot::verify::Outcome, bool) {
    let img = image::load_from_memory(bytes).unwrap();
    let thumb = crate::media::sample::sample(&img).thumb;
    let pixels = snapshot::Pixels::lazy((img.width(), img.height()), bytes);
    let out = snapshot::verify(
        cfg,
        "sdxl/fox",
        &spec(compare),
        &[Some(snapshot::Candidate {
            pixels: &pixels,
            thumb: &thumb,
        })],
        &provenance(),
    );
    // Whether the comparison needed the full pixels.
    (out, pixels.is_decoded())
}

#[test]
fn stills_known_by_their_bytes_compare_as_decoded_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let one = png_bytes(&rendered(1, ImageKind::Render, 0));
    // Update writes the same reference and record as from decoded pixels.
    let (written, _) = check_lazy(&config(tmp.path(), Mode::Update, false), CompareMode::Perceptual, &one);
    assert!(written.failures.is_empty(), "{:?}", written.failures);
    let lazy_meta = std::fs::read_to_string(tmp.path().join("snapshots/sdxl/fox/0.snap")).unwrap();
    let eager = tempfile::tempdir().unwrap();
    check(
        &config(eager.path(), Mode::Update, false),
        CompareMode::Perceptual,
        &image::load_from_memory(&one).unwrap(),
    );
    let eager_meta = std::fs::read_to_string(eager.path().join("snapshots/sdxl/fox/0.snap")).unwrap();
    assert_eq!(lazy_meta, eager_meta);
    // Identical pixels match on their digest (the reference PNG is not decoded).
    for compare in [CompareMode::Perceptual, CompareMode::Exact] {
        let (same, decoded) = check_lazy(&config(tmp.path(), Mode::Verify, true), compare, &one);
        assert!(same.failures.is_empty(), "{compare:?}: {:?}", same.failures);
        assert_eq!(same.records[0].outcome, "matched");
        assert_eq!(same.records[0].metrics.as_ref().and_then(|m| m.psnr), Some(100.0));
        assert!(decoded, "{compare:?}");
    }
    // Another seed: the full comparison runs on the decoded bytes, with evidence.
    let two = png_bytes(&rendered(2, ImageKind::Render, 0));
    let (other, decoded) = check_lazy(&config(tmp.path(), Mode::Verify, true), CompareMode::Perceptual, &two);
    assert!(decoded);
    assert_eq!(other.records[0].outcome, "mismatched");
    assert!(other.failures[0].actual.contains("snapshot-0-diff.png"), "{}", other.failures[0]);
    assert!(tmp.path().join("reports/images/sdxl/fox/snapshot-0-actual.png").is_file());
}

#[test]
fn bytes_that_do_not_decode_in_full_fail_the_slot_not_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let good = png_bytes(&rendered(1, ImageKind::Render, 0));
    check_lazy(&config(tmp.path(), Mode::Update, false), CompareMode::Perceptual, &good);
    let other = png_bytes(&rendered(2, ImageKind::Render, 0));
    let img = image::load_from_memory(&other).unwrap();
    let thumb = crate::media::sample::sample(&img).thumb;
    // The header and thumbnail read, but the bytes behind them are cut short.
    let cut = &other[..other.len() / 2];
    let pixels = snapshot::Pixels::lazy((img.width(), img.height()), cut);
    let out = snapshot::verify(
        &config(tmp.path(), Mode::Verify, true),
        "sdxl/fox",
        &spec(CompareMode::Perceptual),
        &[Some(snapshot::Candidate { pixels: &pixels, thumb: &thumb })],
        &provenance(),
    );
    assert_eq!(out.records[0].outcome, "mismatched");
    assert_eq!(out.failures.len(), 1, "{:?}", out.failures);
    assert_eq!(out.failures[0].check, "snapshot 0");
    assert_eq!(out.failures[0].expected, "a returned image that decodes in full");
}

