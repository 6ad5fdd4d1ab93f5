//! One returned animation or video, read: its container facts (from the
//! demuxer), frames sampled at the first, quarter, middle, three-quarter and
//! last positions (plus those a snapshot asks for) and decoded by whichever
//! decoder this build has, each frame's spread and thumbnail, and whether the
//! sampled frames are all one picture (frozen).

use image::{DynamicImage, RgbImage};

use super::returned::Returned;
use super::facts::{Facts, FramesError, MediaError};
use super::frames::{frames_to_sample, sample as sample_frames};
use super::sniff::Container;
use crate::model::VideoInfo;

/// Thumbnails whose pixels differ by less than this on average (0-255) are
/// the same picture: codec noise between identical frames stays far below it.
const FROZEN_MEAN_DIFF: f64 = 1.0;

/// A returned animation or video, inspected, with its sampled frames.
pub struct InspectedVideo {
    pub info: VideoInfo,
    /// The sampled frames (index, pixels), for snapshots.
    pub frames: Vec<(u64, RgbImage)>,
    /// A thumbnail of each sampled frame.
    pub thumbs: Vec<RgbImage>,
}

/// Reads the container facts and samples frames (`extra`: frames a snapshot asks for).
pub fn inspect_video(index: usize, r: &Returned, container: Container, facts: Result<Facts, MediaError>, extra: &[u64]) -> InspectedVideo {
    let mut info = VideoInfo {
        index,
        filename: r.filename.clone(),
        container: Some(container.as_str().to_string()),
        ..VideoInfo::default()
    };
    let mut out = InspectedVideo { info: VideoInfo::default(), frames: Vec::new(), thumbs: Vec::new() };
    let bytes = match &r.bytes {
        Ok(b) => b,
        Err(e) => {
            info.problem = Some(e.to_string());
            out.info = info;
            return out;
        }
    };
    info.bytes = bytes.len();
    let facts = match facts {
        Ok(f) => f,
        Err(e) => {
            info.problem = Some(e.to_string());
            out.info = info;
            return out;
        }
    };
    info.codec = facts.codec.clone();
    info.width = Some(facts.width);
    info.height = Some(facts.height);
    info.frames = Some(facts.frames);
    info.fps = facts.fps;
    info.duration_ms = facts.duration_ms;
    let wanted = frames_to_sample(facts.frames, extra);
    match sample_frames(container, facts.codec.as_deref(), bytes, &wanted) {
        Ok(frames) => {
            for (i, frame) in &frames {
                let sampled = super::sample::sample(&DynamicImage::ImageRgb8(frame.clone()));
                info.sampled.push(*i);
                info.stddevs.push(sampled.stddev);
                out.thumbs.push(sampled.thumb);
            }
            if out.thumbs.len() >= 2 {
                info.frozen = Some(out.thumbs.windows(2).all(|w| mean_diff(&w[0], &w[1]) < FROZEN_MEAN_DIFF));
            }
            out.frames = frames;
        }
        Err(FramesError::NoDecoder(why)) => info.pixels_unchecked = Some(why),
        Err(e @ FramesError::Decode(_)) => info.problem = Some(e.to_string()),
    }
    out.info = info;
    out
}

fn mean_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    if a.dimensions() != b.dimensions() {
        return f64::MAX;
    }
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.as_raw().len().max(1) as f64
}

