//! Reference snapshots: the images an endpoint returned once and a person
//! accepted, compared on decoded pixels (never on file bytes: PNG metadata,
//! compression level and encoder do not matter).
//!
//! Layout: `snapshots/<scenario>/<n>.png` (the reference pixels, re-encoded by
//! us) and `<n>.snap` (a small metadata record in insta's `.snap` layout:
//! format, size, colour, hash and the tolerances in force). Per target variant
//! (`HARNESS_SNAPSHOT_VARIANT=a100-fp16`) references may live under
//! `snapshots/<scenario>/variants/<variant>/`, falling back to the default ones.
//!
//! Modes: `verify` (default, and always on CI) fails on a missing or changed
//! reference; locally it also writes the candidate as `<n>.png.new` + `<n>.snap.new`
//! for review (`endpoint-harness snapshots accept|reject`). `update` writes or
//! overwrites the references. Read [`verify`] first.

use std::path::{Path, PathBuf};

use image::{DynamicImage, GenericImageView, RgbImage};
use serde::{Deserialize, Serialize};

use crate::checks::CheckFailure;
use crate::scenario::{CompareMode, SnapshotSpec};

mod metrics;
mod review;
mod store;

use metrics::hash_thumb;
pub use metrics::{diff_image, hash, measure, pixel_hash};
pub use review::{calibrate, orphans, pending, resolve_pending, suggest, Calibration};
pub use store::metadata;
use store::{read_meta, save_evidence, write_reference, Meta};

/// What to do with references.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Verify,
    Update,
}

/// Snapshot settings of a run.
#[derive(Clone, Debug)]
pub struct Config {
    pub root: PathBuf,
    pub mode: Mode,
    /// On CI nothing is written and a missing reference is a failure.
    pub ci: bool,
    pub variant: Option<String>,
    pub reports: PathBuf,
}

impl Config {
    /// From `HARNESS_SNAPSHOTS`, `HARNESS_SNAPSHOT_DIR`, `HARNESS_SNAPSHOT_VARIANT` and `CI`.
    pub fn from_env(
        var: &dyn Fn(&str) -> Option<String>,
        reports: &Path,
    ) -> Result<(Self, Option<String>), String> {
        let ci = var("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        let requested = match var("HARNESS_SNAPSHOTS").as_deref().map(str::trim) {
            None | Some("") | Some("verify") => Mode::Verify,
            Some("update") => Mode::Update,
            Some(other) => {
                return Err(format!(
                    "HARNESS_SNAPSHOTS must be verify or update, not `{other}`"
                ))
            }
        };
        let note = (ci && requested == Mode::Update).then(|| {
            "HARNESS_SNAPSHOTS=update is ignored on CI: references are only verified there"
                .to_string()
        });
        let variant = var("HARNESS_SNAPSHOT_VARIANT").filter(|v| !v.trim().is_empty());
        if let Some(v) = &variant {
            if !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                || v.starts_with('.')
            {
                return Err(format!("HARNESS_SNAPSHOT_VARIANT `{v}` must be a plain name of letters, digits, `-`, `_`, `.`"));
            }
        }
        let root = PathBuf::from(
            var("HARNESS_SNAPSHOT_DIR")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "snapshots".into()),
        );
        let mode = if ci { Mode::Verify } else { requested };
        Ok((
            Config {
                root,
                mode,
                ci,
                variant,
                reports: reports.to_path_buf(),
            },
            note,
        ))
    }

    fn default_dir(&self, scenario: &str) -> PathBuf {
        scenario
            .split('/')
            .fold(self.root.clone(), |p, seg| p.join(seg))
    }

    /// Where references are written: the variant folder when a variant is set.
    fn write_dir(&self, scenario: &str) -> PathBuf {
        match &self.variant {
            Some(v) => self.default_dir(scenario).join("variants").join(v),
            None => self.default_dir(scenario),
        }
    }

    /// Where references are read: the variant's folder if it has any, else the default.
    fn read_dir(&self, scenario: &str) -> PathBuf {
        let w = self.write_dir(scenario);
        if self.variant.is_some() && reference_count(&w) > 0 {
            w
        } else {
            self.default_dir(scenario)
        }
    }
}

/// Comparison figures for one image.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Metrics {
    /// Gradient-hash distance in bits (of 64), on the thumbnails.
    pub distance: u32,
    /// 1 - RMSE of luma on a 0..1 scale (1.0 = identical), on the thumbnails: a uniform
    /// sample of the image. SSIM was tried first and rejected: on flat regions ±2
    /// levels of noise drove it to 0.5, below what a different seed scores.
    pub similarity: f64,
    /// Pixels whose channels differ at all (full resolution; computed when needed).
    #[serde(default)]
    pub differing_pixels: Option<u64>,
}

/// A returned image as the comparison needs it.
#[derive(Clone, Copy)]
pub struct Candidate<'a> {
    pub pixels: &'a DynamicImage,
    /// Its sampled thumbnail ([`crate::sample`]).
    pub thumb: &'a RgbImage,
}

/// What happened to one image's reference.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SnapshotRecord {
    pub index: usize,
    pub reference: String,
    /// `matched`, `mismatched`, `missing`, `written`, `updated`.
    pub outcome: String,
    pub metrics: Option<Metrics>,
    /// Expected / actual / diff images, relative to the reports folder.
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub diff: Option<String>,
    /// Small data-URI thumbnails of expected, actual and diff, for the HTML report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thumbnails: Vec<String>,
}

/// The snapshot verdict of a scenario run.
#[derive(Default)]
pub struct Outcome {
    pub failures: Vec<CheckFailure>,
    pub records: Vec<SnapshotRecord>,
}

/// Number of `<n>.png` references in a folder.
pub fn reference_count(dir: &Path) -> usize {
    (0..)
        .take_while(|i| dir.join(format!("{i}.png")).is_file())
        .count()
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
                crate::scenario::diag::display_path(&read).display()
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
    let shown = crate::scenario::diag::display_path(&ref_path)
        .display()
        .to_string();
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
                crate::trial::thumbnail(&crate::sample::sample(&reference).thumb),
                crate::trial::thumbnail(cand.thumb),
            ];
            if reference.dimensions() == img.dimensions() {
                rec.thumbnails.push(crate::trial::thumbnail(
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
