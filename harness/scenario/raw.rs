//! Raw serde shapes of a scenario file, exactly as written; validation into the
//! model happens in `load`. Unknown keys are refused here (`deny_unknown_fields`)
//! and turned into "did you mean" diagnostics by the loader.

use serde::Deserialize;
use serde_yaml_ng::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub requires: Option<Vec<String>>,
    /// A path (string) or an inline mapping.
    pub workflow: Option<Value>,
    /// `NODE.INPUT` -> value; kept as a mapping to preserve order and positions.
    pub set: Option<serde_yaml_ng::Mapping>,
    pub images: Option<Vec<RawImage>>,
    pub mode: Option<String>,
    pub timeout: Option<String>,
    pub expect: Option<RawExpect>,
    pub snapshot: Option<RawSnapshot>,
    pub budget: Option<RawBudget>,
    pub repeat: Option<u32>,
    pub mock: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImage {
    pub name: String,
    pub path: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    pub status: Option<String>,
    pub error: Option<String>,
    pub images: Option<RawImageExpect>,
    pub warnings: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImageExpect {
    /// An integer, or `{min, max}`.
    pub count: Option<Value>,
    pub format: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub not_blank: Option<bool>,
    pub color: Option<String>,
    pub alpha: Option<bool>,
    /// An integer number of bytes, or a string like "5MB" / "512KiB".
    pub max_bytes: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSnapshot {
    pub compare: Option<String>,
    pub max_distance: Option<u32>,
    pub min_similarity: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBudget {
    pub queue: Option<String>,
    pub execution: Option<String>,
    pub total: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCount {
    pub min: Option<u32>,
    pub max: Option<u32>,
}
