//! Named mock behaviours: one YAML file under `mocks/` each (`mocks/cold-start.yaml`
//! is behaviour `cold-start`). A behaviour says how long a job queues and runs (as
//! RunPod would report it), how it ends, what its output looks like, and which
//! HTTP faults to inject on which requests.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

/// What a job's `output` looks like when it completes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputShape {
    /// worker-comfyui >= 5.0: `images[]` of base64.
    #[default]
    Images,
    /// `images[]` of `type: s3_url`, served by the mock itself.
    S3Url,
    /// Pre-5.0 `{message, status: success}`.
    Message,
    /// COMPLETED without `output` (result upload failed).
    None,
    /// `{status: success_no_images, images: []}`.
    SuccessNoImages,
}

/// How the returned pixels look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    /// Deterministic pattern from the workflow's seed and prompt.
    #[default]
    Render,
    /// A black frame, as a safety filter returns.
    Black,
    /// The render plus small random noise per job (GPU nondeterminism).
    Drift,
}

/// Terminal status a behaviour ends in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum FinalStatus {
    #[default]
    #[serde(rename = "COMPLETED")]
    Completed,
    #[serde(rename = "FAILED")]
    Failed,
    #[serde(rename = "TIMED_OUT")]
    TimedOut,
    #[serde(rename = "CANCELLED")]
    Cancelled,
}

impl FinalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FinalStatus::Completed => "COMPLETED",
            FinalStatus::Failed => "FAILED",
            FinalStatus::TimedOut => "TIMED_OUT",
            FinalStatus::Cancelled => "CANCELLED",
        }
    }
}

/// Which requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    Run,
    Runsync,
    Status,
    StatusSync,
    Cancel,
    Health,
    Download,
    Retry,
    PurgeQueue,
    Any,
}

/// The kind of a fault, as written in `respond:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultType {
    Http,
    RateLimit,
    Reset,
    Slow,
    MalformedJson,
    TruncatedBase64,
    InvalidBase64,
    CorruptPng,
    HugePng,
}

/// What a faulty answer is, resolved from a [`Fault`]'s fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// An HTTP status with a short body.
    Http { status: u16, body: Option<String> },
    /// 429 with `Retry-After` seconds.
    RateLimit { retry_after: u64 },
    /// The connection drops before the answer is complete.
    Reset,
    /// The answer comes after this long (real time, not scaled).
    Slow { delay: Duration },
    /// A 200 whose body is not JSON.
    MalformedJson,
    /// The image's base64 is cut short.
    TruncatedBase64,
    /// The image's data is not base64 at all.
    InvalidBase64,
    /// The PNG bytes are damaged after the header.
    CorruptPng,
    /// A PNG header declaring 100000x100000 pixels.
    HugePng,
}

/// One fault rule: on `on` requests numbered `nth` (1-based, counted per job for
/// job routes and per endpoint otherwise; empty = every request), answer `respond`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    #[serde(default = "any_route")]
    pub on: Route,
    #[serde(default)]
    pub nth: Vec<u32>,
    pub respond: FaultType,
    /// HTTP status for `respond: http` (default 500).
    #[serde(default)]
    pub status: Option<u16>,
    /// Body for `respond: http`.
    #[serde(default)]
    pub body: Option<String>,
    /// Seconds for `respond: rate_limit` (default 1).
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Delay for `respond: slow` (default 5s).
    #[serde(default)]
    pub delay: Option<String>,
    #[serde(skip)]
    pub(crate) kind: Option<FaultKind>,
}

fn any_route() -> Route {
    Route::Any
}

impl Fault {
    fn resolve(&mut self) -> Result<(), String> {
        self.kind = Some(match self.respond {
            FaultType::Http => FaultKind::Http {
                status: self.status.unwrap_or(500),
                body: self.body.clone(),
            },
            FaultType::RateLimit => FaultKind::RateLimit {
                retry_after: self.retry_after.unwrap_or(1),
            },
            FaultType::Reset => FaultKind::Reset,
            FaultType::Slow => {
                let text = self.delay.as_deref().unwrap_or("5s");
                FaultKind::Slow {
                    delay: humantime::parse_duration(text)
                        .map_err(|e| format!("faults: slow delay `{text}`: {e}"))?,
                }
            }
            FaultType::MalformedJson => FaultKind::MalformedJson,
            FaultType::TruncatedBase64 => FaultKind::TruncatedBase64,
            FaultType::InvalidBase64 => FaultKind::InvalidBase64,
            FaultType::CorruptPng => FaultKind::CorruptPng,
            FaultType::HugePng => FaultKind::HugePng,
        });
        if let Some(s) = self.status.filter(|s| !(100..=599).contains(s)) {
            return Err(format!("faults: status {s} is not an HTTP status"));
        }
        Ok(())
    }

    /// The resolved fault.
    pub fn kind(&self) -> &FaultKind {
        self.kind
            .as_ref()
            .expect("faults are resolved when the behaviour is parsed")
    }
}

/// A parsed behaviour file.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    #[serde(default)]
    pub description: Option<String>,
    /// Reported `delayTime` (queue plus cold start), a humantime duration.
    #[serde(default = "default_queue")]
    pub queue: String,
    /// Reported `executionTime`.
    #[serde(default = "default_execution")]
    pub execution: String,
    /// The job never leaves IN_QUEUE and `/health` shows no workers.
    #[serde(default)]
    pub stuck: bool,
    #[serde(default)]
    pub status: FinalStatus,
    /// The state reported while the job runs: `IN_PROGRESS` (default) or `RUNNING`
    /// (documented by RunPod, never seen from its SDKs; clients must not treat it as final).
    #[serde(default = "default_running")]
    pub running_state: String,
    /// The job's `error` when it FAILs.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub output: OutputShape,
    #[serde(default)]
    pub image: ImageKind,
    /// `output.errors[]` warnings.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Checkpoints the worker has; a CheckpointLoaderSimple asking for another fails
    /// validation with worker-comfyui's message. Empty: any name is accepted.
    #[serde(default)]
    pub models: Vec<String>,
    /// Capabilities a scenario may `require` (read from `default.yaml` for the mock target).
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// A recorded job (`HARNESS_RECORD=1`): its images are returned instead of rendered ones.
    #[serde(default)]
    pub replay: Option<Replay>,
    #[serde(skip)]
    pub(crate) replay_images: Vec<(String, Vec<u8>)>,
    #[serde(skip)]
    pub(crate) queue_d: Duration,
    #[serde(skip)]
    pub(crate) execution_d: Duration,
}

/// What a recording replays.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// The images as returned, in order: the worker's filename and the file (relative to mocks/).
    #[serde(default)]
    pub images: Vec<ReplayImage>,
    /// The status timeline seen while recording (for the record; timing comes from queue/execution).
    #[serde(default)]
    pub timeline: Vec<crate::model::Seen>,
    /// Where and when it was recorded.
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayImage {
    pub filename: String,
    pub file: String,
}

fn default_running() -> String {
    "IN_PROGRESS".into()
}

fn default_queue() -> String {
    "800ms".into()
}

fn default_execution() -> String {
    "3s".into()
}

impl Default for Behaviour {
    fn default() -> Self {
        let mut b: Behaviour = serde_yaml_ng::from_str("{}").expect("empty behaviour parses");
        b.finish().expect("defaults are valid");
        b
    }
}

impl Behaviour {
    /// Parses a behaviour from YAML text; errors name the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut b: Behaviour = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
        b.finish()?;
        Ok(b)
    }

    /// Loads a recording's image files (paths relative to the mocks folder).
    fn with_replay_images(mut self, dir: &Path) -> Result<Self, String> {
        if let Some(r) = &self.replay {
            for img in &r.images {
                if img.file.split('/').any(|s| s == "..") {
                    return Err(format!(
                        "replay image `{}` must stay inside the mocks folder",
                        img.file
                    ));
                }
                let bytes = std::fs::read(dir.join(&img.file))
                    .map_err(|e| format!("replay image `{}`: {e}", img.file))?;
                self.replay_images.push((img.filename.clone(), bytes));
            }
        }
        Ok(self)
    }

    fn finish(&mut self) -> Result<(), String> {
        self.queue_d = humantime::parse_duration(&self.queue)
            .map_err(|e| format!("queue: `{}`: {e}", self.queue))?;
        self.execution_d = humantime::parse_duration(&self.execution)
            .map_err(|e| format!("execution: `{}`: {e}", self.execution))?;
        for f in &mut self.faults {
            f.resolve()?;
        }
        if self.status == FinalStatus::Failed && self.error.is_none() {
            self.error = Some("Job processing failed".into());
        }
        Ok(())
    }
}

/// All behaviours of a folder, by name, plus the files that failed to load.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    pub behaviours: BTreeMap<String, Arc<Behaviour>>,
    pub errors: BTreeMap<String, String>,
}

impl Catalogue {
    /// Loads `dir/**/*.yaml`; without a `default` file the built-in default is used.
    pub fn load(dir: &Path) -> Self {
        let mut cat = Catalogue::default();
        for file in crate::paths::yaml_files(dir) {
            let name = crate::paths::name_under(dir, &file);
            match std::fs::read_to_string(&file)
                .map_err(|e| e.to_string())
                .and_then(|t| Behaviour::parse(&t))
                .and_then(|b| b.with_replay_images(dir))
            {
                Ok(b) => {
                    cat.behaviours.insert(name, Arc::new(b));
                }
                Err(e) => {
                    cat.errors.insert(
                        name,
                        format!("{}: {e}", crate::paths::display_path(&file).display()),
                    );
                }
            }
        }
        cat.behaviours
            .entry("default".into())
            .or_insert_with(|| Arc::new(Behaviour::default()));
        cat
    }

    /// The behaviour for a scenario's `mock:` (None = `default`).
    pub fn get(&self, name: Option<&str>) -> Result<Arc<Behaviour>, String> {
        let name = name.unwrap_or("default");
        if let Some(b) = self.behaviours.get(name) {
            return Ok(b.clone());
        }
        if let Some(e) = self.errors.get(name) {
            return Err(format!("mock behaviour `{name}` is invalid: {e}"));
        }
        let names: Vec<&str> = self.behaviours.keys().map(String::as_str).collect();
        let hint = crate::text::did_you_mean(name, names.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        Err(format!(
            "no mock behaviour `{name}`{hint}; available: {}",
            names.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_behaviour() {
        let b = Behaviour::parse(
            "queue: 45s\nexecution: 2s\nstatus: FAILED\nerror: boom\noutput: message\nimage: black\nwarnings: [w]\nfaults:\n  - on: status\n    nth: [1, 2]\n    respond: http\n    status: 503\n  - on: run\n    respond: rate_limit\n",
        )
        .unwrap();
        assert_eq!(b.queue_d, Duration::from_secs(45));
        assert_eq!(b.status, FinalStatus::Failed);
        assert_eq!(
            b.faults[0].kind(),
            &FaultKind::Http {
                status: 503,
                body: None
            }
        );
        assert_eq!(b.faults[1].kind(), &FaultKind::RateLimit { retry_after: 1 });
        assert!(Behaviour::parse("queu: 1s")
            .unwrap_err()
            .contains("unknown field `queu`"));
        assert_eq!(Behaviour::default().status, FinalStatus::Completed);
    }
}
