//! References on disk: `<n>.png` (pixels, re-encoded by us) and `<n>.snap` (the
//! record a verify run compares against without decoding the PNG), plus the
//! expected/actual/diff evidence written to `reports/images/<scenario>/`.

use std::path::{Path, PathBuf};

use image::{DynamicImage, GenericImageView, RgbImage};

use super::config::{Candidate, Config};
use super::provenance::Provenance;
use super::metrics::{diff_image, hash_thumb, pixel_hash};
use crate::scenario::SnapshotSpec;

/// Where a scenario's references live (`<root>/<scenario>/`, or the variant's folder).
impl Config {
    pub(super) fn default_dir(&self, scenario: &str) -> PathBuf {
        self.root.join(crate::paths::scenario_path(scenario))
    }

    /// Where references are written: the variant folder when a variant is set.
    pub(super) fn write_dir(&self, scenario: &str) -> PathBuf {
        match &self.variant {
            Some(v) => self.default_dir(scenario).join("variants").join(v),
            None => self.default_dir(scenario),
        }
    }

    /// The folder whose reference count a run must match: the variant's folder
    /// if it has any, else the default.
    pub(super) fn read_dir(&self, scenario: &str) -> PathBuf {
        let w = self.write_dir(scenario);
        if self.variant.is_some() && reference_count(&w) > 0 {
            w
        } else {
            self.default_dir(scenario)
        }
    }

    /// Every accepted set of references of a scenario, the configured variant's
    /// first, then the default set, then the other variants by name. An image
    /// is judged against the closest of them.
    pub(super) fn reference_sets(&self, scenario: &str) -> Vec<(Option<String>, PathBuf)> {
        let base = self.default_dir(scenario);
        let mut others: Vec<String> = std::fs::read_dir(base.join("variants"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|v| Some(v) != self.variant.as_ref())
            .collect();
        others.sort();
        let mut sets = Vec::new();
        if let Some(v) = &self.variant {
            sets.push((Some(v.clone()), base.join("variants").join(v)));
        }
        sets.push((None, base.clone()));
        sets.extend(others.into_iter().map(|v| (Some(v.clone()), base.join("variants").join(v))));
        sets
    }
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
