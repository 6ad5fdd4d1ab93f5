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
            let target = p.with_extension("");
            if target.extension().is_some_and(|x| x == "snap") {
                // The record says when it was accepted, which is now.
                let text = std::fs::read_to_string(&p)?;
                let mut body: String = text.lines().filter(|l| !l.starts_with("accepted: ")).map(|l| format!("{l}\n")).collect();
                body.push_str(&format!("accepted: {}\n", super::provenance::now()));
                std::fs::write(&target, body)?;
                std::fs::remove_file(&p)?;
            } else {
                std::fs::rename(&p, target)?;
            }
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
        let mut parts = match parts.iter().rposition(|s| s == "variants" || s == "classes") {
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

/// Compares every later run's images with the first run's, index by index:
/// the spread of one endpoint's own noise.
pub fn calibrate(runs: &[Vec<DynamicImage>]) -> Option<Calibration> {
    let first = runs.first()?;
    let mut c = Calibration {
        pairs: 0,
        max_distance: 0,
        min_similarity: 1.0,
        min_psnr: None,
        min_ssim: None,
        max_block_diff: None,
    };
    for later in runs.iter().skip(1) {
        for (a, b) in first.iter().zip(later) {
            if a.dimensions() == b.dimensions() {
                let m = measure(a, b);
                c.pairs += 1;
                c.max_distance = c.max_distance.max(m.distance);
                c.min_similarity = c.min_similarity.min(m.similarity);
                let low = |old: Option<f64>, new: Option<f64>| match (old, new) {
                    (Some(o), Some(n)) => Some(o.min(n)),
                    (o, n) => o.or(n),
                };
                c.min_psnr = low(c.min_psnr, m.psnr);
                c.min_ssim = low(c.min_ssim, m.ssim);
                c.max_block_diff = match (c.max_block_diff, m.block_diff) {
                    (Some(o), Some(n)) => Some(o.max(n)),
                    (o, n) => o.or(n),
                };
            }
        }
    }
    (c.pairs > 0).then_some(c)
}

/// A pass band learnt from an endpoint's spread between repeats, with
/// headroom, never tighter than the default pass band (whose margin over the
/// corpus's benign drift is measured) and never looser than the fail band.
pub fn suggest(c: &Calibration) -> crate::scenario::Band {
    use crate::scenario::DEFAULT_TOLERANCE as D;
    let psnr = c.min_psnr.map_or(D.pass.psnr, |p| (p - 3.0).floor()).clamp(D.fail.psnr, D.pass.psnr);
    let ssim = c
        .min_ssim
        .map_or(D.pass.ssim, |s| ((1.0 - (1.0 - s) * 2.0) * 1000.0).floor() / 1000.0)
        .clamp(D.fail.ssim, D.pass.ssim);
    let block = c
        .max_block_diff
        .map_or(D.pass.block, |b| (b * 1.5 * 10.0).ceil() / 10.0)
        .clamp(D.pass.block, D.fail.block);
    crate::scenario::Band { psnr, ssim, block }
}
