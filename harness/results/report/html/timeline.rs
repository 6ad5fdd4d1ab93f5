//! Where a job's time went: one bar per job split into queued (RunPod's
//! `delayTime`), running (`executionTime`) and the rest until the harness had
//! the answer (the final poll, transfer, decoding), with a tick at each state
//! the harness saw; and, when the target reports them (ComfyUI), per-node bars.

use std::fmt::Write;

use crate::model::{NodeTiming, RunRecord};
use crate::text::{esc_html as esc, fmt_ms};

/// How long the job's bar is: its wall time, or queue + execution when those
/// add up to more (a mock at speed reports simulated times).
pub(crate) fn span(run: &RunRecord) -> u64 {
    run.total_ms
        .max(run.delay_ms.unwrap_or(0) + run.execution_ms.unwrap_or(0))
}

/// The job's bar, scaled so `scale_ms` fills the width.
pub(crate) fn job(run: &RunRecord, scale_ms: u64) -> String {
    let scale = scale_ms.max(span(run)).max(1) as f64;
    let pct = |ms: u64| ms as f64 * 100.0 / scale;
    let queue = run.delay_ms.unwrap_or(0);
    let exec = run.execution_ms.unwrap_or(0);
    let rest = run.total_ms.saturating_sub(queue + exec);
    let mut out = String::from("<div class=\"timeline\" role=\"img\" aria-label=\"job timeline\">");
    for (class, ms, label) in [
        ("seg-queue", queue, "queued"),
        ("seg-run", exec, "running"),
        ("seg-done", rest, "answer received, checked"),
    ] {
        if ms > 0 {
            let _ = write!(
                out,
                "<span class=\"{class}\" style=\"width:{:.2}%\" title=\"{label} {}\"></span>",
                pct(ms),
                fmt_ms(ms)
            );
        }
    }
    for seen in &run.timeline {
        let _ = write!(
            out,
            "<i class=\"tick\" style=\"left:{:.2}%\" title=\"{} at {}\"></i>",
            pct(seen.at_ms.min(scale as u64)),
            esc(&seen.state),
            fmt_ms(seen.at_ms)
        );
    }
    out.push_str("</div>");
    out
}

/// The legend under the job bars.
pub(crate) const LEGEND: &str = "<div class=\"legend muted\"><span class=\"seg-queue\"></span>queued<span class=\"seg-run\"></span>running<span class=\"seg-done\"></span>answer and checks · ticks: states seen</div>";

/// Which node took the time: one row per node in the order it ran, a bar
/// scaled to the slowest node, its ms, and whether ComfyUI reused a cached output.
pub(crate) fn nodes(nodes: &[NodeTiming]) -> String {
    let slowest = nodes.iter().map(|n| n.ms).max().unwrap_or(0).max(1);
    let mut out = format!(
        "<details><summary>{} nodes</summary><table class=\"nodes\">",
        nodes.len()
    );
    for n in nodes {
        let name = match &n.title {
            Some(t) if t != &n.class_type => format!("{} ({})", t, n.class_type),
            _ => n.class_type.clone(),
        };
        let width = (n.ms * 160 / slowest).max(1);
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td><span class=\"bar{}\" style=\"width:{width}px\"></span></td><td>{}</td></tr>",
            esc(&n.node),
            esc(&name),
            if n.cached { " cached" } else { "" },
            if n.cached { "cached".to_string() } else { fmt_ms(n.ms) }
        );
    }
    out.push_str("</table></details>");
    out
}
