//! The scenario suite as a libtest-mimic test binary: read the environment,
//! discover `scenarios/**/*.yaml`, make one trial per file (a malformed file is
//! a failing trial of its own), run them on one shared tokio runtime, and write
//! the reports. `harness/main.rs` only calls [`main`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use crate::endpoint::Endpoint;
use crate::mock::behaviour::Catalogue;
use crate::mock::{MockOptions, MockServer};
use crate::model::{CostSummary, RunInfo, RunReport, ScenarioReport, Verdict};
use crate::scenario::{load, Diagnostics, Scenario};
use crate::target::{Kind, Target};
use crate::trial::{self, TrialEnv};

mod info;
mod settings;

pub use settings::{
    Settings, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MOCK_SPEED, DEFAULT_QUEUE_GRACE, EXIT_INTERRUPTED,
    EXIT_SETUP,
};

/// State shared by all trials of one process.
struct Ctx {
    target: Target,
    /// Run id, start time, target and commit of this run.
    info: RunInfo,
    settings: Settings,
    handle: tokio::runtime::Handle,
    catalogue: Catalogue,
    mock_key: String,
    mock: OnceLock<Result<MockServer, String>>,
    live: OnceLock<Result<Endpoint, String>>,
    /// One client per mock behaviour: building a client (TLS roots included) costs
    /// milliseconds, too much to repeat for every scenario of a large suite.
    mock_endpoints: Mutex<std::collections::HashMap<String, Endpoint>>,
    in_flight: Arc<tokio::sync::Semaphore>,
    reports: Mutex<Vec<ScenarioReport>>,
    snapshots: Arc<crate::snapshot::Config>,
    progress: Arc<crate::progress::Progress>,
    costs: Option<Arc<crate::cost::Costs>>,
}

impl Ctx {
    fn capabilities(&self) -> Vec<String> {
        match (&self.target.capabilities, self.target.kind) {
            (Some(c), _) => c.clone(),
            (None, Kind::Mock) => self
                .catalogue
                .get(None)
                .map(|b| b.capabilities.clone())
                .unwrap_or_default(),
            (None, _) => Vec::new(),
        }
    }

    /// Why a scenario cannot run on this target, if it cannot.
    fn unmet(&self, s: &Scenario) -> Option<String> {
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

    /// The endpoint a scenario talks to.
    fn endpoint_for(&self, s: &Scenario) -> Result<(Endpoint, String), String> {
        match self.target.kind {
            Kind::Mock => {
                let name = s.mock.as_deref().unwrap_or("default");
                self.catalogue.get(Some(name))?;
                let server = self
                    .mock
                    .get_or_init(|| {
                        let opts = MockOptions::from_catalogue(
                            &self.catalogue,
                            &self.mock_key,
                            self.settings.mock_speed,
                        );
                        MockServer::start(opts, 0)
                            .map_err(|e| format!("cannot start the embedded mock: {e}"))
                    })
                    .as_ref()
                    .map_err(Clone::clone)?;
                let mut cache = self
                    .mock_endpoints
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                let ep = match cache.get(name) {
                    Some(ep) => ep.clone(),
                    None => {
                        let url = server.endpoint_url(&crate::mock::endpoint_id(name));
                        let ep = Endpoint::new(&url, Some(&self.mock_key))?;
                        cache.insert(name.to_string(), ep.clone());
                        ep
                    }
                };
                Ok((ep, format!("embedded mock ({name})")))
            }
            Kind::Live | Kind::Local | Kind::Comfyui => {
                let ep = self
                    .live
                    .get_or_init(|| {
                        let url = self.target.url.as_deref().unwrap_or_default();
                        match self.target.kind {
                            Kind::Local => Endpoint::new_local(url),
                            _ => Endpoint::new(url, self.target.api_key.as_deref()),
                        }
                    })
                    .clone()?;
                Ok((ep, self.target.to_string()))
            }
        }
    }

    fn run_scenario(&self, s: &Scenario) -> ScenarioReport {
        if let Some(reason) = self.unmet(s) {
            return trial::without_runs(s, Verdict::Ignored, &reason);
        }
        let (endpoint, label) = match self.endpoint_for(s) {
            Ok(e) => e,
            Err(e) => {
                let message = format!("ERROR against {}\n  ✗ {e}", self.target);
                return trial::without_runs(s, Verdict::Error, &message);
            }
        };
        let env = TrialEnv {
            endpoint,
            in_flight: self.in_flight.clone(),
            reports_dir: self.settings.reports.clone(),
            target_label: label,
            snapshots: self.snapshots.clone(),
            watch: crate::poll::Watch {
                queue_grace: Some(self.settings.queue_grace),
                observer: Some(self.progress.observer(&s.name)),
            },
            costs: self.costs.clone(),
            record: (self.settings.record && self.target.kind != Kind::Mock)
                .then(|| self.settings.mocks.clone()),
        };
        let hard = trial::hard_deadline(s);
        self.handle.block_on(async {
            match tokio::time::timeout(hard, trial::run(s, &env)).await {
                Ok(r) => r,
                Err(_) => {
                    let message = format!(
                        "TIMED OUT: the harness gave up after {}",
                        humantime::format_duration(hard)
                    );
                    trial::without_runs(s, Verdict::TimedOut, &message)
                }
            }
        })
    }
}

/// Entry point of the `scenarios` test target.
pub fn main() -> ExitCode {
    main_with(Arguments::from_args())
}

/// Runs the suite with libtest arguments (`endpoint-harness run -- <args>` uses this too).
pub fn main_with(args: Arguments) -> ExitCode {
    let var = |k: &str| std::env::var(k).ok();
    let (settings, target) =
        match Settings::from_env(&var).and_then(|s| crate::target::from_env(var).map(|t| (s, t))) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_SETUP);
            }
        };
    let (snapshots, snapshot_note) =
        match crate::snapshot::Config::from_env(&var, &settings.reports) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_SETUP);
            }
        };
    let costs = match crate::cost::Costs::load(
        &settings.costs_file,
        settings.gpu.clone(),
        settings.max_cost,
    ) {
        Ok(c) => c.map(Arc::new),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_SETUP);
        }
    };
    let mut target = target;
    target.notes.extend(snapshot_note);
    if settings.record && target.kind == Kind::Mock {
        target.notes.push(
            "HARNESS_RECORD records live and local jobs only; nothing is recorded against the mock"
                .into(),
        );
    }
    let files = match select_files(&settings.scenarios, &args) {
        Ok(f) => f,
        // Hub tests alone are a suite too.
        Err(_) if settings.hub_tests.is_some() => Vec::new(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_SETUP);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let catalogue = if target.kind == Kind::Mock {
        Catalogue::load(&settings.mocks)
    } else {
        Catalogue::default()
    };
    let key = settings.mock_key.clone().unwrap_or_else(mock_key);
    let info = info::run_info(&target.to_string(), target.kind);
    let ctx = Arc::new(Ctx {
        info,
        in_flight: Arc::new(tokio::sync::Semaphore::new(settings.max_in_flight)),
        target,
        settings,
        handle: runtime.handle().clone(),
        catalogue,
        mock_key: key,
        mock: OnceLock::new(),
        live: OnceLock::new(),
        mock_endpoints: Mutex::default(),
        reports: Mutex::new(Vec::new()),
        snapshots: Arc::new(snapshots),
        progress: Arc::new(crate::progress::Progress::default()),
        costs,
    });
    let mut loaded: Vec<(String, PathBuf, Result<Scenario, Diagnostics>)> = files
        .into_iter()
        .map(|f| {
            (
                load::scenario_name(&ctx.settings.scenarios, &f),
                f.clone(),
                load::load(&f, &ctx.settings.scenarios),
            )
        })
        .collect();
    if let Some(hub) = &ctx.settings.hub_tests {
        match crate::hub::read(hub) {
            Ok((tests, _)) => {
                for t in &tests {
                    let s = crate::hub::to_scenario(t, hub);
                    let name = s
                        .as_ref()
                        .map(|s| s.name.clone())
                        .unwrap_or_else(|_| format!("hub/{}", crate::paths::sanitize(&t.name)));
                    loaded.push((name, hub.clone(), s));
                }
            }
            Err(d) => loaded.push(("hub".into(), hub.clone(), Err(d))),
        }
    }
    let quiet = args.list;
    if !quiet {
        announce(&ctx, &loaded);
    }
    if !quiet {
        if let Some(every) = ctx.settings.progress {
            ctx.progress.start(every);
        }
        preflight(&ctx);
        let on_signal = ctx.clone();
        runtime.spawn(async move {
            wait_for_signal().await;
            eprintln!("endpoint-harness: interrupted: cancelling the jobs in flight");
            let (ok, failed) = crate::poll::interrupt(Duration::from_secs(5)).await;
            let failed = if failed > 0 {
                format!(", {failed} could not be cancelled")
            } else {
                String::new()
            };
            eprintln!("endpoint-harness: cancelled {ok} job(s){failed}");
            write_reports(&on_signal);
            std::process::exit(EXIT_INTERRUPTED);
        });
    }
    let nextest = std::env::var_os("NEXTEST").is_some();
    let trials = loaded
        .into_iter()
        .map(|(name, file, res)| make_trial(&ctx, name, file, res, nextest))
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if !quiet {
        write_reports(&ctx);
    }
    drop(runtime);
    conclusion.exit_code()
}

fn make_trial(
    ctx: &Arc<Ctx>,
    name: String,
    file: PathBuf,
    res: Result<Scenario, Diagnostics>,
    nextest: bool,
) -> Trial {
    let kind = res.as_ref().map(|s| s.tags.join(",")).unwrap_or_default();
    // Under nextest the reason cannot be shown inline, so unmet requirements become
    // the static ignored flag (nextest shows SKIP); under cargo test they are ignored
    // at run time with the reason printed.
    let static_ignore = nextest && res.as_ref().is_ok_and(|s| ctx.unmet(s).is_some());
    let ctx = ctx.clone();
    let trial_name = name.clone();
    Trial::ignorable_test(trial_name, move || {
        let report = match &res {
            Err(diags) => trial::invalid(&name, &file, diags),
            Ok(s) => ctx.run_scenario(s),
        };
        let verdict = report.verdict;
        let message = report.message.clone().unwrap_or_default();
        ctx.reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(report);
        match verdict {
            Verdict::Passed => {
                if !message.is_empty() {
                    eprintln!("{}: {}", name, message.trim_end());
                }
                Ok(Completion::Completed)
            }
            Verdict::Ignored => Ok(Completion::ignored_with(message)),
            _ => Err(Failed::from(message)),
        }
    })
    .with_kind(kind)
    .with_ignored_flag(static_ignore)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Live and local targets: read `/health` once and say up front when no worker can start.
fn preflight(ctx: &Ctx) {
    if ctx.target.kind != Kind::Live {
        return;
    }
    let Ok(Some(ep)) = ctx
        .live
        .get_or_init(|| {
            Endpoint::new(
                ctx.target.url.as_deref().unwrap_or_default(),
                ctx.target.api_key.as_deref(),
            )
        })
        .as_ref()
        .map(Some)
    else {
        return;
    };
    let health = ctx
        .handle
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), ep.health()).await });
    match health {
        Ok(Ok(h)) => {
            let queued = h.jobs.get("inQueue").copied().unwrap_or(0);
            let throttled = h.workers.get("throttled").copied().unwrap_or(0);
            eprintln!("endpoint-harness: preflight /health: {}", h.describe());
            if throttled > 0 || (h.no_worker_can_start() && queued > 0) {
                eprintln!(
                    "endpoint-harness: warning: no worker can start right now ({}); jobs that stay IN_QUEUE longer than {} fail with this diagnosis (HARNESS_QUEUE_GRACE)",
                    if throttled > 0 { "workers are throttled" } else { "jobs are queued and no worker is running" },
                    humantime::format_duration(ctx.settings.queue_grace)
                );
            }
        }
        Ok(Err(e)) => eprintln!("endpoint-harness: warning: preflight {e}"),
        Err(_) => {
            eprintln!("endpoint-harness: warning: preflight GET /health: no answer within 10s")
        }
    }
}

/// One line on stderr saying what runs where (stdout stays libtest's).
fn announce(ctx: &Ctx, loaded: &[(String, PathBuf, Result<Scenario, Diagnostics>)]) {
    eprintln!(
        "endpoint-harness: {} scenario file(s) from {} against the {}",
        loaded.len(),
        ctx.settings.scenarios.display(),
        ctx.target
    );
    for n in &ctx.target.notes {
        eprintln!("endpoint-harness: note: {n}");
    }
    for (_, _, r) in loaded {
        if let Ok(s) = r {
            for w in &s.warnings {
                eprintln!("endpoint-harness: warning: {}: {w}", s.name);
            }
        }
    }
    for (name, err) in &ctx.catalogue.errors {
        eprintln!("endpoint-harness: warning: mock behaviour `{name}` is invalid: {err}");
    }
}

fn write_reports(ctx: &Ctx) {
    let mine: Vec<ScenarioReport> =
        std::mem::take(&mut *ctx.reports.lock().unwrap_or_else(|e| e.into_inner()));
    if mine.is_empty() {
        return;
    }
    let dir = &ctx.settings.reports;
    let result = match std::env::var("NEXTEST_RUN_ID") {
        Ok(_) => {
            crate::report::write_fragment_and_merge(dir, &ctx.info, &mine, cost_summary(ctx, &[]))
        }
        Err(_) => {
            let mut report = RunReport::new(&ctx.info, mine.clone());
            report.cost = cost_summary(ctx, &report.scenarios);
            // History first: the HTML report charts it.
            crate::report::append_history(dir, &report, &mine)
                .and_then(|_| crate::report::write_all(dir, &report))
        }
    };
    if let Err(e) = result {
        eprintln!(
            "endpoint-harness: warning: could not write reports to {}: {e}",
            dir.display()
        );
    }
}

fn cost_summary(ctx: &Ctx, scenarios: &[ScenarioReport]) -> Option<CostSummary> {
    let c = ctx.costs.as_ref()?;
    Some(CostSummary {
        currency: c.currency.clone(),
        gpu: c.gpu.clone(),
        per_second: c.per_second,
        total: scenarios.iter().filter_map(|s| s.cost).sum(),
    })
}

/// The scenario files to load: all of them, or under nextest's process-per-test
/// with an exact name only the one asked for, so start-up stays cheap.
fn select_files(root: &Path, args: &Arguments) -> Result<Vec<PathBuf>, String> {
    if args.exact && !args.list {
        if let Some(name) = &args.filter {
            for ext in ["yaml", "yml"] {
                let f = root.join(format!("{name}.{ext}"));
                if f.is_file() {
                    return Ok(vec![f]);
                }
            }
        }
    }
    let files = discover(root)?;
    if files.is_empty() {
        return Err(format!(
            "no scenario files (*.yaml) found under {} (set HARNESS_SCENARIOS or add a scenario there)",
            crate::paths::display_path(root).display()
        ));
    }
    Ok(files)
}

/// Every `*.yaml` / `*.yml` under `root`, sorted; a missing folder is an error.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>, String> {
    if !root.is_dir() {
        return Err(format!(
            "scenario folder {} does not exist",
            crate::paths::display_path(root).display()
        ));
    }
    Ok(crate::paths::yaml_files(root))
}

/// A per-process random key for the embedded mock: no fixed secret to leak or reuse.
fn mock_key() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("mock-{:x}-{:x}", t, std::process::id())
}
