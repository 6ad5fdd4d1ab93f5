//! The load-run parts of the reports: a figures table for `summary.md`, and
//! for `index.html` the same figures with two SVG charts, each job's latency
//! over the run and the workers and queue over the run.

use std::fmt::Write;

use maud::{html, Markup};

use crate::model::{HealthPoint, LoadPoint, LoadReport, LoadSpread};
use crate::text::fmt_ms;

fn spread(s: Option<LoadSpread>) -> String {
    match s {
        Some(s) => format!(
            "{} / {} / {} / {}",
            fmt_ms(s.p50_ms),
            fmt_ms(s.p95_ms),
            fmt_ms(s.p99_ms),
            fmt_ms(s.max_ms)
        ),
        None => "–".into(),
    }
}

fn rows(r: &LoadReport) -> Vec<(&'static str, String)> {
    let errors = if r.errors.is_empty() {
        "none".to_string()
    } else {
        r.errors.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
    };
    let mut v = vec![
        ("jobs", format!("{} submitted, {} ok, in {}", r.submitted, r.ok, fmt_ms(r.wall_ms))),
        ("throughput", format!("{:.1} jobs/min", r.throughput_per_min)),
        ("queue p50/p95/p99/max", spread(r.queue)),
        ("execution p50/p95/p99/max", spread(r.execution)),
        ("total p50/p95/p99/max", spread(r.total)),
        ("cold starts", r.cold_starts.len().to_string()),
        ("errors", format!("{errors} ({:.1}%)", r.error_rate() * 100.0)),
    ];
    if let Some(c) = r.cost {
        v.push(("estimated cost", format!("{c:.4}")));
    }
    if let Some(why) = &r.stopped {
        v.push(("stopped early", why.clone()));
    }
    v
}

/// The Markdown figures of one load run.
pub(super) fn markdown(name: &str, r: &LoadReport) -> String {
    let mut out = format!("\n### Load: `{}`\n\n| figure | value |\n|---|---|\n", name.replace('`', "'"));
    for (k, v) in rows(r) {
        let _ = writeln!(out, "| {k} | {} |", v.replace('|', "\\|").replace('\n', " "));
    }
    out
}

/// The HTML figures and charts of one load run.
pub(super) fn html(r: &LoadReport) -> Markup {
    html! {
        details open {
            summary { "load run" }
            table.nodes { @for (k, v) in rows(r) { tr { td { (k) } td { (v) } } } }
            (latency_chart(&r.jobs))
            @if !r.health.is_empty() { (workers_chart(&r.health)) }
        }
    }
}

const W: f64 = 320.0;
const H: f64 = 90.0;

fn scale(v: f64, max: f64, span: f64) -> f64 {
    if max <= 0.0 {
        0.0
    } else {
        v / max * span
    }
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// The chart's frame; SVG elements are closed explicitly (`{}`): in HTML's
/// foreign content an unclosed one would hold its siblings.
fn chart(caption: Markup, marks: Markup) -> Markup {
    html! {
        div.muted { (caption) }
        svg.chart width=(W) height=(H) viewBox={ "0 0 " (W) " " (H) } {
            rect width=(W) height=(H) fill="#f6f8fa" {}
            (marks)
        }
    }
}

/// Each job's total time (dots; red when it failed) and queue time (grey) at the moment its result was seen.
fn latency_chart(jobs: &[LoadPoint]) -> Markup {
    let tmax = jobs.iter().map(|j| j.at_ms).max().unwrap_or(0) as f64;
    let ymax = jobs.iter().map(|j| j.total_ms.max(j.queue_ms.unwrap_or(0))).max().unwrap_or(0) as f64;
    let marks = html! {
        @for j in jobs {
            @let x = scale(j.at_ms as f64, tmax, W - 4.0) + 2.0;
            @let y = H - 2.0 - scale(j.total_ms as f64, ymax, H - 4.0);
            circle cx=(f1(x)) cy=(f1(y)) r="2" fill=(if j.ok { "#0969da" } else { "#cf222e" }) {}
            @if let Some(q) = j.queue_ms {
                circle cx=(f1(x)) cy=(f1(H - 2.0 - scale(q as f64, ymax, H - 4.0))) r="2" fill="none" stroke="#6e7781" {}
            }
        }
    };
    chart(html! { "latency over the run (total ●, queue ○; max " (fmt_ms(ymax as u64)) ")" }, marks)
}

/// A line of the workers chart: its name, colour and reading.
type Series = (&'static str, &'static str, fn(&HealthPoint) -> i64);

/// Running, initializing and idle workers and queued jobs, sampled from `/health`.
fn workers_chart(h: &[HealthPoint]) -> Markup {
    let tmax = h.iter().map(|p| p.at_ms).max().unwrap_or(0) as f64;
    let ymax = h
        .iter()
        .map(|p| p.running.max(p.initializing).max(p.idle).max(p.in_queue))
        .max()
        .unwrap_or(0) as f64;
    let series: [Series; 4] = [
        ("running", "#1a7f37", |p| p.running),
        ("initializing", "#9a6700", |p| p.initializing),
        ("idle", "#6e7781", |p| p.idle),
        ("queued", "#cf222e", |p| p.in_queue),
    ];
    let points = |get: fn(&HealthPoint) -> i64| -> String {
        h.iter()
            .map(|p| {
                let x = scale(p.at_ms as f64, tmax, W - 4.0) + 2.0;
                let y = H - 2.0 - scale(get(p) as f64, ymax, H - 4.0);
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let caption = html! {
        "workers and queue over the run ("
        @for (i, (name, colour, _)) in series.iter().enumerate() {
            @if i > 0 { ", " }
            span style={ "color:" (colour) } { (name) }
        }
        "; max " (ymax as i64) ")"
    };
    let marks = html! {
        @for (_, colour, get) in series {
            polyline fill="none" stroke=(colour) stroke-width="1.5" points=(points(get)) {}
        }
    };
    chart(caption, marks)
}
