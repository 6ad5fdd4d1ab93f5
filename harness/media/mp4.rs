//! MP4 and QuickTime containers through Mozilla's `mp4parse`: the first
//! video track's sample count (frames), its media duration and timescale
//! (duration, fps), its sample entry (codec, size). A file whose `moov` box is
//! missing, as in an upload cut short (PyAV writes `moov` last), does not parse.

use std::io::Cursor;

use mp4parse::{CodecType, SampleEntry, TrackType};

use super::facts::{Facts, MediaError};
use super::sniff::Container;

pub(super) fn probe(container: Container, bytes: &[u8]) -> Result<Facts, MediaError> {
    let name = container.as_str();
    let ctx = mp4parse::read_mp4(&mut Cursor::new(bytes)).map_err(|e| MediaError::Container {
        container: name,
        detail: explain(bytes, &format!("{e:?}")),
    })?;
    let track = ctx
        .tracks
        .iter()
        .find(|t| t.track_type == TrackType::Video)
        .ok_or(MediaError::NoVideo(name))?;
    let entry = track.stsd.as_ref().and_then(|d| d.descriptions.first());
    let (codec, size) = match entry {
        Some(SampleEntry::Video(v)) => (codec_name(v.codec_type), Some((u32::from(v.width), u32::from(v.height)))),
        _ => (None, None),
    };
    let (width, height) = size
        .or_else(|| track.tkhd.as_ref().map(|t| (t.width >> 16, t.height >> 16)))
        .unwrap_or((0, 0));
    let frames: u64 = match &track.stts {
        Some(stts) => stts.samples.iter().fold(0u64, |n, s| n.saturating_add(u64::from(s.sample_count))),
        None => track.stsz.as_ref().map(|s| s.sample_sizes.len() as u64).unwrap_or(0),
    };
    let ticks: Option<u64> = track.duration.map(|d| d.0).or_else(|| {
        track
            .stts
            .as_ref()
            // Checked: a hostile file's counts and deltas must not overflow (a
            // product of two u32 fits a u64; the sum saturates).
            .map(|s| s.samples.iter().fold(0u64, |d, x| d.saturating_add(u64::from(x.sample_count) * u64::from(x.sample_delta))))
    });
    let duration_ms = match (ticks, track.timescale.map(|t| t.0)) {
        (Some(d), Some(scale)) if scale > 0 => Some(d as f64 * 1000.0 / scale as f64),
        _ => None,
    };
    let fps = duration_ms.filter(|ms| *ms > 0.0).map(|ms| frames as f64 * 1000.0 / ms);
    Ok(Facts {
        codec: codec.or_else(|| fourcc_codec(bytes)),
        width,
        height,
        frames,
        fps,
        duration_ms,
    })
}

/// Says what is wrong in terms of the file's top-level boxes where it can: a
/// box running past the end (a cut upload), or no `moov` at all.
fn explain(b: &[u8], debug: &str) -> String {
    let mut at = 0usize;
    let mut moov = false;
    while at + 8 <= b.len() {
        let size32 = u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as u64;
        let kind = String::from_utf8_lossy(&b[at + 4..at + 8]).into_owned();
        let size = match size32 {
            1 if at + 16 <= b.len() => u64::from_be_bytes(b[at + 8..at + 16].try_into().expect("8 bytes")),
            0 => (b.len() - at) as u64,
            n => n,
        };
        moov |= kind == "moov";
        if size < 8 || at as u64 + size > b.len() as u64 {
            return format!(
                "truncated: box `{kind}` at byte {at} declares {size} bytes but the file ends {} bytes later{}",
                b.len() - at,
                if moov { "" } else { ", and there is no `moov` box (the index of the samples)" }
            );
        }
        at += size as usize;
    }
    if !moov {
        return "no `moov` box (the index of the samples): the file is truncated or not finished".into();
    }
    debug.to_string()
}

fn codec_name(c: CodecType) -> Option<String> {
    let name = match c {
        CodecType::H264 => "h264",
        CodecType::AV1 => "av1",
        CodecType::VP9 => "vp9",
        CodecType::VP8 => "vp8",
        CodecType::MP4V => "mpeg4",
        CodecType::H263 => "h263",
        _ => return None,
    };
    Some(name.into())
}

/// The codec of a sample entry `mp4parse` does not name (HEVC, ProRes), from
/// the four-character code that follows `stsd`.
fn fourcc_codec(b: &[u8]) -> Option<String> {
    let at = b.windows(4).position(|w| w == b"stsd")?;
    let code = b.get(at + 16..at + 20)?;
    let name = match code {
        b"hvc1" | b"hev1" => "hevc",
        b"avc1" | b"avc3" => "h264",
        b"vp09" => "vp9",
        b"av01" => "av1",
        b"apch" | b"apcn" | b"apcs" | b"apco" | b"ap4h" => "prores",
        other => return Some(String::from_utf8_lossy(other).trim().to_string()),
    };
    Some(name.into())
}
