//! Small inline SVG charts from `history.jsonl`: a scenario's recent wall
//! times, and the run-level view (scenarios passing and the median total per
//! run) over the last nights.

use std::collections::BTreeMap;

use maud::{html, Markup};

use crate::results::history::HistoryLine;
use crate::model::Verdict;
use crate::text::fmt_ms;

/// A line chart of `values` (oldest first), `w`×`h` pixels.
pub(crate) fn sparkline(values: &[u64], w: u32, h: u32, title: &str) -> Markup {
    if values.len() < 2 {
        return html! {};
    }
    let max = *values.iter().max().unwrap_or(&1).max(&1) as f64;
    let step = f64::from(w - 4) / (values.len() - 1) as f64;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                f64::from(h - 2) - (*v as f64 / max) * f64::from(h - 4)
            )
        })
        .collect();
    // SVG elements are closed explicitly (`{}`): in HTML's foreign content an
    // unclosed one would hold its siblings.
    html! {
        svg width=(w) height=(h) viewBox={ "-2 0 " (w) " " (h) } role="img" {
            title { (title) " (last " (values.len()) " runs, max " (fmt_ms(max as u64)) ")" }
            polyline fill="none" stroke="#0969da" stroke-width="1.5" points=(points.join(" ")) {}
        }
    }
}

/// Per run (oldest first, the last 30): share passing, and the median total.
pub(crate) fn runs(history: &[HistoryLine]) -> Markup {
    let mut by_run: BTreeMap<(&str, &str), Vec<&HistoryLine>> = BTreeMap::new();
    let mut first_seen: BTreeMap<&str, &str> = BTreeMap::new();
    for l in history {
        let t = first_seen.entry(&l.run_id).or_insert(&l.time);
        by_run.entry((*t, &l.run_id)).or_default().push(l);
    }
    let runs: Vec<&Vec<&HistoryLine>> = by_run.values().collect();
    let runs = &runs[runs.len().saturating_sub(30)..];
    if runs.len() < 2 {
        return html! {};
    }
    let (w, h) = (260u32, 44u32);
    let bar = f64::from(w) / runs.len() as f64;
    let mut pass = Vec::new();
    let mut medians = Vec::new();
    for (i, lines) in runs.iter().enumerate() {
        let judged: Vec<_> = lines.iter().filter(|l| l.verdict != Verdict::Ignored).collect();
        let ok = judged.iter().filter(|l| l.verdict == Verdict::Passed).count();
        let share = if judged.is_empty() { 1.0 } else { ok as f64 / judged.len() as f64 };
        // Passing in green from the bottom, the rest in red above it.
        let green = share * f64::from(h);
        let x = i as f64 * bar;
        let width = (bar - 1.0).max(1.0);
        let f1 = |v: f64| format!("{v:.1}");
        pass.push(html! {
            g {
                title { (lines[0].time) " · " (ok) " of " (judged.len()) " passed" }
                rect x=(f1(x)) y="0" width=(f1(width)) height=(f1(f64::from(h) - green)) fill="#cf222e" {}
                rect x=(f1(x)) y=(f1(f64::from(h) - green)) width=(f1(width)) height=(f1(green)) fill="#4ac26b" {}
            }
        });
        let mut totals: Vec<u64> = lines.iter().filter_map(|l| l.total_ms).collect();
        totals.sort_unstable();
        medians.push(totals.get(totals.len() / 2).copied().unwrap_or(0));
    }
    html! {
        div.charts {
            div.chart {
                "passing, last " (runs.len()) " runs" br;
                svg width=(w) height=(h) role="img" { @for g in &pass { (g) } }
            }
            div.chart {
                "median total per run" br;
                (sparkline(&medians, w, h, "median total per run"))
            }
        }
    }
}
