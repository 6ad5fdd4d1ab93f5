//! `summary.md`: a table of scenarios with verdicts and timings, then the
//! problems of each non-passing scenario; short enough for a CI step summary.

use std::fmt::Write;

use crate::model::{RunReport, Verdict};
use crate::text::fmt_ms;

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "✅",
        Verdict::Ignored => "⏭️",
        Verdict::OverBudget => "🐢",
        Verdict::TimedOut => "⏱️",
        Verdict::Failed => "❌",
        Verdict::Error => "💥",
    }
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn render(r: &RunReport) -> String {
    let c = &r.counts;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## endpoint-harness: {}/{} passed against {}\n",
        c.passed,
        c.total - c.ignored,
        cell(&r.target)
    );
    let review = match c.review {
        0 => String::new(),
        n => format!(" ({n} with an image to review)"),
    };
    let _ = writeln!(
        out,
        "{} passed{review}, {} failed, {} over budget, {} errors, {} timed out, {} ignored\n",
        c.passed, c.failed, c.over_budget, c.error, c.timed_out, c.ignored
    );
    if let Some(cost) = &r.cost {
        let _ = writeln!(
            out,
            "Estimated cost: {} {:.4} ({}, executionTime x price; cold start not included)\n",
            cell(&cost.currency),
            cost.total,
            cell(&cost.gpu)
        );
    }
    if let Some(p) = &r.provision {
        let _ = writeln!(out, "{}\n", provision_line(p));
    }
    if let Some(line) = super::releases::releases_line(r) {
        let _ = writeln!(out, "⚠️ {}\n", cell(&line));
    }
    if r.target_kind == crate::model::TargetKind::Mock {
        let _ = writeln!(
            out,
            "Against the embedded mock, queue and execution are the mock's simulated time (its behaviours declare them, run faster than real); total is the real time the harness took.\n"
        );
    }
    let _ = writeln!(
        out,
        "| | scenario | verdict | queue | execution | total | job |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for s in &r.scenarios {
        let last = s.runs.last();
        let t = |v: Option<u64>| v.map(fmt_ms).unwrap_or_else(|| "–".into());
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {} |",
            icon(s.verdict),
            cell(&s.name),
            if s.in_review() { format!("{} (review)", s.verdict.as_str()) } else { s.verdict.as_str().to_string() },
            t(last.and_then(|r| r.delay_ms)),
            t(last.and_then(|r| r.execution_ms)),
            t(last.map(|r| r.total_ms)),
            last.and_then(|r| r.job_id.as_deref())
                .map(|j| format!("`{}`", cell(j)))
                .unwrap_or_default()
        );
    }
    for s in r.scenarios.iter() {
        if let Some(l) = &s.load {
            out.push_str(&super::load::markdown(&s.name, l));
        }
    }
    let bad: Vec<_> = r
        .scenarios
        .iter()
        .filter(|s| !s.verdict.is_success() || s.verdict == Verdict::Ignored || s.in_review())
        .collect();
    if !bad.is_empty() {
        let _ = writeln!(out, "\n### Details\n");
        for s in bad {
            let _ = writeln!(
                out,
                "<details><summary>{} <code>{}</code>: {}</summary>\n",
                icon(s.verdict),
                cell(&s.name),
                s.verdict.as_str()
            );
            let _ = writeln!(
                out,
                "```text\n{}\n```\n</details>\n",
                s.message.as_deref().unwrap_or("").replace("```", "'''")
            );
        }
    }
    out
}

/// One line on the run's throwaway endpoint (`summary.md`, the HTML header).
pub(crate) fn provision_line(p: &crate::model::ProvisionReport) -> String {
    let ready = p
        .ready_after_s
        .map(|s| format!("ready after {s:.0}s, "))
        .unwrap_or_default();
    let cost = match (p.estimated_cost, &p.currency) {
        (Some(c), Some(cur)) => format!(", estimated cost at most {cur} {c:.4}"),
        _ => String::new(),
    };
    format!(
        "Provisioned endpoint `{}` ({}) from `{}` on {}: {ready}lived {:.0}s{cost}; teardown: {}",
        cell(&p.name),
        cell(p.endpoint_id.as_deref().unwrap_or("no id")),
        cell(&p.image),
        cell(&p.gpu_pools.join(",")),
        p.lifetime_s,
        cell(&p.teardown)
    )
}
