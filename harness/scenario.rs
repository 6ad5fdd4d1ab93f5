//! The validated scenario model: what one YAML file under `scenarios/` asks for.
//!
//! Read [`Scenario`] first. Everything here is plain data, already checked by
//! [`load`]; the runner never sees raw YAML. Parsing, positions and diagnostics
//! live in the submodules.

pub(crate) mod diag;
pub mod load;
pub(crate) mod positions;
pub(crate) mod raw;

use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use serde::Serialize;

pub use crate::model::ImageFormat;
pub use diag::{Diagnostic, Diagnostics};

/// Default whole-scenario deadline when `timeout:` is absent.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// One scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Path under the scenario folder without the extension, `/`-separated: the trial name.
    pub name: String,
    pub file: PathBuf,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub requires: Vec<String>,
    /// The API-format graph with `set:` overrides applied.
    pub workflow: serde_json::Map<String, serde_json::Value>,
    /// Where the graph came from, for messages (`workflows/x.json` or `inline`).
    pub workflow_source: String,
    pub images: Vec<InputImage>,
    pub mode: Mode,
    pub timeout: Duration,
    pub expect: Expect,
    pub snapshot: SnapshotSpec,
    pub budget: Budget,
    pub repeat: u32,
    /// Mock behaviour name (file stem under `mocks/`), used only against the mock.
    pub mock: Option<String>,
    /// Non-fatal remarks found while loading (e.g. a timeout past result retention).
    pub warnings: Vec<String>,
}

/// An input image for worker-comfyui's `input.images`.
#[derive(Clone, Debug)]
pub struct InputImage {
    pub name: String,
    /// The file to send; empty when `inline` holds the data.
    pub path: PathBuf,
    /// Base64 (or data URI) given inline, as in a RunPod Hub tests.json.
    pub inline: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `POST /run`, then poll `/status`.
    Async,
    /// `POST /runsync?wait=`, then poll if the answer is not final.
    Sync,
}

/// Terminal job states a scenario can expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExpectedStatus {
    Completed,
    Failed,
    TimedOut,
    Cancelled,
}

impl ExpectedStatus {
    pub const ALL: [(&'static str, ExpectedStatus); 4] = [
        ("COMPLETED", ExpectedStatus::Completed),
        ("FAILED", ExpectedStatus::Failed),
        ("TIMED_OUT", ExpectedStatus::TimedOut),
        ("CANCELLED", ExpectedStatus::Cancelled),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

#[derive(Clone, Debug)]
pub struct Expect {
    pub status: ExpectedStatus,
    pub error: Option<ErrorMatch>,
    pub images: ImageExpect,
    pub warnings: WarningPolicy,
}

/// How a FAILED job's error must look: a substring, or `/regex/`.
#[derive(Clone, Debug)]
pub enum ErrorMatch {
    Substring(String),
    Regex(Regex),
}

impl ErrorMatch {
    pub fn matches(&self, text: &str) -> bool {
        match self {
            ErrorMatch::Substring(s) => text.contains(s.as_str()),
            ErrorMatch::Regex(r) => r.is_match(text),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ErrorMatch::Substring(s) => format!("an error containing {s:?}"),
            ErrorMatch::Regex(r) => format!("an error matching /{}/", r.as_str()),
        }
    }
}

/// Inclusive bounds on the number of returned images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountRange {
    pub min: u32,
    pub max: Option<u32>,
}

impl CountRange {
    pub fn contains(&self, n: usize) -> bool {
        n >= self.min as usize && self.max.is_none_or(|m| n <= m as usize)
    }

    pub fn describe(&self) -> String {
        match self.max {
            Some(max) if max == self.min => max.to_string(),
            Some(max) => format!("{}..={}", self.min, max),
            None => format!("at least {}", self.min),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ImageExpect {
    /// Colour family the images must have (`rgb`, `rgba`, `gray`, `gray_alpha`), any bit depth.
    pub color: Option<String>,
    /// Whether the images must (true) or must not (false) have an alpha channel.
    pub alpha: Option<bool>,
    /// Largest accepted encoded size of one image, in bytes.
    pub max_bytes: Option<u64>,
    pub count: CountRange,
    pub format: Option<ImageFormat>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub not_blank: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WarningPolicy {
    /// `output.errors` must be empty (the default).
    Forbid,
    /// `output.errors` are listed in the report but do not fail the scenario.
    Allow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompareMode {
    Off,
    Exact,
    Perceptual,
}

#[derive(Clone, Debug)]
pub struct SnapshotSpec {
    pub compare: CompareMode,
    /// Largest accepted perceptual-hash distance (bits out of 64).
    pub max_distance: u32,
    /// Smallest accepted pixel similarity (1 - RMSE of luma, 1.0 = identical).
    pub min_similarity: f64,
}

/// Default similarity floor: ±2 levels of GPU noise stay above 0.99, while other
/// seeds of the same workflow scored at most 0.895 in our measurements.
pub const DEFAULT_MIN_SIMILARITY: f64 = 0.95;

/// Default perceptual tolerance: GPUs are not bit-exact, but a different seed or model
/// moves a 64-bit gradient hash by far more than this.
pub const DEFAULT_MAX_DISTANCE: u32 = 6;

/// Latency budgets; `None` means not checked.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    /// RunPod `delayTime`: queue plus cold start.
    pub queue: Option<Duration>,
    /// RunPod `executionTime`.
    pub execution: Option<Duration>,
    /// Submission to result observed by the harness (wall clock).
    pub total: Option<Duration>,
}
