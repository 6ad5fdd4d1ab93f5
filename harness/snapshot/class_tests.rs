//! Reference classes: a reference is kept under the class of the job that
//! made it; a new class is judged against the nearest accepted one on what GPU
//! drift cannot change; references written before classes migrate by themselves.

use image::DynamicImage;

use crate::mock::behaviour::ImageKind;
use crate::scenario::CompareMode;
use crate::snapshot::{self, Config, Mode};

use super::tests::{check_spec, config, provenance, rendered, spec};

fn fingerprint(gpu: &str) -> crate::model::Fingerprint {
    let mut fp = crate::model::Fingerprint::default();
    fp.set(crate::model::ClassField::Gpu, gpu);
    fp.set(crate::model::ClassField::Comfyui, "0.3.64");
    fp.set(crate::model::ClassField::Torch, "2.11.0+cu130");
    fp
}

fn check_on(cfg: &Config, gpu: &str, img: &DynamicImage) -> snapshot::verify::Outcome {
    let thumb = crate::media::sample::sample(img).thumb;
    let prov = snapshot::Provenance { fingerprint: fingerprint(gpu), ..provenance() };
    snapshot::verify(
        cfg,
        "sdxl/fox",
        &spec(CompareMode::Perceptual),
        &[Some(snapshot::Candidate { pixels: &snapshot::Pixels::from(img), thumb: &thumb })],
        &prov,
    )
}

/// A reference accepted on one GPU; the endpoint lands on another: drift of
/// the same picture is for review, another seed or a black frame fails,
/// identical pixels pass saying so; accepting writes the new class beside the
/// first, which then verifies strictly while the first still passes.
#[test]
fn references_are_kept_per_class_and_a_new_class_is_judged_across() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snapshots");
    let (rtx, h100) = ("NVIDIA GeForce RTX 4090", "NVIDIA H100 80GB HBM3");
    let img = rendered(1, ImageKind::Render, 0);
    let drifted = DynamicImage::ImageRgb8(snapshot::drift_model::gpu_drift(&img.to_rgb8(), 0.8, 3));
    let update = config(tmp.path(), Mode::Update, false);
    let verify = config(tmp.path(), Mode::Verify, true);
    assert!(check_on(&update, rtx, &img).failures.is_empty());
    let first = std::fs::read_to_string(root.join("sdxl/fox/0.snap")).unwrap();
    assert!(first.contains("class: gpu=NVIDIA GeForce RTX 4090; comfyui=0.3.64; torch=2.11.0+cu130"), "{first}");
    assert!(first.contains("fingerprint.gpu: NVIDIA GeForce RTX 4090"), "{first}");

    // Within its class, drift of 30-odd dB is a mismatch (the strict tier).
    let out = check_on(&verify, rtx, &drifted);
    assert_eq!(out.records[0].outcome, "mismatched", "{:?}", out.records[0]);

    // On the new class: review, not red.
    let out = check_on(&verify, h100, &drifted);
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.records[0].outcome, "review");
    assert_eq!(out.reviews.len(), 1);
    assert!(out.reviews[0].contains("no reference for class gpu=NVIDIA H100 80GB HBM3"), "{}", out.reviews[0]);
    assert!(out.reviews[0].contains("nearest class gpu=NVIDIA GeForce RTX 4090"), "{}", out.reviews[0]);
    assert_eq!(out.records[0].across.as_deref(), Some("gpu=NVIDIA GeForce RTX 4090; comfyui=0.3.64; torch=2.11.0+cu130"));
    // Identical pixels: a pass that says so.
    let out = check_on(&verify, h100, &img);
    assert!(out.failures.is_empty() && out.reviews.is_empty(), "{:?}", out.failures);
    assert_eq!(out.records[0].outcome, "matched");
    assert!(out.notes[0].contains("within the strict band"), "{:?}", out.notes);
    // Another seed and a black frame: another composition fails across classes.
    for other in [rendered(9, ImageKind::Render, 0), rendered(1, ImageKind::Black, 0)] {
        let out = check_on(&verify, h100, &other);
        assert_eq!(out.records[0].outcome, "mismatched");
        assert!(out.failures[0].check.contains("across classes"), "{}", out.failures[0]);
    }

    // Accepting the H100's image writes its own class; the 4090's stays.
    assert!(check_on(&update, h100, &drifted).failures.is_empty());
    assert_eq!(std::fs::read_to_string(root.join("sdxl/fox/0.snap")).unwrap(), first);
    let slug = "nvidia-h100-80gb-hbm3_0.3.64_2.11.0-cu130";
    assert!(root.join("sdxl/fox/classes").join(slug).join("0.png").is_file());
    let out = check_on(&verify, h100, &drifted);
    assert_eq!((out.records[0].outcome.as_str(), out.records[0].across.as_ref()), ("matched", None));
    let out = check_on(&verify, h100, &img);
    assert_eq!(out.records[0].outcome, "mismatched", "the H100 class now verifies strictly");
    assert!(check_on(&verify, rtx, &img).failures.is_empty(), "the first class still passes");
    assert!(snapshot::orphans(&root, &["sdxl/fox".to_string()]).is_empty());
}

/// A reference written before classes takes its provenance's class, or `unknown`.
#[test]
fn references_from_before_classes_migrate_without_a_step() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snapshots");
    let img = rendered(1, ImageKind::Render, 0);
    check_on(&config(tmp.path(), Mode::Update, false), "cpu", &img);
    let snap = root.join("sdxl/fox/0.snap");
    let legacy: String = std::fs::read_to_string(&snap)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("class: ") && !l.starts_with("fingerprint."))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&snap, &legacy).unwrap();
    // Its provenance said `gpu: NVIDIA A100 80GB PCIe` and a worker image
    // without versions: that GPU's class, versions unknown.
    let out = check_on(&config(tmp.path(), Mode::Verify, true), "NVIDIA A100 80GB PCIe", &img);
    assert_eq!(out.records[0].outcome, "matched");
    assert_eq!(out.records[0].across.as_deref(), Some("gpu=NVIDIA A100 80GB PCIe; comfyui=unknown; torch=unknown"));
    // With no provenance at all: `unknown`, which a job that says nothing of itself matches.
    let bare: String = legacy.lines().filter(|l| !l.starts_with("gpu: ") && !l.starts_with("worker_image: ")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&snap, bare).unwrap();
    let out = check_spec(&config(tmp.path(), Mode::Verify, true), &spec(CompareMode::Perceptual), &img);
    assert_eq!((out.records[0].outcome.as_str(), out.records[0].across.as_ref()), ("matched", None));
    assert_eq!(out.records[0].class.as_deref(), Some("gpu=unknown; comfyui=unknown; torch=unknown"));
}
