//! Returned files by what their bytes are: a still image, an animation
//! (animated WebP, APNG, GIF) or a video (MP4/MOV, WebM/Matroska). For the
//! moving ones: the container facts (frames, fps, duration, size, codec) from
//! pure-Rust demuxers, and sampled frames' pixels (GIF, WebP and APNG in pure
//! Rust; H.264 MP4 through the bundled OpenH264, other codecs through an
//! `ffmpeg` executable, or all through FFmpeg's libraries with the `ffmpeg`
//! feature).
//! Declared sizes and lengths are bounded before anything is decoded.

mod anim;
pub mod base64;
mod facts;
#[cfg(feature = "ffmpeg")]
mod ffmpeg;
#[cfg_attr(feature = "ffmpeg", allow(dead_code))]
mod ffmpeg_cli;
mod frames;
#[cfg_attr(feature = "ffmpeg", allow(dead_code))]
mod h264;
mod inspect;
pub mod limits;
mod mkv;
mod mp4;
mod returned;
pub mod sample;
mod sniff;
pub(crate) mod stream;
#[cfg(test)]
mod stream_tests;
mod video;

pub use facts::{Facts, MediaError, MAX_FRAMES};
pub use inspect::{color_name, decode, inspect_keeping};
#[cfg(any(test, feature = "internals"))]
pub use inspect::Inspected;
#[cfg(any(test, feature = "internals"))]
pub use inspect::inspect;
pub use returned::{ItemProblem, Returned, Transport};
pub use sniff::{sniff, Container, Kind};
pub use video::{inspect_video, InspectedVideo};

/// Reads the container facts of a moving file, within the limits.
pub fn probe(container: Container, bytes: &[u8]) -> Result<Facts, MediaError> {
    let facts = match container {
        Container::Mp4 | Container::Mov => mp4::probe(container, bytes)?,
        Container::Webm | Container::Mkv => mkv::probe(container, bytes)?,
        Container::Gif | Container::Webp | Container::Apng => anim::probe(container, bytes)?,
    };
    facts::check_limits(&facts)?;
    Ok(facts)
}

/// A video decoder this build has (the benchmark times them side by side).
#[cfg(feature = "internals")]
#[derive(Clone, Copy, Debug)]
pub enum VideoDecoder {
    /// The bundled OpenH264 (H.264 in MP4 only).
    OpenH264,
    /// An `ffmpeg` executable on PATH (or `HARNESS_FFMPEG`).
    FfmpegExecutable,
    /// FFmpeg's libraries (the `ffmpeg` feature).
    #[cfg(feature = "ffmpeg")]
    FfmpegLibraries,
}

/// Frames `wanted` of a video through one given decoder.
#[cfg(feature = "internals")]
pub fn frames_by(decoder: VideoDecoder, bytes: &[u8], wanted: &[u64]) -> Result<Vec<(u64, image::RgbImage)>, facts::FramesError> {
    match decoder {
        VideoDecoder::OpenH264 => h264::frames(bytes, wanted),
        VideoDecoder::FfmpegExecutable => ffmpeg_cli::frames(bytes, wanted),
        #[cfg(feature = "ffmpeg")]
        VideoDecoder::FfmpegLibraries => ffmpeg::frames(bytes, wanted),
    }
}


#[cfg(test)]
mod tests;
