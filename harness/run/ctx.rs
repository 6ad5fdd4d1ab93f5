//! State shared by all trials of one process: the settings, the target (built
//! on first use: the embedded mock starts only if a scenario needs it), the
//! in-flight cap, the reports collected so far, progress and prices.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::comfyui::ComfyClient;
use crate::http::ClientError;
use crate::mock::behaviour::BehaviourError;
use crate::mock::catalogue::Catalogue;
use crate::mock::{MockOptions, MockServer};
use crate::model::{RunInfo, ScenarioReport, Verdict};
use crate::run::trial::{self, TrialEnv};
use crate::runpod::Client;
use crate::scenario::Scenario;
use crate::targets::{Comfyui, Kind, Runpod, Target, TargetConfig};

use crate::settings::Settings;

/// Why a scenario's target could not be had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TargetError {
    /// The embedded mock did not start.
    #[error("cannot start the embedded mock: {0}")]
    MockStart(String),
    /// The scenario's `mock:` names no valid behaviour.
    #[error("{0}")]
    Behaviour(#[from] BehaviourError),
    /// The client could not be built.
    #[error("{0}")]
    Client(#[from] ClientError),
}

/// State shared by all trials of one process.
pub(crate) struct Ctx {
    pub(crate) target: TargetConfig,
    /// Run id, start time, target and commit of this run.
    pub(crate) info: RunInfo,
    pub(crate) settings: Settings,
    pub(crate) handle: tokio::runtime::Handle,
    pub(crate) catalogue: Catalogue,
    pub(crate) mock_key: String,
    mock: OnceLock<Result<MockServer, std::io::Error>>,
    /// One target per mock behaviour (or one for the live/local endpoint): building a
    /// client (TLS roots included) costs milliseconds, too much for every scenario.
    targets: Mutex<HashMap<String, Arc<dyn Target>>>,
    pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
    /// Worker fingerprints read so far (each worker once per run).
    pub(crate) fingerprints: Arc<crate::run::trial::fingerprint::Fingerprints>,
    pub(crate) reports: Mutex<Vec<ScenarioReport>>,
    pub(crate) snapshots: Arc<crate::snapshot::Config>,
    pub(crate) progress: Arc<crate::run::progress::Progress>,
    pub(crate) costs: Option<Arc<crate::results::cost::Costs>>,
    /// The throwaway endpoint this run created (`HARNESS_PROVISION`).
    pub(crate) provision: Option<Arc<crate::tools::provision::Session>>,
    /// What its teardown reported, once done (for the reports).
    pub(crate) provision_report: Mutex<Option<crate::model::ProvisionReport>>,
    /// Each scenario's expected job duration, from history (ordering, polling).
    pub(crate) expected: super::order::Expected,
    /// Run each trial as a task on the runtime's worker rather than on the trial
    /// thread: a process that runs one trial (nextest) then keeps its HTTP
    /// connection and the trial on one thread, instead of handing every body
    /// chunk between two (about 40 futex calls a trial; `benches/nextest_scale.rs`).
    /// Not with several trials in a process: their CPU work (decoding) would hold
    /// up the workers that poll the other trials' jobs.
    pub(crate) on_worker: bool,
    /// Set by the preflight when the endpoint cannot be reached or refuses
    /// the key: every trial then fails with one line pointing at it, instead
    /// of the same transport error once per scenario.
    pub(crate) unreachable: OnceLock<String>,
}

/// What a [`Ctx`] is built from.
pub(crate) struct Parts {
    pub(crate) target: TargetConfig,
    pub(crate) settings: Settings,
    pub(crate) snapshots: crate::snapshot::Config,
    pub(crate) costs: Option<crate::results::cost::Costs>,
    pub(crate) handle: tokio::runtime::Handle,
    /// The run's identity when already decided (a provisioned run names its endpoint after it).
    pub(crate) info: Option<RunInfo>,
    pub(crate) provision: Option<Arc<crate::tools::provision::Session>>,
    pub(crate) expected: super::order::Expected,
}

impl Ctx {
    pub(crate) fn new(p: Parts) -> Self {
        let catalogue = if p.target.uses_mock() {
            Catalogue::load(&p.settings.mocks)
        } else {
            Catalogue::default()
        };
        let mock_key = p.settings.mock_key.clone().unwrap_or_else(random_key);
        Ctx {
            info: p.info.unwrap_or_else(|| {
                super::info::run_info(&p.target.to_string(), p.target.kind, &p.settings.reports)
            }),
            in_flight: Arc::new(tokio::sync::Semaphore::new(p.settings.max_in_flight)),
            fingerprints: Arc::default(),
            target: p.target,
            settings: p.settings,
            handle: p.handle,
            catalogue,
            mock_key,
            mock: OnceLock::new(),
            targets: Mutex::default(),
            reports: Mutex::new(Vec::new()),
            snapshots: Arc::new(p.snapshots),
            progress: Arc::new(crate::run::progress::Progress::default()),
            costs: p.costs.map(Arc::new),
            provision: p.provision,
            provision_report: Mutex::new(None),
            expected: p.expected,
            on_worker: false,
            unreachable: OnceLock::new(),
        }
    }

    fn capabilities(&self) -> Vec<String> {
        match (&self.target.capabilities, self.target.kind) {
            (Some(c), _) => c.clone(),
            (None, _) if self.target.uses_mock() => self
                .catalogue
                .get(None)
                .map(|b| b.capabilities.clone())
                .unwrap_or_default(),
            (None, _) => Vec::new(),
        }
    }

    /// Why a scenario cannot run on this target, if it cannot.
    pub(crate) fn unmet(&self, s: &Scenario) -> Option<String> {
        let kind = match self.target.kind {
            Kind::Mock => "mock",
            Kind::Live => "live",
            Kind::Local => "local",
            Kind::Comfyui => "comfyui",
        };
        let listed = |k: &str| s.targets.iter().any(|t| t == k);
        let runs_here =
            s.targets.is_empty() || listed(kind) || (listed("mock") && self.target.uses_mock());
        if !runs_here {
            return Some(format!(
                "runs against {} only (`targets:`), not the {}",
                s.targets.join(", "),
                self.target
            ));
        }
        let caps = self.capabilities();
        let missing: Vec<&str> = s
            .requires
            .iter()
            .filter(|r| !caps.contains(r))
            .map(String::as_str)
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "requires {} which the {} does not offer (capabilities: {}; set HARNESS_CAPABILITIES)",
                missing.join(", "),
                self.target,
                if caps.is_empty() { "none".to_string() } else { caps.join(", ") }
            )
        })
    }

    /// The target a scenario's jobs run on.
    pub(crate) fn target_for(&self, s: &Scenario) -> Result<Arc<dyn Target>, TargetError> {
        let key = if self.target.uses_mock() {
            s.mock.clone().unwrap_or_else(|| "default".into())
        } else {
            String::new()
        };
        let mut cache = self.targets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = cache.get(&key) {
            return Ok(t.clone());
        }
        let target: Arc<dyn Target> = match self.target.kind {
            Kind::Mock => {
                self.catalogue.get(Some(&key))?;
                let url = self
                    .mock_server()?
                    .endpoint_url(&crate::mock::endpoint_id(&key));
                let client = Client::new(&url, Some(&self.mock_key))?;
                let facts = crate::targets::TargetFacts {
                    gpu: Some("none (embedded mock)".into()),
                    software: Some(format!("endpoint-harness mock, behaviour {key}")),
                    ..Default::default()
                };
                let server = self.mock_server()?;
                let api = crate::runpod::evidence::EndpointApi::new(
                    &server.url(),
                    &crate::mock::endpoint_id(&key),
                    &self.mock_key,
                );
                Arc::new(
                    Runpod::new(client, format!("embedded mock ({key})"))
                        .with_facts(facts)
                        .with_virtual_time()
                        .with_endpoint_api(api),
                )
            }
            Kind::Local => {
                let client = Client::local(self.target.url.as_deref().unwrap_or_default())?;
                Arc::new(Runpod::new(client, self.target.to_string()))
            }
            Kind::Comfyui if self.target.uses_mock() => {
                self.catalogue.get(Some(&key))?;
                let url = self.mock_server()?.comfyui_url(&key);
                let client = ComfyClient::new(&url, Some(&self.mock_key), None)?;
                Arc::new(Comfyui::new(
                    client,
                    format!("embedded mock, ComfyUI API ({key})"),
                    self.target.websocket,
                ))
            }
            Kind::Comfyui => {
                let url = self.target.url.as_deref().unwrap_or_default();
                let client = ComfyClient::new(
                    url,
                    self.target.api_key.as_deref(),
                    self.target.basic_auth.as_deref(),
                )?;
                Arc::new(Comfyui::new(
                    client,
                    self.target.to_string(),
                    self.target.websocket,
                ))
            }
            Kind::Live => {
                let url = self.target.url.as_deref().unwrap_or_default();
                let client = Client::new(url, self.target.api_key.as_deref())?;
                let key = self.target.api_key.as_deref().unwrap_or_default();
                let management = crate::settings::Env::process().get("RUNPOD_MANAGEMENT_URL");
                let api = crate::runpod::rollout::api_of(url, key, management);
                Arc::new(Runpod::new(client, self.target.to_string()).with_endpoint_api(api))
            }
        };
        cache.insert(key, target.clone());
        Ok(target)
    }

    fn mock_server(&self) -> Result<&MockServer, TargetError> {
        self.mock
            .get_or_init(|| {
                let opts = MockOptions::from_catalogue(
                    &self.catalogue,
                    &self.mock_key,
                    self.settings.mock_speed,
                );
                MockServer::start(opts, 0)
            })
            .as_ref()
            .map_err(|e| TargetError::MockStart(e.to_string()))
    }

    /// Runs one loaded scenario to its report (blocking the calling trial thread).
    pub(crate) fn run_scenario(&self, s: &Scenario) -> ScenarioReport {
        if let Some(reason) = self.unmet(s) {
            return trial::without_runs(s, Verdict::Ignored, &reason);
        }
        if let Some(why) = self.unreachable.get() {
            let message = format!(
                "ERROR not run: {why} (see the preflight error printed once before the trials)"
            );
            return trial::without_runs(s, Verdict::Error, &message);
        }
        let target = match self.target_for(s) {
            Ok(t) => t,
            Err(e) => {
                let message = format!("ERROR against {}\n  ✗ {e}", self.target);
                return trial::without_runs(s, Verdict::Error, &message);
            }
        };
        let env = TrialEnv {
            target,
            in_flight: self.in_flight.clone(),
            fingerprints: self.fingerprints.clone(),
            output_limits: crate::runpod::output::Limits {
                items: self.settings.max_output_items,
                bytes: self.settings.max_output_bytes,
                expected: None,
            },
            reports_dir: self.settings.reports.clone(),
            snapshots: self.snapshots.clone(),
            watch: crate::runpod::job::Watch {
                queue_grace: Some(self.settings.queue_grace),
                observer: Some(self.progress.observer(&s.name)),
                abort: None,
                expected: self.expected.job(&s.name),
            },
            costs: self.costs.clone(),
            record: (self.settings.record && !self.target.uses_mock())
                .then(|| self.settings.mocks.clone()),
            worker_logs: self.settings.worker_logs,
            commit: self.info.git_commit.clone(),
        };
        if !self.on_worker {
            return self.handle.block_on(run_within_deadline(s, &env));
        }
        let (owned, handle) = (s.clone(), self.handle.clone());
        self.handle.block_on(async move {
            let task = handle.spawn(async move { run_within_deadline(&owned, &env).await });
            match task.await {
                Ok(report) => report,
                // A panic in the trial fails it as it would on the trial thread.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => trial::without_runs(
                    s,
                    Verdict::Error,
                    &format!("ERROR: the trial's task ended early: {e}"),
                ),
            }
        })
    }
}

/// Runs a scenario to its report, or to TIMED OUT at its hard deadline: past it
/// the trial's future is dropped, a job still in flight is cancelled by its
/// guard, and the runner awaits that cancel.
async fn run_within_deadline(s: &Scenario, env: &TrialEnv) -> ScenarioReport {
    let hard = trial::hard_deadline(s);
    let run = async {
        match s.load {
            Some(_) => crate::run::load::run(s, env).await,
            None => trial::run(s, env).await,
        }
    };
    match tokio::time::timeout(hard, run).await {
        Ok(r) => r,
        Err(_) => {
            let message = format!(
                "TIMED OUT: the harness gave up after {}",
                humantime::format_duration(hard)
            );
            trial::without_runs(s, Verdict::TimedOut, &message)
        }
    }
}

/// A per-process random key for the embedded mock: no fixed secret to leak or reuse.
fn random_key() -> String {
    format!("mock-{}", uuid::Uuid::new_v4().simple())
}
