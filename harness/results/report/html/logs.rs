//! A job's worker, as the endpoint describes it: its GPU type and release in
//! the job line, and for a red trial its log lines in a collapsible block,
//! each at its time since submission, with the job's own states (submitted,
//! IN_PROGRESS, FAILED, ...) marked between them where they happened.

use std::fmt::Write;

use crate::model::RunRecord;
use crate::text::esc_html as esc;

/// ` · NVIDIA A40 · release 7` for the job line, or nothing.
pub(super) fn who(run: &RunRecord) -> String {
    let Some(w) = &run.worker else { return String::new() };
    let mut out = String::new();
    if let Some(g) = &w.gpu_type {
        let _ = write!(out, " · {}", esc(g));
    }
    if let Some(v) = &w.version {
        let _ = write!(out, " · release {}{}", esc(v), if w.stale == Some(true) { " (stale)" } else { "" });
    }
    out
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
pub(super) fn block(run: &RunRecord) -> String {
    let Some(logs) = &run.worker_logs else { return String::new() };
    let mut out = format!(
        "<details class=\"logs\"><summary>worker {} log ({} line{}{})</summary>",
        esc(&logs.worker_id),
        logs.lines.len(),
        if logs.lines.len() == 1 { "" } else { "s" },
        if logs.truncated { ", older ones left out" } else { "" }
    );
    if let Some(n) = &logs.note {
        let _ = write!(out, "<div class=\"muted\">{}</div>", esc(n));
    }
    out.push_str("<pre class=\"log\">");
    let mut marks = run.timeline.iter().peekable();
    for l in &logs.lines {
        let at = offset(run, &l.ts);
        // The job's states that happened before this line, as marks.
        while let Some(m) = marks.peek() {
            if at.is_some_and(|a| (m.at_ms as i64) <= a) {
                let _ = writeln!(out, "<span class=\"mark\">{:>9} ── job {} ──</span>", fmt_offset(m.at_ms as i64), esc(&m.state));
                marks.next();
            } else {
                break;
            }
        }
        let _ = writeln!(
            out,
            "{:>9} <span class=\"src\">{}</span> {}",
            at.map(fmt_offset).unwrap_or_else(|| esc(&l.ts)),
            esc(&l.source),
            esc(&l.line)
        );
    }
    for m in marks {
        let _ = writeln!(out, "<span class=\"mark\">{:>9} ── job {} ──</span>", fmt_offset(m.at_ms as i64), esc(&m.state));
    }
    out.push_str("</pre></details>");
    out
}

fn fmt_offset(ms: i64) -> String {
    format!("{}{:.1}s", if ms < 0 { "-" } else { "+" }, ms.unsigned_abs() as f64 / 1000.0)
}
