//! What the run expects of each scenario from its history, and the order
//! trials start in. With history, longest expected first (the LPT rule), so a
//! long scenario (a video) does not start last and keep the run waiting while
//! the endpoint's other workers idle: the suite then finishes close to
//! max(total ÷ k, longest). Without history, file-name order (stable).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use crate::results::history::HistoryLine;
use crate::scenario::{Diagnostics, Scenario};

/// A loaded scenario file as the runner holds it (the trials' `Loaded`,
/// spelled out: this file is a leaf of the runner).
type Loaded = (String, std::path::PathBuf, Result<Scenario, Diagnostics>);

/// How many recent runs of a scenario its expectation is the median of.
const RECENT: usize = 5;

/// Expected duration of one job of each scenario (submission to answer), by name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Expected(HashMap<String, Duration>);

impl Expected {
    /// From `history.jsonl` under `reports`: the median `total_ms` of each
    /// scenario's last runs, on this target when it has any, else on any target.
    pub(crate) fn from_history(reports: &Path, target: &str) -> Self {
        let Ok((lines, _)) = crate::results::history::read(&reports.join("history.jsonl")) else {
            return Self::default();
        };
        Self::from_lines(&lines, target)
    }

    fn from_lines(lines: &[HistoryLine], target: &str) -> Self {
        let mut by: HashMap<&str, (Vec<u64>, Vec<u64>)> = HashMap::new();
        for l in lines {
            let Some(t) = l.total_ms else { continue };
            let e = by.entry(l.scenario.as_str()).or_default();
            if l.target == target {
                e.0.push(t);
            }
            e.1.push(t);
        }
        let map = by
            .into_iter()
            .filter_map(|(name, (here, any))| {
                let mut v = if here.is_empty() { any } else { here };
                let recent = v.split_off(v.len().saturating_sub(RECENT));
                median(recent).map(|ms| (name.to_string(), Duration::from_millis(ms)))
            })
            .collect();
        Expected(map)
    }

    /// One job of scenario `name`, if its history says.
    pub(crate) fn job(&self, name: &str) -> Option<Duration> {
        self.0.get(name).copied()
    }

    /// The whole trial: one job times `repeat` (None: no history).
    fn trial(&self, l: &Loaded) -> Option<Duration> {
        match &l.2 {
            // A file that does not load runs nothing.
            Err(_) => Some(Duration::ZERO),
            Ok(s) => self.job(&s.name).map(|d| d * s.repeat.max(1)),
        }
    }
}

fn median(mut v: Vec<u64>) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// Sorts the trials longest expected first; scenarios without history go
/// first (they may be long), in file-name order among themselves. Returns
/// each trial's name and expectation in the new order, for verbose output.
pub(crate) fn longest_first(
    loaded: &mut [Loaded],
    expected: &Expected,
) -> Vec<(String, Option<Duration>)> {
    loaded.sort_by_key(|l| std::cmp::Reverse(expected.trial(l).unwrap_or(Duration::MAX)));
    loaded
        .iter()
        .map(|l| (l.0.clone(), expected.trial(l)))
        .collect()
}

/// The order as one line per trial, for `HARNESS_VERBOSE=1`.
pub(crate) fn describe(order: &[(String, Option<Duration>)]) -> String {
    let mut out = String::from("order (longest expected first, from history.jsonl):");
    for (name, d) in order {
        let d = match d {
            Some(d) => format!("{:.1}s", d.as_secs_f64()),
            None => "no history".into(),
        };
        out.push_str(&format!("\n  {name} ({d})"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Verdict;

    fn line(scenario: &str, target: &str, ms: u64) -> HistoryLine {
        HistoryLine {
            time: String::new(),
            run_id: String::new(),
            scenario: scenario.into(),
            verdict: Verdict::Passed,
            target: target.into(),
            git_commit: None,
            delay_ms: None,
            execution_ms: None,
            total_ms: Some(ms),
            p95_total_ms: None,
            similarity: None,
            distance: None,
            cost: None,
            gpu: None,
            release: None,
        }
    }

    #[test]
    fn the_median_of_recent_runs_on_this_target_wins() {
        let mut lines = vec![line("a", "mock", 100_000)];
        for ms in [10, 20, 30, 40, 50, 60] {
            lines.push(line("a", "live", ms));
        }
        lines.push(line("b", "mock", 7));
        let e = Expected::from_lines(&lines, "live");
        // The last five on `live`: 20..60, median 40.
        assert_eq!(e.job("a"), Some(Duration::from_millis(40)));
        // No `live` history for b: any target's.
        assert_eq!(e.job("b"), Some(Duration::from_millis(7)));
        assert_eq!(e.job("c"), None);
    }

    #[test]
    fn unknown_first_then_longest_first_stable_among_equals() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("w.json"),
            r#"{"9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x"}}}"#,
        )
        .unwrap();
        let scenario = |name: &str, repeat: u32| {
            let file = dir.path().join(format!("{name}.yaml"));
            let text = format!("workflow: w.json\nrepeat: {repeat}\n");
            let s = crate::scenario::parse::load_str(&text, &file, dir.path());
            assert!(s.is_ok(), "{:?}", s.as_ref().err());
            (name.to_string(), file, s)
        };
        let mut loaded = vec![
            scenario("a-short", 1),
            scenario("b-video", 1),
            scenario("c-new", 1),
            scenario("d-repeated", 5),
            scenario("e-short", 1),
        ];
        let e = Expected::from_lines(
            &[
                line("a-short", "t", 2_000),
                line("b-video", "t", 60_000),
                line("d-repeated", "t", 10_000),
                line("e-short", "t", 2_000),
            ],
            "t",
        );
        let order: Vec<String> = longest_first(&mut loaded, &e)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            order,
            ["c-new", "b-video", "d-repeated", "a-short", "e-short"]
        );
    }
}
