//! Comparing a scenario's returned images with its references, in order:
//! the fast path against the `.snap` record, the full comparison (and the
//! evidence files) on a mismatch, and what `update` mode writes instead.

use std::path::Path;

use image::{DynamicImage, GenericImageView};

use super::config::{Candidate, Config, Mode};
use super::metrics::{diff_image, hash_thumb, measure, pixel_hash};
use super::store::{
    read_meta, reference_count, remove_candidate, save_evidence, write_reference, Meta,
};
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
        // Drop references (and candidates) beyond the new count, so a smaller batch
        // leaves neither orphans nor superseded candidates.
        let dir = cfg.write_dir(scenario);
        let beyond = |name: &str| {
            name.split('.')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n >= images.len())
        };
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let reference = [".png", ".snap", ".png.new", ".snap.new"]
                .iter()
                .any(|x| name.ends_with(x));
            if reference && beyond(&name) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    out
}

/// One reference slot: which scenario, which image, where it is read and written.
struct Slot<'a> {
    cfg: &'a Config,
    scenario: &'a str,
    spec: &'a SnapshotSpec,
    i: usize,
    /// The reference PNG (in the read folder).
    path: std::path::PathBuf,
    /// The reference as shown in messages.
    shown: String,
}

impl Slot<'_> {
    /// Writes the reference (or its `.new` candidate); a failure to decode the
    /// returned image in full becomes a failure of this slot.
    fn write(&self, cand: Candidate, suffix: &str, out: &mut Outcome) {
        let dir = self.cfg.write_dir(self.scenario);
        if let Err(e) = write_reference(&dir, self.i, cand, self.spec, self.scenario, suffix) {
            out.failures.push(self.undecodable(e));
        }
    }

    /// The failure for a returned image whose full decode failed (its header and
    /// streamed rows read, so this is rare: a limit, or a corrupt tail).
    fn undecodable(&self, e: String) -> CheckFailure {
        CheckFailure::new(
            format!("snapshot {}", self.i),
            "a returned image that decodes in full",
            e,
        )
    }
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
    let path = read.join(format!("{i}.png"));
    let slot = Slot {
        cfg,
        scenario,
        spec,
        i,
        shown: crate::paths::display_path(&path).display().to_string(),
        path,
    };
    let mut rec = SnapshotRecord {
        index: i,
        reference: slot.shown.clone(),
        outcome: String::new(),
        metrics: None,
        expected: None,
        actual: None,
        diff: None,
        thumbnails: Vec::new(),
    };
    rec.outcome = if !slot.path.is_file() {
        missing(&slot, cand, out)
    } else {
        compare_with_reference(&slot, read, cand, &mut rec, out)
    };
    out.records.push(rec);
}

/// No reference yet: written in update mode, proposed (locally) or demanded (CI) in verify.
fn missing(slot: &Slot, cand: Candidate, out: &mut Outcome) -> String {
    if slot.cfg.mode == Mode::Update {
        slot.write(cand, "", out);
        return "written".into();
    }
    let fix = if slot.cfg.ci {
        "record it locally with HARNESS_SNAPSHOTS=update and commit it".to_string()
    } else {
        slot.write(cand, ".new", out);
        "a candidate was written as .new: review it, then `endpoint-harness snapshots accept`"
            .to_string()
    };
    out.failures.push(CheckFailure::new(
        format!("snapshot {}", slot.i),
        format!("a reference image {}", slot.shown),
        format!("none ({fix})"),
    ));
    "missing".into()
}

/// The comparison with an existing reference; returns the outcome.
fn compare_with_reference(
    slot: &Slot,
    read: &Path,
    cand: Candidate,
    rec: &mut SnapshotRecord,
    out: &mut Outcome,
) -> String {
    // Fast path: the `.snap` record holds the reference's hash, pixel digest and thumbnail,
    // so a match costs no PNG decode. The reference is decoded only to explain a mismatch.
    let quick = read_meta(&read.join(format!("{}.snap", slot.i)))
        .and_then(|m| quick_compare(slot.spec, &m, cand, rec));
    let (problem, reference) = if quick == Some(true) {
        (None, None)
    } else {
        // Only now are the returned pixels needed in full.
        let img = match cand.pixels.get() {
            Ok(img) => img,
            Err(e) => {
                out.failures.push(slot.undecodable(e));
                return "mismatched".into();
            }
        };
        let decoded = std::fs::read(&slot.path)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::checks::decode(&b).map_err(|e| e.to_string()));
        match decoded {
            Ok(r) => (compare(slot.spec, &r, img, rec), Some(r)),
            Err(e) => {
                out.failures.push(CheckFailure::new(
                    format!("snapshot {}", slot.i),
                    format!("a readable reference {}", slot.shown),
                    e,
                ));
                return "mismatched".into();
            }
        }
    };
    match (problem, slot.cfg.mode) {
        (None, _) => {
            // A candidate left by an earlier mismatch is stale once the image matches again.
            if !slot.cfg.ci {
                remove_candidate(&slot.cfg.write_dir(slot.scenario), slot.i);
            }
            "matched".into()
        }
        (Some(_), Mode::Update) => {
            slot.write(cand, "", out);
            "updated".into()
        }
        (Some(actual), Mode::Verify) => {
            let reference = reference.unwrap_or_else(|| DynamicImage::new_rgb8(1, 1));
            mismatch(slot, &reference, cand, &actual, rec, out);
            "mismatched".into()
        }
    }
}

/// Writes the expected/actual/diff evidence and the failure for a mismatch.
fn mismatch(
    slot: &Slot,
    reference: &DynamicImage,
    cand: Candidate,
    actual: &str,
    rec: &mut SnapshotRecord,
    out: &mut Outcome,
) {
    // Decoded already: the full comparison that found the mismatch needed it.
    let Ok(img) = cand.pixels.get() else {
        return;
    };
    let (e, a, d) = save_evidence(slot.cfg, slot.scenario, slot.i, reference, img);
    rec.expected = e.clone();
    rec.actual = a.clone();
    rec.diff = d.clone();
    rec.thumbnails = vec![
        crate::png::data_uri(&crate::sample::sample(reference).thumb),
        crate::png::data_uri(cand.thumb),
    ];
    if reference.dimensions() == img.dimensions() {
        let diff = DynamicImage::ImageRgb8(diff_image(reference, img));
        rec.thumbnails
            .push(crate::png::data_uri(&crate::sample::sample(&diff).thumb));
    }
    let mut files = format!(
        "; expected {}, actual {}",
        e.unwrap_or_default(),
        a.unwrap_or_default()
    );
    if let Some(d) = d {
        files.push_str(&format!(", diff {d}"));
    }
    if !slot.cfg.ci {
        slot.write(cand, ".new", out);
        files.push_str(" (candidate written as .new)");
    }
    out.failures.push(CheckFailure::new(
        format!("snapshot {} ({})", slot.i, tolerance(slot.spec)),
        format!("a match with {}", slot.shown),
        format!("{actual}{files}"),
    ));
}

/// Compares with the metadata record: whether it matches, or None when the
/// record lacks what the mode needs (the reference PNG is decoded instead).
fn quick_compare(
    spec: &SnapshotSpec,
    meta: &Meta,
    cand: Candidate,
    rec: &mut SnapshotRecord,
) -> Option<bool> {
    if meta.size != cand.pixels.size() {
        return None; // explained by the full comparison
    }
    match spec.compare {
        CompareMode::Exact => {
            (meta.pixels.as_deref()? == pixel_hash(cand.pixels.get().ok()?)).then_some(true)
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
            Some(ok)
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
    img: &DynamicImage,
    rec: &mut SnapshotRecord,
) -> Option<String> {
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
