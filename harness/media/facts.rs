//! The facts and limits of a moving file, and why it could not be read: a
//! leaf the container readers and the frame decoders share.

use crate::media::limits::MAX_SIDE;

/// Longest clip the harness reads (a 10-hour declaration is refused, not decoded).
pub const MAX_DURATION_S: f64 = 3600.0;
/// Most frames the harness reads.
pub const MAX_FRAMES: u64 = 100_000;

/// What a moving file's container says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// The codec (`h264`, `hevc`, `vp9`, `av1`, ...), none for GIF, WebP, APNG.
    pub codec: Option<String>,
    pub width: u32,
    pub height: u32,
    pub frames: u64,
    pub fps: Option<f64>,
    pub duration_ms: Option<f64>,
}

/// Why a moving file's container could not be read, or is refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MediaError {
    /// The container does not parse (truncated, corrupt).
    #[error("{container} does not parse: {detail}")]
    Container {
        /// `mp4`, `webm`, ...
        container: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// No video track in the container.
    #[error("{0} has no video track")]
    NoVideo(&'static str),
    /// Declared beyond what the harness reads.
    #[error("declares {what}, over the {limit} the harness reads")]
    TooLarge {
        /// What was declared.
        what: String,
        /// The limit.
        limit: String,
    },
}

pub(super) fn check_limits(f: &Facts) -> Result<(), MediaError> {
    if f.width > MAX_SIDE || f.height > MAX_SIDE {
        return Err(MediaError::TooLarge {
            what: format!("{}x{} pixels", f.width, f.height),
            limit: format!("{MAX_SIDE} px a side"),
        });
    }
    if let Some(ms) = f.duration_ms.filter(|ms| *ms / 1000.0 > MAX_DURATION_S) {
        return Err(MediaError::TooLarge {
            what: format!("a duration of {}", humantime::format_duration(std::time::Duration::from_millis(ms as u64))),
            limit: "1 hour".into(),
        });
    }
    if f.frames > MAX_FRAMES {
        return Err(MediaError::TooLarge {
            what: format!("{} frames", f.frames),
            limit: format!("{MAX_FRAMES} frames"),
        });
    }
    Ok(())
}

/// Why sampled frames could not be had.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FramesError {
    /// This build cannot decode the codec: pixel checks are not done.
    #[error("{0}")]
    NoDecoder(String),
    /// The frames do not decode.
    #[error("frames do not decode: {0}")]
    Decode(String),
}

