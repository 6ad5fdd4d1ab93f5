//! What a scenario's jobs returned, in the page: image thumbnails linking to
//! the full files, videos and animations with their frame strips, and for a
//! snapshot mismatch the viewer (expected and actual side by side, a slider,
//! the diff) at full size.

use std::fmt::Write;

use crate::model::{RunRecord, SnapshotRecord, VideoRecord};
use crate::results::report::theme;
use crate::text::esc_html as esc;

/// The images of one job.
pub(crate) fn images(run: &RunRecord) -> String {
    let mut out = String::new();
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
    out
}

/// One animation or video: the clip (a `<video>` for MP4/WebM with the first
/// sampled frame as poster, the file itself for GIF/WebP/APNG), the strip of
/// sampled frames (all a browser that cannot play the codec gets; the player
/// hides itself on error), and the facts.
pub(crate) fn video(v: &VideoRecord) -> String {
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

/// A snapshot outcome: the viewer at full size when the evidence files were
/// written (a mismatch), else the thumbnails recorded.
pub(crate) fn snapshot(snap: &SnapshotRecord) -> String {
    let metrics = snap
        .metrics
        .as_ref()
        .map(|m| format!(": distance {} bits, similarity {:.3}", m.distance, m.similarity))
        .unwrap_or_default();
    let caption = format!("snapshot {} {}{metrics}", snap.index, snap.outcome);
    match (&snap.expected, &snap.actual) {
        (Some(e), Some(a)) => theme::image_viewer(["expected", "actual"], [e, a], snap.diff.as_deref(), &caption),
        _ if !snap.thumbnails.is_empty() => {
            let mut out = format!("<div class=\"muted\">{}</div>", esc(&caption));
            for (label, thumb) in ["expected", "actual", "diff"].iter().zip(&snap.thumbnails) {
                let _ = write!(out, "<img src=\"{}\" alt=\"{label}\" title=\"{label}\">", esc(thumb));
            }
            out
        }
        _ => String::new(),
    }
}
