//! WebM and Matroska through `matroska-demuxer`: the video track's codec and
//! size, its frames counted block by block, the frame interval from its
//! `DefaultDuration` or else from the first and last frame timestamps.

use std::io::Cursor;

use matroska_demuxer::{Frame, MatroskaFile, TrackType};

use super::facts::{Facts, MediaError, MAX_FRAMES};
use super::sniff::Container;

pub(super) fn probe(container: Container, bytes: &[u8]) -> Result<Facts, MediaError> {
    let name = container.as_str();
    let fail = |e: matroska_demuxer::DemuxError| MediaError::Container {
        container: name,
        detail: e.to_string(),
    };
    let mut file = MatroskaFile::open(Cursor::new(bytes)).map_err(fail)?;
    let track = file
        .tracks()
        .iter()
        .find(|t| t.track_type() == TrackType::Video)
        .ok_or(MediaError::NoVideo(name))?;
    let number = track.track_number().get();
    let codec = codec_name(track.codec_id());
    let (width, height) = track
        .video()
        .map(|v| (v.pixel_width().get() as u32, v.pixel_height().get() as u32))
        .unwrap_or((0, 0));
    let default_ns = track.default_duration().map(|d| d.get() as f64);
    let scale_ns = file.info().timestamp_scale().get() as f64;
    let mut frame = Frame::default();
    let (mut frames, mut first, mut last) = (0u64, None, 0u64);
    while file.next_frame(&mut frame).map_err(fail)? {
        if frame.track != number {
            continue;
        }
        frames += 1;
        first.get_or_insert(frame.timestamp);
        last = frame.timestamp;
        if frames > MAX_FRAMES {
            break;
        }
    }
    let interval_ns = default_ns.or_else(|| match first {
        Some(f) if frames > 1 && last > f => Some((last - f) as f64 * scale_ns / (frames - 1) as f64),
        _ => None,
    });
    let fps = interval_ns.filter(|i| *i > 0.0).map(|i| 1e9 / i);
    let duration_ms = match interval_ns {
        Some(i) => Some(frames as f64 * i / 1e6),
        None => file.info().duration().map(|d| d * scale_ns / 1e6),
    };
    Ok(Facts {
        codec,
        width,
        height,
        frames,
        fps,
        duration_ms,
    })
}

fn codec_name(id: &str) -> Option<String> {
    let name = match id {
        "V_VP9" => "vp9",
        "V_VP8" => "vp8",
        "V_AV1" => "av1",
        "V_MPEG4/ISO/AVC" => "h264",
        "V_MPEGH/ISO/HEVC" => "hevc",
        "V_PRORES" => "prores",
        "" => return None,
        other => return Some(other.trim_start_matches("V_").to_lowercase()),
    };
    Some(name.into())
}
