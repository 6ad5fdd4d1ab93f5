//! The suite as a libtest-mimic binary: read the environment, load the
//! scenario files (and Hub tests), make the trials, run them on one tokio
//! runtime, write the reports, and wait for any cancel still under way.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use libtest_mimic::Arguments;

use super::ctx::{Ctx, Parts};
use super::discover::select_files;
use super::settings::{Settings, EXIT_SETUP};
use super::trials::{announce, make_trial, Loaded};
use crate::scenario::load;
use crate::setup::SetupError;
use crate::targets::Kind;

/// Entry point of the `scenarios` test target.
pub fn main() -> ExitCode {
    main_with(Arguments::from_args())
}

/// Runs the suite with libtest arguments (`endpoint-harness run -- <args>` uses this too).
pub fn main_with(args: Arguments) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (ctx, loaded) = match setup(&args, runtime.handle()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_SETUP);
        }
    };
    let ctx = Arc::new(ctx);
    let quiet = args.list;
    if !quiet {
        announce(&ctx, &loaded);
        if let Some(every) = ctx.settings.progress {
            ctx.progress.start(every);
        }
        let first = loaded.iter().find_map(|(_, _, r)| r.as_ref().ok());
        super::preflight::preflight(&ctx, first);
        super::signal::install(&ctx, &runtime);
    }
    let nextest = std::env::var_os("NEXTEST").is_some();
    let trials = loaded
        .into_iter()
        .map(|l| make_trial(&ctx, l, nextest))
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if !quiet {
        super::write::write_reports(&ctx);
    }
    // Jobs whose trial gave up (hard deadline, panic) are being cancelled: wait for it.
    runtime.block_on(crate::job::drain(Duration::from_secs(15)));
    drop(runtime);
    conclusion.exit_code()
}

/// Settings, target, references, prices and the loaded scenarios.
fn setup(
    args: &Arguments,
    handle: &tokio::runtime::Handle,
) -> Result<(Ctx, Vec<Loaded>), SetupError> {
    let var = |k: &str| std::env::var(k).ok();
    let settings = Settings::from_env(&var)?;
    let mut target = crate::targets::from_env(var)?;
    let (snapshots, note) = crate::snapshot::Config::from_env(&var, &settings.reports)?;
    let costs = crate::cost::Costs::load(
        &settings.costs_file,
        settings.gpu.clone(),
        settings.max_cost,
    )?;
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
    let mut loaded: Vec<Loaded> = files
        .into_iter()
        .map(|f| {
            (
                load::scenario_name(&settings.scenarios, &f),
                f.clone(),
                load::load(&f, &settings.scenarios),
            )
        })
        .collect();
    if let Some(hub) = &settings.hub_tests {
        loaded.extend(hub_trials(hub));
    }
    let ctx = Ctx::new(Parts {
        target,
        settings,
        snapshots,
        costs,
        handle: handle.clone(),
    });
    Ok((ctx, loaded))
}

/// The tests of a RunPod Hub `tests.json`, as trials `hub/<name>`.
fn hub_trials(hub: &std::path::Path) -> Vec<Loaded> {
    match crate::hub::read(hub) {
        Ok((tests, _)) => tests
            .iter()
            .map(|t| {
                let s = crate::hub::to_scenario(t, hub);
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
