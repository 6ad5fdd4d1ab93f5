//! The pixels of sampled frames: animations decoded in pure Rust; MP4 and
//! WebM through FFmpeg's decoders when built with the `ffmpeg` feature, and
//! otherwise a clear "not checked" (never a pass).

use image::RgbImage;

use super::anim;
use super::facts::FramesError;
use super::sniff::Container;

/// Frames `wanted` (sorted, 0-based) of a moving file, as RGB.
pub fn sample(container: Container, codec: Option<&str>, bytes: &[u8], wanted: &[u64]) -> Result<Vec<(u64, RgbImage)>, FramesError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    if !container.is_video() {
        return anim::frames(container, bytes, wanted).map_err(|e| FramesError::Decode(e.to_string()));
    }
    video(container, codec, bytes, wanted)
}

#[cfg(feature = "ffmpeg")]
fn video(_: Container, _: Option<&str>, bytes: &[u8], wanted: &[u64]) -> Result<Vec<(u64, RgbImage)>, FramesError> {
    super::ffmpeg::frames(bytes, wanted)
}

#[cfg(not(feature = "ffmpeg"))]
fn video(container: Container, codec: Option<&str>, _: &[u8], _: &[u64]) -> Result<Vec<(u64, RgbImage)>, FramesError> {
    Err(FramesError::NoDecoder(format!(
        "pixels of {} {} not checked: this build has no video decoder (build with `--features ffmpeg`, which needs FFmpeg's libraries)",
        container.as_str(),
        codec.unwrap_or("video")
    )))
}
