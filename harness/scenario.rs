//! The validated scenario model: what one YAML file under `scenarios/` asks for.
//!
//! Read [`Scenario`] first. Everything here is plain data, already checked by
//! [`parse::load`]; the runner never sees raw YAML. Parsing, positions and diagnostics
//! live in the submodules.

pub(crate) mod diag;
pub mod parse;
pub(crate) mod positions;
pub(crate) mod raw;
mod yaml;
internal!(workflow);

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
    /// The scenario file.
    pub file: PathBuf,
    /// `description:`.
    pub description: Option<String>,
    /// `tags:` (the trial kind).
    pub tags: Vec<String>,
    /// `requires:`: capabilities the target must offer.
    pub requires: Vec<String>,
    /// The API-format graph with `set:` overrides applied.
    pub workflow: serde_json::Map<String, serde_json::Value>,
    /// Where the graph came from, for messages (`workflows/x.json` or `inline`).
    pub workflow_source: String,
    /// `images:`: files sent as worker-comfyui `input.images`.
    pub images: Vec<InputImage>,
    /// `mode:`.
    pub mode: Mode,
    /// `timeout:`: the deadline of each job.
    pub timeout: Duration,
    /// `expect:`.
    pub expect: Expect,
    /// `snapshot:`.
    pub snapshot: SnapshotSpec,
    /// `budget:`.
    pub budget: Budget,
    /// `repeat:`: jobs run in sequence.
    pub repeat: u32,
    /// Mock behaviour name (file stem under `mocks/`), used only against the mock.
    pub mock: Option<String>,
    /// `targets:`: the kinds of target it runs against (empty: every one).
    pub targets: Vec<String>,
    /// `load:`: a load run instead of `repeat` jobs in sequence.
    pub load: Option<Load>,
    /// Non-fatal remarks found while loading (e.g. a timeout past result retention).
    pub warnings: Vec<String>,
    /// `allow_unchecked:`: checks that may go unchecked even on CI or with
    /// `HARNESS_STRICT=1` (the report still lists them).
    pub allow_unchecked: Vec<Unchecked>,
}

/// A check that cannot always run (`allow_unchecked:` names them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unchecked {
    /// The pixels of a video no decoder here reads (blank, frozen, frame snapshots).
    VideoPixels,
    /// The queue budget, on a target that does not report `delayTime`.
    QueueBudget,
    /// The execution budget, on a target that does not report `executionTime`.
    ExecutionBudget,
}

impl Unchecked {
    /// Every value, with its YAML spelling.
    pub const ALL: [(Unchecked, &'static str); 3] = [
        (Unchecked::VideoPixels, "video_pixels"),
        (Unchecked::QueueBudget, "queue_budget"),
        (Unchecked::ExecutionBudget, "execution_budget"),
    ];

    /// The YAML spelling.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(u, _)| *u == self)
            .map(|(_, s)| *s)
            .expect("listed")
    }
}

/// An input image for worker-comfyui's `input.images`.
#[derive(Clone, Debug)]
pub struct InputImage {
    /// The file name the workflow's LoadImage uses.
    pub name: String,
    /// The file to send; empty when `inline` holds the data.
    pub path: PathBuf,
    /// Base64 (or data URI) given inline, as in a RunPod Hub tests.json.
    pub inline: Option<String>,
}

/// How a job is submitted.
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
    /// The job completes (the default).
    Completed,
    /// The job fails (a negative scenario: a missing model, an unknown node).
    Failed,
    /// The job times out on the endpoint.
    TimedOut,
    /// The job is cancelled.
    Cancelled,
}

impl ExpectedStatus {
    /// Every expectable status with its name in scenario files.
    pub const ALL: [(&'static str, ExpectedStatus); 4] = [
        ("COMPLETED", ExpectedStatus::Completed),
        ("FAILED", ExpectedStatus::Failed),
        ("TIMED_OUT", ExpectedStatus::TimedOut),
        ("CANCELLED", ExpectedStatus::Cancelled),
    ];

    /// The name in scenario files (`COMPLETED`).
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// What a scenario expects of its job (`expect:`).
#[derive(Clone, Debug)]
pub struct Expect {
    /// The terminal status.
    pub status: ExpectedStatus,
    /// With a non-COMPLETED status: what the job's error must say.
    pub error: Option<ErrorMatch>,
    /// What the returned still images must be.
    pub images: ImageExpect,
    /// What the returned animations and videos must be (`expect.videos`), when given.
    pub videos: Option<VideoExpect>,
    /// Whether `output.errors` may hold warnings.
    pub warnings: WarningPolicy,
}

/// What returned animations and videos must be (`expect.videos`).
#[derive(Clone, Debug)]
pub struct VideoExpect {
    /// How many (default: at least one).
    pub count: CountRange,
    /// `mp4`, `mov`, `webm`, `mkv`, `gif`, `webp` or `png`.
    pub container: Option<String>,
    /// `h264`, `hevc`, `vp9`, `av1`, ...
    pub codec: Option<String>,
    /// Width in pixels.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// Frames, exact or a range.
    pub frames: Option<CountRange>,
    /// Frames per second, within 1%.
    pub fps: Option<f64>,
    /// Duration, within one frame.
    pub duration: Option<Duration>,
    /// Sampled frames must not be single-colour (default true).
    pub not_blank: bool,
    /// Whether all sampled frames may be the same picture (default forbid).
    pub frozen: FrozenPolicy,
    /// Largest accepted file size in bytes.
    pub max_bytes: Option<u64>,
}

/// Whether a video whose sampled frames are all identical passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrozenPolicy {
    /// It fails (the default: a video that does not move is broken).
    Forbid,
    /// It passes (a deliberately still clip).
    Allow,
}

/// How a FAILED job's error must look: a substring, or `/regex/`.
#[derive(Clone, Debug)]
pub enum ErrorMatch {
    /// The error contains this text.
    Substring(String),
    /// The error matches this regex (written `/…/`).
    Regex(Regex),
}

impl ErrorMatch {
    /// Whether `text` satisfies it.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            ErrorMatch::Substring(s) => text.contains(s.as_str()),
            ErrorMatch::Regex(r) => r.is_match(text),
        }
    }

    /// How it reads in a failure message.
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
    /// Fewest accepted.
    pub min: u32,
    /// Most accepted (None: no upper bound).
    pub max: Option<u32>,
}

impl CountRange {
    /// Whether `n` is inside.
    pub fn contains(&self, n: usize) -> bool {
        n >= self.min as usize && self.max.is_none_or(|m| n <= m as usize)
    }

    /// `4`, `1..=4`, `at least 1`.
    pub fn describe(&self) -> String {
        match self.max {
            Some(max) if max == self.min => max.to_string(),
            Some(max) => format!("{}..={}", self.min, max),
            None => format!("at least {}", self.min),
        }
    }
}

/// What the returned still images must be (`expect.images`).
#[derive(Clone, Debug)]
pub struct ImageExpect {
    /// Colour family the images must have (`rgb`, `rgba`, `gray`, `gray_alpha`), any bit depth.
    pub color: Option<String>,
    /// Whether the images must (true) or must not (false) have an alpha channel.
    pub alpha: Option<bool>,
    /// Largest accepted encoded size of one image, in bytes.
    pub max_bytes: Option<u64>,
    /// How many images.
    pub count: CountRange,
    /// Their format (sniffed from the bytes).
    pub format: Option<ImageFormat>,
    /// Their width in pixels.
    pub width: Option<u32>,
    /// Their height in pixels.
    pub height: Option<u32>,
    /// Whether a single-colour image fails.
    pub not_blank: bool,
    /// Whether an image of pure noise (uncorrelated neighbouring pixels) fails.
    pub not_noise: bool,
}

/// What `output.errors` may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WarningPolicy {
    /// `output.errors` must be empty (the default).
    Forbid,
    /// `output.errors` are listed in the report but do not fail the scenario.
    Allow,
}

/// How returned images are compared with references.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompareMode {
    /// Not compared (no `snapshot:` block, or `compare: off`).
    Off,
    /// Decoded pixels must be identical.
    Exact,
    /// The tolerant comparison (the default of a `snapshot:` block): full-size
    /// PSNR, SSIM and the worst block's difference, in three bands (pass,
    /// review, fail).
    Perceptual,
}

/// How close a returned image must be to its reference, per figure: at least
/// `psnr` dB, at least `ssim`, and no 16x16 block differing by more than
/// `block` levels on average.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    /// Peak signal-to-noise ratio floor, in dB.
    pub psnr: f64,
    /// Structural similarity floor (luma, 8x8 windows).
    pub ssim: f64,
    /// Ceiling on the mean absolute difference of the worst 16x16 block, in levels.
    pub block: f64,
}

/// The two bands of the tolerant comparison: within `pass` an image matches;
/// beyond `fail` it mismatches; in between it is flagged for review.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// What a match must be within.
    pub pass: Band,
    /// Past this, a mismatch.
    pub fail: Band,
}

/// The default bands, chosen on the drift corpus of real diffusion outputs
/// (`tests/fixtures/drift/`, the docs' snapshot page gives the figures).
///
/// On that corpus (CPU, SD1.5-shaped checkpoints), the benign pairs (reruns,
/// attention implementations, thread counts, a bf16 VAE, batch position,
/// re-encoding) stay at or above 50.6 dB, SSIM 0.9997 and a worst block of
/// 0.69 levels; the closest regression (scheduler normal -> karras) reaches
/// 47.3 dB and every other one 43.7 dB or less (cfg +-0.5: 38-41.5 dB). PSNR
/// separates them: the pass line sits 1.1 dB under the worst benign pair, the
/// fail line 1.2 dB over the closest regression, and the 1 dB between is the
/// review band. SSIM and the worst block are looser: their values move with
/// the picture while PSNR does not (the bf16-VAE pair scaled to 1024x1024
/// gives SSIM 0.9990 and a 1.15-level block at 50.6 dB; one-level drift over
/// flat areas drops SSIM to about 0.995 at 52 dB); they catch structural and
/// local damage PSNR dilutes.
pub const DEFAULT_TOLERANCE: Tolerance = Tolerance {
    pass: Band {
        psnr: 49.5,
        ssim: 0.99,
        block: 1.5,
    },
    fail: Band {
        psnr: 48.5,
        ssim: 0.97,
        block: 4.0,
    },
};

/// What an image in the review band does to the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewPolicy {
    /// Shown with its evidence and counted, but the scenario passes (unless
    /// `HARNESS_STRICT=1`).
    Report,
    /// The scenario fails, as on a mismatch.
    Fail,
}

/// Reference comparison settings (`snapshot:`).
#[derive(Clone, Debug)]
pub struct SnapshotSpec {
    /// The comparison.
    pub compare: CompareMode,
    /// The bands of the tolerant comparison.
    pub tolerance: Tolerance,
    /// What the review band does.
    pub review: ReviewPolicy,
    /// Coarse extra gate, only when given: largest gradient-hash distance of the
    /// thumbnails (bits out of 64).
    pub max_distance: Option<u32>,
    /// Coarse extra gate, only when given: smallest thumbnail luma similarity
    /// (1 - RMSE, 1.0 = identical).
    pub min_similarity: Option<f64>,
    /// Which frames of a video are compared (0-based); empty: first, middle, last.
    pub frames: Vec<u64>,
    /// The fingerprint fields that make a reference class (default GPU model,
    /// ComfyUI version, PyTorch version); empty: one class for every job.
    pub class: Vec<crate::model::ClassField>,
}

impl SnapshotSpec {
    /// No comparison (a scenario without a `snapshot:` block).
    pub fn off() -> Self {
        SnapshotSpec {
            compare: CompareMode::Off,
            ..Self::tolerant()
        }
    }

    /// The tolerant comparison with the default bands (`snapshot: {}`).
    pub fn tolerant() -> Self {
        SnapshotSpec {
            compare: CompareMode::Perceptual,
            tolerance: DEFAULT_TOLERANCE,
            review: ReviewPolicy::Report,
            max_distance: None,
            min_similarity: None,
            frames: Vec::new(),
            class: crate::model::ClassField::DEFAULT.to_vec(),
        }
    }
}

/// Latency budgets; `None` means not checked.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    /// RunPod `delayTime`: queue plus cold start.
    pub queue: Option<Duration>,
    /// RunPod `executionTime`.
    pub execution: Option<Duration>,
    /// Submission to result observed by the harness (wall clock).
    pub total: Option<Duration>,
    /// Load runs: the p99 of the total time.
    pub p99: Option<Duration>,
    /// Load runs: the largest share of jobs that may fail (0..1).
    pub error_rate: Option<f64>,
    /// Load runs: the most cold starts.
    pub cold_starts: Option<u32>,
    /// Load runs: the fewest completed jobs per minute.
    pub throughput: Option<f64>,
}

/// A load run (`load:`): many jobs of the scenario's workflow at once.
#[derive(Clone, Debug, PartialEq)]
pub struct Load {
    /// Jobs in flight at once (closed model), or the cap with `rate`.
    pub concurrency: u32,
    /// Arrivals per second (open model), instead of keeping `concurrency` in flight.
    pub rate: Option<f64>,
    /// Jobs to submit in all (with `duration`, whichever comes first).
    pub jobs: Option<u32>,
    /// How long to keep submitting.
    pub duration: Option<Duration>,
    /// Growing to the full load over this long.
    pub ramp: Option<Duration>,
    /// Each job's seeds are the workflow's plus the job's number.
    pub vary_seed: bool,
    /// A `delayTime` at least this long counts as a cold start.
    pub cold_start_over: Duration,
    /// How often `/health` is sampled.
    pub sample_every: Duration,
}
