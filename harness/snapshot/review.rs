//! Reviewing references: pending candidates (`*.new`) to accept or reject,
//! orphans no scenario produces, and tolerances suggested from repeated runs.

use std::path::{Path, PathBuf};

use super::metrics::measure;
use crate::model::Calibration;
use image::{DynamicImage, GenericImageView};

/// Pending `.new` files under `root`.
pub fn pending(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(root, &mut |p| {
        if p.extension().is_some_and(|x| x == "new") {
            out.push(p.to_path_buf());
        }
    });
    out.sort();
    out
}

/// Accepts (renames over the reference) or rejects (deletes) pending files whose path contains `filter`.
pub fn resolve_pending(
    root: &Path,
    filter: Option<&str>,
    accept: bool,
) -> std::io::Result<Vec<PathBuf>> {
    let mut done = Vec::new();
    for p in pending(root) {
        if filter.is_some_and(|f| !p.to_string_lossy().contains(f)) {
            continue;
        }
        if accept {
            std::fs::rename(&p, p.with_extension(""))?;
        } else {
            std::fs::remove_file(&p)?;
        }
        done.push(p);
    }
    Ok(done)
}

/// Reference folders no scenario with `snapshot.compare` on produces. `wanted` holds
/// the scenario names that do compare.
pub fn orphans(root: &Path, wanted: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(root, &mut |p| {
        let is_ref = p.extension().is_some_and(|x| x == "png" || x == "snap")
            && p.file_stem()
                .is_some_and(|s| s.to_string_lossy().parse::<usize>().is_ok());
        if !is_ref {
            return;
        }
        let dir = p.parent().unwrap_or(root);
        let rel = dir.strip_prefix(root).unwrap_or(dir);
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        // `<scenario>/variants/<variant>/` belongs to `<scenario>`, and so do a
        // video's frames, `<scenario>/video-<n>/` (with its own variants).
        let mut parts = match parts.iter().rposition(|s| s == "variants") {
            Some(k) if k + 2 == parts.len() => parts[..k].to_vec(),
            _ => parts,
        };
        let is_video_dir = |s: &str| s.strip_prefix("video-").is_some_and(|n| n.parse::<usize>().is_ok());
        if parts.last().is_some_and(|l| is_video_dir(l)) {
            parts.pop();
        }
        let scenario = parts.join("/");
        if !wanted.contains(&scenario) {
            out.push(p.to_path_buf());
        }
    });
    out.sort();
    out
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, f);
        } else {
            f(&p);
        }
    }
}

/// Compares every later run's images with the first run's, index by index.
pub fn calibrate(runs: &[Vec<DynamicImage>]) -> Option<Calibration> {
    let first = runs.first()?;
    let mut c = Calibration {
        pairs: 0,
        max_distance: 0,
        min_similarity: 1.0,
    };
    for later in runs.iter().skip(1) {
        for (a, b) in first.iter().zip(later) {
            if a.dimensions() == b.dimensions() {
                let m = measure(a, b);
                c.pairs += 1;
                c.max_distance = c.max_distance.max(m.distance);
                c.min_similarity = c.min_similarity.min(m.similarity);
            }
        }
    }
    (c.pairs > 0).then_some(c)
}

/// Suggested tolerances from an observed spread, with headroom.
pub fn suggest(c: &Calibration) -> (u32, f64) {
    let distance = (c.max_distance * 3 / 2 + 2).min(64);
    let floor = 1.0 - (1.0 - c.min_similarity) * 2.0 - 0.005;
    (distance, (floor * 1000.0).floor() / 1000.0)
}
