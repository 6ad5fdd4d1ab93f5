//! The pixels of sampled frames: animations decoded in pure Rust; H.264 in
//! MP4 through the bundled OpenH264; every other video codec through an
//! `ffmpeg` executable on PATH; everything through FFmpeg's libraries when
//! built with the `ffmpeg` feature; otherwise a clear "not checked" (never a
//! pass).

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
fn video(container: Container, codec: Option<&str>, bytes: &[u8], wanted: &[u64]) -> Result<Vec<(u64, RgbImage)>, FramesError> {
    video_with(container, codec, bytes, wanted, super::ffmpeg_cli::available())
}

/// H.264 in MP4 through OpenH264; anything else (or an H.264 stream OpenH264
/// refuses) through an `ffmpeg` executable when there is one (`ffmpeg`).
#[cfg_attr(feature = "ffmpeg", allow(dead_code))]
pub(super) fn video_with(
    container: Container,
    codec: Option<&str>,
    bytes: &[u8],
    wanted: &[u64],
    ffmpeg: bool,
) -> Result<Vec<(u64, RgbImage)>, FramesError> {
    let mp4 = matches!(container, Container::Mp4 | Container::Mov);
    let builtin = if mp4 && codec == Some("h264") {
        match super::h264::frames(bytes, wanted) {
            Ok(frames) => return Ok(frames),
            Err(e) => Some(e),
        }
    } else {
        None
    };
    if ffmpeg {
        return super::ffmpeg_cli::frames(bytes, wanted);
    }
    Err(builtin.unwrap_or_else(|| {
        FramesError::NoDecoder(format!(
            "pixels of {} {} not checked: this build decodes H.264 in MP4 itself and other codecs through an `ffmpeg` executable, and none is on PATH (install FFmpeg, set HARNESS_FFMPEG to one, or build with `--features ffmpeg`)",
            container.as_str(),
            codec.unwrap_or("video")
        ))
    }))
}

/// The frames looked at for checks: first, quarter, middle, three-quarter and
/// last, plus any the snapshot asks for, in order, without repeats.
pub fn frames_to_sample(frames: u64, extra: &[u64]) -> Vec<u64> {
    if frames == 0 {
        return Vec::new();
    }
    let last = frames - 1;
    let mut v: Vec<u64> = [0, last / 4, last / 2, last * 3 / 4, last]
        .into_iter()
        .chain(extra.iter().copied().filter(|f| *f <= last))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}
