//! Comparing a scenario's returned images with its references, in order:
//! the fast path against the `.snap` record, the full comparison (and the
//! evidence files) on a mismatch, and what `update` mode writes instead.

use std::path::Path;

use image::{DynamicImage, GenericImageView};

use super::config::{Candidate, Config, Mode};
use super::metrics::{diff_image, hash_thumb, measure, pixel_hash};
use super::store::{read_meta, reference_count, save_evidence, write_reference, Meta};
use crate::model::{CheckFailure, Metrics, SnapshotRecord};
use crate::scenario::{CompareMode, SnapshotSpec};

/// The snapshot verdict of a scenario run.
#[derive(Default)]
pub struct Outcome {
    pub failures: Vec<CheckFailure>,
    pub records: Vec<SnapshotRecord>,
}

/// Compares the returned images of a scenario (in order) with its references.
pub fn verify(
    cfg: &Config,
    scenario: &str,
    spec: &SnapshotSpec,
    images: &[Option<Candidate>],
) -> Outcome {
    let mut out = Outcome::default();
    if spec.compare == CompareMode::Off {
        return out;
    }
    let read = cfg.read_dir(scenario);
    let have = reference_count(&read);
    if have > 0 && have != images.len() && cfg.mode == Mode::Verify {
        out.failures.push(CheckFailure::new(
            "snapshot count",
            format!(
                "{have} image(s), as in {}",
                crate::paths::display_path(&read).display()
            ),
            format!("{} image(s)", images.len()),
        ));
    }
    for (i, img) in images.iter().enumerate() {
        let Some(cand) = img else { continue };
        one(cfg, scenario, spec, &read, i, *cand, &mut out);
    }
    if cfg.mode == Mode::Update {
        // Drop references beyond the new count, so a smaller batch does not leave orphans.
        let dir = cfg.write_dir(scenario);
        for i in images.len()..reference_count(&dir) {
            let _ = std::fs::remove_file(dir.join(format!("{i}.png")));
            let _ = std::fs::remove_file(dir.join(format!("{i}.snap")));
        }
    }
    out
}

fn one(
    cfg: &Config,
    scenario: &str,
    spec: &SnapshotSpec,
    read: &Path,
    i: usize,
    cand: Candidate,
    out: &mut Outcome,
) {
    let ref_path = read.join(format!("{i}.png"));
    let shown = crate::paths::display_path(&ref_path).display().to_string();
    let mut rec = SnapshotRecord {
        index: i,
        reference: shown.clone(),
        outcome: String::new(),
        metrics: None,
        expected: None,
        actual: None,
        diff: None,
        thumbnails: Vec::new(),
    };
    if !ref_path.is_file() {
        rec.outcome = match cfg.mode {
            Mode::Update => {
                write_reference(&cfg.write_dir(scenario), i, cand, spec, scenario, "");
                "written".into()
            }
            Mode::Verify => {
                let fix = if cfg.ci {
                    "record it locally with HARNESS_SNAPSHOTS=update and commit it".to_string()
                } else {
                    write_reference(&cfg.write_dir(scenario), i, cand, spec, scenario, ".new");
                    "a candidate was written as .new: review it, then `endpoint-harness snapshots accept`".to_string()
                };
                out.failures.push(CheckFailure::new(
                    format!("snapshot {i}"),
                    format!("a reference image {shown}"),
                    format!("none ({fix})"),
                ));
                "missing".into()
            }
        };
        out.records.push(rec);
        return;
    }
    // Fast path: the `.snap` record holds the reference's hash, pixel digest and thumbnail,
    // so a match costs no PNG decode. The reference is decoded only to explain a mismatch.
    let quick = read_meta(&read.join(format!("{i}.snap")))
        .and_then(|m| quick_compare(spec, &m, cand, &mut rec));
    let mut reference: Option<DynamicImage> = None;
    let problem = match quick {
        Some(Ok(())) => None,
        _ => match std::fs::read(&ref_path)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::checks::decode(&b))
        {
            Ok(r) => {
                let p = compare(spec, &r, cand, &mut rec);
                reference = Some(r);
                p
            }
            Err(e) => {
                out.failures.push(CheckFailure::new(
                    format!("snapshot {i}"),
                    format!("a readable reference {shown}"),
                    e,
                ));
                rec.outcome = "mismatched".into();
                out.records.push(rec);
                return;
            }
        },
    };
    match (problem, cfg.mode, reference) {
        (None, _, _) => rec.outcome = "matched".into(),
        (Some(_), Mode::Update, _) => {
            write_reference(&cfg.write_dir(scenario), i, cand, spec, scenario, "");
            rec.outcome = "updated".into();
        }
        (Some(actual), Mode::Verify, reference) => {
            let img = cand.pixels;
            let reference = reference.unwrap_or_else(|| DynamicImage::new_rgb8(1, 1));
            let (e, a, d) = save_evidence(cfg, scenario, i, &reference, img);
            rec.expected = e.clone();
            rec.actual = a.clone();
            rec.diff = d.clone();
            rec.thumbnails = vec![
                crate::png::data_uri(&crate::sample::sample(&reference).thumb),
                crate::png::data_uri(cand.thumb),
            ];
            if reference.dimensions() == img.dimensions() {
                rec.thumbnails.push(crate::png::data_uri(
                    &crate::sample::sample(&DynamicImage::ImageRgb8(diff_image(&reference, img)))
                        .thumb,
                ));
            }
            let mut files = format!(
                "; expected {}, actual {}",
                e.unwrap_or_default(),
                a.unwrap_or_default()
            );
            if let Some(d) = d {
                files.push_str(&format!(", diff {d}"));
            }
            if !cfg.ci {
                write_reference(&cfg.write_dir(scenario), i, cand, spec, scenario, ".new");
                files.push_str(" (candidate written as .new)");
            }
            out.failures.push(CheckFailure::new(
                format!("snapshot {i} ({})", tolerance(spec)),
                format!("a match with {shown}"),
                format!("{actual}{files}"),
            ));
            rec.outcome = "mismatched".into();
        }
    }
    out.records.push(rec);
}

/// Compares with the metadata record; None when it lacks what the mode needs.
fn quick_compare(
    spec: &SnapshotSpec,
    meta: &Meta,
    cand: Candidate,
    rec: &mut SnapshotRecord,
) -> Option<Result<(), String>> {
    if meta.size != cand.pixels.dimensions() {
        return None; // explained by the full comparison
    }
    match spec.compare {
        CompareMode::Exact => {
            (meta.pixels.as_deref()? == pixel_hash(cand.pixels)).then_some(Ok(()))
        }
        _ => {
            let reference =
                image_hasher::ImageHash::<Box<[u8]>>::from_base64(meta.hash.as_deref()?).ok()?;
            let luma = meta.luma.as_deref()?;
            let m = Metrics {
                distance: reference.dist(&hash_thumb(cand.thumb)),
                similarity: crate::sample::similarity_luma(luma, &crate::sample::luma(cand.thumb)),
                differing_pixels: None,
            };
            let ok = m.distance <= spec.max_distance && m.similarity >= spec.min_similarity;
            rec.metrics = Some(m);
            Some(if ok { Ok(()) } else { Err(String::new()) })
        }
    }
}

fn tolerance(spec: &SnapshotSpec) -> String {
    match spec.compare {
        CompareMode::Exact => "exact pixels".into(),
        _ => format!(
            "perceptual: distance <= {}, similarity >= {}",
            spec.max_distance, spec.min_similarity
        ),
    }
}

/// The full comparison: None when the image matches under the scenario's mode,
/// otherwise what differs.
fn compare(
    spec: &SnapshotSpec,
    reference: &DynamicImage,
    cand: Candidate,
    rec: &mut SnapshotRecord,
) -> Option<String> {
    let img = cand.pixels;
    if reference.dimensions() != img.dimensions() {
        let (rw, rh) = reference.dimensions();
        let (w, h) = img.dimensions();
        return Some(format!(
            "a {w}x{h} image where the reference is {rw}x{rh}: the size changed"
        ));
    }
    let m = measure(reference, img);
    rec.metrics = Some(m.clone());
    let differing = m.differing_pixels.unwrap_or(0);
    match spec.compare {
        CompareMode::Exact if differing > 0 => Some(format!(
            "{differing} differing pixels (distance {}, similarity {:.4})",
            m.distance, m.similarity
        )),
        CompareMode::Perceptual
            if m.distance > spec.max_distance || m.similarity < spec.min_similarity =>
        {
            Some(format!(
                "distance {} (max {}), similarity {:.4} (min {})",
                m.distance, spec.max_distance, m.similarity, spec.min_similarity
            ))
        }
        _ => None,
    }
}
