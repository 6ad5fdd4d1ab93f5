//! `index.html`: one self-contained page (inline CSS and script, thumbnails
//! as data URIs) that puts failures first. The header holds the run, counts as
//! verdict filters and the run-level trend; a toolbar filters by tag and
//! searches by name; each scenario is a card (see [`scenario`]) with its
//! problems, snapshot viewer, job timelines, returned media and trend.
//! Everything that came from the endpoint or a scenario file is HTML-escaped
//! (maud escapes every value spliced into `html!`).

mod charts;
mod logs;
mod media;
mod scenario;
mod timeline;

use std::collections::BTreeSet;

use maud::{html, Markup};

use super::theme;
use crate::model::{RunReport, ScenarioReport, Verdict};

fn header(r: &RunReport, history: &[crate::results::history::HistoryLine]) -> Markup {
    let c = &r.counts;
    let problems = c.failed + c.error + c.timed_out + c.over_budget;
    let pills = [
        ("all", "all", c.total),
        ("problems", "not passed", problems),
        ("failed", "failed", c.failed),
        ("error", "errors", c.error),
        ("timed_out", "timed out", c.timed_out),
        ("over_budget", "over budget", c.over_budget),
        ("passed", "passed", c.passed),
        ("review", "to review", c.review),
        ("ignored", "ignored", c.ignored),
    ];
    html! {
        h1 { "endpoint-harness report" }
        div.meta {
            "target " b { (r.target) } " · run " (r.run_id) " · started " (r.started_at)
            " · commit " (r.git_commit.as_deref().unwrap_or("unknown"))
            @if let Some(cost) = &r.cost {
                " · estimated cost " b { (cost.currency) " " (format!("{:.4}", cost.total)) }
                " (" (cost.gpu) " at " (cost.per_second) " per second of execution)"
            }
            @if let Some(p) = &r.provision {
                br;
                "provisioned endpoint " b { (p.name) } " (" (p.endpoint_id.as_deref().unwrap_or("no id")) ") from "
                code { (p.image) } " on " (p.gpu_pools.join(",")) ": lived " (format!("{:.0}s", p.lifetime_s))
                @if let Some(s) = p.ready_after_s { (format!(", ready after {s:.0}s")) }
                @if let (Some(cost), Some(cur)) = (p.estimated_cost, &p.currency) {
                    ", at most " (cur) " " (format!("{cost:.4}"))
                }
                " · teardown: " b class=(if p.deleted { "passed" } else { "failed" }) { (p.teardown) }
            }
            @if let Some(line) = super::releases::releases_line(r) {
                br; b.over_budget { (line) }
            }
            @if r.target_kind == crate::model::TargetKind::Mock {
                br; "against the embedded mock, queue and execution are simulated time; total is real time"
            }
        }
        (theme::pills(&pills))
        (charts::runs(history))
    }
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
    let tags: Vec<&str> = scenarios
        .iter()
        .flat_map(|s| s.tags.iter().map(String::as_str))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let main = html! {
        (theme::toolbar("search scenarios by name", Some(&tags), true))
        @for s in &scenarios {
            (scenario::card(s, trends.iter().find(|t| t.scenario == s.name)))
        }
        (theme::none_shown("No scenario matches the filters."))
    };
    theme::page("endpoint-harness report", header(r, history), main)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        let name = "<script>alert('x')</script>&\"";
        let out = maud::html! { span title=(name) { (name) } }.into_string();
        assert_eq!(
            out,
            "<span title=\"&lt;script&gt;alert('x')&lt;/script&gt;&amp;&quot;\">&lt;script&gt;alert('x')&lt;/script&gt;&amp;&quot;</span>"
        );
    }
}
