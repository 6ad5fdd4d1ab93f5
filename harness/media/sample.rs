//! Cheap looks at a decoded image: one pass over a grid of small blocks gives a
//! thumbnail (for reports and perceptual comparison) and the blankness measure.
//! A 1024x1024 image is read at about 37k pixels instead of 1M, which keeps the
//! harness's cost per image close to the PNG decode itself (see docs/src/design/benchmarks.md).
//! Statistically the grid is a uniform sample: mean-square differences and
//! standard deviations estimated from it match the full image's closely.

use image::{DynamicImage, Rgb, RgbImage};

/// Longest side of a thumbnail.
pub const THUMB: u32 = 96;
/// Side of the block averaged into each thumbnail pixel (2x2: ~37k pixels of a
/// 1024x1024 image are read, about 0.1 ms).
const BLOCK: u32 = 2;

/// A thumbnail and the statistics of the sampled pixels.
pub struct Sampled {
    pub thumb: RgbImage,
    /// The largest per-channel standard deviation.
    pub stddev: f64,
    /// The mean colour.
    pub mean: [u8; 3],
    /// The luma correlation of adjacent sampled pixels (near 0 for pure
    /// noise), when there are enough pairs and any variation.
    pub correlation: Option<f64>,
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
/// gives the byte offsets of red, green and blue inside a pixel. Only the rows
/// the grid reads are visited.
fn sample_raw(buf: &[u8], w: u32, h: u32, stride: usize, rgb: [usize; 3]) -> Sampled {
    let mut s = RowSampler::new(w, h, stride, rgb);
    let line = w as usize * stride;
    let rows: Vec<usize> = s.wanted_rows().collect();
    for y in rows {
        s.row(y, &buf[y * line..(y + 1) * line]);
    }
    s.finish()
}

/// The same grid walk fed one decoded row at a time, top to bottom, so an
/// image can be sampled while it is decoded without holding its pixels (a
/// trial process that keeps no pixels then touches a few rows of memory, not
/// megabytes). Rows the grid does not read may be passed and are skipped.
pub struct RowSampler {
    w: usize,
    h: usize,
    tw: usize,
    th: usize,
    bw: usize,
    bh: usize,
    stride: usize,
    rgb: [usize; 3],
    thumb: RgbImage,
    sum: [u64; 3],
    sq: [u64; 3],
    n: u64,
    /// Per thumbnail column, the channel sums of the block row in progress.
    acc: Vec<[u32; 3]>,
    /// First source column of each thumbnail column's blocks, and first
    /// source row of each thumbnail row's: computed once, not per row.
    starts_x: Vec<usize>,
    starts_y: Vec<usize>,
    /// Adjacent sampled pixels, for the pure-noise check.
    pairs: endpoint_harness_pixels::pairs::Pairs,
}

impl RowSampler {
    /// A sampler for a `w`×`h` image of `stride` bytes per pixel.
    pub fn new(w: u32, h: u32, stride: usize, rgb: [usize; 3]) -> Self {
        let (tw, th) = thumb_size(w, h);
        RowSampler {
            w: w as usize,
            h: h as usize,
            tw: tw as usize,
            th: th as usize,
            bw: (w / tw).clamp(1, BLOCK) as usize,
            bh: (h / th).clamp(1, BLOCK) as usize,
            stride,
            rgb,
            thumb: RgbImage::new(tw, th),
            sum: [0; 3],
            sq: [0; 3],
            n: 0,
            acc: vec![[0; 3]; tw as usize],
            starts_x: (0..tw as usize).map(|ox| ox * w as usize / tw as usize).collect(),
            starts_y: (0..th as usize).map(|oy| oy * h as usize / th as usize).collect(),
            pairs: Default::default(),
        }
    }

    /// The first source row of thumbnail row `oy`, and how many rows its blocks span.
    fn block(&self, oy: usize) -> (usize, usize) {
        let sy = self.starts_y[oy];
        (sy, (sy + self.bh).min(self.h) - sy)
    }

    /// The rows the grid reads, in order.
    pub fn wanted_rows(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.th).flat_map(|oy| {
            let (sy, rows) = self.block(oy);
            sy..sy + rows
        })
    }

    /// Feeds source row `y` (its packed bytes).
    pub fn row(&mut self, y: usize, row: &[u8]) {
        // The block row holding `y`, if any: blocks never overlap (they are at
        // most `h / th` rows apart and at most that tall).
        let mut oy = (y * self.th / self.h.max(1)).min(self.th - 1);
        while oy > 0 && self.block(oy).0 > y {
            oy -= 1;
        }
        while oy + 1 < self.th && self.block(oy + 1).0 <= y {
            oy += 1;
        }
        let (sy, rows) = self.block(oy);
        if y < sy || y >= sy + rows {
            return;
        }
        // The per-pixel loop runs optimised even in the dev profile.
        let grid = endpoint_harness_pixels::Grid { w: self.w, starts: &self.starts_x, bw: self.bw };
        endpoint_harness_pixels::accumulate_row(row, self.stride, self.rgb, grid, &mut self.acc, &mut self.sum, &mut self.sq);
        self.pairs.row(y, row, self.stride, self.rgb, grid);
        if y == sy + rows - 1 {
            for ox in 0..self.tw {
                let sx = self.starts_x[ox];
                let k = (rows * ((sx + self.bw).min(self.w) - sx)) as u32;
                self.n += u64::from(k);
                let a = std::mem::take(&mut self.acc[ox]);
                self.thumb
                    .put_pixel(ox as u32, oy as u32, Rgb([(a[0] / k) as u8, (a[1] / k) as u8, (a[2] / k) as u8]));
            }
        }
    }

    /// The thumbnail and the sampled pixels' statistics.
    pub fn finish(self) -> Sampled {
        let nf = self.n.max(1) as f64;
        let stddev = (0..3)
            .map(|c| {
                (self.sq[c] as f64 / nf - (self.sum[c] as f64 / nf).powi(2))
                    .max(0.0)
                    .sqrt()
            })
            .fold(0.0, f64::max);
        let mean = std::array::from_fn(|c| (self.sum[c] as f64 / nf).round() as u8);
        Sampled { thumb: self.thumb, stddev, mean, correlation: self.pairs.correlation() }
    }
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
