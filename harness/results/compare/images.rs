//! Each returned image against its counterpart: the same scenario, job and
//! index on the other side. Pixels come from the report folders' files; when a
//! file is gone (a report moved without `images/`), the thumbnails recorded in
//! report.json are compared instead, which is what the snapshot hash and
//! similarity look at anyway.

use std::path::Path;

use base64::Engine;
use image::{DynamicImage, GenericImageView, RgbImage};

use super::model::{Evidence, ImageDiff, Thresholds};
use crate::model::{ImageRecord, ScenarioReport};

/// The folders images are read from and diff images written to.
pub struct Dirs<'a> {
    /// The baseline's report folder.
    pub baseline: &'a Path,
    /// The candidate's.
    pub candidate: &'a Path,
    /// Where diff images go (`--out`), if anywhere.
    pub out: Option<&'a Path>,
}

/// Every image pair of scenario `name`, plus a regressed entry for each image one side lacks.
pub fn pairs(
    name: &str,
    b: &ScenarioReport,
    c: &ScenarioReport,
    t: &Thresholds,
    dirs: &Dirs,
) -> Vec<ImageDiff> {
    let mut out = Vec::new();
    for (run, (rb, rc)) in b.runs.iter().zip(&c.runs).enumerate() {
        let n = rb.images.len().max(rc.images.len());
        for index in 0..n {
            let (x, y) = (rb.images.get(index), rc.images.get(index));
            out.push(pair(name, run, index, x, y, t, dirs));
        }
    }
    out
}

fn pair(
    name: &str,
    run: usize,
    index: usize,
    x: Option<&ImageRecord>,
    y: Option<&ImageRecord>,
    t: &Thresholds,
    dirs: &Dirs,
) -> ImageDiff {
    let mut d = ImageDiff {
        run,
        index,
        baseline_file: x.and_then(|i| i.file.clone()),
        candidate_file: y.and_then(|i| i.file.clone()),
        size_changed: None,
        metrics: None,
        baseline_thumbnail: x.and_then(|i| i.thumbnail.clone()),
        candidate_thumbnail: y.and_then(|i| i.thumbnail.clone()),
        evidence: None,
        regressed: false,
    };
    let (Some(x), Some(y)) = (x, y) else {
        // One side returned fewer images.
        d.regressed = x.is_some();
        return d;
    };
    let size = |i: &ImageRecord| format!("{}x{}", i.info.width.unwrap_or(0), i.info.height.unwrap_or(0));
    if (x.info.width, x.info.height) != (y.info.width, y.info.height) {
        d.size_changed = Some(format!("{} → {}", size(x), size(y)));
        d.regressed = true;
    }
    let full = (
        load(dirs.baseline, x.file.as_deref()),
        load(dirs.candidate, y.file.as_deref()),
    );
    d.metrics = match &full {
        (Some(a), Some(b)) if d.size_changed.is_none() => Some(crate::snapshot::metrics::measure(a, b)),
        _ => match (thumb(x), thumb(y)) {
            (Some(a), Some(b)) => Some(crate::snapshot::metrics::measure_thumbs(&a, &b)),
            _ => None,
        },
    };
    if let Some(m) = &d.metrics {
        if m.distance > t.max_distance || m.similarity < t.min_similarity {
            d.regressed = true;
        }
    }
    if let (true, Some(out), (Some(a), Some(b))) = (d.regressed, dirs.out, &full) {
        d.evidence = write_evidence(out, name, run, index, a, b);
    }
    d
}

/// One line saying why a pair regressed.
pub fn describe(i: &ImageDiff) -> String {
    let what = format!("image {} of job {}", i.index, i.run);
    if let Some(s) = &i.size_changed {
        return format!("{what}: size {s}");
    }
    match (&i.baseline_file, &i.candidate_file, &i.metrics) {
        (_, _, Some(m)) => format!(
            "{what}: distance {} bits, similarity {:.3} to the baseline's{}",
            m.distance,
            m.similarity,
            m.differing_pixels.map(|p| format!(", {p} pixels differ")).unwrap_or_default()
        ),
        _ if i.candidate_thumbnail.is_none() && i.candidate_file.is_none() => format!("{what}: not returned by the candidate"),
        _ => format!("{what}: could not be read on one side"),
    }
}

/// A returned image from a report folder, if its file is still there. Paths
/// that would leave the folder are not followed.
fn load(dir: &Path, file: Option<&str>) -> Option<DynamicImage> {
    let rel = Path::new(file?);
    if rel.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
        return None;
    }
    image::open(dir.join(rel)).ok()
}

/// The thumbnail recorded in the report (a PNG data URI).
fn thumb(i: &ImageRecord) -> Option<RgbImage> {
    let b64 = i.thumbnail.as_deref()?.strip_prefix("data:image/png;base64,")?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some(image::load_from_memory(&bytes).ok()?.to_rgb8())
}

/// Both images and their diff as PNGs under `out/compare/<scenario>/`.
fn write_evidence(
    out: &Path,
    name: &str,
    run: usize,
    index: usize,
    a: &DynamicImage,
    b: &DynamicImage,
) -> Option<Evidence> {
    let dir = Path::new("compare").join(crate::paths::scenario_path(name));
    std::fs::create_dir_all(out.join(&dir)).ok()?;
    let diff = (a.dimensions() == b.dimensions())
        .then(|| DynamicImage::ImageRgb8(crate::snapshot::metrics::diff_image(a, b)));
    let mut files = Vec::new();
    for (kind, img) in [("baseline", Some(a)), ("candidate", Some(b)), ("diff", diff.as_ref())] {
        let rel = dir.join(format!("r{run}-{index}-{kind}.png"));
        if let Some(img) = img {
            std::fs::write(out.join(&rel), crate::png::encode_fast(&img.to_rgb8())).ok()?;
        }
        files.push(crate::paths::slashed(&rel));
    }
    let [baseline, candidate, diff]: [String; 3] = files.try_into().ok()?;
    Some(Evidence { baseline, candidate, diff })
}
