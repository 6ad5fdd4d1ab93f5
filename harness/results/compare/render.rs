//! A comparison shown three ways: a terminal table, Markdown for a CI step
//! summary (`compare.md`), and `compare.html`, the side-by-side view in the
//! report's look (regressed first, each regressed image beside its
//! counterpart with a slider and the diff).

use std::fmt::Write;

use maud::{html, Markup};

use super::model::{Change, Comparison, ScenarioDiff};
use crate::results::report::theme;

fn verdicts(s: &ScenarioDiff) -> String {
    let v = |v: Option<crate::model::Verdict>| v.map_or("–", |v| v.as_str());
    if s.baseline == s.candidate {
        v(s.candidate).to_string()
    } else {
        format!("{} → {}", v(s.baseline), v(s.candidate))
    }
}

fn deltas(s: &ScenarioDiff) -> String {
    s.deltas
        .iter()
        .filter(|d| d.what != "cost")
        .map(|d| {
            let ratio = if d.baseline > 0.0 { d.candidate / d.baseline } else { 1.0 };
            format!("{} ×{ratio:.2}", d.what)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary_line(c: &Comparison) -> String {
    let n = &c.counts;
    format!(
        "{}: {} regressed, {} missing, {} improved, {} same, {} new, {} not compared",
        c.verdict.as_str().to_uppercase(),
        n.regressed,
        n.missing,
        n.improved,
        n.same,
        n.new,
        n.not_compared
    )
}

/// The terminal table: every scenario that changed, then the verdict.
pub fn text(c: &Comparison) -> String {
    let mut out = format!(
        "baseline  {} (run {}, {})\ncandidate {} (run {}, {})\n\n",
        c.baseline.dir, c.baseline.run_id, c.baseline.target, c.candidate.dir, c.candidate.run_id, c.candidate.target
    );
    let width = c.scenarios.iter().map(|s| s.name.chars().count()).max().unwrap_or(8).max(8);
    let _ = writeln!(out, "{:<width$}  {:<12}  {:<24}  why", "scenario", "change", "verdict");
    for s in c.scenarios.iter().filter(|s| s.change != Change::Same || !s.notes.is_empty()) {
        let why = s.regressions.iter().chain(&s.improvements).cloned().collect::<Vec<_>>().join("; ");
        let _ = writeln!(out, "{:<width$}  {:<12}  {:<24}  {why}", s.name, s.change.as_str(), verdicts(s));
        for w in &s.new_warnings {
            let _ = writeln!(out, "{:<width$}  {:<12}  {:<24}  new warning: {w}", "", "", "");
        }
        for n in &s.notes {
            let _ = writeln!(out, "{:<width$}  {:<12}  {:<24}  note: {n}", "", "", "");
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(c));
    out
}

/// `compare.md`: the verdict, then a table of the scenarios that changed.
pub fn markdown(c: &Comparison) -> String {
    let mut out = format!(
        "## endpoint-harness compare: {}\n\nBaseline `{}` (run `{}`, {}) vs candidate `{}` (run `{}`, {}).\n\n{}\n\n",
        c.verdict.as_str(),
        c.baseline.dir,
        c.baseline.run_id,
        c.baseline.target,
        c.candidate.dir,
        c.candidate.run_id,
        c.candidate.target,
        summary_line(c)
    );
    let changed: Vec<&ScenarioDiff> = c.scenarios.iter().filter(|s| s.change != Change::Same || !s.notes.is_empty()).collect();
    if changed.is_empty() {
        out.push_str("No scenario changed past the thresholds.\n");
        return out;
    }
    out.push_str("| scenario | change | verdict | why |\n|---|---|---|---|\n");
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    for s in changed {
        let mut why: Vec<String> = s.regressions.iter().chain(&s.improvements).cloned().collect();
        why.extend(s.new_warnings.iter().map(|w| format!("new warning: {w}")));
        why.extend(s.notes.iter().map(|n| format!("note: {n}")));
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            cell(&s.name),
            s.change.as_str(),
            verdicts(s),
            cell(&why.join("; "))
        );
    }
    out
}

fn image_html(i: &super::model::ImageDiff) -> Markup {
    let caption = format!(
        "job {} image {}{}",
        i.run,
        i.index,
        i.metrics
            .as_ref()
            .map(|m| format!(": distance {} bits, similarity {:.3}", m.distance, m.similarity))
            .unwrap_or_default()
    );
    match &i.evidence {
        Some(e) => theme::image_viewer(
            ["baseline", "candidate"],
            [&e.baseline, &e.candidate],
            Some(&e.diff),
            &caption,
        ),
        None => html! {
            div class=(if i.regressed { "regressed" } else { "muted" }) { (caption) }
            div.side-by-side {
                @for t in [&i.baseline_thumbnail, &i.candidate_thumbnail] {
                    @match t {
                        Some(t) => { div { img src=(t) alt=""; } }
                        None => { div.muted { "no image" } }
                    }
                }
            }
        },
    }
}

fn scenario_html(s: &ScenarioDiff) -> Markup {
    let class = theme::class_of(&s.change);
    let head = theme::CardHead {
        class: &class,
        badge: s.change.as_str(),
        name: &s.name,
        tags: &s.tags,
        review: None,
        open: s.change == Change::Regressed,
        right: html! { (verdicts(s)) " " (deltas(s)) },
    };
    let show = |what: &str, v: f64| {
        if what == "cost" {
            format!("{v:.5}")
        } else {
            crate::text::fmt_ms(v as u64)
        }
    };
    let lists = [
        ("regressions", &s.regressions),
        ("improvements", &s.improvements),
        ("new warnings", &s.new_warnings),
        ("notes", &s.notes),
    ];
    let body = html! {
        @for (title, lines) in lists {
            @if !lines.is_empty() { h3 { (title) } pre { (lines.join("\n")) } }
        }
        @if !s.deltas.is_empty() {
            h3 { "times and cost" }
            table {
                tr { th {} th { "baseline" } th { "candidate" } th {} }
                @for d in &s.deltas {
                    tr {
                        td { (d.what) }
                        td { (show(&d.what, d.baseline)) }
                        td { (show(&d.what, d.candidate)) }
                        td class=(theme::class_of(&d.change)) { (d.change.as_str()) }
                    }
                }
            }
        }
        @if !s.images.is_empty() { h3 { "images (baseline | candidate)" } }
        @for i in &s.images { (image_html(i)) }
    };
    theme::card(head, body)
}

/// `compare.html`.
pub fn html(c: &Comparison) -> String {
    let n = &c.counts;
    let total = c.scenarios.len();
    let pills = [
        ("all", "all", total),
        ("problems", "changed", total - n.same),
        ("regressed", "regressed", n.regressed),
        ("missing", "missing", n.missing),
        ("improved", "improved", n.improved),
        ("new", "new", n.new),
        ("not_compared", "not compared", n.not_compared),
        ("same", "same", n.same),
    ];
    let side = |label: &str, r: &super::model::Side| {
        html! { (label) " " b { (r.dir) } " · run " (r.run_id) " · " (r.target) " · " (r.started_at) }
    };
    let header = html! {
        h1 {
            "endpoint-harness compare: "
            span class=(theme::class_of(&c.verdict)) { (c.verdict.as_str()) }
        }
        div.meta { (side("baseline", &c.baseline)) br; (side("candidate", &c.candidate)) }
        (theme::pills(&pills))
    };
    let main = html! {
        (theme::toolbar("search scenarios", None, false))
        @for s in &c.scenarios { (scenario_html(s)) }
        (theme::none_shown("No scenario matches."))
    };
    theme::page("endpoint-harness compare", header, main)
}
