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
