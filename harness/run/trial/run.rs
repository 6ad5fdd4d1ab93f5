//! A scenario end to end: its jobs (`repeat` of them, in sequence), budgets,
//! calibration and cost, turned into a [`ScenarioReport`] with one message
//! that lists every problem. Also the reports of scenarios that ran no job.

use std::path::Path;
use std::time::{Duration, Instant};

use super::env::TrialEnv;
use super::once::run_once;
use super::stop::Stop;
use crate::checks::budget;
use crate::model::{
    BudgetReport, CheckFailure, RunRecord, ScenarioHead, ScenarioReport, Timing, Verdict,
};
use crate::scenario::{CompareMode, Diagnostics, Scenario, Unchecked};
use crate::snapshot;

/// Everything the runs of one scenario produced.
#[derive(Default)]
struct Runs {
    runs: Vec<RunRecord>,
    failures: Vec<CheckFailure>,
    stop: Option<Stop>,
    timings: Vec<Timing>,
    pixels: Vec<Vec<image::DynamicImage>>,
    snapshots: Vec<crate::model::SnapshotRecord>,
    reviews: Vec<String>,
    /// Snapshot passes worth saying.
    notes: Vec<String>,
    /// Checks that could not run and do not fail (locally, or allowed).
    unchecked: Vec<String>,
}

/// Runs a loaded scenario against `env` (in the caller's runtime).
pub async fn run(s: &Scenario, env: &TrialEnv) -> ScenarioReport {
    let started = Instant::now();
    let mut all = Runs::default();
    for i in 0..s.repeat {
        let mut one = run_once(s, env, i).await;
        if s.snapshot.compare != CompareMode::Off && s.repeat > 1 {
            all.pixels.push(std::mem::take(&mut one.pixels));
        }
        all.snapshots.append(&mut one.snapshots);
        all.notes.extend(one.notes.drain(..).map(|r| if s.repeat > 1 { format!("run {}: {r}", i + 1) } else { r }));
        all.reviews.extend(one.reviews.drain(..).map(|r| if s.repeat > 1 { format!("run {}: {r}", i + 1) } else { r }));
        all.failures.extend(one.failures.into_iter().map(|mut f| {
            if s.repeat > 1 {
                f.check = format!("run {}: {}", i + 1, f.check);
            }
            f
        }));
        all.timings.extend(one.timing);
        all.runs.push(one.record);
        if one.stop.is_some() {
            all.stop = one.stop;
            break;
        }
    }
    all.failures = crate::model::collapse(std::mem::take(&mut all.failures));
    let budget = budget::evaluate(&s.budget, &all.timings);
    let strict = env.snapshots.strict || env.snapshots.ci;
    for (kind, what) in unchecked(&all.runs, &budget) {
        if strict && !s.allow_unchecked.contains(&kind) {
            all.failures.push(CheckFailure::new(
                format!("not checked: {what}"),
                format!(
                    "every check to run ({}; or let it go with `allow_unchecked: [{}]`)",
                    if env.snapshots.ci { "CI is set" } else { "HARNESS_STRICT=1" },
                    kind.as_str()
                ),
                "it could not run",
            ));
        } else if s.allow_unchecked.contains(&kind) {
            all.unchecked.push(format!("{what} (allowed: allow_unchecked: {})", kind.as_str()));
        } else {
            all.unchecked.push(format!("{what} (fails on CI and with HARNESS_STRICT=1)"));
        }
    }
    // A failure outranks every stop: a run that failed its checks and was then
    // refused by the cost cap (ignored) is failed; a red stop (a deadline, a
    // dead endpoint) keeps its own red verdict.
    let verdict = match (&all.stop, all.failures.is_empty(), budget.misses.is_empty()) {
        (Some(stop), _, _) if !stop.verdict().is_success() => stop.verdict(),
        (_, false, _) => Verdict::Failed,
        (Some(stop), true, _) => stop.verdict(),
        (None, true, false) => Verdict::OverBudget,
        (None, true, true) => Verdict::Passed,
    };
    if let Some(api) = env.target.endpoint_api() {
        super::evidence::gather(api, &mut all.runs, verdict, env.worker_logs).await;
    }
    let message = message(s, env.target.label(), verdict, &all, &budget);
    let mut report = ScenarioReport::new(head(s), verdict, message);
    report.calibration = snapshot::calibrate(&all.pixels);
    report.cost = all.runs.iter().filter_map(|r| r.cost).reduce(|a, b| a + b);
    report.failures = all.failures;
    report.budget = Some(budget);
    report.runs = all.runs;
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.snapshots = all.snapshots;
    report
}

/// The message shown by the test runner: the verdict line, then every problem.
fn message(
    s: &Scenario,
    target: &str,
    verdict: Verdict,
    all: &Runs,
    budget: &BudgetReport,
) -> Option<String> {
    use std::fmt::Write;
    let mut m = String::new();
    let job = all
        .runs
        .last()
        .and_then(|r| r.job_id.as_deref())
        .map(|j| format!(", job {j}"))
        .unwrap_or_default();
    let _ = writeln!(
        m,
        "{} against {target}{job} ({})",
        verdict.as_str().to_uppercase(),
        crate::paths::display_path(&s.file).display()
    );
    if let Some(stop) = &all.stop {
        let _ = writeln!(m, "  ✗ {}", stop.message());
    }
    for f in &all.failures {
        let _ = writeln!(m, "  ✗ {f}");
    }
    for miss in &budget.misses {
        let _ = writeln!(m, "  ✗ {miss}");
    }
    for r in &all.reviews {
        let _ = writeln!(m, "  ? {r}");
    }
    for u in all.unchecked.iter().chain(&all.notes) {
        let _ = writeln!(m, "  · {u}");
    }
    for w in &s.warnings {
        let _ = writeln!(m, "  ! {w}");
    }
    for r in &all.runs {
        for w in &r.warnings {
            let _ = writeln!(m, "  ! output.errors: {w}");
        }
    }
    super::evidence::describe(&all.runs, &mut m);
    let notes = !all.unchecked.is_empty()
        || !s.warnings.is_empty()
        || !all.reviews.is_empty()
        || !all.notes.is_empty();
    (verdict != Verdict::Passed || notes).then_some(m)
}

/// The checks that could not run: budgets the target does not report, and
/// video pixels no decoder here reads (each once).
fn unchecked(runs: &[RunRecord], budget: &BudgetReport) -> Vec<(Unchecked, String)> {
    let mut out: Vec<(Unchecked, String)> = Vec::new();
    for na in &budget.not_applicable {
        let kind = if na.starts_with("queue") { Unchecked::QueueBudget } else { Unchecked::ExecutionBudget };
        out.push((kind, na.clone()));
    }
    for v in runs.iter().flat_map(|r| &r.videos) {
        if let Some(why) = &v.info.pixels_unchecked {
            let line = format!("video {} ({}): {why}", v.info.index, v.info.filename);
            if !out.iter().any(|(_, l)| *l == line) {
                out.push((Unchecked::VideoPixels, line));
            }
        }
    }
    out
}

/// What identifies a loaded scenario in reports.
pub fn head(s: &Scenario) -> ScenarioHead {
    ScenarioHead {
        name: s.name.clone(),
        file: crate::paths::display_path(&s.file).display().to_string(),
        description: s.description.clone(),
        tags: s.tags.clone(),
        warnings: s.warnings.clone(),
    }
}

/// The report of a scenario file that failed to load.
pub fn invalid(name: &str, file: &Path, diags: &Diagnostics) -> ScenarioReport {
    let head = ScenarioHead {
        name: name.to_string(),
        file: crate::paths::display_path(file).display().to_string(),
        ..ScenarioHead::default()
    };
    ScenarioReport::new(head, Verdict::Error, Some(format!("invalid scenario\n{diags}")))
}

/// The report of a scenario that ended before any job ran (ignored, no endpoint,
/// or given up by the harness), with its verdict and message.
pub fn without_runs(s: &Scenario, verdict: Verdict, message: &str) -> ScenarioReport {
    ScenarioReport::new(head(s), verdict, Some(message.to_string()))
}

/// A deadline for the whole trial, a little past the scenario's, so a hung
/// transport can never hang the test process.
pub fn hard_deadline(s: &Scenario) -> Duration {
    let slack = Duration::from_secs(60);
    match &s.load {
        None => s.timeout * s.repeat + slack,
        // Submitting ends with `duration`, or after the jobs' turns at the concurrency
        // (or the rate); the last job then has its own timeout.
        Some(l) => {
            let submitting = match (l.duration, l.jobs, l.rate) {
                (Some(d), _, _) => d,
                (None, Some(j), Some(rate)) => Duration::from_secs_f64(f64::from(j) / rate),
                (None, Some(j), None) => s.timeout * j.div_ceil(l.concurrency),
                (None, None, _) => Duration::ZERO,
            };
            submitting + l.ramp.unwrap_or_default() + s.timeout + slack
        }
    }
}
