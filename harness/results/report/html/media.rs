//! What a scenario's jobs returned, in the page: image thumbnails linking to
//! the full files, videos and animations with their frame strips, and for a
//! snapshot mismatch the viewer (expected and actual side by side, a slider,
//! the diff) at full size.

use maud::{html, Markup};

use crate::model::{RunRecord, SnapshotRecord, VideoRecord};
use crate::results::report::theme;

/// The images of one job.
pub(crate) fn images(run: &RunRecord) -> Markup {
    html! {
        @for img in &run.images {
            @match (&img.thumbnail, &img.file) {
                (Some(thumb), Some(file)) => {
                    @let label = format!(
                        "{} {}×{}",
                        img.info.filename,
                        img.info.width.unwrap_or(0),
                        img.info.height.unwrap_or(0)
                    );
                    a href=(file) { img src=(thumb) alt=(label) title=(label); }
                }
                _ => {
                    span.error {
                        (img.info.filename) ": " (img.info.problem.as_deref().unwrap_or("no image"))
                    }
                    br;
                }
            }
        }
    }
}

/// One animation or video: the clip (a `<video>` for MP4/WebM with the first
/// sampled frame as poster, the file itself for GIF/WebP/APNG), the strip of
/// sampled frames (all a browser that cannot play the codec gets; the player
/// hides itself on error), and the facts.
pub(crate) fn video(v: &VideoRecord) -> Markup {
    let container = v.info.container.as_deref().unwrap_or("");
    let playable = matches!(container, "mp4" | "mov" | "webm" | "mkv");
    html! {
        figure.video {
            @if let Some(file) = &v.file {
                @if playable {
                    video src=(file) poster=[v.strip.first()] controls muted loop playsinline
                        preload="metadata" data-state="loading"
                        onloadeddata="this.dataset.state='playable'"
                        onerror="this.dataset.state='unplayable'" {}
                } @else {
                    img src=(file) alt=(v.info.filename) data-state="loading"
                        onload="this.dataset.state='playable'"
                        onerror="this.dataset.state='unplayable'";
                }
            }
            div.strip {
                @for (thumb, frame) in v.strip.iter().zip(&v.info.sampled) {
                    img src=(thumb) alt={ "frame " (frame) } title={ "frame " (frame) };
                }
            }
            figcaption { (v.info.filename) br; (v.info.describe()) }
        }
    }
}

/// A snapshot outcome: the viewer at full size when the evidence files were
/// written (a mismatch), else the thumbnails recorded.
pub(crate) fn snapshot(snap: &SnapshotRecord) -> Markup {
    // The figures the verdict is made of: the bands' PSNR, SSIM and worst
    // block, and across classes the coarse cells.
    let metrics = snap
        .metrics
        .as_ref()
        .map(|m| {
            let mut parts = Vec::new();
            parts.extend(m.psnr.map(|p| format!("psnr {p:.1} dB")));
            parts.extend(m.ssim.map(|s| format!("ssim {s:.4}")));
            parts.extend(m.block_diff.map(|b| format!("worst block {b:.2} levels")));
            if snap.across.is_some() {
                parts.extend(m.coarse_psnr.map(|p| format!("8x8 cells {p:.1} dB")));
            }
            if parts.is_empty() { String::new() } else { format!(": {}", parts.join(", ")) }
        })
        .unwrap_or_default();
    let class = match (&snap.class, &snap.across) {
        (Some(c), Some(a)) => format!(" · class {c}, judged against class {a} (none of its own yet)"),
        (Some(c), None) => format!(" · class {c}"),
        _ => String::new(),
    };
    let caption = format!("snapshot {} {}{metrics}{class}", snap.index, snap.outcome);
    match (&snap.expected, &snap.actual) {
        (Some(e), Some(a)) => theme::image_viewer(["expected", "actual"], [e, a], snap.diff.as_deref(), &caption),
        _ if !snap.thumbnails.is_empty() => html! {
            div.muted { (caption) }
            @for (label, thumb) in ["expected", "actual", "diff"].iter().zip(&snap.thumbnails) {
                img src=(thumb) alt=(label) title=(label);
            }
        },
        _ => html! {},
    }
}
