//! How alike neighbouring pixels are: the correlation of the luma of
//! horizontally and vertically adjacent pixels among those a sampling grid
//! reads. A picture (photograph, render, diffusion output) scores near 1;
//! pure noise, what a broken VAE or sampler returns, scores near 0.

/// Running sums over pairs of adjacent sampled pixels, fed one row at a time.
#[derive(Clone, Debug, Default)]
pub struct Pairs {
    n: u64,
    a: u64,
    b: u64,
    aa: u64,
    bb: u64,
    ab: u64,
    /// The luma of the previous row's sampled pixels, by sampled column, and
    /// that row's number.
    prev: Vec<u16>,
    prev_y: Option<usize>,
    cur: Vec<u16>,
}

#[inline(always)]
fn luma(p: &[u8], rgb: [usize; 3]) -> u16 {
    ((299 * u32::from(p[rgb[0]]) + 587 * u32::from(p[rgb[1]]) + 114 * u32::from(p[rgb[2]]) + 500)
        / 1000) as u16
}

impl Pairs {
    #[inline(always)]
    fn pair(&mut self, x: u16, y: u16) {
        let (x, y) = (u64::from(x), u64::from(y));
        self.n += 1;
        self.a += x;
        self.b += y;
        self.aa += x * x;
        self.bb += y * y;
        self.ab += x * y;
    }

    /// Feeds source row `y` (`stride` bytes a pixel, red, green and blue at
    /// `rgb`), of which the pixels `starts[i] .. starts[i] + bw` are sampled.
    /// Sampled pixels that touch (across, and down from the previous row fed
    /// when it is `y - 1`) are paired.
    pub fn row(&mut self, y: usize, row: &[u8], stride: usize, rgb: [usize; 3], grid: crate::Grid) {
        self.cur.clear();
        let mut last: Option<(usize, u16)> = None;
        for &sx in grid.starts {
            let end = (sx + grid.bw).min(grid.w);
            for x in sx..end {
                let l = luma(&row[x * stride..x * stride + stride], rgb);
                if let Some((px, pl)) = last {
                    if px + 1 == x {
                        self.pair(pl, l);
                    }
                }
                last = Some((x, l));
                self.cur.push(l);
            }
        }
        if self.prev_y.is_some_and(|p| p + 1 == y) && self.prev.len() == self.cur.len() {
            for i in 0..self.cur.len() {
                let (u, d) = (self.prev[i], self.cur[i]);
                self.pair(u, d);
            }
        }
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.prev_y = Some(y);
    }

    /// The correlation of paired lumas (-1..1); None with too few pairs or no
    /// variation (a single-colour image is blank, not noise).
    pub fn correlation(&self) -> Option<f64> {
        if self.n < 16 {
            return None;
        }
        let n = self.n as f64;
        let (ma, mb) = (self.a as f64 / n, self.b as f64 / n);
        let va = self.aa as f64 / n - ma * ma;
        let vb = self.bb as f64 / n - mb * mb;
        if va < 1.0 || vb < 1.0 {
            return None;
        }
        Some((self.ab as f64 / n - ma * mb) / (va * vb).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn correlation(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> Option<f64> {
        let starts: Vec<usize> = (0..w).collect();
        let grid = crate::Grid {
            w,
            starts: &starts,
            bw: 1,
        };
        let mut p = Pairs::default();
        for y in 0..h {
            let row: Vec<u8> = (0..w).flat_map(|x| [f(x, y); 3]).collect();
            p.row(y, &row, 3, [0, 1, 2], grid);
        }
        p.correlation()
    }

    #[test]
    fn gradients_correlate_and_noise_does_not() {
        let smooth = correlation(64, 64, |x, y| (x * 2 + y) as u8).unwrap();
        assert!(smooth > 0.95, "{smooth}");
        let hashed = correlation(64, 64, |x, y| {
            let mut z = (x as u64) << 32 | y as u64;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z >> 56) as u8
        })
        .unwrap();
        assert!(hashed.abs() < 0.1, "{hashed}");
        assert_eq!(
            correlation(64, 64, |_, _| 7),
            None,
            "flat is blank, not noise"
        );
    }
}
