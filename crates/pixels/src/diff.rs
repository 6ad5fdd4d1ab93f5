//! How far apart two images of one size are, in one pass over their pixels:
//! level differences (mean, RMS, largest), the
//! worst 16x16 block (a local change that a global mean dilutes), and the
//! structural similarity (SSIM) of their luma.
//!
//! SSIM is Wang et al.'s formula on 8x8 windows placed every 4 pixels, from
//! per-4x4-cell sums: each window is four cells, so the pixels are read once.
//! (The `image-compare` crate's SSIM took 10-13 ms for one 1024x1024 pair on
//! the project's 2-core machine, rayon on both cores; this whole diff takes
//! about 5.5 ms on one core: `cargo bench --bench snapshot_compare`.)

/// Side of the square blocks whose mean difference [`Diff::block_max`] reports.
pub const BLOCK: usize = 16;
/// Side of the cells SSIM windows are built from; a window is 2x2 cells.
const CELL: usize = 4;

/// Differences between two images of one size, on the 0..255 level scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Diff {
    /// Mean absolute difference over every channel of every pixel.
    pub mean: f64,
    /// Root mean square of the differences.
    pub rmse: f64,
    /// Largest absolute difference of any channel.
    pub max: u8,
    /// The largest mean absolute difference of any 16x16 block (edge blocks
    /// may be smaller).
    pub block_max: f64,
    /// Mean SSIM of the luma over 8x8 windows (1.0 = identical).
    pub ssim: f64,
    /// Pixels with any channel different.
    pub differing_pixels: u64,
}

impl Diff {
    /// Peak signal-to-noise ratio in dB (`f64::INFINITY` when identical).
    pub fn psnr(&self) -> f64 {
        if self.rmse == 0.0 {
            f64::INFINITY
        } else {
            20.0 * (255.0 / self.rmse).log10()
        }
    }
}

/// Per-cell luma sums for SSIM.
#[derive(Clone, Copy, Default)]
struct Cell {
    x: u32,
    y: u32,
    xx: u32,
    yy: u32,
    xy: u32,
    n: u32,
}

impl Cell {
    fn add(&mut self, o: &Cell) {
        self.x += o.x;
        self.y += o.y;
        self.xx += o.xx;
        self.yy += o.yy;
        self.xy += o.xy;
        self.n += o.n;
    }

    fn ssim(&self) -> f64 {
        const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
        const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);
        let n = f64::from(self.n.max(1));
        let (mx, my) = (f64::from(self.x) / n, f64::from(self.y) / n);
        let vx = (f64::from(self.xx) / n - mx * mx).max(0.0);
        let vy = (f64::from(self.yy) / n - my * my).max(0.0);
        let cov = f64::from(self.xy) / n - mx * my;
        ((2.0 * mx * my + C1) * (2.0 * cov + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2))
    }
}

/// BT.601 luma of one pixel, rounded, from its first three channels.
#[inline(always)]
fn luma(p: &[u8]) -> u32 {
    (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500) / 1000
}

/// The differences between `a` and `b`, both `w`x`h` pixels of `stride` bytes
/// (3: RGB8, 4: RGBA8, whose alpha is compared too) packed in rows.
///
/// # Panics
/// If either buffer is not `w * h * stride` bytes, or `stride` is not 3 or 4.
pub fn diff(a: &[u8], b: &[u8], w: usize, h: usize, stride: usize) -> Diff {
    assert!(stride == 3 || stride == 4, "RGB8 or RGBA8");
    assert_eq!(a.len(), w * h * stride, "first image size");
    assert_eq!(b.len(), w * h * stride, "second image size");
    match stride {
        3 => diff_n::<3>(a, b, w, h),
        _ => diff_n::<4>(a, b, w, h),
    }
}

/// Sums of one run of bytes: absolute differences, their squares, the largest.
/// Written as plain loops over `u8` so the compiler vectorises them.
#[inline(always)]
fn byte_sums(a: &[u8], b: &[u8]) -> (u32, u32, u8) {
    let (mut sum, mut sq, mut max) = (0u32, 0u32, 0u8);
    for (x, y) in a.iter().zip(b) {
        let d = x.abs_diff(*y);
        sum += u32::from(d);
        sq += u32::from(d) * u32::from(d);
        max = max.max(d);
    }
    (sum, sq, max)
}

/// One row at a time, in separate passes that each vectorise: the level
/// differences per 16-pixel block run, the pixels that differ, the luma of
/// both rows, then the SSIM cells from the luma.
fn diff_n<const S: usize>(a: &[u8], b: &[u8], w: usize, h: usize) -> Diff {
    let (mut sum, mut sq, mut max, mut differing) = (0u64, 0u64, 0u8, 0u64);
    let blocks_x = w.div_ceil(BLOCK);
    let mut block_sums = vec![0u64; blocks_x];
    let mut block_max = 0f64;
    let cells_x = w / CELL;
    let mut cells: Vec<Cell> = Vec::with_capacity(cells_x * (h / CELL));
    let mut cell_row = vec![Cell::default(); cells_x];
    let (mut la, mut lb) = (vec![0u32; w], vec![0u32; w]);
    let row_len = w * S;
    for y in 0..h {
        let (ra, rb) = (
            &a[y * row_len..(y + 1) * row_len],
            &b[y * row_len..(y + 1) * row_len],
        );
        for (bx, (ca, cb)) in ra.chunks(BLOCK * S).zip(rb.chunks(BLOCK * S)).enumerate() {
            let (s, q, m) = byte_sums(ca, cb);
            block_sums[bx] += u64::from(s);
            sum += u64::from(s);
            sq += u64::from(q);
            max = max.max(m);
        }
        differing += ra
            .chunks_exact(S)
            .zip(rb.chunks_exact(S))
            .filter(|(pa, pb)| pa != pb)
            .count() as u64;
        for ((l, m), (pa, pb)) in la
            .iter_mut()
            .zip(lb.iter_mut())
            .zip(ra.chunks_exact(S).zip(rb.chunks_exact(S)))
        {
            *l = luma(pa);
            *m = luma(pb);
        }
        for (c, (xs, ys)) in cell_row
            .iter_mut()
            .zip(la.chunks_exact(CELL).zip(lb.chunks_exact(CELL)))
        {
            for (&lx, &ly) in xs.iter().zip(ys) {
                c.x += lx;
                c.y += ly;
                c.xx += lx * lx;
                c.yy += ly * ly;
                c.xy += lx * ly;
            }
            c.n += CELL as u32;
        }
        if (y + 1) % BLOCK == 0 || y + 1 == h {
            let rows = (y % BLOCK) + 1;
            for (bx, s) in block_sums.iter_mut().enumerate() {
                let cols = (w - bx * BLOCK).min(BLOCK);
                let n = (rows * cols * S) as f64;
                block_max = block_max.max(*s as f64 / n);
                *s = 0;
            }
        }
        if (y + 1) % CELL == 0 {
            cells.append(&mut cell_row);
            cell_row = vec![Cell::default(); cells_x];
        }
    }
    let n = (w * h * S).max(1) as f64;
    Diff {
        mean: sum as f64 / n,
        rmse: (sq as f64 / n).sqrt(),
        max,
        block_max,
        ssim: ssim(&cells, cells_x, h / CELL, a, b, w, h, S),
        differing_pixels: differing,
    }
}

/// Mean SSIM over the windows of 2x2 cells; an image too small for one window
/// is one window of all its pixels.
#[allow(clippy::too_many_arguments)]
fn ssim(
    cells: &[Cell],
    cx: usize,
    cy: usize,
    a: &[u8],
    b: &[u8],
    w: usize,
    h: usize,
    s: usize,
) -> f64 {
    if cx < 2 || cy < 2 {
        let mut all = Cell::default();
        for (pa, pb) in a.chunks_exact(s).zip(b.chunks_exact(s)).take(w * h) {
            let (lx, ly) = (luma(pa), luma(pb));
            all.add(&Cell {
                x: lx,
                y: ly,
                xx: lx * lx,
                yy: ly * ly,
                xy: lx * ly,
                n: 1,
            });
        }
        return all.ssim();
    }
    let mut total = 0f64;
    for j in 0..cy - 1 {
        for i in 0..cx - 1 {
            let mut win = cells[j * cx + i];
            win.add(&cells[j * cx + i + 1]);
            win.add(&cells[(j + 1) * cx + i]);
            win.add(&cells[(j + 1) * cx + i + 1]);
            total += win.ssim();
        }
    }
    total / ((cx - 1) * (cy - 1)) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: usize, h: usize, f: impl Fn(usize, usize) -> [u8; 3]) -> Vec<u8> {
        let mut out = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                out.extend_from_slice(&f(x, y));
            }
        }
        out
    }

    #[test]
    fn identical_images_are_infinitely_close() {
        let a = image(37, 29, |x, y| [(x * 7) as u8, (y * 5) as u8, (x + y) as u8]);
        let d = diff(&a, &a, 37, 29, 3);
        assert_eq!(
            (d.mean, d.max, d.differing_pixels, d.block_max),
            (0.0, 0, 0, 0.0)
        );
        assert!(d.psnr().is_infinite());
        assert!((d.ssim - 1.0).abs() < 1e-12, "{}", d.ssim);
    }

    #[test]
    fn figures_match_their_definitions() {
        let (w, h) = (40, 24);
        let a = image(w, h, |x, y| [(x * 5) as u8, (y * 9) as u8, 100]);
        // +3 on the red channel of one 16x16 block only.
        let b = image(w, h, |x, y| {
            let r = (x * 5) as u8;
            [if x < 16 && y < 16 { r + 3 } else { r }, (y * 9) as u8, 100]
        });
        let d = diff(&a, &b, w, h, 3);
        let changed = 16 * 16;
        assert_eq!(d.max, 3);
        assert_eq!(d.differing_pixels, changed as u64);
        assert!((d.mean - 3.0 * changed as f64 / (w * h * 3) as f64).abs() < 1e-12);
        assert!((d.rmse - (9.0 * changed as f64 / (w * h * 3) as f64).sqrt()).abs() < 1e-12);
        assert!(
            (d.block_max - 1.0).abs() < 1e-12,
            "one channel of three: {}",
            d.block_max
        );
        assert!(d.ssim < 1.0 && d.ssim > 0.9, "{}", d.ssim);
    }

    #[test]
    fn ssim_falls_with_structure_not_with_a_small_offset() {
        let (w, h) = (64, 64);
        let a = image(w, h, |x, y| {
            let v = ((x / 4 + y / 4) % 2 * 120 + 60) as u8;
            [v, v, v]
        });
        let brighter = image(w, h, |x, y| {
            let v = ((x / 4 + y / 4) % 2 * 120 + 62) as u8;
            [v, v, v]
        });
        let flat = image(w, h, |_, _| [120, 120, 120]);
        let near = diff(&a, &brighter, w, h, 3).ssim;
        let far = diff(&a, &flat, w, h, 3).ssim;
        assert!(near > 0.99, "{near}");
        assert!(far < 0.1, "{far}");
        // Tiny images are one window.
        let t = image(3, 2, |x, _| [x as u8 * 50, 0, 0]);
        assert!((diff(&t, &t, 3, 2, 3).ssim - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rgba_compares_alpha_too() {
        let a = vec![10u8, 20, 30, 255, 10, 20, 30, 255];
        let mut b = a.clone();
        b[7] = 0;
        let d = diff(&a, &b, 2, 1, 4);
        assert_eq!(d.max, 255);
        assert_eq!(d.differing_pixels, 1);
    }
}
