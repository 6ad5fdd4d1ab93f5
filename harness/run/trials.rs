//! Loaded scenarios as libtest trials: one per file (a malformed file is a
//! failing trial of its own), tags as the trial kind, unmet `requires:` as
//! ignored with the reason; and the line that says what runs where.

use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::{Completion, Failed, Trial};

use super::ctx::Ctx;
use crate::model::Verdict;
use crate::run::trial;
use crate::scenario::{Diagnostics, Scenario};

/// A scenario file as loaded: its trial name, the file, and the scenario or its diagnostics.
pub(crate) type Loaded = (String, PathBuf, Result<Scenario, Diagnostics>);

/// The trial of one loaded file, and for a trial ignored before it runs (a
/// load scenario, or an unmet requirement under nextest) the report it gets
/// if libtest does not run it: every trial is in every report, ignored ones
/// with their reason.
/// `nocapture`: a passing trial's notes are printed as it ends (libtest's
/// `--nocapture`); otherwise [`print_notes`] prints them after the run, where
/// libtest puts captured output, so nothing comes between a trial's
/// `test X ...` and its `ok` (IDEs and scripts parse that line).
pub(crate) fn make_trial(
    ctx: &Arc<Ctx>,
    (name, file, res): Loaded,
    nextest: bool,
    nocapture: bool,
) -> (Trial, Option<crate::model::ScenarioReport>) {
    let kind = res.as_ref().map(|s| s.tags.join(",")).unwrap_or_default();
    // Under nextest the reason cannot be shown inline, so unmet requirements become
    // the static ignored flag (nextest shows SKIP); under cargo test they are ignored
    // at run time with the reason printed.
    let static_ignore = nextest && res.as_ref().is_ok_and(|s| ctx.unmet(s).is_some());
    // A load run costs many jobs: it runs only when asked for (HARNESS_LOAD=1,
    // or libtest's --include-ignored / --ignored).
    let load_ignore = !ctx.settings.load && res.as_ref().is_ok_and(|s| s.load.is_some());
    let pending = match &res {
        Ok(s) if load_ignore => Some(trial::without_runs(
            s,
            Verdict::Ignored,
            "a load run: it runs with HARNESS_LOAD=1 or --include-ignored",
        )),
        Ok(s) if static_ignore => ctx
            .unmet(s)
            .map(|why| trial::without_runs(s, Verdict::Ignored, &why)),
        _ => None,
    };
    let ctx = ctx.clone();
    let trial_name = name.clone();
    let trial = Trial::ignorable_test(trial_name, move || {
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
                if nocapture && !message.is_empty() {
                    eprintln!("{}: {}", name, message.trim_end());
                }
                Ok(Completion::Completed)
            }
            Verdict::Ignored => Ok(Completion::ignored_with(message)),
            _ => Err(Failed::from(message)),
        }
    })
    .with_kind(kind)
    .with_ignored_flag(static_ignore || load_ignore);
    (trial, pending)
}

/// After the run: the report of each trial libtest ignored without running
/// it (not the ones a filter left out).
pub(crate) fn record_ignored(ctx: &Ctx, pending: Vec<crate::model::ScenarioReport>) {
    let mut reports = ctx.reports.lock().unwrap_or_else(|e| e.into_inner());
    for p in pending {
        if !reports.iter().any(|r| r.name == p.name) {
            reports.push(p);
        }
    }
}

/// After the run: the notes of the trials that passed (warnings, what was not
/// checked, reviews), one block each, as libtest shows captured output.
pub(crate) fn print_notes(ctx: &Ctx) {
    let reports = ctx.reports.lock().unwrap_or_else(|e| e.into_inner());
    let mut notes: Vec<(&str, &str)> = reports
        .iter()
        .filter(|r| r.verdict == Verdict::Passed)
        .filter_map(|r| {
            r.message
                .as_deref()
                .filter(|m| !m.trim().is_empty())
                .map(|m| (r.name.as_str(), m))
        })
        .collect();
    if notes.is_empty() {
        return;
    }
    notes.sort();
    let mut out = String::from("\nnotes of passing trials:\n");
    for (name, message) in notes {
        out.push_str(&format!("\n---- {name} ----\n{}\n", message.trim_end()));
    }
    eprintln!("{out}");
}

/// One line on stderr saying what runs where (stdout stays libtest's), then notes.
pub(crate) fn announce(ctx: &Ctx, loaded: &[Loaded]) {
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
    let loads = loaded
        .iter()
        .filter(|(_, _, r)| r.as_ref().is_ok_and(|s| s.load.is_some()))
        .count();
    if loads > 0 && !ctx.settings.load {
        eprintln!(
            "endpoint-harness: note: {loads} load scenario(s) are ignored unless HARNESS_LOAD=1 or --include-ignored"
        );
    }
    for err in ctx.catalogue.errors.values() {
        eprintln!("endpoint-harness: warning: {err}");
    }
}

/// Before the first paid job (a live or provisioned endpoint): which
/// scenarios will submit jobs, how many, and what they may cost at most, so
/// a first live run never spends by surprise.
pub(crate) fn announce_spend(ctx: &Ctx, loaded: &[Loaded], args: &libtest_mimic::Arguments) {
    if ctx.target.kind != crate::targets::Kind::Live {
        return;
    }
    let mut names = Vec::new();
    let (mut jobs, mut seconds, mut loads) = (0u64, 0f64, 0usize);
    for (name, _, r) in loaded {
        let Ok(s) = r else { continue };
        let probe = Trial::test(name.clone(), || Ok(())).with_kind(s.tags.join(","));
        if args.is_filtered_out(&probe) || ctx.unmet(s).is_some() {
            continue;
        }
        if s.load.is_some() {
            if ctx.settings.load || args.include_ignored || args.ignored {
                loads += 1;
                names.push(name.as_str());
            }
            continue;
        }
        jobs += u64::from(s.repeat);
        seconds += f64::from(s.repeat) * s.timeout.as_secs_f64();
        names.push(name.as_str());
    }
    if names.is_empty() {
        eprintln!("endpoint-harness: no scenario will submit a job to the {} (all ignored or filtered out)", ctx.target);
        return;
    }
    let shown = if names.len() > 8 {
        format!("{}, and {} more", names[..8].join(", "), names.len() - 8)
    } else {
        names.join(", ")
    };
    let loads = match loads {
        0 => String::new(),
        n => format!(" plus {n} load run(s)"),
    };
    let cost = match &ctx.costs {
        Some(c) => format!(
            "; at most {} {:.2} if every job ran to its timeout at {} {}/s; {}",
            c.currency,
            seconds * c.per_second,
            c.gpu,
            c.per_second,
            match c.max {
                Some(m) => format!("HARNESS_MAX_COST stops submitting at {} {m}", c.currency),
                None => "no spending cap (set HARNESS_MAX_COST)".to_string(),
            }
        ),
        None => {
            "; no price for it (set HARNESS_GPU to a row of costs.yaml for an estimate and a cap)"
                .into()
        }
    };
    eprintln!(
        "endpoint-harness: this run submits up to {jobs} job(s){loads} to the {}: {shown}{cost}",
        ctx.target
    );
}
