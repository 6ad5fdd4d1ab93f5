//! A comparison shown three ways: a terminal table, Markdown for a CI step
//! summary (`compare.md`), and `compare.html`, the side-by-side view in the
//! report's look (regressed first, each regressed image beside its
//! counterpart with a slider and the diff).

use std::fmt::Write;

use super::model::{Change, Comparison, ScenarioDiff};
use crate::results::report::theme;
use crate::text::esc_html as esc;

fn verdicts(s: &ScenarioDiff) -> String {
    let v = |v: Option<crate::model::Verdict>| v.map_or("–", |v| v.as_str());
    if s.baseline == s.candidate {
        v(s.candidate).to_string()
    } else {
        format!("{} → {}", v(s.baseline), v(s.candidate))
    }
}

fn deltas(s: &ScenarioDiff) -> String {
    s.deltas
        .iter()
        .filter(|d| d.what != "cost")
        .map(|d| {
            let ratio = if d.baseline > 0.0 { d.candidate / d.baseline } else { 1.0 };
            format!("{} ×{ratio:.2}", d.what)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary_line(c: &Comparison) -> String {
    let n = &c.counts;
    format!(
        "{}: {} regressed, {} missing, {} improved, {} same, {} new, {} not compared",
        c.verdict.as_str().to_uppercase(),
        n.regressed,
        n.missing,
        n.improved,
        n.same,
        n.new,
        n.not_compared
    )
}

/// The terminal table: every scenario that changed, then the verdict.
pub fn text(c: &Comparison) -> String {
    let mut out = format!(
        "baseline  {} (run {}, {})\ncandidate {} (run {}, {})\n\n",
        c.baseline.dir, c.baseline.run_id, c.baseline.target, c.candidate.dir, c.candidate.run_id, c.candidate.target
    );
    let width = c.scenarios.iter().map(|s| s.name.chars().count()).max().unwrap_or(8).max(8);
    let _ = writeln!(out, "{:<width$}  {:<12}  {:<24}  why", "scenario", "change", "verdict");
    for s in c.scenarios.iter().filter(|s| s.change != Change::Same || !s.notes.is_empty()) {
        let why = s.regressions.iter().chain(&s.improvements).cloned().collect::<Vec<_>>().join("; ");
        let _ = writeln!(out, "{:<width$}  {:<12}  {:<24}  {why}", s.name, s.change.as_str(), verdicts(s));
        for w in &s.new_warnings {
            let _ = writeln!(out, "{:<width$}  {:<12}  {:<24}  new warning: {w}", "", "", "");
        }
        for n in &s.notes {
            let _ = writeln!(out, "{:<width$}  {:<12}  {:<24}  note: {n}", "", "", "");
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(c));
    out
}

/// `compare.md`: the verdict, then a table of the scenarios that changed.
pub fn markdown(c: &Comparison) -> String {
    let mut out = format!(
        "## endpoint-harness compare: {}\n\nBaseline `{}` (run `{}`, {}) vs candidate `{}` (run `{}`, {}).\n\n{}\n\n",
        c.verdict.as_str(),
        c.baseline.dir,
        c.baseline.run_id,
        c.baseline.target,
        c.candidate.dir,
        c.candidate.run_id,
        c.candidate.target,
        summary_line(c)
    );
    let changed: Vec<&ScenarioDiff> = c.scenarios.iter().filter(|s| s.change != Change::Same || !s.notes.is_empty()).collect();
    if changed.is_empty() {
        out.push_str("No scenario changed past the thresholds.\n");
        return out;
    }
    out.push_str("| scenario | change | verdict | why |\n|---|---|---|---|\n");
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    for s in changed {
        let mut why: Vec<String> = s.regressions.iter().chain(&s.improvements).cloned().collect();
        why.extend(s.new_warnings.iter().map(|w| format!("new warning: {w}")));
        why.extend(s.notes.iter().map(|n| format!("note: {n}")));
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            cell(&s.name),
            s.change.as_str(),
            verdicts(s),
            cell(&why.join("; "))
        );
    }
    out
}

fn scenario_html(s: &ScenarioDiff) -> String {
    let class = theme::class_of(&s.change);
    let mut out = format!(
        "<details class=\"scenario\" data-item data-verdict=\"{class}\" data-name=\"{}\" data-tags=\"{}\"{}><summary><span class=\"badge {class}\">{}</span><span class=\"name\">{}</span>",
        esc(&s.name),
        esc(&s.tags.join(" ")),
        if s.change == Change::Regressed { " open" } else { "" },
        esc(s.change.as_str()),
        esc(&s.name)
    );
    for t in &s.tags {
        let _ = write!(out, "<span class=\"tag\">{}</span>", esc(t));
    }
    let _ = write!(out, "<span class=\"right\">{} {}</span></summary><div class=\"body\">", esc(&verdicts(s)), esc(&deltas(s)));
    for (title, lines) in [("regressions", &s.regressions), ("improvements", &s.improvements), ("new warnings", &s.new_warnings), ("notes", &s.notes)] {
        if !lines.is_empty() {
            let _ = write!(out, "<h3>{title}</h3><pre>{}</pre>", esc(&lines.join("\n")));
        }
    }
    if !s.deltas.is_empty() {
        out.push_str("<h3>times and cost</h3><table><tr><th></th><th>baseline</th><th>candidate</th><th></th></tr>");
        for d in &s.deltas {
            let show = |v: f64| {
                if d.what == "cost" {
                    format!("{v:.5}")
                } else {
                    crate::text::fmt_ms(v as u64)
                }
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                esc(&d.what),
                show(d.baseline),
                show(d.candidate),
                theme::class_of(&d.change),
                d.change.as_str()
            );
        }
        out.push_str("</table>");
    }
    if !s.images.is_empty() {
        out.push_str("<h3>images (baseline | candidate)</h3>");
    }
    for i in &s.images {
        let caption = format!(
            "job {} image {}{}",
            i.run,
            i.index,
            i.metrics
                .as_ref()
                .map(|m| format!(": distance {} bits, similarity {:.3}", m.distance, m.similarity))
                .unwrap_or_default()
        );
        match &i.evidence {
            Some(e) => out.push_str(&theme::image_viewer(
                ["baseline", "candidate"],
                [&e.baseline, &e.candidate],
                Some(&e.diff),
                &caption,
            )),
            None => {
                let _ = write!(out, "<div class=\"{}\">{}</div><div class=\"side-by-side\">", if i.regressed { "regressed" } else { "muted" }, esc(&caption));
                for t in [&i.baseline_thumbnail, &i.candidate_thumbnail] {
                    match t {
                        Some(t) => {
                            let _ = write!(out, "<div><img src=\"{}\" alt=\"\"></div>", esc(t));
                        }
                        None => out.push_str("<div class=\"muted\">no image</div>"),
                    }
                }
                out.push_str("</div>");
            }
        }
    }
    out.push_str("</div></details>");
    out
}

/// `compare.html`.
pub fn html(c: &Comparison) -> String {
    let n = &c.counts;
    let mut header = format!(
        "<h1>endpoint-harness compare: <span class=\"{}\">{}</span></h1><div class=\"meta\">baseline <b>{}</b> · run {} · {} · {}<br>candidate <b>{}</b> · run {} · {} · {}</div><div class=\"pills\">",
        theme::class_of(&c.verdict),
        esc(c.verdict.as_str()),
        esc(&c.baseline.dir),
        esc(&c.baseline.run_id),
        esc(&c.baseline.target),
        esc(&c.baseline.started_at),
        esc(&c.candidate.dir),
        esc(&c.candidate.run_id),
        esc(&c.candidate.target),
        esc(&c.candidate.started_at)
    );
    let total = c.scenarios.len();
    for (key, label, count) in [
        ("all", "all", total),
        ("problems", "changed", total - n.same),
        ("regressed", "regressed", n.regressed),
        ("missing", "missing", n.missing),
        ("improved", "improved", n.improved),
        ("new", "new", n.new),
        ("not_compared", "not compared", n.not_compared),
        ("same", "same", n.same),
    ] {
        let _ = write!(
            header,
            "<button type=\"button\" class=\"pill {key}\" data-verdict=\"{key}\">{label}<span class=\"n\">{count}</span></button>"
        );
    }
    header.push_str("</div>");
    let mut main = String::from("<div class=\"toolbar\"><input type=\"search\" id=\"q\" placeholder=\"search scenarios\"><span class=\"muted\"><span id=\"shown\"></span> shown</span></div>");
    for s in &c.scenarios {
        main.push_str(&scenario_html(s));
    }
    main.push_str("<p class=\"empty\" id=\"none\" hidden>No scenario matches.</p>");
    theme::page("endpoint-harness compare", &header, &main)
}
