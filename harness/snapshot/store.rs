//! References on disk: `<n>.png` (pixels, re-encoded by us) and `<n>.snap` (the
//! record a verify run compares against without decoding the PNG), plus the
//! expected/actual/diff evidence written to `reports/images/<scenario>/`.

use std::path::{Path, PathBuf};

use image::{DynamicImage, GenericImageView, RgbImage};

use super::config::{Candidate, Config};
use super::provenance::Provenance;
use super::metrics::{diff_image, hash_thumb, pixel_hash};
use crate::model::{ClassField, ClassKey, Fingerprint};
use crate::scenario::SnapshotSpec;

/// One accepted set of references of a scenario: a folder and the class it
/// was made on.
#[derive(Clone, Debug)]
pub(super) struct RefSet {
    pub(super) class: ClassKey,
    pub(super) dir: PathBuf,
}

/// Where a scenario's references live: `<root>/<scenario>/` holds the first
/// class accepted (or references written before classes), each other class
/// `classes/<slug>/`, and a variant named by hand `variants/<name>/`.
impl Config {
    pub(super) fn default_dir(&self, scenario: &str) -> PathBuf {
        self.root.join(crate::paths::scenario_path(scenario))
    }

    /// The fingerprint fields that make a class: `HARNESS_SNAPSHOT_CLASS`, else the scenario's.
    pub(super) fn fields(&self, spec: &SnapshotSpec) -> Vec<ClassField> {
        self.class.clone().unwrap_or_else(|| spec.class.clone())
    }

    /// The class a job falls in: the variant named by hand, else its fingerprint's.
    pub(super) fn job_class(&self, spec: &SnapshotSpec, fp: &Fingerprint) -> ClassKey {
        match &self.variant {
            Some(v) => ClassKey::variant(v),
            None => fp.class(&self.fields(spec)),
        }
    }

    /// Every accepted set of references of a scenario, with its class: the
    /// default folder's first (when it holds any), then `classes/*`, then `variants/*`.
    pub(super) fn sets(&self, scenario: &str, fields: &[ClassField]) -> Vec<RefSet> {
        let base = self.default_dir(scenario);
        let mut sets = Vec::new();
        if let Some(class) = class_of(&base, fields) {
            sets.push(RefSet { class, dir: base.clone() });
        }
        for dir in subdirs(&base.join("classes")) {
            if let Some(class) = class_of(&dir, fields) {
                sets.push(RefSet { class, dir });
            }
        }
        for dir in subdirs(&base.join("variants")) {
            if reference_count(&dir) > 0 || any_snap(&dir).is_some() {
                let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                sets.push(RefSet { class: ClassKey::variant(&name), dir });
            }
        }
        sets
    }

    /// Where references of `class` are written: its set's folder; the default
    /// folder while it holds none; else `classes/<slug>/` (`variants/<name>/`
    /// for a variant). Another class's references are never written over.
    pub(super) fn class_dir(&self, scenario: &str, class: &ClassKey, sets: &[RefSet]) -> PathBuf {
        if let Some(s) = sets.iter().find(|s| &s.class == class) {
            return s.dir.clone();
        }
        let base = self.default_dir(scenario);
        if let Some(v) = &self.variant {
            return base.join("variants").join(v);
        }
        if !sets.iter().any(|s| s.dir == base) && any_snap(&base).is_none() {
            return base;
        }
        base.join("classes").join(class.slug())
    }
}

/// Sub-folders of `dir`, by name.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// The first `<n>.snap` (accepted, not a candidate) in a folder.
fn any_snap(dir: &Path) -> Option<PathBuf> {
    let mut snaps: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "snap") && p.is_file())
        .collect();
    snaps.sort();
    snaps.into_iter().next()
}

/// The class of the references in `dir` (none there: `None`): the fingerprint
/// its records were written with, by `fields`; a record from before
/// fingerprints takes its provenance's class, or `unknown`.
fn class_of(dir: &Path, fields: &[ClassField]) -> Option<ClassKey> {
    if reference_count(dir) == 0 {
        return None;
    }
    let text = any_snap(dir).and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    Some(super::provenance::fingerprint_of(&text).class(fields))
}

/// Number of `<n>.png` references in a folder.
pub fn reference_count(dir: &Path) -> usize {
    (0..)
        .take_while(|i| dir.join(format!("{i}.png")).is_file())
        .count()
}

/// What a `.snap` record holds for matching identical pixels without decoding the reference PNG.
pub(super) struct Meta {
    pub(super) size: (u32, u32),
    pub(super) pixels: Option<String>,
}

pub(super) fn read_meta(path: &Path) -> Option<Meta> {
    let text = std::fs::read_to_string(path).ok()?;
    let body = text.splitn(3, "---\n").nth(2)?;
    let field = |k: &str| {
        body.lines().find_map(|l| {
            l.strip_prefix(k)
                .and_then(|r| r.strip_prefix(": "))
                .map(str::trim)
        })
    };
    let size = (
        field("width")?.parse().ok()?,
        field("height")?.parse().ok()?,
    );
    Some(Meta {
        size,
        pixels: field("pixels").map(str::to_string),
    })
}

/// What a `.snap` record says besides the image's own figures.
pub struct MetaInputs<'a> {
    pub spec: &'a SnapshotSpec,
    pub scenario: &'a str,
    pub i: usize,
    pub provenance: &'a Provenance,
    pub variant: Option<&'a str>,
    /// The class the reference is kept under.
    pub class: &'a ClassKey,
}

/// A returned image whose full decode failed, so no reference can be written from it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct Undecodable(pub String);

/// Writes `<n>.png<suffix>` and `<n>.snap<suffix>`; a reference written for
/// real (no suffix) is accepted now, a `.new` candidate when `snapshots accept` takes it.
pub(super) fn write_reference(
    dir: &Path,
    cand: Candidate,
    meta: &MetaInputs,
    suffix: &str,
) -> Result<(), Undecodable> {
    let img = cand.pixels.get().map_err(|e| Undecodable(e.to_string()))?;
    let i = meta.i;
    if std::fs::create_dir_all(dir).is_err() {
        return Ok(());
    }
    // References are written rarely and kept in git: spend time on compression.
    let png = crate::png::encode_best(img);
    let _ = std::fs::write(dir.join(format!("{i}.png{suffix}")), png);
    let accepted = suffix.is_empty().then(super::provenance::now);
    let _ = std::fs::write(
        dir.join(format!("{i}.snap{suffix}")),
        metadata(img, cand.thumb, meta, accepted.as_deref()),
    );
    // A reference written for real supersedes any candidate waiting for review.
    if suffix.is_empty() {
        remove_candidate(dir, i);
    }
    Ok(())
}

/// Deletes the `.new` candidate of reference `i`, if one is waiting.
pub(super) fn remove_candidate(dir: &Path, i: usize) {
    let _ = std::fs::remove_file(dir.join(format!("{i}.png.new")));
    let _ = std::fs::remove_file(dir.join(format!("{i}.snap.new")));
}

/// The metadata record, in insta's `.snap` layout (a header, then the body). It is
/// generated with the reference: `pixels` (the decoded pixels' digest) lets a
/// verify run match identical pixels without decoding the reference PNG, and the
/// provenance lines say where the reference came from and when it was accepted.
pub fn metadata(img: &DynamicImage, thumb: &RgbImage, meta: &MetaInputs, accepted: Option<&str>) -> String {
    let spec = meta.spec;
    let compare = serde_json::to_value(spec.compare)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let (p, f) = (spec.tolerance.pass, spec.tolerance.fail);
    let mut out = format!(
        "---\nsource: endpoint-harness\nexpression: \"{} image {}\"\n---\nformat: png\nwidth: {}\nheight: {}\ncolor: {}\nhash: {}\npixels: {}\ncompare: {compare}\npass: psnr {} ssim {} block {}\nfail: psnr {} ssim {} block {}\n",
        meta.scenario,
        meta.i,
        img.width(),
        img.height(),
        crate::media::color_name(img.color()),
        hash_thumb(thumb).to_base64(),
        pixel_hash(img),
        p.psnr, p.ssim, p.block, f.psnr, f.ssim, f.block,
    );
    if let Some(v) = meta.variant {
        out.push_str(&format!("variant: {v}\n"));
    }
    out.push_str(&format!("class: {}\n", meta.class));
    out.push_str(&meta.provenance.lines());
    if let Some(at) = accepted {
        out.push_str(&format!("accepted: {at}\n"));
    }
    out
}

/// Writes expected, actual and (same size only) diff images under `reports/images/<scenario>/`.
pub(super) fn save_evidence(
    cfg: &Config,
    scenario: &str,
    i: usize,
    expected: &DynamicImage,
    actual: &DynamicImage,
) -> (Option<String>, Option<String>, Option<String>) {
    let rel = Path::new("images").join(crate::paths::scenario_path(scenario));
    let dir = cfg.reports.join(&rel);
    if std::fs::create_dir_all(&dir).is_err() {
        return (None, None, None);
    }
    let save = |name: String, img: &RgbImage| -> Option<String> {
        std::fs::write(dir.join(&name), crate::png::encode_fast(img)).ok()?;
        Some(crate::paths::slashed(&rel.join(&name)))
    };
    let e = save(format!("snapshot-{i}-expected.png"), &expected.to_rgb8());
    let a = save(format!("snapshot-{i}-actual.png"), &actual.to_rgb8());
    let d = (expected.dimensions() == actual.dimensions())
        .then(|| {
            save(
                format!("snapshot-{i}-diff.png"),
                &diff_image(expected, actual),
            )
        })
        .flatten();
    (e, a, d)
}
