//! A job's worker, as the endpoint describes it: its GPU type and release in
//! the job line, and for a red trial its log lines in a collapsible block,
//! each at its time since submission, with the job's own states (submitted,
//! IN_PROGRESS, FAILED, ...) marked between them where they happened.

use maud::{html, Markup};

use crate::model::RunRecord;

/// ` · NVIDIA A40 · release 7` for the job line, or nothing.
pub(super) fn who(run: &RunRecord) -> Markup {
    let Some(w) = &run.worker else { return html! {} };
    html! {
        @if let Some(g) = &w.gpu_type { " · " (g) }
        @if let Some(v) = &w.version {
            " · release " (v)
            @if w.stale == Some(true) { " (stale)" }
        }
    }
}

/// Milliseconds between the job's submission and `ts`, when both parse.
fn offset(run: &RunRecord, ts: &str) -> Option<i64> {
    let sub = humantime::parse_rfc3339_weak(run.submitted_at.as_deref()?).ok()?;
    let t = humantime::parse_rfc3339_weak(ts).ok()?;
    Some(match t.duration_since(sub) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    })
}

/// The collapsible log of the job's worker, if it was fetched.
pub(super) fn block(run: &RunRecord) -> Markup {
    let Some(logs) = &run.worker_logs else { return html! {} };
    // The job's states, as marks between the lines that came after them.
    let mark = |at_ms: u64, state: &str| {
        html! { span.mark { (format!("{:>9}", fmt_offset(at_ms as i64))) " ── job " (state) " ──" } "\n" }
    };
    let mut marks = run.timeline.iter().peekable();
    let mut lines = Vec::with_capacity(logs.lines.len());
    for l in &logs.lines {
        let at = offset(run, &l.ts);
        let mut before = Vec::new();
        while let Some(m) = marks.next_if(|m| at.is_some_and(|a| (m.at_ms as i64) <= a)) {
            before.push(mark(m.at_ms, &m.state));
        }
        let when = at.map(fmt_offset).unwrap_or_else(|| l.ts.clone());
        lines.push(html! {
            @for m in &before { (m) }
            (format!("{when:>9}")) " " span.src { (l.source) } " " (l.line) "\n"
        });
    }
    let after: Vec<Markup> = marks.map(|m| mark(m.at_ms, &m.state)).collect();
    html! {
        details.logs {
            summary {
                "worker " (logs.worker_id) " log (" (logs.lines.len()) " line"
                @if logs.lines.len() != 1 { "s" }
                @if logs.truncated { ", older ones left out" }
                ")"
            }
            @if let Some(n) = &logs.note { div.muted { (n) } }
            pre.log { @for l in &lines { (l) } @for m in &after { (m) } }
        }
    }
}

fn fmt_offset(ms: i64) -> String {
    format!("{}{:.1}s", if ms < 0 { "-" } else { "+" }, ms.unsigned_abs() as f64 / 1000.0)
}
