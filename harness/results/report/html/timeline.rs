//! Where a job's time went: one bar per job split into queued (RunPod's
//! `delayTime`), running (`executionTime`) and the rest until the harness had
//! the answer (the final poll, transfer, decoding), with a tick at each state
//! the harness saw; and, when the target reports them (ComfyUI), per-node bars.

use maud::{html, Markup};

use crate::model::{NodeTiming, RunRecord};
use crate::text::fmt_ms;

/// How long the job's bar is: its wall time, or queue + execution when those
/// add up to more (a mock at speed reports simulated times).
pub(crate) fn span(run: &RunRecord) -> u64 {
    run.total_ms
        .max(run.delay_ms.unwrap_or(0).saturating_add(run.execution_ms.unwrap_or(0)))
}

/// The job's bar, scaled so `scale_ms` fills the width.
pub(crate) fn job(run: &RunRecord, scale_ms: u64) -> Markup {
    let scale = scale_ms.max(span(run)).max(1) as f64;
    let pct = |ms: u64| format!("{:.2}%", ms as f64 * 100.0 / scale);
    let queue = run.delay_ms.unwrap_or(0);
    let exec = run.execution_ms.unwrap_or(0);
    let rest = run.total_ms.saturating_sub(queue.saturating_add(exec));
    let segments = [
        ("seg-queue", queue, "queued"),
        ("seg-run", exec, "running"),
        ("seg-done", rest, "answer received, checked"),
    ];
    html! {
        div.timeline role="img" aria-label="job timeline" {
            @for (class, ms, label) in segments {
                @if ms > 0 {
                    span class=(class) style={ "width:" (pct(ms)) } title={ (label) " " (fmt_ms(ms)) } {}
                }
            }
            @for seen in &run.timeline {
                i.tick style={ "left:" (pct(seen.at_ms.min(scale as u64))) }
                    title={ (seen.state) " at " (fmt_ms(seen.at_ms)) } {}
            }
        }
    }
}

/// The legend under the job bars.
pub(crate) fn legend() -> Markup {
    html! {
        div.legend.muted {
            span.seg-queue {} "queued" span.seg-run {} "running" span.seg-done {}
            "answer and checks · ticks: states seen"
        }
    }
}

/// Which node took the time: one row per node in the order it ran, a bar
/// scaled to the slowest node, its ms, and whether ComfyUI reused a cached output.
pub(crate) fn nodes(nodes: &[NodeTiming]) -> Markup {
    let slowest = nodes.iter().map(|n| n.ms).max().unwrap_or(0).max(1);
    html! {
        details {
            summary { (nodes.len()) " nodes" }
            table.nodes {
                @for n in nodes {
                    tr {
                        td { (n.node) }
                        td {
                            @match &n.title {
                                Some(t) if t != &n.class_type => { (t) " (" (n.class_type) ")" }
                                _ => { (n.class_type) }
                            }
                        }
                        td { span.bar.cached[n.cached] style={ "width:" ((n.ms.saturating_mul(160) / slowest).max(1)) "px" } {} }
                        td { @if n.cached { "cached" } @else { (fmt_ms(n.ms)) } }
                    }
                }
            }
        }
    }
}
