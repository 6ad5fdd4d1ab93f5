//! References on disk: `<n>.png` (pixels, re-encoded by us) and `<n>.snap` (the
//! record a verify run compares against without decoding the PNG), plus the
//! expected/actual/diff evidence written to `reports/images/<scenario>/`.

use std::path::{Path, PathBuf};

use base64::Engine;
use image::{DynamicImage, GenericImageView, RgbImage};

use super::config::{Candidate, Config};
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

    /// Where references are read: the variant's folder if it has any, else the default.
    pub(super) fn read_dir(&self, scenario: &str) -> PathBuf {
        let w = self.write_dir(scenario);
        if self.variant.is_some() && reference_count(&w) > 0 {
            w
        } else {
            self.default_dir(scenario)
        }
    }
}

/// Number of `<n>.png` references in a folder.
pub fn reference_count(dir: &Path) -> usize {
    (0..)
        .take_while(|i| dir.join(format!("{i}.png")).is_file())
        .count()
}

/// What a `.snap` record holds, for comparing without decoding the reference PNG.
pub(super) struct Meta {
    pub(super) size: (u32, u32),
    pub(super) hash: Option<String>,
    pub(super) pixels: Option<String>,
    pub(super) luma: Option<Vec<u8>>,
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
    let luma = field("thumb_luma")
        .and_then(|v| v.split_once(':'))
        .and_then(|(_, b64)| base64::engine::general_purpose::STANDARD.decode(b64).ok());
    Some(Meta {
        size,
        hash: field("hash").map(str::to_string),
        pixels: field("pixels").map(str::to_string),
        luma,
    })
}

/// Writes `<n>.png<suffix>` and `<n>.snap<suffix>`.
pub(super) fn write_reference(
    dir: &Path,
    i: usize,
    cand: Candidate,
    spec: &SnapshotSpec,
    scenario: &str,
    suffix: &str,
) -> Result<(), String> {
    let img = cand.pixels.get()?;
    if std::fs::create_dir_all(dir).is_err() {
        return Ok(());
    }
    // References are written rarely and kept in git: spend time on compression.
    let png = crate::png::encode_best(img);
    let _ = std::fs::write(dir.join(format!("{i}.png{suffix}")), png);
    let _ = std::fs::write(
        dir.join(format!("{i}.snap{suffix}")),
        metadata(img, cand.thumb, spec, scenario, i),
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
/// generated with the reference: `hash`, `pixels` and `thumb_luma` let a verify run
/// compare without decoding the reference PNG.
pub fn metadata(
    img: &DynamicImage,
    thumb: &RgbImage,
    spec: &SnapshotSpec,
    scenario: &str,
    i: usize,
) -> String {
    let compare = serde_json::to_value(spec.compare)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let (tw, th) = thumb.dimensions();
    format!(
        "---\nsource: endpoint-harness\nexpression: \"{scenario} image {i}\"\n---\nformat: png\nwidth: {}\nheight: {}\ncolor: {}\nhash: {}\npixels: {}\ncompare: {compare}\nmax_distance: {}\nmin_similarity: {}\nthumb_luma: {tw}x{th}:{}\n",
        img.width(),
        img.height(),
        crate::checks::color_name(img.color()),
        hash_thumb(thumb).to_base64(),
        pixel_hash(img),
        spec.max_distance,
        spec.min_similarity,
        base64::engine::general_purpose::STANDARD.encode(crate::sample::luma(thumb))
    )
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
