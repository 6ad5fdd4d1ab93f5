//! One scenario in the page: a collapsible card whose summary line carries
//! the verdict, name, tags and wall time (and what the filters read: verdict,
//! tags, name), open by default when it did not pass. Inside: the message and
//! failed checks, budget misses, each job's timeline and nodes, the returned
//! media, snapshot mismatches, load figures and the recent trend.

use std::fmt::Write;

use super::{charts, logs, media, timeline};
use crate::model::{ScenarioReport, Verdict};
use crate::results::report::theme;
use crate::text::{esc_html as esc, fmt_ms};
use crate::results::trend::Trend;

fn section(out: &mut String, title: &str, body: &str) {
    if !body.is_empty() {
        let _ = write!(out, "<h3>{title}</h3>{body}");
    }
}

fn summary(s: &ScenarioReport, trend: Option<&Trend>) -> String {
    let class = theme::class_of(&s.verdict);
    let mut out = format!(
        "<summary><span class=\"badge {class}\">{}</span><span class=\"name\">{}</span>",
        esc(s.verdict.as_str()),
        esc(&s.name)
    );
    for t in &s.tags {
        let _ = write!(out, "<span class=\"tag\">{}</span>", esc(t));
    }
    let total = s.runs.iter().map(|r| r.total_ms).max();
    let flagged = trend.map_or(0, |t| t.flags.len());
    let _ = write!(
        out,
        "<span class=\"right\">{}{}{}</span></summary>",
        if flagged > 0 { "<span class=\"over_budget\">trend flagged</span> · " } else { "" },
        if s.runs.len() > 1 { format!("{} jobs · ", s.runs.len()) } else { String::new() },
        total.map(fmt_ms).unwrap_or_else(|| fmt_ms(s.duration_ms))
    );
    out
}

fn problems(s: &ScenarioReport) -> String {
    let mut out = String::new();
    if s.verdict != Verdict::Passed {
        if let Some(msg) = &s.message {
            let _ = write!(out, "<pre>{}</pre>", esc(msg));
        }
    }
    if let Some(b) = &s.budget {
        for m in &b.misses {
            let _ = write!(out, "<div class=\"over_budget\">{}</div>", esc(&m.to_string()));
        }
    }
    out
}

fn jobs(s: &ScenarioReport) -> String {
    let scale = s.runs.iter().map(timeline::span).max().unwrap_or(0);
    let mut out = String::new();
    for (i, run) in s.runs.iter().enumerate() {
        let t = |v: Option<u64>| v.map(fmt_ms).unwrap_or_else(|| "–".into());
        let _ = write!(
            out,
            "<div class=\"job\"><span class=\"muted\">job {i} · {} · {}{}{}</span> queue {} · execution {} · total {}{}",
            esc(run.job_id.as_deref().unwrap_or("not submitted")),
            esc(run.state.as_deref().unwrap_or("–")),
            run.worker_id.as_deref().map(|w| format!(" · worker {}", esc(w))).unwrap_or_default(),
            logs::who(run),
            t(run.delay_ms),
            t(run.execution_ms),
            fmt_ms(run.total_ms),
            run.cost.map(|c| format!(" · cost {c:.5}")).unwrap_or_default()
        );
        if run.job_id.is_some() {
            out.push_str(&timeline::job(run, scale));
        }
        if !run.nodes.is_empty() {
            out.push_str(&timeline::nodes(&run.nodes));
        }
        for w in &run.warnings {
            let _ = write!(out, "<div class=\"over_budget\">warning: {}</div>", esc(w));
        }
        out.push_str(&logs::block(run));
        out.push_str("</div>");
    }
    if s.runs.iter().any(|r| r.job_id.is_some()) {
        out.push_str(timeline::LEGEND);
    }
    out
}

/// The card of scenario `s`.
pub(crate) fn card(s: &ScenarioReport, trend: Option<&Trend>) -> String {
    let class = theme::class_of(&s.verdict);
    let open = !matches!(s.verdict, Verdict::Passed | Verdict::Ignored) || s.in_review();
    let mut out = format!(
        "<details class=\"scenario\" data-item data-verdict=\"{class}\" data-review=\"{}\" data-name=\"{}\" data-tags=\"{}\"{}>",
        u8::from(s.in_review()),
        esc(&s.name),
        esc(&s.tags.join(" ")),
        if open { " open" } else { "" }
    );
    out.push_str(&summary(s, trend));
    out.push_str("<div class=\"body\">");
    if let Some(d) = &s.description {
        let _ = write!(out, "<div class=\"muted\">{}</div>", esc(d));
    }
    section(&mut out, "problems", &problems(s));
    let snaps: String = s.snapshots.iter().map(media::snapshot).collect();
    section(&mut out, "snapshots", &snaps);
    section(&mut out, "jobs", &jobs(s));
    let mut returned: String = s.runs.iter().map(media::images).collect();
    returned.extend(s.runs.iter().flat_map(|r| &r.videos).map(media::video));
    section(&mut out, "returned", &returned);
    if let Some(l) = &s.load {
        section(&mut out, "load", &crate::results::report::load::html(l));
    }
    if let Some(t) = trend {
        let mut body = charts::sparkline(&t.totals, 240, 40, "total time");
        for f in &t.flags {
            let _ = write!(body, "<div class=\"over_budget\">{}</div>", esc(f));
        }
        for n in &t.notes {
            let _ = write!(body, "<div class=\"muted\">{}</div>", esc(n));
        }
        section(&mut out, "trend", &body);
    }
    out.push_str("</div></details>");
    out
}
