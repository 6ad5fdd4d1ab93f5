//! Named mock behaviours: one YAML file under `mocks/` each (`mocks/cold-start.yaml`
//! is behaviour `cold-start`). A behaviour says how long a job queues and runs (as
//! RunPod would report it), how it ends, what its output looks like, and which
//! HTTP faults to inject on which requests.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

pub(crate) mod error;
mod fault;

pub use error::BehaviourError;
pub use fault::{Fault, FaultKind, FaultType, Route};

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
    /// Stills in `images[]`, animations and videos in `videos[]` (base64), as
    /// worker-comfyui issue #232 proposes.
    Videos,
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
    /// The render as another GPU or stack makes it: fine detail moved by the
    /// drift model, the composition kept (about 30 dB from `render`).
    GpuDrift,
}

/// Terminal status a behaviour ends in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum FinalStatus {
    /// The job completes with the behaviour's output.
    #[default]
    #[serde(rename = "COMPLETED")]
    Completed,
    /// The job fails with the behaviour's `error`.
    #[serde(rename = "FAILED")]
    Failed,
    /// The job times out.
    #[serde(rename = "TIMED_OUT")]
    TimedOut,
    /// The job is cancelled.
    #[serde(rename = "CANCELLED")]
    Cancelled,
}

impl FinalStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FinalStatus::Completed => "COMPLETED",
            FinalStatus::Failed => "FAILED",
            FinalStatus::TimedOut => "TIMED_OUT",
            FinalStatus::Cancelled => "CANCELLED",
        }
    }
}

/// A parsed behaviour file.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// What the behaviour stands for.
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
    /// How the job ends.
    #[serde(default)]
    pub status: FinalStatus,
    /// The state reported while the job runs: `IN_PROGRESS` (default) or `RUNNING`
    /// (documented by RunPod, never seen from its SDKs; clients must not treat it as final).
    #[serde(default = "default_running")]
    pub running_state: String,
    /// The job's `error` when it FAILs.
    #[serde(default)]
    pub error: Option<String>,
    /// The output's shape.
    #[serde(default)]
    pub output: OutputShape,
    /// The returned pixels.
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
    /// Faults injected on chosen requests.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// A recorded job (`HARNESS_RECORD=1`): its images are returned instead of rendered ones.
    #[serde(default)]
    pub replay: Option<Replay>,
    /// Scale like a RunPod endpoint: workers that cold-start, idle out and are
    /// added by a scaler; the queue time then emerges (`queue` is not used).
    #[serde(default)]
    pub scaling: Option<Scaling>,
    /// A node inventory (ComfyUI's `/object_info`, a file relative to the mocks
    /// folder): the mock then validates every graph as ComfyUI would and refuses
    /// with ComfyUI's errors (on its ComfyUI face) or worker-comfyui's wording of
    /// them (on its RunPod face); its ComfyUI face serves it as `/object_info`.
    #[serde(default)]
    pub inventory: Option<String>,
    /// How an endpoint created from the image `mock/<this behaviour>` through
    /// the management API behaves (pull, cold start, workers, faults).
    #[serde(default)]
    pub provision: Option<super::manage::provisioning::Provisioning>,
    /// Steps of progress the worker reports in `output` while the job runs
    /// (worker-comfyui PR #221: `{"type": "progress", "value", "max",
    /// "percent", "node"}`); 0: none.
    #[serde(default)]
    pub progress: u64,
    /// The workers' side of the endpoint, as the management API shows it: the
    /// GPU type and release the workers list names, extra lines each job
    /// prints to its worker's log, a log stream that is cut, a rolling release.
    #[serde(default)]
    pub worker: WorkerSide,
    /// The endpoint's job TTL, counted from submission, for requests without
    /// `policy.ttl` (a humantime duration): a job still queued or running
    /// when it passes is removed, and `/status` answers 404, as RunPod does.
    #[serde(default)]
    pub ttl: Option<String>,
    #[serde(skip)]
    pub(crate) replay_images: Vec<(String, Vec<u8>)>,
    #[serde(skip)]
    pub(crate) inventory_path: Option<super::files::Stored>,
    /// The inventory, parsed on first use: a suite that never reaches a
    /// behaviour with an inventory (most, and every nextest process that runs
    /// another scenario) does not pay for a 500-node `/object_info`.
    #[serde(skip)]
    inventory_once:
        std::sync::OnceLock<Option<Arc<(crate::comfyui::inventory::Inventory, serde_json::Value)>>>,
    #[serde(skip)]
    pub(crate) queue_d: Duration,
    #[serde(skip)]
    pub(crate) execution_d: Duration,
    #[serde(skip)]
    pub(crate) ttl_d: Option<Duration>,
}

/// What the management API says of a behaviour's workers.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkerSide {
    /// The workers list's `gpuTypeId` (default `NVIDIA A40`).
    #[serde(default)]
    pub gpu: Option<String>,
    /// The release the workers run (the workers list's `version`, default 1).
    #[serde(default)]
    pub version: Option<String>,
    /// The ComfyUI version the workers print at start-up (default `0.3.64`).
    #[serde(default)]
    pub comfyui: Option<String>,
    /// The PyTorch version the workers print at start-up (default `2.11.0+cu130`).
    #[serde(default)]
    pub torch: Option<String>,
    /// The attention line the workers print (default `pytorch`: "Using pytorch attention").
    #[serde(default)]
    pub attention: Option<String>,
    /// The workers' logs have lost ComfyUI's start-up lines (a worker whose
    /// history was cut): the stack is unknown.
    #[serde(default)]
    pub no_startup_lines: bool,
    /// Extra container lines each job prints, between its start and end
    /// (`{job}` is the job id, `{api_key}` the mock's key: a secret the
    /// harness must redact).
    #[serde(default)]
    pub logs: Vec<String>,
    /// The log stream drops the connection after this many lines (a cut stream).
    #[serde(default)]
    pub cut_logs_after: Option<usize>,
    /// A rolling release in progress when the mock starts, finishing over
    /// this much simulated time (the releases route's rollout summary).
    #[serde(default)]
    pub rollout: Option<String>,
}

/// How a behaviour's workers scale (see README "The mock's scaling model").
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scaling {
    /// Workers kept running (warm from the start).
    #[serde(default)]
    pub workers_min: u32,
    /// Most workers at once.
    #[serde(default = "one")]
    pub workers_max: u32,
    /// An idle worker stops after this long (RunPod's default: 5 s).
    #[serde(default = "five_s")]
    pub idle_timeout: String,
    /// A new worker initialises this long before it takes a job.
    #[serde(default = "ten_s")]
    pub cold_start: String,
    /// A worker started within `flashboot_window` of another one stopping
    /// initialises this long instead (FlashBoot); absent: no FlashBoot.
    #[serde(default)]
    pub flashboot: Option<String>,
    /// How recent a stop lets FlashBoot apply (assumed: 60 s).
    #[serde(default = "sixty_s")]
    pub flashboot_window: String,
    /// `queue_delay` (RunPod's default) or `request_count`.
    #[serde(default)]
    pub scaler: ScalerKind,
    /// Queue-delay scaler: a worker is added for a job that waited this long (default 4 s).
    #[serde(default = "four_s")]
    pub queue_delay: String,
    /// Request-count scaler: jobs (queued + running) per worker.
    #[serde(default = "one")]
    pub request_count: u32,
    /// Execution time varies by up to this fraction of `execution`, per job (0..1).
    #[serde(default)]
    pub jitter: f64,
    #[serde(skip)]
    pub(crate) idle_timeout_d: Duration,
    #[serde(skip)]
    pub(crate) cold_start_d: Duration,
    #[serde(skip)]
    pub(crate) flashboot_d: Option<Duration>,
    #[serde(skip)]
    pub(crate) flashboot_window_d: Duration,
    #[serde(skip)]
    pub(crate) queue_delay_d: Duration,
}

/// RunPod's two scaler types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScalerKind {
    /// Add a worker when a job has waited `queue_delay`.
    #[default]
    QueueDelay,
    /// Keep `ceil(jobs / request_count)` workers.
    RequestCount,
}

fn one() -> u32 {
    1
}
fn four_s() -> String {
    "4s".into()
}
fn five_s() -> String {
    "5s".into()
}
fn ten_s() -> String {
    "10s".into()
}
fn sixty_s() -> String {
    "60s".into()
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
    /// Per-node timings seen while recording against ComfyUI: the mock's
    /// ComfyUI face spends each node's recorded time in that node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<crate::model::NodeTiming>,
}

/// One recorded image.
#[derive(Clone, Debug, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayImage {
    /// The worker's file name.
    pub filename: String,
    /// The file, relative to the mocks folder.
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
        let mut b: Behaviour = crate::text::yaml::from_str("{}").expect("empty behaviour parses");
        b.finish().expect("defaults are valid");
        b
    }
}

impl Behaviour {
    /// Parses a behaviour from YAML text; errors name the line.
    pub fn parse(text: &str) -> Result<Self, BehaviourError> {
        let mut b: Behaviour =
            crate::text::yaml::from_str(text).map_err(|e| BehaviourError::Yaml(e.to_string()))?;
        b.finish()?;
        Ok(b)
    }

    /// Parses a behaviour whose files (replayed images, inventory) are relative
    /// to `dir`, or else among the shipped ones.
    pub fn parse_in(text: &str, dir: &Path) -> Result<Self, BehaviourError> {
        let files = super::files::Files::Over(dir);
        Self::parse(text)?
            .with_replay_images(files)?
            .with_inventory(files)
    }

    /// Loads the inventory file (relative to the mocks folder).
    pub(crate) fn with_inventory(
        mut self,
        files: super::files::Files,
    ) -> Result<Self, BehaviourError> {
        let Some(file) = &self.inventory else {
            return Ok(self);
        };
        let fail = |reason: String| BehaviourError::Inventory {
            file: file.clone(),
            reason,
        };
        if file.split('/').any(|s| s == "..") {
            return Err(fail("it must stay inside the mocks folder".into()));
        }
        let found = files
            .find(file)
            .ok_or_else(|| fail("no such file in the mocks folder or the built-in mocks".into()))?;
        self.inventory_path = Some(found);
        Ok(self)
    }

    /// Reads and parses the inventory file now.
    pub(crate) fn read_inventory(
        &self,
    ) -> Result<Option<(crate::comfyui::inventory::Inventory, serde_json::Value)>, BehaviourError>
    {
        let (Some(path), Some(file)) = (&self.inventory_path, &self.inventory) else {
            return Ok(None);
        };
        let fail = |reason: String| BehaviourError::Inventory {
            file: file.clone(),
            reason,
        };
        let bytes = path.read().map_err(|e| fail(e.to_string()))?;
        let raw: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| fail(format!("not JSON: {e}")))?;
        let inv = crate::comfyui::inventory::Inventory::from_value(&raw)
            .map_err(|e| fail(e.to_string()))?;
        Ok(Some((inv, raw)))
    }

    /// The inventory and its raw `/object_info`, parsed on first use. A file
    /// that stopped parsing since the catalogue was read is said once on
    /// stderr and treated as no inventory.
    pub(crate) fn inventory_data(
        &self,
    ) -> Option<&Arc<(crate::comfyui::inventory::Inventory, serde_json::Value)>> {
        self.inventory_once
            .get_or_init(|| match self.read_inventory() {
                Ok(found) => found.map(Arc::new),
                Err(e) => {
                    eprintln!("endpoint-harness: mock {e}");
                    None
                }
            })
            .as_ref()
    }

    /// The inventory, when the behaviour has one.
    pub(crate) fn inventory(&self) -> Option<&crate::comfyui::inventory::Inventory> {
        self.inventory_data().map(|d| &d.0)
    }

    /// Loads a recording's image files (paths relative to the mocks folder).
    pub(crate) fn with_replay_images(
        mut self,
        files: super::files::Files,
    ) -> Result<Self, BehaviourError> {
        if let Some(r) = &self.replay {
            for img in &r.images {
                let fail = |reason: String| BehaviourError::Replay {
                    file: img.file.clone(),
                    reason,
                };
                if img.file.split('/').any(|s| s == "..") {
                    return Err(fail("it must stay inside the mocks folder".into()));
                }
                let found = files.find(&img.file).ok_or_else(|| {
                    fail("no such file in the mocks folder or the built-in mocks".into())
                })?;
                let bytes = found.read().map_err(|e| fail(e.to_string()))?;
                self.replay_images
                    .push((img.filename.clone(), bytes.into_owned()));
            }
        }
        Ok(self)
    }

    fn finish(&mut self) -> Result<(), BehaviourError> {
        let duration = |field, value: &str| {
            humantime::parse_duration(value).map_err(|_| BehaviourError::Duration {
                field,
                value: value.to_string(),
            })
        };
        self.queue_d = duration("queue", &self.queue)?;
        self.execution_d = duration("execution", &self.execution)?;
        self.ttl_d = match &self.ttl {
            Some(t) => Some(duration("ttl", t)?),
            None => None,
        };
        if let Some(sc) = &mut self.scaling {
            sc.idle_timeout_d = duration("scaling.idle_timeout", &sc.idle_timeout)?;
            sc.cold_start_d = duration("scaling.cold_start", &sc.cold_start)?;
            sc.flashboot_window_d = duration("scaling.flashboot_window", &sc.flashboot_window)?;
            sc.queue_delay_d = duration("scaling.queue_delay", &sc.queue_delay)?;
            sc.flashboot_d = match &sc.flashboot {
                Some(f) => Some(duration("scaling.flashboot", f)?),
                None => None,
            };
            if sc.workers_max == 0 || !(0.0..=1.0).contains(&sc.jitter) {
                return Err(BehaviourError::Yaml(
                    "scaling: workers_max must be at least 1 and jitter within 0..1".into(),
                ));
            }
        }
        if let Some(p) = &mut self.provision {
            p.resolve()?;
        }
        for f in &mut self.faults {
            f.resolve()?;
        }
        if self.status == FinalStatus::Failed && self.error.is_none() {
            self.error = Some("Job processing failed".into());
        }
        Ok(())
    }
}
