//! `endpoint-harness compare BASELINE CANDIDATE`: two report folders (two
//! endpoints, two worker images, last night and tonight) side by side. Each
//! scenario is matched by name; each returned image is measured against its
//! counterpart (same scenario, same job, same index) with the snapshot metrics;
//! times and cost are compared by ratio with a slack; warnings the baseline
//! did not have are listed. The model is in [`model`], the pictures in
//! [`images`], the text, Markdown and HTML in [`render`].

pub mod images;
pub mod model;
pub mod render;

use std::collections::BTreeMap;
use std::path::Path;

use crate::model::{RunRecord, RunReport, ScenarioReport, Verdict};
use model::{Change, ChangeCounts, Comparison, Delta, ScenarioDiff, Side, Thresholds};

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A folder without a readable report.json.
    #[error("{path}: {why}")]
    Report {
        /// The report.json.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// The output could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Reads `dir/report.json`.
pub fn read_report(dir: &Path) -> Result<RunReport, CompareError> {
    let path = dir.join("report.json");
    let err = |why: String| CompareError::Report {
        path: crate::paths::display_path(&path).display().to_string(),
        why,
    };
    let bytes = std::fs::read(&path).map_err(|e| err(format!("{e} (is this a reports folder?)")))?;
    serde_json::from_slice(&bytes).map_err(|e| err(format!("not a report.json: {e}")))
}

fn side(dir: &Path, r: &RunReport) -> Side {
    Side {
        dir: crate::paths::display_path(dir).display().to_string(),
        run_id: r.run_id.clone(),
        target: r.target.clone(),
        started_at: r.started_at.clone(),
        git_commit: r.git_commit.clone(),
    }
}

/// Compares the reports in `baseline` and `candidate`. With `out`, diff images
/// of regressed pairs are written under `out/compare/`.
pub fn compare(
    baseline: &Path,
    candidate: &Path,
    t: &Thresholds,
    out: Option<&Path>,
) -> Result<Comparison, CompareError> {
    let (b, c) = (read_report(baseline)?, read_report(candidate)?);
    let mut by_name: BTreeMap<&str, (Option<&ScenarioReport>, Option<&ScenarioReport>)> =
        BTreeMap::new();
    for s in &b.scenarios {
        by_name.entry(&s.name).or_default().0 = Some(s);
    }
    for s in &c.scenarios {
        by_name.entry(&s.name).or_default().1 = Some(s);
    }
    let dirs = images::Dirs { baseline, candidate, out };
    let mut scenarios: Vec<ScenarioDiff> = by_name
        .into_iter()
        .map(|(name, pair)| scenario(name, pair, t, &dirs))
        .collect();
    scenarios.sort_by(|x, y| x.change.cmp(&y.change).then_with(|| x.name.cmp(&y.name)));
    let mut counts = ChangeCounts::default();
    for s in &scenarios {
        *match s.change {
            Change::Regressed => &mut counts.regressed,
            Change::Improved => &mut counts.improved,
            Change::Same => &mut counts.same,
            Change::New => &mut counts.new,
            Change::Missing => &mut counts.missing,
            Change::NotCompared => &mut counts.not_compared,
        } += 1;
    }
    let verdict = if counts.regressed + counts.missing > 0 {
        Change::Regressed
    } else if counts.improved > 0 {
        Change::Improved
    } else {
        Change::Same
    };
    Ok(Comparison {
        schema_version: 1,
        baseline: side(baseline, &b),
        candidate: side(candidate, &c),
        thresholds: t.clone(),
        verdict,
        counts,
        scenarios,
    })
}

fn scenario(
    name: &str,
    (b, c): (Option<&ScenarioReport>, Option<&ScenarioReport>),
    t: &Thresholds,
    dirs: &images::Dirs,
) -> ScenarioDiff {
    let mut d = ScenarioDiff {
        name: name.to_string(),
        tags: c.or(b).map(|s| s.tags.clone()).unwrap_or_default(),
        change: Change::Same,
        baseline: b.map(|s| s.verdict),
        candidate: c.map(|s| s.verdict),
        regressions: Vec::new(),
        improvements: Vec::new(),
        deltas: Vec::new(),
        images: Vec::new(),
        new_warnings: Vec::new(),
        notes: Vec::new(),
    };
    let (b, c) = match (b, c) {
        (Some(b), Some(c)) => (b, c),
        (Some(_), None) => {
            d.change = Change::Missing;
            d.regressions.push("not in the candidate's report".into());
            return d;
        }
        _ => {
            d.change = Change::New;
            return d;
        }
    };
    if b.verdict == Verdict::Ignored || c.verdict == Verdict::Ignored {
        d.change = Change::NotCompared;
        return d;
    }
    let (good_b, good_c) = (b.verdict == Verdict::Passed, c.verdict == Verdict::Passed);
    let verdicts = format!("{} → {}", b.verdict.as_str(), c.verdict.as_str());
    if good_b && !good_c {
        // The first failed check says why better than the message's header line.
        let why = c
            .failures
            .first()
            .map(|f| format!("{}: got {}", f.check, f.actual))
            .or_else(|| c.message.as_ref().and_then(|m| m.lines().nth(1).or(m.lines().next())).map(str::to_string));
        d.regressions.push(match why {
            Some(w) => format!("{verdicts}: {}", crate::text::truncate(&crate::text::one_line(w.trim()), 160)),
            None => verdicts,
        });
    } else if !good_b && good_c {
        d.improvements.push(verdicts);
    } else if b.verdict != c.verdict {
        // Both not passing, differently: shown, not judged.
        d.improvements.push(verdicts);
    }
    timing_deltas(&mut d, b, c, t);
    d.images = images::pairs(name, b, c, t, dirs);
    for i in d.images.iter().filter(|i| i.regressed) {
        d.regressions.push(images::describe(i));
    }
    let old: std::collections::HashSet<&String> =
        b.runs.iter().flat_map(|r| &r.warnings).chain(&b.warnings).collect();
    let mut new: Vec<String> = c
        .runs
        .iter()
        .flat_map(|r| &r.warnings)
        .chain(&c.warnings)
        .filter(|w| !old.contains(w))
        .cloned()
        .collect();
    new.dedup();
    d.new_warnings = new;
    d.notes = hardware_notes(b, c);
    d.change = if !d.regressions.is_empty() {
        Change::Regressed
    } else if !d.improvements.is_empty() && good_c {
        Change::Improved
    } else {
        Change::Same
    };
    d
}

/// Another GPU type or worker release on the candidate's side: a pixel drift
/// may then be the hardware's, not a regression of the workflow.
fn hardware_notes(b: &ScenarioReport, c: &ScenarioReport) -> Vec<String> {
    let set = |s: &ScenarioReport, f: fn(&crate::model::WorkerFacts) -> Option<String>| {
        let v: std::collections::BTreeSet<String> = s.runs.iter().filter_map(|r| r.worker.as_ref().and_then(f)).collect();
        v.into_iter().collect::<Vec<_>>().join(",")
    };
    let mut out = Vec::new();
    for (what, f) in [
        ("GPU type", (|w: &crate::model::WorkerFacts| w.gpu_type.clone()) as fn(&crate::model::WorkerFacts) -> Option<String>),
        ("worker release", |w| w.version.clone()),
    ] {
        let (x, y) = (set(b, f), set(c, f));
        if !x.is_empty() && !y.is_empty() && x != y {
            out.push(format!("{what} changed: {x} -> {y} (image drift may be the {what}'s, not the workflow's)"));
        }
    }
    out
}

/// The median of a figure over a scenario's jobs that report it.
fn median(runs: &[RunRecord], f: impl Fn(&RunRecord) -> Option<u64>) -> Option<f64> {
    let mut v: Vec<u64> = runs.iter().filter_map(f).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    })
}

/// Reads one figure of a job.
type Figure = fn(&RunRecord) -> Option<u64>;

fn timing_deltas(d: &mut ScenarioDiff, b: &ScenarioReport, c: &ScenarioReport, t: &Thresholds) {
    let figures: [(&str, Figure); 3] = [
        ("queue", |r| r.delay_ms),
        ("execution", |r| r.execution_ms),
        ("total", |r| (r.job_id.is_some()).then_some(r.total_ms)),
    ];
    for (what, f) in figures {
        let (Some(x), Some(y)) = (median(&b.runs, f), median(&c.runs, f)) else {
            continue;
        };
        let slack = t.latency_slack_ms as f64;
        let change = if y > x * t.latency_ratio && y - x > slack {
            Change::Regressed
        } else if x > y * t.latency_ratio && x - y > slack {
            Change::Improved
        } else {
            Change::Same
        };
        push_delta(d, what, x, y, change, |v| {
            humantime::format_duration(std::time::Duration::from_millis(v as u64)).to_string()
        });
    }
    if let (Some(x), Some(y)) = (b.cost, c.cost) {
        let change = if y > x * t.cost_ratio && y > 0.0 {
            Change::Regressed
        } else if x > y * t.cost_ratio && x > 0.0 {
            Change::Improved
        } else {
            Change::Same
        };
        push_delta(d, "cost", x, y, change, |v| format!("{v:.5}"));
    }
}

fn push_delta(d: &mut ScenarioDiff, what: &str, x: f64, y: f64, change: Change, show: impl Fn(f64) -> String) {
    let line = format!("{what} {} → {}", show(x), show(y));
    match change {
        Change::Regressed => d.regressions.push(line),
        Change::Improved => d.improvements.push(line),
        _ => {}
    }
    d.deltas.push(Delta {
        what: what.into(),
        baseline: x,
        candidate: y,
        change,
    });
}

/// Writes `compare.json`, `compare.md` and `compare.html` under `out`.
pub fn write(out: &Path, cmp: &Comparison) -> Result<(), CompareError> {
    let io = |path: &Path| {
        let path = crate::paths::display_path(path).display().to_string();
        move |source| CompareError::Write { path, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let json = serde_json::to_string_pretty(cmp).map_err(|e| io(out)(std::io::Error::other(e)))?;
    for (name, text) in [
        ("compare.json", json),
        ("compare.md", render::markdown(cmp)),
        ("compare.html", render::html(cmp)),
    ] {
        let path = out.join(name);
        std::fs::write(&path, crate::redact::redact(&text).as_bytes()).map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
