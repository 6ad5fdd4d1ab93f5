//! Returned files by what their bytes are: a still image, an animation
//! (animated WebP, APNG, GIF) or a video (MP4/MOV, WebM/Matroska). For the
//! moving ones: the container facts (frames, fps, duration, size, codec) from
//! pure-Rust demuxers, and sampled frames' pixels (GIF, WebP and APNG in pure
//! Rust; MP4 and WebM through FFmpeg's decoders with the `ffmpeg` feature).
//! Declared sizes and lengths are bounded before anything is decoded.

mod anim;
mod facts;
#[cfg(feature = "ffmpeg")]
mod ffmpeg;
mod frames;
mod mkv;
mod mp4;
mod sniff;

pub use facts::{Facts, FramesError, MediaError, MAX_FRAMES};
pub use frames::sample;
pub use sniff::{sniff, Container, Kind};

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

#[cfg(test)]
mod tests;
