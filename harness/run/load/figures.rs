//! A load run's figures from its finished jobs, and the thresholds they
//! miss: p95 of queue, execution and total (as with `repeat`), the p99 of
//! total, the error rate, the cold-start count and the throughput. Each miss
//! says when in the run the figure crossed its threshold.

use std::collections::{BTreeMap, HashSet};

use crate::checks::budget::percentile;
use crate::model::{BudgetMiss, ColdStart, HealthPoint, LoadPoint, LoadReport, LoadSpread};
use crate::scenario::{Budget, Load};

/// The figures of a run whose jobs (in the order their results were seen) are `jobs`.
pub(super) fn report(jobs: Vec<LoadPoint>, health: Vec<HealthPoint>, load: &Load, stopped: Option<String>, cost: Option<f64>) -> LoadReport {
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for j in jobs.iter().filter(|j| !j.ok) {
        *errors.entry(j.error.clone().unwrap_or_else(|| "error".into())).or_insert(0) += 1;
    }
    let ok = jobs.iter().filter(|j| j.ok).count() as u64;
    let wall_ms = jobs.iter().map(|j| j.at_ms).max().unwrap_or(0);
    let minutes = wall_ms as f64 / 60_000.0;
    LoadReport {
        submitted: jobs.len() as u64,
        ok,
        errors,
        wall_ms,
        throughput_per_min: if minutes > 0.0 { ok as f64 / minutes } else { 0.0 },
        queue: spread(jobs.iter().map(|j| j.queue_ms)),
        execution: spread(jobs.iter().map(|j| j.execution_ms)),
        total: spread(jobs.iter().map(|j| Some(j.total_ms))),
        cold_starts: cold_starts(&jobs, load),
        jobs,
        health,
        cost,
        stopped,
    }
}

fn spread(values: impl Iterator<Item = Option<u64>>) -> Option<LoadSpread> {
    let mut v: Vec<u64> = values.flatten().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(LoadSpread {
        p50_ms: percentile(&v, 50.0),
        p95_ms: percentile(&v, 95.0),
        p99_ms: percentile(&v, 99.0),
        max_ms: *v.last().unwrap_or(&0),
    })
}

/// A job ran on a worker seen for the first time (`new worker`); where the
/// target names no worker, a job that waited at least `cold_start_over`
/// (`delay over ...`). With worker ids the delay rule would count every job
/// that queued behind a booting worker, so it is not used then.
fn cold_starts(jobs: &[LoadPoint], load: &Load) -> Vec<ColdStart> {
    let over = load.cold_start_over.as_millis() as u64;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for j in jobs.iter().filter(|j| j.error.as_deref() != Some("not run")) {
        let delay = j.queue_ms.unwrap_or(0);
        let rule = match &j.worker {
            Some(w) if seen.insert(w.clone()) => Some("new worker".to_string()),
            Some(_) => None,
            None if j.queue_ms.is_some_and(|d| d >= over) => Some(format!("delay over {}", crate::text::fmt_ms(over))),
            None => None,
        };
        if let Some(rule) = rule {
            out.push(ColdStart {
                job: j.job,
                worker: j.worker.clone(),
                delay_ms: delay,
                rule,
                at_ms: j.at_ms,
            });
        }
    }
    out
}

/// A latency threshold: its phase, limit, spread, how a job's value is read, and the percentile.
type Phase<'a> = (&'a str, Option<std::time::Duration>, Option<LoadSpread>, &'a dyn Fn(&LoadPoint) -> Option<u64>, f64);

/// The thresholds the run misses, and those it cannot check.
pub(super) fn misses(budget: &Budget, r: &LoadReport) -> (Vec<BudgetMiss>, Vec<String>) {
    let mut misses = Vec::new();
    let mut na = Vec::new();
    let phases: [Phase; 4] = [
        ("queue", budget.queue, r.queue, &|j: &LoadPoint| j.queue_ms, 95.0),
        ("execution", budget.execution, r.execution, &|j: &LoadPoint| j.execution_ms, 95.0),
        ("total", budget.total, r.total, &|j: &LoadPoint| Some(j.total_ms), 95.0),
        ("total", budget.p99, r.total, &|j: &LoadPoint| Some(j.total_ms), 99.0),
    ];
    for (phase, limit, spread, value, p) in phases {
        let Some(limit) = limit.map(|l| l.as_millis() as u64) else { continue };
        let Some(s) = spread else {
            na.push(format!("{phase} budget not checked: the target does not report it"));
            continue;
        };
        let measured = if p >= 99.0 { s.p99_ms } else { s.p95_ms };
        if measured > limit {
            misses.push(BudgetMiss {
                phase: phase.to_string(),
                budget_ms: limit,
                measured_ms: measured,
                statistic: format!("p{p}"),
                crossed_at_ms: crossed(&r.jobs, |seen| {
                    let mut v: Vec<u64> = seen.iter().filter_map(value).collect();
                    v.sort_unstable();
                    !v.is_empty() && percentile(&v, p) > limit
                }),
                figure: None,
            });
        }
    }
    if let Some(max) = budget.error_rate {
        let rate = r.error_rate();
        if rate > max {
            misses.push(figure("error_rate", rate, max, "error rate", crossed(&r.jobs, |seen| {
                let bad = seen.iter().filter(|j| !j.ok).count() as f64;
                bad / seen.len() as f64 > max
            })));
        }
    }
    if let Some(max) = budget.cold_starts {
        let n = r.cold_starts.len() as u64;
        if n > u64::from(max) {
            let at = r.cold_starts.get(max as usize).map(|c| c.at_ms);
            misses.push(figure("cold_starts", n as f64, f64::from(max), "cold starts", at));
        }
    }
    if let Some(min) = budget.throughput {
        if r.throughput_per_min < min {
            misses.push(figure("throughput", r.throughput_per_min, min, "jobs/min", None));
        }
    }
    (misses, na)
}

fn figure(phase: &str, measured: f64, threshold: f64, unit: &str, at: Option<u64>) -> BudgetMiss {
    BudgetMiss {
        phase: phase.to_string(),
        budget_ms: 0,
        measured_ms: 0,
        statistic: "run".into(),
        crossed_at_ms: at,
        figure: Some((measured, threshold, unit.to_string())),
    }
}

/// When (the result time of the first job after which) `over` held.
fn crossed(jobs: &[LoadPoint], over: impl Fn(&[LoadPoint]) -> bool) -> Option<u64> {
    (1..=jobs.len()).find(|n| over(&jobs[..*n])).map(|n| jobs[n - 1].at_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn load() -> Load {
        Load {
            concurrency: 2,
            rate: None,
            jobs: Some(4),
            duration: None,
            ramp: None,
            vary_seed: false,
            cold_start_over: Duration::from_secs(10),
            sample_every: Duration::from_secs(1),
        }
    }

    fn job(n: u64, at: u64, queue: u64, worker: &str, ok: bool) -> LoadPoint {
        LoadPoint {
            job: n,
            submitted_ms: 0,
            at_ms: at,
            queue_ms: Some(queue),
            execution_ms: Some(1000),
            total_ms: at,
            late_ms: 0,
            worker: Some(worker.into()),
            ok,
            error: (!ok).then(|| "FAILED".into()),
        }
    }

    #[test]
    fn figures_cold_starts_and_misses_with_when() {
        let mut jobs = vec![job(0, 21_000, 20_000, "w1", true), job(1, 22_000, 20_500, "w2", true), job(2, 23_000, 12_000, "w1", false), job(3, 60_000, 500, "w2", true)];
        // A target that names no worker: the delay rule.
        jobs[2].worker = None;
        let r = report(jobs, Vec::new(), &load(), None, None);
        assert_eq!((r.submitted, r.ok, r.wall_ms), (4, 3, 60_000));
        assert!((r.throughput_per_min - 3.0).abs() < 1e-9);
        let rules: Vec<&str> = r.cold_starts.iter().map(|c| c.rule.as_str()).collect();
        assert_eq!(rules, ["new worker", "new worker", "delay over 10.0s"]);
        let budget = Budget {
            error_rate: Some(0.1),
            cold_starts: Some(2),
            throughput: Some(10.0),
            p99: Some(Duration::from_secs(30)),
            ..Budget::default()
        };
        let (misses, _) = misses(&budget, &r);
        let text: Vec<String> = misses.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            text,
            [
                "total time over budget: p99 1m > budget 30.0s (crossed 1m into the run)",
                "error rate over budget: 25.0% > budget 10.0% (crossed 23.0s into the run)",
                "cold starts over budget: 3 > budget 2 (crossed 23.0s into the run)",
                "throughput under budget: 3.0 jobs/min < budget 10.0 jobs/min",
            ]
        );
    }
}
