//! Raw serde shapes of a scenario file, exactly as written; validation into the
//! model happens in `load`. Unknown keys are refused here (`deny_unknown_fields`)
//! and turned into "did you mean" diagnostics by the loader.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// A scenario file (format v1). See README.md, "Scenario format".
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "endpoint-harness scenario")]
pub(crate) struct RawScenario {
    /// Shown in reports.
    pub description: Option<String>,
    /// Words for selection: they become the trial kind, so `cargo test --test scenarios -- smoke` selects them.
    pub tags: Option<Vec<String>>,
    /// Capabilities the target must offer (HARNESS_CAPABILITIES); unmet -> ignored with the reason.
    pub requires: Option<Vec<String>>,
    /// API-format workflow: a JSON file path relative to this file, or an inline mapping.
    #[schemars(required, with = "serde_json::Value", extend("anyOf" = [{"type": "string"}, {"type": "object"}]))]
    pub workflow: Option<Value>,
    /// Overrides `"NODE.INPUT": value`; NODE is a node id or its `_meta.title`.
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub set: Option<serde_json::Map<String, Value>>,
    pub images: Option<Vec<RawImage>>,
    /// `async` (/run then poll) or `sync` (/runsync, then poll if not final).
    #[schemars(extend("enum" = ["async", "sync"]))]
    pub mode: Option<String>,
    /// Deadline for each job (humantime, e.g. `10m`); the job is cancelled when it passes.
    pub timeout: Option<String>,
    pub expect: Option<RawExpect>,
    pub snapshot: Option<RawSnapshot>,
    pub budget: Option<RawBudget>,
    /// Run N times in sequence (1-1000); budgets then apply to the p95.
    #[schemars(range(min = 1, max = 1000))]
    pub repeat: Option<u32>,
    /// Mock behaviour (file stem under mocks/) used when the target is the mock.
    pub mock: Option<String>,
    /// The targets this scenario runs against (`mock`, `live`, `local`,
    /// `comfyui`; default all): a demo of a mock behaviour says `[mock]`, so a
    /// live run ignores it, with the reason, instead of paying for a job.
    pub targets: Option<Vec<String>>,
    /// A load run: many jobs at once (runs only with HARNESS_LOAD=1 or --include-ignored).
    pub load: Option<RawLoad>,
    /// Checks that may go unchecked even on CI or with HARNESS_STRICT=1 (still listed in the report).
    #[schemars(extend("items" = {"enum": ["video_pixels", "queue_budget", "execution_budget"]}))]
    pub allow_unchecked: Option<Vec<String>>,
}

/// `load:`: how many jobs, how they arrive, for how long.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoad {
    /// Jobs in flight at once (closed model); with `rate`, the most in flight.
    pub concurrency: Option<u32>,
    /// Arrivals per second (open model): a number, or `"2/s"`, `"30/m"`.
    #[schemars(with = "Option<serde_json::Value>", extend("anyOf" = [{"type": "number", "exclusiveMinimum": 0}, {"type": "string"}]))]
    pub rate: Option<Value>,
    /// Jobs to submit in all.
    pub jobs: Option<u32>,
    /// Keep submitting this long (humantime).
    pub duration: Option<String>,
    /// Grow from one job in flight (or a tenth of the rate) to the full load over this long.
    pub ramp: Option<String>,
    /// `seed`: each job gets the workflow's seeds plus its number.
    #[schemars(extend("enum" = ["seed"]))]
    pub vary: Option<String>,
    /// A job waiting at least this long (`delayTime`) counts as a cold start (default 10s).
    pub cold_start_over: Option<String>,
    /// How often `/health` is sampled for the workers timeline (default 1s).
    pub sample_every: Option<String>,
}

/// A worker-comfyui input image.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawImage {
    pub name: String,
    pub path: String,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    #[schemars(extend("enum" = ["COMPLETED", "FAILED", "TIMED_OUT", "CANCELLED"]))]
    pub status: Option<String>,
    /// With a non-COMPLETED status: a substring, or `/regex/`, the job error must match.
    pub error: Option<String>,
    pub images: Option<RawImageExpect>,
    /// Returned animations (animated WebP, APNG, GIF) and videos (MP4, WebM).
    pub videos: Option<RawVideoExpect>,
    /// `forbid` (default): output.errors must be empty; `allow`: listed only.
    #[schemars(extend("enum" = ["forbid", "allow"]))]
    pub warnings: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawImageExpect {
    /// An integer, or `{min, max}`.
    #[schemars(with = "Option<serde_json::Value>", extend("anyOf" = [{"type": "integer", "minimum": 0}, {"type": "object", "properties": {"min": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 0}}, "additionalProperties": false}]))]
    pub count: Option<Value>,
    #[schemars(extend("enum" = ["png", "jpeg", "jpg", "webp"]))]
    pub format: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Default true: a single-colour image fails (named: all black is the mark of NaNs).
    pub not_blank: Option<bool>,
    /// Default true: an image of pure noise (a broken VAE or sampler) fails.
    pub not_noise: Option<bool>,
    #[schemars(extend("enum" = ["rgb", "rgba", "gray", "gray_alpha"]))]
    pub color: Option<String>,
    pub alpha: Option<bool>,
    /// An integer number of bytes, or a string like "5MB" / "512KiB".
    #[schemars(with = "Option<serde_json::Value>", extend("anyOf" = [{"type": "integer", "minimum": 1}, {"type": "string"}]))]
    pub max_bytes: Option<Value>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVideoExpect {
    /// An integer, or `{min, max}` (default: at least one).
    #[schemars(with = "Option<serde_json::Value>", extend("anyOf" = [{"type": "integer", "minimum": 0}, {"type": "object", "properties": {"min": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 0}}, "additionalProperties": false}]))]
    pub count: Option<Value>,
    #[schemars(extend("enum" = ["mp4", "mov", "webm", "mkv", "gif", "webp", "png"]))]
    pub container: Option<String>,
    /// `h264`, `hevc`, `vp9`, `av1`, `vp8`, ...
    pub codec: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Frames: an integer, or `{min, max}`.
    #[schemars(with = "Option<serde_json::Value>", extend("anyOf" = [{"type": "integer", "minimum": 1}, {"type": "object", "properties": {"min": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 0}}, "additionalProperties": false}]))]
    pub frames: Option<Value>,
    /// Frames per second, matched within 1%.
    pub fps: Option<f64>,
    /// A humantime duration (`5s`, `1500ms`), matched within one frame.
    pub duration: Option<String>,
    /// Default true: sampled frames must not be single-colour.
    pub not_blank: Option<bool>,
    /// `forbid` (default): all sampled frames identical fails; `allow` accepts it.
    #[schemars(extend("enum" = ["forbid", "allow"]))]
    pub frozen: Option<String>,
    /// An integer number of bytes, or a string like "50MB".
    #[schemars(with = "Option<serde_json::Value>", extend("anyOf" = [{"type": "integer", "minimum": 1}, {"type": "string"}]))]
    pub max_bytes: Option<Value>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSnapshot {
    /// `perceptual` (the default once a `snapshot:` block is given), `exact` or `off`.
    #[schemars(extend("enum" = ["off", "exact", "perceptual"]))]
    pub compare: Option<String>,
    /// What a match must be within (defaults from the drift corpus).
    pub pass: Option<RawBand>,
    /// Past this, a mismatch; between `pass` and `fail`, review.
    pub fail: Option<RawBand>,
    /// `report` (default: shown and counted, passes) or `fail`.
    #[schemars(extend("enum" = ["report", "fail"]))]
    pub review: Option<String>,
    /// Extra coarse gate: gradient-hash distance of the thumbnails (bits of 64).
    #[schemars(range(max = 64))]
    pub max_distance: Option<u32>,
    /// Extra coarse gate: thumbnail luma similarity (0..1).
    pub min_similarity: Option<f64>,
    /// Video frames compared (0-based); default first, middle and last.
    pub frames: Option<Vec<u64>>,
    /// The fingerprint fields that make a reference class: references are kept
    /// and verified per class (default `[gpu, comfyui, torch]`; `[]`: one class).
    pub class: Option<Vec<RawClassField>>,
}

/// A fingerprint field a class can be made of.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct RawClassField(
    #[schemars(extend("enum" = ["gpu", "release", "comfyui", "torch", "cuda", "attention", "unet_dtype", "vae_dtype", "vram"]))]
    pub String,
);

/// One band of the tolerant comparison; a figure left out keeps its default.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBand {
    /// PSNR floor in dB.
    pub psnr: Option<f64>,
    /// SSIM floor (0..1).
    pub ssim: Option<f64>,
    /// Ceiling on the worst 16x16 block's mean absolute difference, in levels (0..255).
    pub block: Option<f64>,
}

/// Latency budgets (humantime durations).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBudget {
    pub queue: Option<String>,
    pub execution: Option<String>,
    pub total: Option<String>,
    /// Load runs: the p99 of the total time.
    pub p99: Option<String>,
    /// Load runs: the largest share of jobs that may fail (`"1%"` or `0.01`).
    #[schemars(with = "Option<serde_json::Value>", extend("anyOf" = [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "string"}]))]
    pub error_rate: Option<Value>,
    /// Load runs: the most cold starts.
    pub cold_starts: Option<u32>,
    /// Load runs: the fewest completed jobs per minute (a number, or `"30/m"`).
    #[schemars(with = "Option<serde_json::Value>", extend("anyOf" = [{"type": "number", "exclusiveMinimum": 0}, {"type": "string"}]))]
    pub throughput: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCount {
    pub min: Option<u32>,
    pub max: Option<u32>,
}
