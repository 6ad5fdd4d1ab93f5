//! Latency budgets per phase: queue (RunPod `delayTime`, queue plus cold start),
//! execution (`executionTime`) and total (submission to result seen by the
//! harness). With `repeat: N > 1` a budget applies to the p95 of the runs.

use crate::model::{BudgetMiss, BudgetReport, Spread, Timing};
use crate::scenario::Budget;

/// Budget verdicts and p50/p95/max figures for the timings of a scenario's runs.
pub fn evaluate(budget: &Budget, runs: &[Timing]) -> BudgetReport {
    let mut rep = BudgetReport {
        queue: spread(runs.iter().map(|t| t.queue_ms)),
        execution: spread(runs.iter().map(|t| t.execution_ms)),
        total: spread(runs.iter().map(|t| Some(t.total_ms))),
        ..Default::default()
    };
    let statistic = if runs.len() > 1 { "p95" } else { "max" };
    let phases = [
        ("queue", budget.queue, &rep.queue, "delayTime"),
        (
            "execution",
            budget.execution,
            &rep.execution,
            "executionTime",
        ),
        ("total", budget.total, &rep.total, ""),
    ];
    let mut misses = Vec::new();
    let mut na = Vec::new();
    for (phase, limit, spread, field) in phases {
        let Some(limit) = limit else { continue };
        match spread {
            // The total is measured here: it is missing only when no job finished.
            None if field.is_empty() => na.push(format!(
                "{phase} budget not checked: no job finished, so there is no time to compare"
            )),
            None => na.push(format!(
                "{phase} budget not checked: the target does not report `{field}`"
            )),
            Some(s) => {
                let measured = if runs.len() > 1 { s.p95_ms } else { s.max_ms };
                if measured > limit.as_millis() as u64 {
                    misses.push(BudgetMiss {
                        phase: phase.to_string(),
                        budget_ms: limit.as_millis() as u64,
                        measured_ms: measured,
                        statistic: statistic.to_string(),
                        crossed_at_ms: None,
                        figure: None,
                    });
                }
            }
        }
    }
    rep.misses = misses;
    rep.not_applicable = na;
    rep
}

fn spread(values: impl Iterator<Item = Option<u64>>) -> Option<Spread> {
    let mut v: Vec<u64> = values.collect::<Option<Vec<u64>>>()?;
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(Spread {
        p50_ms: percentile(&v, 50.0),
        p95_ms: percentile(&v, 95.0),
        max_ms: *v.last().unwrap_or(&0),
    })
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn p95_over_repeats_and_not_applicable_phases() {
        let runs: Vec<Timing> = (1..=20)
            .map(|i| Timing {
                queue_ms: None,
                execution_ms: Some(i * 100),
                total_ms: i * 150,
            })
            .collect();
        let b = Budget {
            queue: Some(Duration::from_secs(1)),
            execution: Some(Duration::from_millis(1800)),
            total: Some(Duration::from_secs(60)),
            ..Budget::default()
        };
        let r = evaluate(&b, &runs);
        assert_eq!(r.misses.len(), 1);
        assert_eq!(
            r.misses[0].to_string(),
            "execution time over budget: p95 1.9s > budget 1.8s"
        );
        assert_eq!(
            r.not_applicable,
            vec!["queue budget not checked: the target does not report `delayTime`".to_string()]
        );
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), 2);
    }
}
