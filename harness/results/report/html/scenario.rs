//! One scenario in the page: a collapsible card whose summary line carries
//! the verdict, name, tags and wall time (and what the filters read: verdict,
//! tags, name), open by default when it did not pass. Inside: the message and
//! failed checks, budget misses, each job's timeline and nodes, the returned
//! media, snapshot mismatches, load figures and the recent trend.

use maud::{html, Markup};

use super::{charts, logs, media, timeline};
use crate::model::{ScenarioReport, Verdict};
use crate::results::report::theme;
use crate::results::trend::Trend;
use crate::text::fmt_ms;

/// A titled section of the card, left out when it would be empty.
fn section(title: &str, body: Markup) -> Markup {
    html! {
        @if !body.0.is_empty() {
            h3 { (title) } (body)
        }
    }
}

fn right(s: &ScenarioReport, trend: Option<&Trend>) -> Markup {
    let total = s.runs.iter().map(|r| r.total_ms).max();
    let flagged = trend.map_or(0, |t| t.flags.len());
    html! {
        @if flagged > 0 { span.over_budget { "trend flagged" } " · " }
        @if s.runs.len() > 1 { (s.runs.len()) " jobs · " }
        (total.map(fmt_ms).unwrap_or_else(|| fmt_ms(s.duration_ms)))
    }
}

fn problems(s: &ScenarioReport) -> Markup {
    html! {
        @if s.verdict != Verdict::Passed {
            @if let Some(msg) = &s.message { pre { (msg) } }
        }
        @if let Some(b) = &s.budget {
            @for m in &b.misses { div.over_budget { (m.to_string()) } }
        }
    }
}

fn jobs(s: &ScenarioReport) -> Markup {
    let scale = s.runs.iter().map(timeline::span).max().unwrap_or(0);
    let t = |v: Option<u64>| v.map(fmt_ms).unwrap_or_else(|| "–".into());
    html! {
        @for (i, run) in s.runs.iter().enumerate() {
            div.job {
                span.muted {
                    "job " (i) " · " (run.job_id.as_deref().unwrap_or("not submitted"))
                    " · " (run.state.as_deref().unwrap_or("–"))
                    @if let Some(w) = &run.worker_id { " · worker " (w) }
                    (logs::who(run))
                }
                @if let Some(fp) = &run.fingerprint { div.muted { "on " (fp.summary()) } }
                " queue " (t(run.delay_ms)) " · execution " (t(run.execution_ms))
                " · total " (fmt_ms(run.total_ms))
                @if let Some(c) = run.cost { (format!(" · cost {c:.5}")) }
                @if run.job_id.is_some() { (timeline::job(run, scale)) }
                @if !run.nodes.is_empty() { (timeline::nodes(&run.nodes)) }
                @for w in &run.warnings { div.over_budget { "warning: " (w) } }
                (logs::block(run))
            }
        }
        @if s.runs.iter().any(|r| r.job_id.is_some()) { (timeline::legend()) }
    }
}

fn trend_body(t: &Trend) -> Markup {
    html! {
        (charts::sparkline(&t.totals, 240, 40, "total time"))
        @for f in &t.flags { div.over_budget { (f) } }
        @for n in &t.notes { div.muted { (n) } }
    }
}

/// The card of scenario `s`.
pub(crate) fn card(s: &ScenarioReport, trend: Option<&Trend>) -> Markup {
    let class = theme::class_of(&s.verdict);
    let head = theme::CardHead {
        class: &class,
        badge: s.verdict.as_str(),
        name: &s.name,
        tags: &s.tags,
        review: Some(s.in_review()),
        open: !matches!(s.verdict, Verdict::Passed | Verdict::Ignored) || s.in_review(),
        right: right(s, trend),
    };
    let returned = html! {
        @for run in &s.runs { (media::images(run)) }
        @for v in s.runs.iter().flat_map(|r| &r.videos) { (media::video(v)) }
    };
    let body = html! {
        @if let Some(d) = &s.description { div.muted { (d) } }
        (section("problems", problems(s)))
        (section("snapshots", html! { @for snap in &s.snapshots { (media::snapshot(snap)) } }))
        (section("jobs", jobs(s)))
        (section("returned", returned))
        @if let Some(l) = &s.load { (section("load", crate::results::report::load::html(l))) }
        @if let Some(t) = trend { (section("trend", trend_body(t))) }
    };
    theme::card(head, body)
}
