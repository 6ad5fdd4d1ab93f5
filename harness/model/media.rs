//! What was learnt about one returned animation or video: its container
//! facts (container, codec, size, frames, fps, duration), what its sampled
//! frames showed (blankness, frozen), and what could not be checked and why.

use serde::{Deserialize, Serialize};

/// What was learnt about one returned animation or video.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VideoInfo {
    /// Position in the worker's output list (0-based, shared with images).
    pub index: usize,
    /// The file name the worker gave.
    pub filename: String,
    /// Encoded size in bytes.
    pub bytes: usize,
    /// Sniffed from the bytes: `mp4`, `mov`, `webm`, `mkv`, `gif`, `webp`, `png` (APNG).
    pub container: Option<String>,
    /// The video codec (`h264`, `hevc`, `vp9`, `av1`, ...); none for GIF, WebP and APNG.
    pub codec: Option<String>,
    /// Width in pixels.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// Number of frames.
    pub frames: Option<u64>,
    /// Frames per second.
    pub fps: Option<f64>,
    /// Duration in milliseconds.
    pub duration_ms: Option<f64>,
    /// The frames whose pixels were looked at (0-based).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sampled: Vec<u64>,
    /// Largest per-channel standard deviation of each sampled frame (0-255 scale).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stddevs: Vec<f64>,
    /// Whether all sampled frames are the same picture.
    pub frozen: Option<bool>,
    /// Why pixel checks were not done (no decoder for the codec), when they were not.
    pub pixels_unchecked: Option<String>,
    /// Why the file could not be read, if it could not.
    pub problem: Option<String>,
}

/// One returned animation or video, with where it was saved.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VideoRecord {
    /// What was learnt about it.
    #[serde(flatten)]
    pub info: VideoInfo,
    /// Where the returned bytes were saved, relative to the reports folder.
    pub file: Option<String>,
    /// Small PNG thumbnails of the sampled frames, as data URIs (the first is the poster).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strip: Vec<String>,
}

impl VideoInfo {
    /// The facts in one line: `mp4 h264 64x48, 12 frames at 8 fps, 1.500 s`.
    pub fn describe(&self) -> String {
        let mut parts = vec![[self.container.as_deref(), self.codec.as_deref()]
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join(" ")];
        if let (Some(w), Some(h)) = (self.width, self.height) {
            parts[0].push_str(&format!(" {w}x{h}"));
        }
        match (self.frames, self.fps) {
            (Some(n), Some(fps)) => parts.push(format!("{n} frames at {} fps", trim(fps))),
            (Some(n), None) => parts.push(format!("{n} frames")),
            _ => {}
        }
        if let Some(ms) = self.duration_ms {
            parts.push(format!("{} s", trim(ms / 1000.0)));
        }
        if let Some(p) = &self.problem {
            parts.push(format!("unreadable: {p}"));
        }
        parts.join(", ")
    }
}

/// A number with at most three decimals and no trailing zeros.
fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
