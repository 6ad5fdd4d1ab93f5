//! The suite as a libtest-mimic binary: read the environment, load the
//! scenario files (and Hub tests), make the trials, run them on one tokio
//! runtime, write the reports, and wait for any cancel still under way.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use libtest_mimic::Arguments;

use super::ctx::{Ctx, Parts};
use super::discover::select_files;
use super::trials::{announce, make_trial, Loaded};
use crate::comfyui::inventory::Inventory;
use crate::scenario::parse;
use crate::settings::SetupError;
use crate::settings::{Settings, EXIT_SETUP};
use crate::targets::Kind;

/// Entry point of the `scenarios` test target.
pub fn main() -> ExitCode {
    main_with_argv(std::env::args().collect())
}

/// Runs the suite with a libtest command line (the program name first).
/// Like libtest, it takes several filters (`-- video/gif sdxl/img2img`): a
/// trial runs when any of them selects it.
pub fn main_with_argv(argv: Vec<String>) -> ExitCode {
    let (argv, filters) = split_filters(argv);
    let mut args = Arguments::from_iter(argv);
    if filters.len() > 1 {
        args.filter = None;
        return run_with(args, filters);
    }
    run_with(args, Vec::new())
}

/// The command line without every filter after the first, and all the
/// filters when there are several (libtest-mimic's parser takes one).
fn split_filters(argv: Vec<String>) -> (Vec<String>, Vec<String>) {
    // libtest's options that take a value in the next argument.
    const VALUED: [&str; 7] = [
        "--skip",
        "--test-threads",
        "--logfile",
        "--color",
        "--format",
        "-Z",
        "--shuffle-seed",
    ];
    let mut kept = Vec::with_capacity(argv.len());
    let mut filters = Vec::new();
    let mut value_next = false;
    for (i, a) in argv.into_iter().enumerate() {
        if i == 0 || value_next {
            value_next = false;
            kept.push(a);
            continue;
        }
        if a.starts_with('-') {
            value_next = VALUED.contains(&a.as_str());
            kept.push(a);
            continue;
        }
        if filters.is_empty() {
            kept.push(a.clone());
        }
        filters.push(a);
    }
    (kept, filters)
}

/// Runs the suite with libtest arguments (`endpoint-harness run -- <args>` uses this too).
pub fn main_with(args: Arguments) -> ExitCode {
    run_with(args, Vec::new())
}

/// Whether one of several filters selects the trial (as libtest does with each).
fn any_filter_selects(args: &Arguments, filters: &[String], trial: &libtest_mimic::Trial) -> bool {
    filters.iter().any(|f| {
        let mut one = args.clone();
        one.filter = Some(f.clone());
        !one.is_filtered_out(trial)
    })
}

fn run_with(mut args: Arguments, filters: Vec<String>) -> ExitCode {
    // Under nextest a process runs one trial: one runtime worker and the trial on
    // the main thread spare it two thread start-ups (measured in `benches/nextest_scale.rs`).
    let one_trial = crate::settings::Env::process().nextest()
        && args.exact
        && args.filter.is_some()
        && filters.is_empty();
    if one_trial {
        args.test_threads = Some(1);
        super::alloc::tune();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if one_trial { 1 } else { 2 })
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (mut ctx, mut loaded) = match setup(&args, runtime.handle()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_SETUP);
        }
    };
    let nextest = crate::settings::Env::process().nextest();
    if !nextest && !args.list {
        // Trials mostly wait on the endpoint: as many trial threads as jobs may be
        // in flight (at least one per core), unless --test-threads says otherwise.
        if args.test_threads.is_none() {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            args.test_threads = Some(ctx.settings.max_in_flight.max(cores));
        }
        // Longest expected first, so a long scenario does not start last.
        let order = super::order::longest_first(&mut loaded, &ctx.expected);
        if ctx.settings.verbose {
            eprintln!("endpoint-harness: {}", super::order::describe(&order));
        }
    }
    ctx.on_worker = one_trial;
    let ctx = Arc::new(ctx);
    let quiet = args.list;
    if !quiet {
        announce(&ctx, &loaded);
        super::trials::announce_spend(&ctx, &loaded, &args);
        if let Some(every) = ctx.settings.progress {
            ctx.progress.start(every);
        }
        let first = loaded.iter().find_map(|(_, _, r)| r.as_ref().ok());
        super::probe::preflight(&ctx, first);
        super::signal::install(&ctx, &runtime);
    }
    // A provisioned endpoint is torn down even if something below panics.
    let guard = super::provisioned::Guard(ctx.clone());
    let mut pending = Vec::new();
    let trials = loaded
        .into_iter()
        .filter_map(|l| {
            let (trial, ignored) = make_trial(&ctx, l, nextest, args.nocapture);
            if !filters.is_empty() && !any_filter_selects(&args, &filters, &trial) {
                return None;
            }
            if !args.is_filtered_out(&trial) {
                pending.extend(ignored);
            }
            Some(trial)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if !quiet {
        super::trials::record_ignored(&ctx, pending);
    }
    if !args.nocapture {
        super::trials::print_notes(&ctx);
    }
    // Teardown before the reports, so they say how it went.
    let torn_down = super::provisioned::finish(&ctx, &runtime);
    drop(guard);
    if !quiet {
        super::write::write_reports(&ctx);
    }
    // Jobs whose trial gave up (hard deadline, panic) are being cancelled: wait for it.
    runtime.block_on(crate::runpod::job::drain(Duration::from_secs(15)));
    drop(runtime);
    if !torn_down {
        eprintln!("error: the provisioned endpoint could not be verified deleted (see above)");
        return ExitCode::from(1);
    }
    conclusion.exit_code()
}

/// Settings, target, references, prices and the loaded scenarios.
fn setup(
    args: &Arguments,
    handle: &tokio::runtime::Handle,
) -> Result<(Ctx, Vec<Loaded>), SetupError> {
    let env = crate::settings::Env::process();
    let var = env.reader();
    let settings = Settings::read(env)?;
    let mut target = crate::targets::from_env(&var)?;
    let plan = super::provisioned::plan(&var, &settings)?;
    let (snapshots, note) = crate::snapshot::Config::from_env(env, &settings.reports)?;
    // On a provisioned endpoint jobs are priced at its first GPU pool unless HARNESS_GPU says otherwise.
    let gpu = settings
        .gpu
        .clone()
        .or_else(|| plan.as_ref().map(|p| p.pool()));
    let costs = crate::results::cost::Costs::load(&settings.costs_file, gpu, settings.max_cost)?
        // Under nextest every process of the run spends from one ledger, so the cap is the run's.
        .map(|c| match &settings.nextest_run {
            Some(run) if c.max.is_some() => c.shared(
                crate::results::shards::fragments_dir(&settings.reports, run).join("cost.ledger"),
            ),
            _ => c,
        });
    target.notes.extend(note);
    if settings.record && target.kind == Kind::Mock {
        target.notes.push(
            "HARNESS_RECORD records live and local jobs only; nothing is recorded against the mock"
                .into(),
        );
    }
    let files = match select_files(&settings.scenarios, args) {
        Ok(f) => f,
        // Hub tests alone are a suite too.
        Err(_) if settings.hub_tests.is_some() => Vec::new(),
        Err(e) => return Err(e),
    };
    let (inventory, preflight) = inventory(&settings, &mut target, handle)?;
    let opts = parse::LoadOptions {
        inventory: inventory.as_ref(),
        preflight,
    };
    let mut loaded: Vec<Loaded> = files
        .into_iter()
        .map(|f| {
            (
                parse::scenario_name(&settings.scenarios, &f),
                f.clone(),
                parse::load_with(&f, &settings.scenarios, opts),
            )
        })
        .collect();
    if let Some(hub) = &settings.hub_tests {
        loaded.extend(hub_trials(hub));
    }
    if let Some(part) = settings.partition {
        loaded.retain(|(name, _, _)| crate::settings::in_partition(name, part));
    }
    // Last: nothing is created before everything else of the setup is known to be fine.
    let (info, provision) = match plan {
        Some(p) => {
            let (info, session) = super::provisioned::bring_up(p, &settings, &mut target, handle)?;
            (Some(info), Some(session))
        }
        None => {
            super::provisioned::wait_rollout(&settings, &mut target, handle)?;
            (None, None)
        }
    };
    // Under nextest a process runs one trial and nextest orders them: reading the
    // whole history in every process would make each trial's cost grow with it.
    let expected = if settings.nextest {
        super::order::Expected::default()
    } else {
        super::order::Expected::from_history(&settings.reports, &target.to_string())
    };
    let ctx = Ctx::new(Parts {
        expected,
        target,
        settings,
        snapshots,
        costs,
        handle: handle.clone(),
        info,
        provision,
    });
    Ok((ctx, loaded))
}

/// The node inventory scenarios are loaded with, and whether they are
/// preflighted against it: `HARNESS_INVENTORY` (preflight on); else, against a
/// real ComfyUI, its own `/object_info` (only to convert UI-format saves: the
/// server validates what it is sent).
fn inventory(
    settings: &Settings,
    target: &mut crate::targets::TargetConfig,
    handle: &tokio::runtime::Handle,
) -> Result<(Option<Inventory>, bool), SetupError> {
    if let Some(path) = &settings.inventory {
        let inv = Inventory::load(path)
            .map_err(|e| SetupError::invalid("HARNESS_INVENTORY", e.to_string()))?;
        return Ok((Some(inv), true));
    }
    if target.kind != Kind::Comfyui || target.uses_mock() {
        return Ok((None, false));
    }
    let url = target.url.clone().unwrap_or_default();
    let client = crate::comfyui::ComfyClient::new(
        &url,
        target.api_key.as_deref(),
        target.basic_auth.as_deref(),
    )
    .map_err(|e| SetupError::invalid("COMFYUI_URL", e.to_string()))?;
    let fetched = handle.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), client.object_info()).await
    });
    match fetched.map(|r| r.map(|v| Inventory::from_value(&v))) {
        Ok(Ok(Ok(inv))) => Ok((Some(inv), false)),
        Ok(Ok(Err(e))) => {
            target.notes.push(format!(
                "ComfyUI's /object_info cannot be read ({e}): UI-format saves will be refused"
            ));
            Ok((None, false))
        }
        Ok(Err(e)) => {
            target
                .notes
                .push(format!("{e}: UI-format saves will be refused"));
            Ok((None, false))
        }
        Err(_) => {
            target.notes.push(
                "GET /object_info: no answer within 30s: UI-format saves will be refused".into(),
            );
            Ok((None, false))
        }
    }
}

/// The tests of a RunPod Hub `tests.json`, as trials `hub/<name>`.
fn hub_trials(hub: &std::path::Path) -> Vec<Loaded> {
    match crate::tools::hub::read(hub) {
        Ok((tests, _)) => tests
            .iter()
            .map(|t| {
                let s = crate::tools::hub::to_scenario(t, hub);
                let name = s
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|_| format!("hub/{}", crate::paths::sanitize(&t.name)));
                (name, hub.to_path_buf(), s)
            })
            .collect(),
        Err(d) => vec![("hub".into(), hub.to_path_buf(), Err(d))],
    }
}
