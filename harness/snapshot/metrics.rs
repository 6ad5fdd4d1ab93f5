//! How two images are compared: an xxh3 digest of the decoded pixels (equal
//! digests: a match without more work), the full-size figures (PSNR, SSIM,
//! level differences, the worst block) judged against the scenario's bands,
//! the thumbnails' gradient hash and luma similarity, and the diff image shown
//! for review or a mismatch.

use image::{DynamicImage, Rgb, RgbImage};
use image_hasher::{HashAlg, HasherConfig};

use crate::model::Metrics;

fn hasher() -> image_hasher::Hasher {
    HasherConfig::new()
        .hash_alg(HashAlg::Gradient)
        .hash_size(8, 8)
        .to_hasher()
}

pub(super) fn hash_thumb(t: &RgbImage) -> image_hasher::ImageHash {
    hasher().hash_image(&DynamicImage::ImageRgb8(t.clone()))
}

/// xxh3 of the decoded RGBA pixels: identical iff the pixels are.
pub fn pixel_hash(img: &DynamicImage) -> String {
    let digest = match img {
        DynamicImage::ImageRgba8(b) => xxhash_rust::xxh3::xxh3_64(b.as_raw()),
        other => xxhash_rust::xxh3::xxh3_64(other.to_rgba8().as_raw()),
    };
    format!("{digest:016x}")
}

/// Every figure for two images of the same size: the thumbnails' hash
/// distance and luma similarity, and the full-size differences
/// ([`endpoint_harness_pixels::diff`]).
pub fn measure(a: &DynamicImage, b: &DynamicImage) -> Metrics {
    let (ta, tb) = (
        crate::media::sample::sample(a).thumb,
        crate::media::sample::sample(b).thumb,
    );
    let mut m = measure_thumbs(&ta, &tb);
    full(a, b, &mut m);
    m
}

/// [`measure`] with the candidate's thumbnail already at hand.
pub fn measure_with(reference: &DynamicImage, img: &DynamicImage, thumb: &RgbImage) -> Metrics {
    let mut m = measure_thumbs(&crate::media::sample::sample(reference).thumb, thumb);
    full(reference, img, &mut m);
    m
}

/// The full-size figures, in one pass (RGBA when either image has alpha).
fn full(a: &DynamicImage, b: &DynamicImage, m: &mut Metrics) {
    use endpoint_harness_pixels::diff::diff;
    let (w, h) = (a.width() as usize, a.height() as usize);
    let d = match (a, b) {
        (DynamicImage::ImageRgb8(x), DynamicImage::ImageRgb8(y)) => diff(x.as_raw(), y.as_raw(), w, h, 3),
        (DynamicImage::ImageRgba8(x), DynamicImage::ImageRgba8(y)) => diff(x.as_raw(), y.as_raw(), w, h, 4),
        _ if a.color().has_alpha() || b.color().has_alpha() => {
            diff(a.to_rgba8().as_raw(), b.to_rgba8().as_raw(), w, h, 4)
        }
        _ => diff(a.to_rgb8().as_raw(), b.to_rgb8().as_raw(), w, h, 3),
    };
    m.differing_pixels = Some(d.differing_pixels);
    m.psnr = Some(d.psnr().min(IDENTICAL_PSNR));
    m.ssim = Some(d.ssim);
    m.mean_diff = Some(d.mean);
    m.max_diff = Some(d.max);
    m.block_diff = Some(d.block_max);
}

/// Adds the coarse figures (8x8 cells) the cross-class judgment reads; left
/// out of [`measure`] so a comparison within a class does not pay for them.
pub fn add_coarse(a: &DynamicImage, b: &DynamicImage, m: &mut Metrics) {
    let (ca, cb) = (coarse(a), coarse(b));
    m.coarse_psnr = Some(coarse_psnr(&ca, &cb));
    m.coarse_corr = coarse_corr(&ca, &cb);
}

/// Cells per side of the coarse grid.
const COARSE: usize = 8;

/// The image averaged down to 8x8 cells of RGB (each cell the mean of its area).
pub fn coarse(img: &DynamicImage) -> Vec<[f64; 3]> {
    // Borrowed when the image is RGB already (a decoded PNG usually is).
    let owned;
    let rgb = match img {
        DynamicImage::ImageRgb8(b) => b,
        other => {
            owned = other.to_rgb8();
            &owned
        }
    };
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let mut cells = vec![[0.0f64; 3]; COARSE * COARSE];
    if w == 0 || h == 0 {
        return cells;
    }
    let edge = |i: usize, n: usize| i * n / COARSE;
    for cy in 0..COARSE {
        let (y0, y1) = (edge(cy, h), edge(cy + 1, h).max(edge(cy, h) + 1).min(h));
        for cx in 0..COARSE {
            let (x0, x1) = (edge(cx, w), edge(cx + 1, w).max(edge(cx, w) + 1).min(w));
            let mut sum = [0.0f64; 3];
            for y in y0..y1 {
                for x in x0..x1 {
                    let p = rgb.get_pixel(x as u32, y as u32).0;
                    for c in 0..3 {
                        sum[c] += f64::from(p[c]);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)).max(1) as f64;
            cells[cy * COARSE + cx] = sum.map(|s| s / n);
        }
    }
    cells
}

fn coarse_psnr(a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
    let n = (a.len() * 3).max(1) as f64;
    let mse: f64 = a.iter().zip(b).flat_map(|(p, q)| (0..3).map(move |c| (p[c] - q[c]).powi(2))).sum::<f64>() / n;
    if mse <= 0.0 {
        IDENTICAL_PSNR
    } else {
        (10.0 * (255.0f64 * 255.0 / mse).log10()).min(IDENTICAL_PSNR)
    }
}

/// Pearson correlation of the cells' luma; none when the reference is nearly
/// flat (its light and dark places are then noise).
fn coarse_corr(a: &[[f64; 3]], b: &[[f64; 3]]) -> Option<f64> {
    let luma = |p: &[f64; 3]| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    let la: Vec<f64> = a.iter().map(luma).collect();
    let lb: Vec<f64> = b.iter().map(luma).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (ma, mb) = (mean(&la), mean(&lb));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in la.iter().zip(&lb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    let n = la.len().max(1) as f64;
    if (saa / n).sqrt() < FLAT_LEVELS {
        return None;
    }
    if sbb <= 0.0 {
        return Some(0.0);
    }
    Some(sab / (saa * sbb).sqrt())
}

/// A reference whose coarse luma varies by less than this (standard deviation,
/// in levels) has no layout to correlate with.
const FLAT_LEVELS: f64 = 2.0;

/// The cross-class fail line: below this coarse PSNR the layout or colours
/// changed. Chosen on the drift corpus and the drift model
/// (`snapshot::corpus`): modelled GPU drift down to 25 dB keeps the 8x8 cells
/// above 38 dB, while another seed, checkpoint, prompt word, negative prompt,
/// a missing LoRA, black or noise land at 7-35 dB.
pub const ACROSS_COARSE_PSNR: f64 = 35.0;

/// The cross-class fail line on the cells' luma correlation (drift: 0.98 and up).
pub const ACROSS_COARSE_CORR: f64 = 0.9;

/// Judges an image against the nearest reference of another class: a pass
/// when it is within the strict pass band anyway; a fail on what GPU drift
/// does not change (the layout and colours of the 8x8 cells); review otherwise.
pub fn judge_across(spec: &crate::scenario::SnapshotSpec, m: &Metrics) -> Judgement {
    let strict = judge(spec, m);
    if strict == Judgement::Pass {
        return Judgement::Pass;
    }
    let mut fail = Vec::new();
    if let Some(p) = m.coarse_psnr.filter(|p| *p < ACROSS_COARSE_PSNR) {
        fail.push(format!(
            "another composition: the image averaged to 8x8 cells is {p:.1} dB from the reference's (GPU drift keeps it at {ACROSS_COARSE_PSNR} dB or more)"
        ));
    }
    if let Some(c) = m.coarse_corr.filter(|c| *c < ACROSS_COARSE_CORR) {
        fail.push(format!(
            "another layout: the 8x8 cells' light and dark places correlate at {c:.2} with the reference's (GPU drift keeps it at {ACROSS_COARSE_CORR} or more)"
        ));
    }
    if !fail.is_empty() {
        return Judgement::Fail(fail);
    }
    Judgement::Review(vec![format!(
        "psnr {:.1} dB, ssim {:.4}, 8x8 cells {:.1} dB: the same composition, fine detail moved (GPU drift, or a change only a reference of this class can see: steps, cfg, sampler)",
        m.psnr.unwrap_or(IDENTICAL_PSNR),
        m.ssim.unwrap_or(1.0),
        m.coarse_psnr.unwrap_or(IDENTICAL_PSNR)
    )])
}

/// The PSNR reported for identical pixels (the true figure is infinite, which JSON cannot hold).
pub const IDENTICAL_PSNR: f64 = 100.0;

/// The figures of identical pixels, known from their digests alone.
pub fn identical() -> Metrics {
    Metrics {
        distance: 0,
        similarity: 1.0,
        differing_pixels: Some(0),
        psnr: Some(IDENTICAL_PSNR),
        ssim: Some(1.0),
        mean_diff: Some(0.0),
        max_diff: Some(0),
        block_diff: Some(0.0),
        coarse_psnr: Some(IDENTICAL_PSNR),
        coarse_corr: None,
    }
}

/// Where an image falls against a scenario's bands, with the figures that put it there.
#[derive(Clone, Debug, PartialEq)]
pub enum Judgement {
    /// Within the pass band.
    Pass,
    /// Between the bands: for a person to look at.
    Review(Vec<String>),
    /// Beyond the fail band (or an explicit coarse gate).
    Fail(Vec<String>),
}

impl Judgement {
    /// 0 = pass, 1 = review, 2 = fail: lower is closer.
    pub fn rank(&self) -> u8 {
        match self {
            Judgement::Pass => 0,
            Judgement::Review(_) => 1,
            Judgement::Fail(_) => 2,
        }
    }
}

/// Judges full-size figures against the scenario's bands and coarse gates.
pub fn judge(spec: &crate::scenario::SnapshotSpec, m: &Metrics) -> Judgement {
    let t = &spec.tolerance;
    let (psnr, ssim, block) = (
        m.psnr.unwrap_or(IDENTICAL_PSNR),
        m.ssim.unwrap_or(1.0),
        m.block_diff.unwrap_or(0.0),
    );
    let beyond = |band: &crate::scenario::Band, strict_word: &str| {
        let mut why = Vec::new();
        if psnr < band.psnr {
            why.push(format!("psnr {psnr:.1} dB, under {strict_word} floor of {} dB", band.psnr));
        }
        if ssim < band.ssim {
            why.push(format!("ssim {ssim:.4}, under {strict_word} floor of {}", band.ssim));
        }
        if block > band.block {
            why.push(format!("a 16x16 block differs by {block:.2} levels, over {strict_word} ceiling of {}", band.block));
        }
        why
    };
    let mut fail = beyond(&t.fail, "the fail band's");
    if let Some(max) = spec.max_distance.filter(|d| m.distance > *d) {
        fail.push(format!("thumbnail hash distance {} over max_distance {max}", m.distance));
    }
    if let Some(min) = spec.min_similarity.filter(|s| m.similarity < *s) {
        fail.push(format!("thumbnail similarity {:.4} below min_similarity {min}", m.similarity));
    }
    if !fail.is_empty() {
        return Judgement::Fail(fail);
    }
    let review = beyond(&t.pass, "the pass band's");
    if review.is_empty() {
        Judgement::Pass
    } else {
        Judgement::Review(review)
    }
}

/// Distance and similarity of two thumbnails alone (when the full images are not at hand).
pub fn measure_thumbs(a: &RgbImage, b: &RgbImage) -> Metrics {
    Metrics {
        distance: hash_thumb(a).dist(&hash_thumb(b)),
        similarity: crate::media::sample::similarity(a, b),
        ..Metrics::default()
    }
}

/// A diff image: the reference dimmed to grey, changed pixels in red by how much they changed.
pub fn diff_image(expected: &DynamicImage, actual: &DynamicImage) -> RgbImage {
    let (e, a) = (expected.to_rgb8(), actual.to_rgb8());
    RgbImage::from_fn(e.width(), e.height(), |x, y| {
        let p = e.get_pixel(x, y);
        let q = a.get_pixel(x, y);
        let delta =
            p.0.iter()
                .zip(q.0.iter())
                .map(|(u, v)| u.abs_diff(*v))
                .max()
                .unwrap_or(0);
        let grey = ((u16::from(p.0[0]) + u16::from(p.0[1]) + u16::from(p.0[2])) / 3 / 3 + 40) as u8;
        if delta > 2 {
            Rgb([200u8.saturating_add(delta.min(55)), 0, 0])
        } else {
            Rgb([grey, grey, grey])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figure and the band's floor read as two numbers, not a subtraction
    /// ("psnr 8.4 dB below the fail band's 48.5" read as 8.4 dB below it).
    #[test]
    fn a_reason_names_the_figure_and_the_floor_it_is_under() {
        let m = Metrics { psnr: Some(8.4), ssim: Some(0.5), block_diff: Some(9.0), ..Metrics::default() };
        let Judgement::Fail(why) = judge(&crate::scenario::SnapshotSpec::tolerant(), &m) else { panic!("a fail") };
        assert_eq!(why[0], "psnr 8.4 dB, under the fail band's floor of 48.5 dB");
        assert!(why.iter().all(|w| !w.contains(" below ")), "{why:?}");
    }
}
