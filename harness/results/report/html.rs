//! `index.html`: one self-contained page (inline CSS and script, thumbnails
//! as data URIs) that puts failures first. The header holds the run, counts as
//! verdict filters and the run-level trend; a toolbar filters by tag and
//! searches by name; each scenario is a card (see [`scenario`]) with its
//! problems, snapshot viewer, job timelines, returned media and trend.
//! Everything that came from the endpoint or a scenario file is HTML-escaped.

mod charts;
mod logs;
mod media;
mod scenario;
mod timeline;

use std::collections::BTreeSet;
use std::fmt::Write;

use super::theme;
use crate::model::{RunReport, ScenarioReport, Verdict};

pub(crate) use crate::text::esc_html as esc;

fn header(r: &RunReport, history: &[crate::results::history::HistoryLine]) -> String {
    let c = &r.counts;
    let mut out = format!(
        "<h1>endpoint-harness report</h1><div class=\"meta\">target <b>{}</b> · run {} · started {} · commit {}",
        esc(&r.target),
        esc(&r.run_id),
        esc(&r.started_at),
        esc(r.git_commit.as_deref().unwrap_or("unknown"))
    );
    if let Some(cost) = &r.cost {
        let _ = write!(
            out,
            " · estimated cost <b>{} {:.4}</b> ({} at {} per second of execution)",
            esc(&cost.currency),
            cost.total,
            esc(&cost.gpu),
            cost.per_second
        );
    }
    if let Some(p) = &r.provision {
        let _ = write!(
            out,
            "<br>provisioned endpoint <b>{}</b> ({}) from <code>{}</code> on {}: lived {:.0}s{}{} · teardown: <b class=\"{}\">{}</b>",
            esc(&p.name),
            esc(p.endpoint_id.as_deref().unwrap_or("no id")),
            esc(&p.image),
            esc(&p.gpu_pools.join(",")),
            p.lifetime_s,
            p.ready_after_s.map(|s| format!(", ready after {s:.0}s")).unwrap_or_default(),
            match (p.estimated_cost, &p.currency) {
                (Some(c), Some(cur)) => format!(", at most {} {c:.4}", esc(cur)),
                _ => String::new(),
            },
            if p.deleted { "passed" } else { "failed" },
            esc(&p.teardown)
        );
    }
    if let Some(line) = super::releases::releases_line(r) {
        let _ = write!(out, "<br><b class=\"over_budget\">{}</b>", esc(&line));
    }
    if r.target_kind == crate::model::TargetKind::Mock {
        out.push_str("<br>against the embedded mock, queue and execution are simulated time; total is real time");
    }
    out.push_str("</div><div class=\"pills\">");
    let problems = c.failed + c.error + c.timed_out + c.over_budget;
    for (key, label, n) in [
        ("all", "all", c.total),
        ("problems", "not passed", problems),
        ("failed", "failed", c.failed),
        ("error", "errors", c.error),
        ("timed_out", "timed out", c.timed_out),
        ("over_budget", "over budget", c.over_budget),
        ("passed", "passed", c.passed),
        ("review", "to review", c.review),
        ("ignored", "ignored", c.ignored),
    ] {
        let _ = write!(
            out,
            "<button type=\"button\" class=\"pill {key}\" data-verdict=\"{key}\">{label}<span class=\"n\">{n}</span></button>"
        );
    }
    out.push_str("</div>");
    out.push_str(&charts::runs(history));
    out
}

fn toolbar(scenarios: &[&ScenarioReport]) -> String {
    let tags: BTreeSet<&str> = scenarios.iter().flat_map(|s| s.tags.iter().map(String::as_str)).collect();
    let mut out = String::from(
        "<div class=\"toolbar\"><input type=\"search\" id=\"q\" placeholder=\"search scenarios by name\" aria-label=\"search\"><select id=\"tag\" aria-label=\"tag\"><option value=\"\">all tags</option>",
    );
    for t in tags {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", esc(t));
    }
    out.push_str("</select><button type=\"button\" id=\"expand\">expand all</button><button type=\"button\" id=\"collapse\">collapse all</button><span class=\"muted\"><span id=\"shown\"></span> shown</span></div>");
    out
}

/// The page for `r`, with trends from `history` (appended before this call).
pub(super) fn render(r: &RunReport, history: &[crate::results::history::HistoryLine]) -> String {
    // Trends and the runs strip compare like with like: runs against this
    // run's target only (a mock run's figures beside a live one's mean nothing).
    let same_target: Vec<crate::results::history::HistoryLine> =
        history.iter().filter(|l| l.target == r.target).cloned().collect();
    let history = &same_target[..];
    let trends = crate::results::trend::analyse(history, &crate::results::trend::Options::default());
    // Failures first: worst verdict, then name.
    let rank = |v: Verdict| Verdict::ALL.iter().position(|x| *x == v).unwrap_or(0);
    let mut scenarios: Vec<&ScenarioReport> = r.scenarios.iter().collect();
    scenarios.sort_by(|a, b| rank(a.verdict).cmp(&rank(b.verdict)).then_with(|| a.name.cmp(&b.name)));
    let mut main = toolbar(&scenarios);
    for s in &scenarios {
        main.push_str(&scenario::card(s, trends.iter().find(|t| t.scenario == s.name)));
    }
    main.push_str("<p class=\"empty\" id=\"none\" hidden>No scenario matches the filters.</p>");
    theme::page("endpoint-harness report", &header(r, history), &main)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::esc("<script>alert('x')</script>&"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
    }
}
