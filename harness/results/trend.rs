//! Trends from `history.jsonl`: per scenario, the latest run against a baseline
//! of the runs before it, flagging latency regressions (p95 of total wall time,
//! and execution time, up by more than a ratio), image drift (snapshot
//! similarity down by more than a margin) and new failures.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::results::history::HistoryLine;
use crate::model::Verdict;
use crate::text::fmt_ms;

/// Thresholds for flagging regressions.
#[derive(Clone, Debug)]
pub struct Options {
    /// How many earlier runs form the baseline (their median).
    pub baseline_runs: usize,
    /// A latency is a regression when latest / baseline exceeds this.
    pub latency_ratio: f64,
    /// A similarity drop larger than this is image drift.
    pub similarity_drop: f64,
    /// A latency is a regression only when it also grew by more than this
    /// (ms): ratios of millisecond-scale totals are noise.
    pub latency_floor_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            baseline_runs: 5,
            latency_ratio: 1.5,
            similarity_drop: 0.02,
            latency_floor_ms: 1000,
        }
    }
}

/// One scenario's trend.
#[derive(Clone, Debug)]
pub struct Trend {
    pub scenario: String,
    /// The target its runs went to: a mock run's figures are never a live run's baseline.
    pub target: String,
    pub runs: usize,
    pub latest: HistoryLine,
    /// Total wall time of the recent runs, oldest first (for sparklines).
    pub totals: Vec<u64>,
    pub flags: Vec<String>,
    /// Context that is not a regression: the GPU type or the worker release
    /// changed since the run before (pixel drift on another GPU is the GPU's).
    pub notes: Vec<String>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    Some(v[v.len() / 2])
}

/// Groups lines per scenario and target, in run order (by time, then run id),
/// and compares each group's latest line with the median of its
/// `baseline_runs` before it: runs against another target are another series.
pub fn analyse(lines: &[HistoryLine], opts: &Options) -> Vec<Trend> {
    let mut by: BTreeMap<(&str, &str), Vec<&HistoryLine>> = BTreeMap::new();
    for l in lines {
        by.entry((&l.scenario, &l.target)).or_default().push(l);
    }
    by.into_iter()
        .map(|((name, target), mut ls)| {
            ls.sort_by(|a, b| (&a.time, &a.run_id).cmp(&(&b.time, &b.run_id)));
            let latest = (*ls.last().expect("non-empty group")).clone();
            let before: Vec<&HistoryLine> = ls[..ls.len() - 1]
                .iter()
                .rev()
                .take(opts.baseline_runs)
                .copied()
                .collect();
            let mut flags = verdict_flags(&latest, &before);
            flags.extend(latency_flags(&latest, &before, opts));
            flags.extend(drift_flag(&latest, &before, opts));
            let notes = ls
                .len()
                .checked_sub(2)
                .map(|i| hardware_notes(ls[i], &latest))
                .unwrap_or_default();
            let totals = ls
                .iter()
                .rev()
                .take(20)
                .rev()
                .filter_map(|l| l.p95_total_ms.or(l.total_ms))
                .collect();
            Trend {
                scenario: name.to_string(),
                target: target.to_string(),
                runs: ls.len(),
                latest,
                totals,
                flags,
                notes,
            }
        })
        .collect()
}

/// A new failure, or one that goes on.
fn verdict_flags(latest: &HistoryLine, before: &[&HistoryLine]) -> Vec<String> {
    let passed = |v: Verdict| matches!(v, Verdict::Passed | Verdict::Ignored);
    if passed(latest.verdict) {
        return Vec::new();
    }
    vec![match before.first() {
        Some(prev) if passed(prev.verdict) => format!(
            "new failure: {} (was {})",
            latest.verdict.as_str(),
            prev.verdict.as_str()
        ),
        None => format!("failing: {}", latest.verdict.as_str()),
        _ => format!("still failing: {}", latest.verdict.as_str()),
    }]
}

/// Reads one latency figure of a history line.
type Pick = fn(&HistoryLine) -> Option<u64>;

/// Total p95 and execution time over `latency_ratio` x their baseline.
fn latency_flags(latest: &HistoryLine, before: &[&HistoryLine], opts: &Options) -> Vec<String> {
    // The embedded mock reports simulated times and scales its real waits
    // down: its wall time is the harness's own overhead, so it is judged on
    // the simulated queue + execution time instead.
    let simulated = latest.target.starts_with("embedded mock");
    let picks: [(&str, Pick); 2] = if simulated {
        [
            ("simulated queue + execution", |l| l.delay_ms.zip(l.execution_ms).map(|(d, e)| d.saturating_add(e))),
            ("execution", |l| l.execution_ms),
        ]
    } else {
        [("total p95", |l| l.p95_total_ms.or(l.total_ms)), ("execution", |l| l.execution_ms)]
    };
    picks
        .into_iter()
        .filter_map(|(what, pick)| {
            let base = median(before.iter().filter_map(|l| pick(l)).map(|v| v as f64).collect())?;
            let now = pick(latest)?;
            let grew = now as f64 - base;
            (base > 0.0 && now as f64 / base > opts.latency_ratio && grew > opts.latency_floor_ms as f64).then(|| {
                format!(
                    "{what} {} vs baseline {} (x{:.2} > x{}, +{} > {})",
                    fmt_ms(now),
                    fmt_ms(base as u64),
                    now as f64 / base,
                    opts.latency_ratio,
                    fmt_ms(grew as u64),
                    fmt_ms(opts.latency_floor_ms)
                )
            })
        })
        .collect()
}

/// Snapshot similarity more than `similarity_drop` below its baseline.
fn drift_flag(latest: &HistoryLine, before: &[&HistoryLine], opts: &Options) -> Option<String> {
    let base = median(before.iter().filter_map(|l| l.similarity).collect())?;
    let now = latest.similarity?;
    (base - now > opts.similarity_drop).then(|| {
        format!(
            "image drift: similarity {now:.4} vs baseline {base:.4} (drop > {})",
            opts.similarity_drop
        )
    })
}

/// A unicode sparkline of values (▁▂▃▄▅▆▇█).
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (Some(min), Some(max)) = (values.iter().min(), values.iter().max()) else {
        return String::new();
    };
    values
        .iter()
        .map(|v| {
            if max == min {
                BARS[3]
            } else {
                BARS[((v - min) * 7 / (max - min)) as usize]
            }
        })
        .collect()
}

/// What changed on the endpoint's side between the run before and the latest.
fn hardware_notes(before: &HistoryLine, latest: &HistoryLine) -> Vec<String> {
    let mut out = Vec::new();
    for (what, a, b) in [("GPU type", &before.gpu, &latest.gpu), ("worker release", &before.release, &latest.release)] {
        if let (Some(a), Some(b)) = (a, b) {
            if a != b {
                out.push(format!("{what} changed since the run before: {a} -> {b} (drift may be the {what}'s, not the workflow's)"));
            }
        }
    }
    out
}

/// A plain-text table of trends.
pub fn render(trends: &[Trend]) -> String {
    let mut out = String::new();
    // A history of runs against several targets: each row says which.
    let several = trends.iter().any(|t| t.target != trends[0].target);
    let label = |t: &Trend| {
        if several {
            format!("{} @ {}", t.scenario, t.target)
        } else {
            t.scenario.clone()
        }
    };
    let width = trends
        .iter()
        .map(|t| label(t).chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(
        out,
        "{:width$}  {:>4}  {:<11}  {:>9}  {:<20}  flags",
        "scenario", "runs", "latest", "total", "trend"
    );
    for t in trends {
        let total = t
            .latest
            .p95_total_ms
            .or(t.latest.total_ms)
            .map(fmt_ms)
            .unwrap_or_else(|| "-".into());
        let mut flags = if t.flags.is_empty() {
            "ok".to_string()
        } else {
            t.flags.join("; ")
        };
        for n in &t.notes {
            flags.push_str(&format!("; note: {n}"));
        }
        let _ = writeln!(
            out,
            "{:width$}  {:>4}  {:<11}  {:>9}  {:<20}  {flags}",
            label(t),
            t.runs,
            t.latest.verdict.as_str(),
            total,
            sparkline(&t.totals)
        );
    }
    let flagged = trends.iter().filter(|t| !t.flags.is_empty()).count();
    let _ = writeln!(out, "\n{flagged} of {} scenario(s) flagged", trends.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        run: u32,
        scenario: &str,
        verdict: Verdict,
        total: u64,
        sim: Option<f64>,
    ) -> HistoryLine {
        HistoryLine {
            time: format!("2026-11-{:02}T00:00:00Z", run),
            run_id: format!("r{run}"),
            scenario: scenario.into(),
            verdict,
            target: "mock".into(),
            git_commit: None,
            delay_ms: None,
            execution_ms: Some(total / 2),
            total_ms: Some(total),
            p95_total_ms: Some(total),
            similarity: sim,
            distance: None,
            cost: None,
            gpu: None,
            release: None,
        }
    }

    #[test]
    fn a_changed_gpu_or_release_is_a_note_not_a_regression() {
        let mut a = line(1, "s", Verdict::Passed, 1000, None);
        let mut b = line(2, "s", Verdict::Passed, 1000, None);
        a.gpu = Some("NVIDIA A40".into());
        b.gpu = Some("NVIDIA L4".into());
        a.release = Some("3".into());
        b.release = Some("3".into());
        let notes = hardware_notes(&a, &b);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("GPU type changed since the run before: NVIDIA A40 -> NVIDIA L4"), "{notes:?}");
        b.release = Some("4".into());
        assert_eq!(hardware_notes(&a, &b).len(), 2);
        // Unknown on one side is no change.
        b.gpu = None;
        assert_eq!(hardware_notes(&a, &b).len(), 1);
    }

    #[test]
    fn flags_latency_drift_and_new_failures_only() {
        let mut lines = Vec::new();
        for run in 1..=6 {
            lines.push(line(
                run,
                "steady",
                Verdict::Passed,
                1000 + u64::from(run),
                Some(0.99),
            ));
            lines.push(line(
                run,
                "slower",
                Verdict::Passed,
                if run == 6 { 2600 } else { 1000 },
                None,
            ));
            lines.push(line(
                run,
                "drifted",
                Verdict::Passed,
                1000,
                Some(if run == 6 { 0.90 } else { 0.99 }),
            ));
            lines.push(line(
                run,
                "broke",
                if run == 6 {
                    Verdict::Failed
                } else {
                    Verdict::Passed
                },
                1000,
                None,
            ));
        }
        let t = analyse(&lines, &Options::default());
        let flags: BTreeMap<&str, &Vec<String>> =
            t.iter().map(|t| (t.scenario.as_str(), &t.flags)).collect();
        assert!(flags["steady"].is_empty(), "{:?}", flags["steady"]);
        assert_eq!(
            flags["slower"][0],
            "total p95 2.6s vs baseline 1.0s (x2.60 > x1.5, +1.6s > 1.0s)"
        );
        assert!(
            flags["drifted"][0].starts_with("image drift: similarity 0.9000 vs baseline 0.9900")
        );
        assert_eq!(
            flags["broke"],
            &vec!["new failure: failed (was passed)".to_string()]
        );
        assert_eq!(sparkline(&[1, 5, 9]), "▁▄█");
        assert!(render(&t).ends_with("3 of 4 scenario(s) flagged\n"));
    }

    /// On the embedded mock, a total of 34 ms against 5 ms is the harness's
    /// own noise: mock runs are judged on simulated time, and any latency
    /// must also grow by more than the floor.
    #[test]
    fn millisecond_noise_and_mock_wall_time_are_not_regressions() {
        let mut lines: Vec<HistoryLine> = (1..=5).map(|r| line(r, "s", Verdict::Passed, 5, None)).collect();
        lines.push(line(6, "s", Verdict::Passed, 34, None));
        assert!(analyse(&lines, &Options::default())[0].flags.is_empty());
        let mock = |r: u32, total: u64, exec: u64| {
            let mut l = line(r, "m", Verdict::Passed, total, None);
            l.target = "embedded mock (default)".into();
            (l.delay_ms, l.execution_ms) = (Some(2000), Some(exec));
            l
        };
        let mut lines: Vec<HistoryLine> = (1..=5).map(|r| mock(r, 40, 3000)).collect();
        lines.push(mock(6, 4000, 3000));
        assert!(analyse(&lines, &Options::default())[0].flags.is_empty(), "wall time of the mock is not judged");
        lines.push(mock(7, 40, 9000));
        let t = analyse(&lines, &Options::default());
        assert!(t[0].flags.iter().any(|f| f.starts_with("simulated queue + execution 11.0s")), "{:?}", t[0].flags);
    }

    #[test]
    fn runs_against_another_target_are_another_series() {
        // Five quick mock runs, then a live run ten times slower: not a latency regression
        // of the live endpoint, which has no baseline yet.
        let mut lines: Vec<HistoryLine> = (1..=5).map(|r| line(r, "s", Verdict::Passed, 500, None)).collect();
        let mut live = line(6, "s", Verdict::Passed, 5000, None);
        live.target = "live abc123".into();
        lines.push(live);
        let trends = analyse(&lines, &Options::default());
        assert_eq!(trends.len(), 2, "{trends:?}");
        assert!(trends.iter().all(|t| t.flags.is_empty()), "{trends:?}");
        let live = trends.iter().find(|t| t.target == "live abc123").unwrap();
        assert_eq!(live.runs, 1);
        let table = render(&trends);
        assert!(table.contains("s @ live abc123") && table.contains("s @ mock"), "{table}");
    }
}
