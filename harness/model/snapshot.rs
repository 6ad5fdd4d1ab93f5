//! What happened to each reference snapshot: the outcome, the comparison
//! figures, and the evidence files written for a person to look at.

use serde::{Deserialize, Serialize};

/// Comparison figures for one image (or one sampled video frame).
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Metrics {
    /// Gradient-hash distance in bits (of 64), on the thumbnails.
    pub distance: u32,
    /// 1 - RMSE of luma on a 0..1 scale (1.0 = identical), on the thumbnails: a uniform
    /// sample of the image. SSIM was tried first and rejected: on flat regions ±2
    /// levels of noise drove it to 0.5, below what a different seed scores.
    pub similarity: f64,
    /// Pixels whose channels differ at all (full resolution; computed when needed).
    #[serde(default)]
    pub differing_pixels: Option<u64>,
}

/// What happened to one image's reference.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SnapshotRecord {
    /// The returned image's position.
    pub index: usize,
    /// The reference file.
    pub reference: String,
    /// `matched`, `mismatched`, `missing`, `written`, `updated`.
    pub outcome: String,
    /// The comparison figures, when a comparison was made.
    pub metrics: Option<Metrics>,
    /// Expected image, relative to the reports folder.
    pub expected: Option<String>,
    /// Actual image, relative to the reports folder.
    pub actual: Option<String>,
    /// Diff image, relative to the reports folder.
    pub diff: Option<String>,
    /// Small data-URI thumbnails of expected, actual and diff, for the HTML report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thumbnails: Vec<String>,
}

/// Metrics between repeated runs of one scenario (same seed): the spread a
/// tolerance must absorb.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Calibration {
    /// Image pairs compared.
    pub pairs: usize,
    /// Largest distance seen between runs.
    pub max_distance: u32,
    /// Lowest similarity seen between runs.
    pub min_similarity: f64,
}
