//! What happened to each reference snapshot: the outcome, the comparison
//! figures, and the evidence files written for a person to look at.

use serde::{Deserialize, Serialize};

/// Comparison figures for one image (or one sampled video frame).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Metrics {
    /// Gradient-hash distance in bits (of 64), on the thumbnails.
    pub distance: u32,
    /// 1 - RMSE of luma on a 0..1 scale (1.0 = identical), on the thumbnails.
    #[serde(deserialize_with = "super::lenient::f64_or_nan")]
    #[schemars(with = "Option<f64>")]
    pub similarity: f64,
    /// Pixels whose channels differ at all (full resolution; computed when needed).
    #[serde(default)]
    pub differing_pixels: Option<u64>,
    /// Peak signal-to-noise ratio in dB at full size (100 = identical pixels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psnr: Option<f64>,
    /// Mean structural similarity of the luma at full size (1.0 = identical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssim: Option<f64>,
    /// Mean absolute difference over every channel, in levels (0..255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_diff: Option<f64>,
    /// Largest absolute difference of any channel, in levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_diff: Option<u8>,
    /// Mean absolute difference of the worst 16x16 block, in levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_diff: Option<f64>,
    /// PSNR of the two images averaged down to 8x8 cells, in dB: the layout and
    /// colours, which GPU drift leaves alone (the cross-class judgment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coarse_psnr: Option<f64>,
    /// Correlation of the 8x8 cells' luma (1 = the same light and dark places).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coarse_corr: Option<f64>,
}

/// What happened to one image's reference.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SnapshotRecord {
    /// The returned image's position.
    pub index: usize,
    /// The reference file.
    pub reference: String,
    /// `matched`, `review` (between the pass and fail bands), `mismatched`,
    /// `missing`, `written`, `updated`.
    pub outcome: String,
    /// The reference class of the job (`gpu=NVIDIA H100; comfyui=0.3.64; torch=2.11.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The class of the reference judged against, when it is another class
    /// (no reference of the job's own class yet): the cross-class judgment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub across: Option<String>,
    /// The accepted variant the image was judged against (`variants/<name>/`);
    /// none: the default references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Why the image is in review or mismatched (`psnr 43.1 dB below 46`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
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
    #[serde(deserialize_with = "super::lenient::f64_or_nan")]
    #[schemars(with = "Option<f64>")]
    pub min_similarity: f64,
    /// Lowest PSNR seen between runs, in dB (100 = every run identical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_psnr: Option<f64>,
    /// Lowest SSIM seen between runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ssim: Option<f64>,
    /// Largest worst-block difference seen between runs, in levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_block_diff: Option<f64>,
}
