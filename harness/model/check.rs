//! What a check found: one failed expectation, and what was learnt about one
//! returned file (format, size, colour, blankness, or why it could not be read).

use std::fmt;

use serde::{Deserialize, Serialize};

/// One failed expectation, with what was expected and what was found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckFailure {
    /// What was checked (`image 0 (x.png) width`).
    pub check: String,
    /// What the scenario asked for.
    pub expected: String,
    /// What the endpoint gave.
    pub actual: String,
}

impl CheckFailure {
    /// A failure of `check`: `expected`, but `actual`.
    pub fn new(
        check: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        CheckFailure {
            check: check.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

/// Runs of three or more failures alike but for their numbers (image 3, 4,
/// ... 119 not fetched) become one, saying how many and up to which: a
/// hostile output of hundreds of items gives one line, not hundreds.
pub fn collapse(failures: Vec<CheckFailure>) -> Vec<CheckFailure> {
    fn shape(f: &CheckFailure) -> String {
        let mut s = String::new();
        for part in [&f.check, &f.expected, &f.actual] {
            let mut digits = false;
            for c in part.chars() {
                if c.is_ascii_digit() {
                    if !digits {
                        s.push('#');
                    }
                    digits = true;
                } else {
                    digits = false;
                    s.push(c);
                }
            }
            s.push('\u{1f}');
        }
        s
    }
    let mut out: Vec<CheckFailure> = Vec::new();
    let mut run: Vec<CheckFailure> = Vec::new();
    let flush = |run: &mut Vec<CheckFailure>, out: &mut Vec<CheckFailure>| {
        if run.len() >= 3 {
            let last = run.last().map(|f| f.check.clone()).unwrap_or_default();
            let mut first = run.swap_remove(0);
            first.check = format!(
                "{} (and {} more alike, up to {last})",
                first.check,
                run.len()
            );
            out.push(first);
        } else {
            out.append(run);
        }
        run.clear();
    };
    for f in failures {
        if run.last().is_some_and(|l| shape(l) != shape(&f)) {
            flush(&mut run, &mut out);
        }
        run.push(f);
    }
    flush(&mut run, &mut out);
    out
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.check, self.expected, self.actual
        )
    }
}

/// Still-image formats (sniffed from the bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// PNG (also APNG when animated).
    Png,
    /// JPEG.
    Jpeg,
    /// WebP (also animated WebP).
    Webp,
    /// GIF (one frame or animated).
    Gif,
}

impl ImageFormat {
    /// The lower-case name (`png`).
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Webp => "webp",
            ImageFormat::Gif => "gif",
        }
    }

    /// The usual file extension (`jpg` for JPEG).
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            other => other.as_str(),
        }
    }
}

/// What was learnt about one returned image.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImageInfo {
    /// Position in the worker's output list (0-based).
    pub index: usize,
    /// The file name the worker gave.
    pub filename: String,
    /// Encoded size in bytes.
    pub bytes: usize,
    /// Format sniffed from the bytes.
    pub format: Option<ImageFormat>,
    /// Decoded width in pixels.
    pub width: Option<u32>,
    /// Decoded height in pixels.
    pub height: Option<u32>,
    /// Decoded colour type (`rgb8`, `rgba8`, `gray8`, `gray_alpha8`, `rgb16`, ...).
    pub color: Option<String>,
    /// Largest per-channel standard deviation of the pixels (0-255 scale).
    pub stddev: Option<f64>,
    /// Mean colour of the sampled pixels (`#rrggbb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_color: Option<String>,
    /// Luma correlation of neighbouring pixels: near 1 for a picture, near 0
    /// for pure noise (none for a single-colour image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbour_correlation: Option<f64>,
    /// Why the image could not be read, if it could not.
    pub problem: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_alike_but_for_their_numbers_become_one_line() {
        let mut v: Vec<CheckFailure> = (0..120)
            .map(|i| {
                CheckFailure::new(
                    format!("image {i} (x_{i}.png)"),
                    "a readable image",
                    "not fetched: past the cap of 64 items",
                )
            })
            .collect();
        v.insert(0, CheckFailure::new("image count", "1", "120"));
        v.push(CheckFailure::new("warnings", "none", "1"));
        let c = collapse(v);
        assert_eq!(c.len(), 3, "{c:?}");
        assert_eq!(
            c[1].check,
            "image 0 (x_0.png) (and 119 more alike, up to image 119 (x_119.png))"
        );
        let two = vec![
            CheckFailure::new("image 1", "a", "b"),
            CheckFailure::new("image 2", "a", "b"),
        ];
        assert_eq!(collapse(two.clone()), two, "two stay two");
    }
}
