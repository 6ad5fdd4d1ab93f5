//! `index.html`: one self-contained page (inline CSS, thumbnails as data URIs)
//! with every scenario's verdict, timings against budgets, images and problems.
//! Everything that came from the endpoint or a scenario file is HTML-escaped.

use std::fmt::Write;

use crate::model::{RunReport, Verdict};
use crate::text::fmt_ms;

pub(crate) use crate::text::esc_html as esc;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:6px;text-align:left;vertical-align:top}.passed{color:#1a7f37}.failed,.error,.timed_out{color:#cf222e}.over_budget{color:#9a6700}.ignored{color:#777}pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;margin:4px 0}img{border:1px solid #ccc;margin:2px}.muted{color:#777}figure.video{display:inline-block;margin:2px 6px 6px 0;vertical-align:top}figure.video video,figure.video>img{max-width:320px;max-height:240px;display:block}video[data-state=unplayable]{display:none}.strip img{height:48px;margin:1px}figcaption{font-size:12px;color:#555}table.nodes{width:auto;font-size:12px}table.nodes td{border:0;padding:1px 6px}.bar{display:inline-block;height:9px;background:#6e7781;vertical-align:middle}.bar.cached{background:#d0d7de}";

/// Which node took the time: one row per node in the order it ran, a bar
/// scaled to the slowest node, its ms, and whether ComfyUI reused a cached output.
fn node_timeline(nodes: &[crate::model::NodeTiming]) -> String {
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

/// One animation or video: the clip (a `<video>` for MP4/WebM with the first
/// sampled frame as poster, the file itself for GIF/WebP/APNG), the strip of
/// sampled frames (all a browser that cannot play the codec gets; the player
/// hides itself on error), and the facts.
fn video(v: &crate::model::VideoRecord) -> String {
    let mut out = String::from("<figure class=\"video\">");
    let container = v.info.container.as_deref().unwrap_or("");
    if let Some(file) = &v.file {
        if matches!(container, "mp4" | "mov" | "webm" | "mkv") {
            let poster = v.strip.first().map(|p| format!(" poster=\"{}\"", esc(p))).unwrap_or_default();
            let _ = write!(
                out,
                "<video src=\"{}\"{poster} controls muted loop playsinline preload=\"metadata\" data-state=\"loading\" onloadeddata=\"this.dataset.state='playable'\" onerror=\"this.dataset.state='unplayable'\"></video>",
                esc(file)
            );
        } else {
            let _ = write!(
                out,
                "<img src=\"{}\" alt=\"{}\" data-state=\"loading\" onload=\"this.dataset.state='playable'\" onerror=\"this.dataset.state='unplayable'\">",
                esc(file),
                esc(&v.info.filename)
            );
        }
    }
    out.push_str("<div class=\"strip\">");
    for (thumb, frame) in v.strip.iter().zip(&v.info.sampled) {
        let _ = write!(out, "<img src=\"{}\" alt=\"frame {frame}\" title=\"frame {frame}\">", esc(thumb));
    }
    let _ = write!(
        out,
        "</div><figcaption>{}<br>{}</figcaption></figure>",
        esc(&v.info.filename),
        esc(&v.info.describe())
    );
    out
}

/// A small SVG line chart of total wall times, oldest to newest.
fn chart(values: &[u64]) -> String {
    if values.len() < 2 {
        return String::new();
    }
    let max = *values.iter().max().unwrap_or(&1).max(&1) as f64;
    let step = 120.0 / (values.len() - 1) as f64;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                28.0 - (*v as f64 / max) * 26.0
            )
        })
        .collect();
    format!(
        "<svg width=\"124\" height=\"30\" viewBox=\"-2 0 124 30\" role=\"img\"><title>total time, last {} runs (max {})</title><polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        values.len(),
        fmt_ms(max as u64),
        points.join(" ")
    )
}

pub(super) fn render(r: &RunReport, history: &[crate::history::HistoryLine]) -> String {
    let trends = crate::trend::analyse(history, &crate::trend::Options::default());
    let c = &r.counts;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>endpoint-harness report</title><style>{STYLE}</style></head><body><h1>endpoint-harness</h1><p>Target: <b>{}</b> · {} · commit {}</p><p>{} passed, {} failed, {} over budget, {} errors, {} timed out, {} ignored (of {})</p>",
        esc(&r.target),
        esc(&r.started_at),
        esc(r.git_commit.as_deref().unwrap_or("unknown")),
        c.passed, c.failed, c.over_budget, c.error, c.timed_out, c.ignored, c.total
    );
    if let Some(cost) = &r.cost {
        let _ = write!(
            out,
            "<p>Estimated cost: {} {:.4} ({} at {} per second of execution)</p>",
            esc(&cost.currency),
            cost.total,
            esc(&cost.gpu),
            cost.per_second
        );
    }
    out.push_str(
        "<table><tr><th>scenario</th><th>verdict</th><th>timings</th><th>images</th></tr>",
    );
    for s in &r.scenarios {
        let class = serde_json::to_value(s.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td><b>{}</b><br><span class=\"muted\">{}</span>",
            esc(&s.name),
            esc(s.description.as_deref().unwrap_or(""))
        );
        if let Some(msg) = s
            .message
            .as_deref()
            .filter(|_| s.verdict != Verdict::Passed)
        {
            let _ = write!(out, "<pre>{}</pre>", esc(msg));
        }
        let _ = write!(
            out,
            "</td><td class=\"{}\">{}</td><td>",
            esc(&class),
            esc(s.verdict.as_str())
        );
        for run in &s.runs {
            let t = |v: Option<u64>| v.map(fmt_ms).unwrap_or_else(|| "–".into());
            let _ = write!(
                out,
                "queue {} · exec {} · total {}<br><span class=\"muted\">job {}</span><br>",
                t(run.delay_ms),
                t(run.execution_ms),
                fmt_ms(run.total_ms),
                esc(run.job_id.as_deref().unwrap_or("–"))
            );
            if !run.nodes.is_empty() {
                out.push_str(&node_timeline(&run.nodes));
            }
        }
        if let Some(l) = &s.load {
            out.push_str(&super::load::html(l));
        }
        if let Some(t) = trends.iter().find(|t| t.scenario == s.name) {
            out.push_str(&chart(&t.totals));
            for f in &t.flags {
                let _ = write!(out, "<br><span class=\"over_budget\">{}</span>", esc(f));
            }
            out.push_str("<br>");
        }
        if let Some(b) = &s.budget {
            for m in &b.misses {
                let _ = write!(
                    out,
                    "<span class=\"over_budget\">{}</span><br>",
                    esc(&m.to_string())
                );
            }
        }
        out.push_str("</td><td>");
        for run in &s.runs {
            for img in &run.images {
                let label = format!(
                    "{} {}×{}",
                    img.info.filename,
                    img.info.width.unwrap_or(0),
                    img.info.height.unwrap_or(0)
                );
                match (&img.thumbnail, &img.file) {
                    (Some(thumb), Some(file)) => {
                        let _ = write!(
                            out,
                            "<a href=\"{}\"><img src=\"{}\" alt=\"{}\" title=\"{}\"></a>",
                            esc(file),
                            esc(thumb),
                            esc(&label),
                            esc(&label)
                        );
                    }
                    _ => {
                        let _ = write!(
                            out,
                            "<span class=\"error\">{}: {}</span><br>",
                            esc(&img.info.filename),
                            esc(img.info.problem.as_deref().unwrap_or("no image"))
                        );
                    }
                }
            }
        }
        for v in s.runs.iter().flat_map(|r| &r.videos) {
            out.push_str(&video(v));
        }
        for snap in s.snapshots.iter().filter(|r| !r.thumbnails.is_empty()) {
            let _ = write!(
                out,
                "<div>snapshot {} ({}):<br>",
                snap.index,
                esc(&snap.outcome)
            );
            let labels = ["expected", "actual", "diff"];
            let files = [&snap.expected, &snap.actual, &snap.diff];
            for (k, thumb) in snap.thumbnails.iter().enumerate() {
                let file = files.get(k).and_then(|f| f.as_deref()).unwrap_or("");
                let _ = write!(
                    out,
                    "<a href=\"{}\"><img src=\"{}\" alt=\"{}\" title=\"{}\"></a>",
                    esc(file),
                    esc(thumb),
                    labels[k],
                    labels[k]
                );
            }
            out.push_str("</div>");
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</table></body></html>\n");
    out
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
