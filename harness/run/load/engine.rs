//! Running a load: jobs submitted as the model says (closed: keep
//! `concurrency` in flight, growing over `ramp`; open: `rate` arrivals a
//! second, growing over `ramp`, at most `concurrency` in flight), each one a
//! full single run (request, drive, checks), until `jobs` or `duration`;
//! submitting stops early on the spending cap, a 401/404, an error rate over
//! its threshold for a minute, or Ctrl-C; what is still in flight after an
//! early stop is dropped, and its guards cancel the jobs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::JoinSet;

use super::{figures, sampler};
use crate::http::ErrorKind;
use crate::clock::{self, SimClock};
use crate::runpod::job::{Abort, DriveError, Watch};
use crate::model::{BudgetReport, CheckFailure, LoadPoint, LoadReport, ScenarioReport, Verdict};
use crate::scenario::{Load, Scenario};
use crate::run::trial::env::TrialEnv;
use crate::run::trial::once::{run_once, OneRun};
use crate::run::trial::stop::Stop;

/// Without `budget.error_rate`, submitting stops when half the jobs of a minute fail.
const DEFAULT_STOP_RATE: f64 = 0.5;
/// How long the error rate must stay over its threshold before submitting stops.
const STOP_AFTER: Duration = Duration::from_secs(60);

/// A finished job: its number, when it was submitted (ms into the run), how
/// much later than its intended send time that was (open model), and what it gave.
type Finished = (u64, u64, u64, OneRun);

/// Runs a load scenario (in the caller's runtime). Against the embedded mock
/// the run is on a virtual clock (see `clock`): its figures depend only on
/// the requests and the behaviour, not on how busy this machine is.
pub(crate) async fn run(s: &Scenario, env: &TrialEnv) -> ScenarioReport {
    if env.target.virtual_time() {
        let sim = SimClock::new(uuid::Uuid::new_v4().simple().to_string());
        sim.participate(run_on(s, env, Some(sim.clone()))).await
    } else {
        run_on(s, env, None).await
    }
}

async fn run_on(s: &Scenario, env: &TrialEnv, sim: Option<Arc<SimClock>>) -> ScenarioReport {
    let load = s.load.clone().expect("a load scenario");
    let real_start = Instant::now();
    let start = clock::now();
    // The load decides how many jobs are in flight, not HARNESS_MAX_IN_FLIGHT.
    let abort = Abort::default();
    let env = Arc::new(TrialEnv {
        target: env.target.clone(),
        in_flight: Arc::new(tokio::sync::Semaphore::new(load.concurrency as usize)),
        fingerprints: env.fingerprints.clone(),
        output_limits: env.output_limits,
        reports_dir: env.reports_dir.clone(),
        snapshots: env.snapshots.clone(),
        watch: Watch {
            abort: Some(abort.clone()),
            // Poll on the plain schedule: earlier runs' timings must not move a
            // virtual run's figures.
            expected: if sim.is_some() { None } else { env.watch.expected },
            ..env.watch.clone()
        },
        costs: env.costs.clone(),
        record: None,
        worker_logs: env.worker_logs,
        commit: env.commit.clone(),
    });
    let shared = Arc::new(s.clone());
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let health = Arc::new(Mutex::new(Vec::new()));
    let sampler = sampler::sample(env.target.clone(), load.sample_every, start, stop_sampling.clone(), health.clone());
    let sampling = match &sim {
        Some(c) => tokio::spawn(c.participate(sampler)),
        None => tokio::spawn(sampler),
    };
    let mut run = Run {
        load: &load,
        scenario: &shared,
        env: &env,
        start,
        set: JoinSet::new(),
        done: Arc::default(),
        wake: Arc::default(),
        active: 0,
        sim,
        abort,
        next: 0,
        points: Vec::new(),
        first: None,
        failing: Vec::new(),
        stopped: None,
        over_since: None,
        stop_rate: s.budget.error_rate.unwrap_or(DEFAULT_STOP_RATE),
        cost: 0.0,
    };
    run.drive().await;
    stop_sampling.store(true, Ordering::Relaxed);
    if run.sim.is_some() {
        // It sleeps on the virtual clock this task holds: drop it, keep what it saw.
        sampling.abort();
    } else {
        let _ = sampling.await;
    }
    let health = health.lock().unwrap_or_else(|e| e.into_inner()).clone();
    conclude(s, env.target.label(), run, health, real_start)
}

struct Run<'a> {
    load: &'a Load,
    scenario: &'a Arc<Scenario>,
    env: &'a Arc<TrialEnv>,
    start: Instant,
    /// The job tasks (owned, so a dropped run drops them and their guards cancel).
    set: JoinSet<()>,
    /// Finished jobs, pushed by each task as its last act (on a virtual clock,
    /// while it still holds the clock, so the order is the clock's).
    done: Arc<Mutex<Vec<Finished>>>,
    wake: Arc<tokio::sync::Notify>,
    /// Jobs spawned and not yet taken from `done`.
    active: usize,
    /// The run's virtual clock (embedded mock), if any.
    sim: Option<Arc<SimClock>>,
    /// Raised when the run gives its jobs up: each cancels itself once submitted.
    abort: Abort,
    next: u64,
    points: Vec<LoadPoint>,
    first: Option<OneRun>,
    /// Failing jobs: (job number, what failed first).
    failing: Vec<(u64, String)>,
    /// Why submitting stopped early, the verdict it gives, and whether the
    /// jobs still in flight are given up (cancelled) or waited for.
    stopped: Option<(String, Verdict, bool)>,
    over_since: Option<Instant>,
    stop_rate: f64,
    cost: f64,
}

/// How often the run looks at its jobs (virtual or real time).
const TICK: Duration = Duration::from_millis(20);

impl Run<'_> {
    async fn drive(&mut self) {
        loop {
            if crate::runpod::job::interrupted() && self.stopped.is_none() {
                self.stopped = Some(("interrupted".into(), Verdict::Error, true));
            }
            if let Some((_, _, true)) = self.stopped {
                // Each job in flight finishes its submission (so it has an id),
                // then cancels itself; none is dropped mid-request.
                self.abort.raise();
                while self.active > 0 {
                    self.wait().await;
                    self.collect();
                }
                return;
            }
            // The spending cap stops submitting; the jobs it already paid for finish.
            let planned_end = self.stopped.is_some()
                || self.load.jobs.is_some_and(|j| self.next >= u64::from(j))
                || self.load.duration.is_some_and(|d| clock::since(self.start) >= d);
            if !planned_end {
                self.submit_due();
            }
            if planned_end && self.active == 0 {
                return;
            }
            self.wait().await;
            self.collect();
        }
    }

    /// Until a job finishes or a tick passes.
    async fn wait(&self) {
        if self.sim.is_some() {
            clock::sleep(TICK).await;
            return;
        }
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(TICK) => {}
        }
    }

    /// Takes the finished jobs, in the order they finished.
    fn collect(&mut self) {
        while self.set.try_join_next().is_some() {}
        let done: Vec<Finished> = std::mem::take(&mut *self.done.lock().unwrap_or_else(|e| e.into_inner()));
        for d in done {
            self.active -= 1;
            self.finished(d);
        }
    }

    /// Submits what the model allows now.
    fn submit_due(&mut self) {
        let elapsed = clock::since(self.start);
        let total = self.load.jobs.map(u64::from).unwrap_or(u64::MAX);
        let ramp = |full: f64| match self.load.ramp {
            Some(r) if !r.is_zero() && elapsed < r => (full * elapsed.as_secs_f64() / r.as_secs_f64()).max(1.0),
            _ => full,
        };
        let due = match self.load.rate {
            // Closed model: keep the (ramped) concurrency in flight.
            None => u64::MAX,
            // Open model: arrivals due by now at the (ramped) rate.
            Some(rate) => {
                let secs = elapsed.as_secs_f64();
                let arrivals = match self.load.ramp {
                    Some(r) if !r.is_zero() && secs < r.as_secs_f64() => rate * secs * secs / (2.0 * r.as_secs_f64()),
                    Some(r) if !r.is_zero() => rate * (secs - r.as_secs_f64() / 2.0),
                    _ => rate * secs,
                };
                arrivals.floor() as u64 + 1
            }
        };
        let cap = if self.load.rate.is_some() {
            self.load.concurrency as usize
        } else {
            ramp(f64::from(self.load.concurrency)) as usize
        };
        while self.active < cap && self.next < total.min(due) {
            self.spawn();
        }
    }

    fn spawn(&mut self) {
        let n = self.next;
        self.next += 1;
        let scenario = job_scenario(self.scenario, n, self.load.vary_seed);
        let env = self.env.clone();
        let submitted = clock::since(self.start).as_millis() as u64;
        // Open model: a job sent late (the loop's tick, the in-flight cap, a
        // slow harness) would hide that lateness from its latency; it is added
        // back, so latency counts from when the job was due (no coordinated omission).
        let late = self
            .load
            .rate
            .map(|rate| submitted.saturating_sub(intended_ms(n, rate, self.load.ramp)))
            .unwrap_or(0);
        let (done, wake) = (self.done.clone(), self.wake.clone());
        let job = async move {
            let one = run_once(&scenario, &env, u32::try_from(n).unwrap_or(u32::MAX)).await;
            done.lock().unwrap_or_else(|e| e.into_inner()).push((n, submitted, late, one));
            wake.notify_one();
        };
        self.active += 1;
        match &self.sim {
            Some(c) => self.set.spawn(c.participate(job)),
            None => self.set.spawn(job),
        };
    }

    fn finished(&mut self, (n, submitted, late, one): Finished) {
        let at = clock::since(self.start).as_millis() as u64;
        if let Some(stop) = &one.stop {
            if let Stop::CostCap(why) = stop {
                if self.stopped.is_none() {
                    self.stopped = Some((format!("spending cap: {why}"), Verdict::Error, false));
                }
                return;
            }
            if let Stop::Drive(DriveError::Submit(e)) = stop {
                if matches!(e.kind, ErrorKind::Unauthorized | ErrorKind::NotFound(_)) {
                    self.stopped = Some((format!("the endpoint refused a submission ({e}): no more are sent"), Verdict::Error, true));
                }
            }
        }
        let r = &one.record;
        let error = kind(&one);
        self.cost += r.cost.unwrap_or(0.0);
        if let Some(e) = &error {
            let first = one
                .failures
                .first()
                .map(|f| f.to_string())
                .or_else(|| one.stop.as_ref().map(Stop::message))
                .unwrap_or_else(|| e.clone());
            self.failing.push((n, first));
        }
        self.points.push(LoadPoint {
            job: n,
            submitted_ms: submitted,
            at_ms: at,
            queue_ms: r.delay_ms,
            execution_ms: r.execution_ms,
            total_ms: r.total_ms + late,
            late_ms: late,
            worker: r.worker_id.clone(),
            ok: error.is_none(),
            error,
        });
        if n == 0 {
            self.first = Some(one);
        }
        self.watch_error_rate(at);
    }

    /// Stops submitting when the last minute's error rate has stayed over the threshold a minute.
    fn watch_error_rate(&mut self, now_ms: u64) {
        let recent: Vec<&LoadPoint> = self.points.iter().filter(|p| p.at_ms + 60_000 >= now_ms).collect();
        let bad = recent.iter().filter(|p| !p.ok).count() as f64;
        let over = !recent.is_empty() && bad / recent.len() as f64 > self.stop_rate;
        match (over, self.over_since) {
            (false, _) => self.over_since = None,
            (true, None) => self.over_since = Some(clock::now()),
            (true, Some(since)) if clock::since(since) >= STOP_AFTER => {
                self.stopped = Some((
                    format!("the error rate stayed over {:.0}% for a minute: no more jobs were sent", self.stop_rate * 100.0),
                    Verdict::Failed,
                    true,
                ));
            }
            _ => {}
        }
    }
}

/// When arrival `n` (0-based) is due in the open model, ms into the run: the
/// inverse of the arrivals curve `submit_due` follows (`rate` a second, the
/// rate growing linearly over `ramp`).
fn intended_ms(n: u64, rate: f64, ramp: Option<Duration>) -> u64 {
    let n = n as f64;
    let secs = match ramp.filter(|r| !r.is_zero()) {
        Some(r) => {
            let r = r.as_secs_f64();
            // rate * t^2 / (2r) arrivals by t < r; rate * (t - r/2) after.
            if n < rate * r / 2.0 {
                (2.0 * r * n / rate).sqrt()
            } else {
                n / rate + r / 2.0
            }
        }
        None => n / rate,
    };
    (secs * 1000.0) as u64
}

/// What went wrong with one job, if anything.
fn kind(one: &OneRun) -> Option<String> {
    if let Some(stop) = &one.stop {
        return Some(match stop {
            Stop::Request(_) => "bad request".into(),
            Stop::CostCap(_) => "not run".into(),
            Stop::Drive(d) => match d {
                DriveError::Submit(_) => "submit error".into(),
                DriveError::Status { .. } => "status error".into(),
                DriveError::Deadline { .. } => "deadline".into(),
                DriveError::Stuck { .. } => "stuck in queue".into(),
                DriveError::Interrupted => "interrupted".into(),
                DriveError::Abandoned { .. } => "given up".into(),
            },
        });
    }
    if one.failures.is_empty() {
        return None;
    }
    match one.record.state.as_deref() {
        Some("COMPLETED") | None => Some("checks".into()),
        Some(state) => Some(state.to_string()),
    }
}

/// Job `n`'s scenario: with `vary: seed`, every seed input plus `n`.
fn job_scenario(s: &Arc<Scenario>, n: u64, vary: bool) -> Arc<Scenario> {
    if !vary || n == 0 {
        return s.clone();
    }
    let mut s2 = (**s).clone();
    for node in s2.workflow.values_mut() {
        let Some(inputs) = node.get_mut("inputs").and_then(Value::as_object_mut) else { continue };
        for key in ["seed", "noise_seed"] {
            if let Some(v) = inputs.get_mut(key) {
                if let Some(seed) = v.as_u64() {
                    *v = Value::from(seed.wrapping_add(n));
                }
            }
        }
    }
    Arc::new(s2)
}

/// The scenario report: figures, thresholds, the first job's record and references.
fn conclude(s: &Scenario, target: &str, run: Run<'_>, health: Vec<crate::model::HealthPoint>, real_start: Instant) -> ScenarioReport {
    let load = run.load;
    let stopped = run.stopped.clone();
    let mut points = run.points;
    points.sort_by_key(|p| p.at_ms);
    let cost = (run.cost > 0.0).then_some(run.cost);
    let report = figures::report(points, health, load, stopped.as_ref().map(|(w, _, _)| w.clone()), cost);
    let (misses, not_applicable) = figures::misses(&s.budget, &report);
    let mut failures: Vec<CheckFailure> = Vec::new();
    let failed_jobs: u64 = report.errors.values().sum();
    if s.budget.error_rate.is_none() && failed_jobs > 0 {
        failures.push(CheckFailure::new(
            "jobs",
            "every job to pass (or a `budget.error_rate`)",
            format!("{failed_jobs} of {} failed: {}", report.submitted, kinds(&report)),
        ));
    }
    // A failure outranks every stop that is not red itself: a red stop (a
    // refused submission, Ctrl-C) keeps its own verdict, never a green one.
    let verdict = match (&stopped, failures.is_empty(), misses.is_empty()) {
        (Some((_, v, _)), _, _) if !v.is_success() => *v,
        (_, false, _) => Verdict::Failed,
        (_, true, false) => Verdict::OverBudget,
        _ => Verdict::Passed,
    };
    let verdict = if failures.is_empty() && report.submitted == 0 && matches!(&stopped, Some((w, _, _)) if w.starts_with("spending cap")) {
        Verdict::Ignored
    } else {
        verdict
    };
    let message = message(s, target, verdict, &report, &misses, &failures, &run.failing, &not_applicable);
    let mut out = ScenarioReport::new(crate::run::trial::run::head(s), verdict, Some(message));
    out.failures = failures;
    if let Some(first) = run.first {
        out.snapshots = first.snapshots;
        out.runs = vec![first.record];
    }
    out.budget = Some(BudgetReport {
        misses,
        not_applicable,
        ..BudgetReport::default()
    });
    out.cost = report.cost;
    out.duration_ms = real_start.elapsed().as_millis() as u64;
    out.load = Some(report);
    out
}

fn kinds(r: &LoadReport) -> String {
    r.errors.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
}

#[allow(clippy::too_many_arguments)]
fn message(
    s: &Scenario,
    target: &str,
    verdict: Verdict,
    r: &LoadReport,
    misses: &[crate::model::BudgetMiss],
    failures: &[CheckFailure],
    failing: &[(u64, String)],
    na: &[String],
) -> String {
    use std::fmt::Write;
    use crate::text::fmt_ms;
    let mut m = String::new();
    let _ = writeln!(m, "{} against {target}, load run ({})", verdict.as_str().to_uppercase(), crate::paths::display_path(&s.file).display());
    let _ = writeln!(m, "  {} jobs, {} ok, in {}: {:.1} jobs/min", r.submitted, r.ok, fmt_ms(r.wall_ms), r.throughput_per_min);
    for (name, sp) in [("queue", r.queue), ("execution", r.execution), ("total", r.total)] {
        if let Some(sp) = sp {
            let _ = writeln!(m, "  {name}: p50 {}, p95 {}, p99 {}, max {}", fmt_ms(sp.p50_ms), fmt_ms(sp.p95_ms), fmt_ms(sp.p99_ms), fmt_ms(sp.max_ms));
        }
    }
    let rules: Vec<String> = r.cold_starts.iter().map(|c| c.rule.clone()).collect();
    let _ = writeln!(m, "  cold starts: {}{}", r.cold_starts.len(), if rules.is_empty() { String::new() } else { format!(" ({})", tally(&rules)) });
    if !r.errors.is_empty() {
        let _ = writeln!(m, "  errors: {}", kinds(r));
    }
    if let Some(why) = &r.stopped {
        let _ = writeln!(m, "  ✗ stopped early: {why}");
    }
    for f in failures {
        let _ = writeln!(m, "  ✗ {f}");
    }
    for miss in misses {
        let _ = writeln!(m, "  ✗ {miss}");
    }
    for (n, why) in failing.iter().take(5) {
        let _ = writeln!(m, "  · job {n}: {why}");
    }
    if failing.len() > 5 {
        let _ = writeln!(m, "  · ... and {} more failing jobs (report.json lists them)", failing.len() - 5);
    }
    for n in na {
        let _ = writeln!(m, "  · {n}");
    }
    m
}

/// `a, a, b` -> `2 a, 1 b`.
fn tally(items: &[String]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for i in items {
        match counts.iter_mut().find(|(k, _)| k == i) {
            Some((_, n)) => *n += 1,
            None => counts.push((i.clone(), 1)),
        }
    }
    counts.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::intended_ms;
    use std::time::Duration;

    #[test]
    fn arrivals_are_due_on_the_curve_the_submitter_follows() {
        // 200 a second: arrival 0 at 0, 200 at 1 s.
        assert_eq!(intended_ms(0, 200.0, None), 0);
        assert_eq!(intended_ms(200, 200.0, None), 1000);
        // Ramped over 10 s to 20 a second: 100 arrivals in the ramp (rate*r/2),
        // the 100th at 10 s, then 20 a second.
        let r = Some(Duration::from_secs(10));
        assert_eq!(intended_ms(100, 20.0, r), 10_000);
        assert_eq!(intended_ms(120, 20.0, r), 11_000);
        assert_eq!(intended_ms(25, 20.0, r), 5_000);
    }
}
