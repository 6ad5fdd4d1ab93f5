//! Cheap looks at a decoded image: one pass over a grid of small blocks gives a
//! thumbnail (for reports and perceptual comparison) and the blankness measure.
//! A 1024x1024 image is read at about 37k pixels instead of 1M, which keeps the
//! harness's cost per image close to the PNG decode itself (see BENCHMARKS.md).
//! Statistically the grid is a uniform sample: mean-square differences and
//! standard deviations estimated from it match the full image's closely.

use image::{DynamicImage, Rgb, RgbImage};

/// Longest side of a thumbnail.
pub const THUMB: u32 = 96;
/// Side of the block averaged into each thumbnail pixel (2x2: ~37k pixels of a
/// 1024x1024 image are read, about 0.1 ms).
const BLOCK: u32 = 2;

/// A thumbnail and the largest per-channel standard deviation of the sampled pixels.
pub struct Sampled {
    pub thumb: RgbImage,
    pub stddev: f64,
}

/// Thumbnail size for an image, keeping its aspect ratio.
fn thumb_size(w: u32, h: u32) -> (u32, u32) {
    if w >= h {
        let tw = w.min(THUMB);
        (
            tw,
            ((u64::from(h) * u64::from(tw)) / u64::from(w.max(1))).max(1) as u32,
        )
    } else {
        let th = h.min(THUMB);
        (
            ((u64::from(w) * u64::from(th)) / u64::from(h.max(1))).max(1) as u32,
            th,
        )
    }
}

/// Samples `img` (any colour type; alpha is ignored).
pub fn sample(img: &DynamicImage) -> Sampled {
    // 8-bit buffers are read in place; other depths are converted once (rare).
    match img {
        DynamicImage::ImageRgb8(b) => sample_raw(b.as_raw(), b.width(), b.height(), 3, [0, 1, 2]),
        DynamicImage::ImageRgba8(b) => sample_raw(b.as_raw(), b.width(), b.height(), 4, [0, 1, 2]),
        DynamicImage::ImageLuma8(b) => sample_raw(b.as_raw(), b.width(), b.height(), 1, [0, 0, 0]),
        DynamicImage::ImageLumaA8(b) => sample_raw(b.as_raw(), b.width(), b.height(), 2, [0, 0, 0]),
        other => {
            let b = other.to_rgb8();
            sample_raw(b.as_raw(), b.width(), b.height(), 3, [0, 1, 2])
        }
    }
}

/// The grid walk over a packed 8-bit buffer with `stride` bytes per pixel; `rgb`
/// gives the byte offsets of red, green and blue inside a pixel.
fn sample_raw(buf: &[u8], w: u32, h: u32, stride: usize, rgb: [usize; 3]) -> Sampled {
    let (tw, th) = thumb_size(w, h);
    let (bw, bh) = (
        (w / tw).clamp(1, BLOCK) as usize,
        (h / th).clamp(1, BLOCK) as usize,
    );
    let (w, h) = (w as usize, h as usize);
    let mut thumb = RgbImage::new(tw, th);
    let (mut sum, mut sq, mut n) = ([0u64; 3], [0u64; 3], 0u64);
    for oy in 0..th as usize {
        let sy = oy * h / th as usize;
        let rows = (sy + bh).min(h) - sy;
        for ox in 0..tw as usize {
            let sx = ox * w / tw as usize;
            let cols = (sx + bw).min(w) - sx;
            let mut acc = [0u32; 3];
            if rows == 2 && cols == 2 {
                // The common case (images of 192 px and more): four pixels by index, no loops.
                let i00 = (sy * w + sx) * stride;
                let i10 = i00 + w * stride;
                for (c, &off) in rgb.iter().enumerate() {
                    let p = [
                        buf[i00 + off],
                        buf[i00 + stride + off],
                        buf[i10 + off],
                        buf[i10 + stride + off],
                    ]
                    .map(u32::from);
                    acc[c] = p[0] + p[1] + p[2] + p[3];
                    sum[c] += u64::from(acc[c]);
                    sq[c] += u64::from(p[0] * p[0] + p[1] * p[1] + p[2] * p[2] + p[3] * p[3]);
                }
            } else {
                for y in sy..sy + rows {
                    let row = &buf[(y * w + sx) * stride..(y * w + sx + cols) * stride];
                    for px in row.chunks_exact(stride) {
                        for c in 0..3 {
                            let v = u32::from(px[rgb[c]]);
                            acc[c] += v;
                            sum[c] += u64::from(v);
                            sq[c] += u64::from(v * v);
                        }
                    }
                }
            }
            let k = (rows * cols) as u32;
            n += u64::from(k);
            thumb.put_pixel(
                ox as u32,
                oy as u32,
                Rgb([(acc[0] / k) as u8, (acc[1] / k) as u8, (acc[2] / k) as u8]),
            );
        }
    }
    let nf = n.max(1) as f64;
    let stddev = (0..3)
        .map(|c| {
            (sq[c] as f64 / nf - (sum[c] as f64 / nf).powi(2))
                .max(0.0)
                .sqrt()
        })
        .fold(0.0, f64::max);
    Sampled { thumb, stddev }
}

/// The luma bytes of a thumbnail (BT.601 weights).
pub fn luma(t: &RgbImage) -> Vec<u8> {
    t.pixels()
        .map(|p| {
            ((299 * u32::from(p.0[0]) + 587 * u32::from(p.0[1]) + 114 * u32::from(p.0[2]) + 500)
                / 1000) as u8
        })
        .collect()
}

/// 1 - RMSE between two luma buffers of one size, on a 0..1 scale (0 if sizes differ).
pub fn similarity_luma(a: &[u8], b: &[u8]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(p, q)| (f64::from(*p) - f64::from(*q)).powi(2))
        .sum();
    1.0 - (se / a.len() as f64).sqrt() / 255.0
}

/// [`similarity_luma`] of two thumbnails.
pub fn similarity(a: &RgbImage, b: &RgbImage) -> f64 {
    if a.dimensions() != b.dimensions() {
        return 0.0;
    }
    similarity_luma(&luma(a), &luma(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_keep_aspect_and_blank_frames_stay_blank() {
        let wide = DynamicImage::ImageRgb8(RgbImage::from_fn(1024, 512, |x, _| {
            Rgb([(x % 256) as u8, 0, 0])
        }));
        let s = sample(&wide);
        assert_eq!(s.thumb.dimensions(), (96, 48));
        assert!(s.stddev > 50.0, "{}", s.stddev);
        let black = DynamicImage::ImageRgb8(RgbImage::from_fn(300, 700, |x, y| {
            Rgb([((x + y) % 2) as u8, 0, 0])
        }));
        let s = sample(&black);
        assert_eq!(s.thumb.dimensions(), (41, 96));
        assert!(s.stddev < 1.0);
        let tiny = DynamicImage::ImageRgb8(RgbImage::new(3, 2));
        assert_eq!(sample(&tiny).thumb.dimensions(), (3, 2));
        assert!((similarity(&s.thumb, &s.thumb) - 1.0).abs() < 1e-12);
    }
}
