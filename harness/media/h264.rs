//! H.264 in MP4/MOV decoded in the default build: the samples are located
//! with `mp4parse`'s sample tables (stsc, stco/co64, stsz), their
//! length-prefixed NAL units given one by one (with start codes) after the
//! SPS and PPS of the `avcC` box, and decoded by Cisco's OpenH264 (the `openh264`
//! crate compiles its bundled source: no system library). Frames come out in
//! presentation order; the decoder's reorder buffer is flushed at the end.

use std::io::Cursor;

use image::RgbImage;
use mp4parse::{SampleEntry, TrackType, VideoCodecSpecific};
use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig, Flush};
use openh264::OpenH264API;
use openh264::formats::YUVSource;

use super::facts::FramesError;

/// Frames `wanted` (sorted, 0-based, presentation order) of an H.264 MP4.
pub(crate) fn frames(bytes: &[u8], wanted: &[u64]) -> Result<Vec<(u64, RgbImage)>, FramesError> {
    let bad = |what: String| FramesError::Decode(what);
    let ctx = mp4parse::read_mp4(&mut Cursor::new(bytes)).map_err(|e| bad(format!("{e:?}")))?;
    let track = ctx
        .tracks
        .iter()
        .find(|t| t.track_type == TrackType::Video)
        .ok_or_else(|| bad("no video track".into()))?;
    let avcc = match track.stsd.as_ref().and_then(|d| d.descriptions.first()) {
        Some(SampleEntry::Video(v)) => match &v.codec_specific {
            VideoCodecSpecific::AVCConfig(c) => c.to_vec(),
            _ => return Err(bad("not an H.264 sample entry".into())),
        },
        _ => return Err(bad("no video sample entry".into())),
    };
    let config = AvcConfig::parse(&avcc).ok_or_else(|| bad("the avcC box does not parse".into()))?;
    let samples = sample_ranges(track, bytes.len()).ok_or_else(|| bad("the sample tables do not add up".into()))?;

    // no flush after each call: with B-frames (x264's default) an early flush
    // hands out frames out of order and then breaks the reference lists
    let config_no_flush = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
    let mut decoder = Decoder::with_api_config(OpenH264API::from_source(), config_no_flush)
        .map_err(|e| bad(format!("OpenH264: {e}")))?;
    // one NAL unit per call, as OpenH264's own examples feed it
    let mut nal = Vec::with_capacity(64 * 1024);
    for ps in config.sps.iter().chain(&config.pps) {
        nal.clear();
        nal.extend_from_slice(&[0, 0, 0, 1]);
        nal.extend_from_slice(ps);
        decoder.decode(&nal).map_err(|e| bad(format!("OpenH264, parameter sets: {e}")))?;
    }
    let last = wanted.iter().copied().max().unwrap_or(0);
    let mut got = Vec::new();
    let mut index = 0u64;
    let keep = |rgb: RgbImage, index: &mut u64, got: &mut Vec<(u64, RgbImage)>| {
        if wanted.contains(index) {
            got.push((*index, rgb));
        }
        *index += 1;
    };
    for (start, len) in samples {
        let units = nal_units_of(&bytes[start..start + len], config.length_size)
            .ok_or_else(|| bad(format!("sample at byte {start}: NAL lengths run past it")))?;
        // SEI (6: x264 writes its settings there) and access unit delimiters (9)
        // carry no pixels, and OpenH264 refuses x264's long SEI as out of memory
        for unit in units.into_iter().filter(|u| !matches!(u.first().map(|b| b & 0x1f), Some(6 | 9) | None)) {
            nal.clear();
            nal.extend_from_slice(&[0, 0, 0, 1]);
            nal.extend_from_slice(unit);
            let decoded = decoder.decode(&nal).map_err(|e| bad(format!("OpenH264 at byte {start}: {e}")))?;
            if let Some(yuv) = decoded {
                keep(rgb_of(&yuv), &mut index, &mut got);
                if index > last {
                    return Ok(got);
                }
            }
        }
    }
    for yuv in decoder.flush_remaining().map_err(|e| bad(format!("OpenH264 flush: {e}")))? {
        keep(rgb_of(&yuv), &mut index, &mut got);
        if index > last {
            break;
        }
    }
    Ok(got)
}

fn rgb_of(yuv: &DecodedYUV<'_>) -> RgbImage {
    let (w, h) = yuv.dimensions();
    let mut buf = vec![0u8; yuv.rgb8_len()];
    yuv.write_rgb8(&mut buf);
    RgbImage::from_raw(w as u32, h as u32, buf).expect("rgb8_len is w * h * 3")
}

/// The parameter sets and NAL length size of an `avcC` box body.
struct AvcConfig {
    length_size: usize,
    sps: Vec<Vec<u8>>,
    pps: Vec<Vec<u8>>,
}

impl AvcConfig {
    fn parse(b: &[u8]) -> Option<Self> {
        let length_size = usize::from(*b.get(4)? & 0x3) + 1;
        let mut at = 5;
        let sets = |count: usize, at: &mut usize| -> Option<Vec<Vec<u8>>> {
            let mut out = Vec::with_capacity(count);
            for _ in 0..count {
                let len = usize::from(u16::from_be_bytes([*b.get(*at)?, *b.get(*at + 1)?]));
                out.push(b.get(*at + 2..*at + 2 + len)?.to_vec());
                *at += 2 + len;
            }
            Some(out)
        };
        let n_sps = usize::from(*b.get(at)? & 0x1f);
        at += 1;
        let sps = sets(n_sps, &mut at)?;
        let n_pps = usize::from(*b.get(at)?);
        at += 1;
        let pps = sets(n_pps, &mut at)?;
        Some(AvcConfig { length_size, sps, pps })
    }
}

/// The length-prefixed NAL units of one sample.
fn nal_units_of(sample: &[u8], length_size: usize) -> Option<Vec<&[u8]>> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < sample.len() {
        let len = sample.get(at..at + length_size)?.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b));
        at += length_size;
        out.push(sample.get(at..at + len)?);
        at += len;
    }
    Some(out)
}

/// (offset, length) of every sample in decode order, within a file of `file_len` bytes.
fn sample_ranges(track: &mp4parse::Track, file_len: usize) -> Option<Vec<(usize, usize)>> {
    let stsz = track.stsz.as_ref()?;
    let stsc = track.stsc.as_ref()?;
    let offsets = &track.stco.as_ref()?.offsets;
    let count = if stsz.sample_size > 0 {
        track.stts.as_ref()?.samples.iter().map(|s| s.sample_count as usize).sum()
    } else {
        stsz.sample_sizes.len()
    };
    let size = |i: usize| -> usize {
        if stsz.sample_size > 0 {
            stsz.sample_size as usize
        } else {
            stsz.sample_sizes[i] as usize
        }
    };
    let mut out = Vec::with_capacity(count);
    let runs = &stsc.samples;
    for (r, run) in runs.iter().enumerate() {
        let first = run.first_chunk.checked_sub(1)? as usize;
        let end = runs.get(r + 1).map_or(offsets.len(), |next| (next.first_chunk as usize).saturating_sub(1));
        for chunk in first..end.min(offsets.len()) {
            let mut at = usize::try_from(offsets[chunk]).ok()?;
            for _ in 0..run.samples_per_chunk {
                if out.len() == count {
                    return Some(out);
                }
                let len = size(out.len());
                if at.checked_add(len)? > file_len {
                    return None;
                }
                out.push((at, len));
                at += len;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{nal_units_of, AvcConfig};

    #[test]
    fn avcc_and_length_prefixed_nals_are_read() {
        // version 1, profile 100, compat 0, level 30, 0xff (4-byte lengths), 1 SPS of 2 bytes, 1 PPS of 1 byte
        let avcc = [1, 100, 0, 30, 0xff, 0xe1, 0, 2, 0x67, 0x42, 1, 0, 1, 0x68];
        let c = AvcConfig::parse(&avcc).unwrap();
        assert_eq!((c.length_size, c.sps, c.pps), (4, vec![vec![0x67, 0x42]], vec![vec![0x68]]));
        assert!(AvcConfig::parse(&avcc[..9]).is_none(), "a cut box is refused");
        let units = nal_units_of(&[0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41], 4).unwrap();
        assert_eq!(units, [&[0x65, 1][..], &[0x41][..]]);
        assert!(nal_units_of(&[0, 0, 0, 9, 0x65], 4).is_none(), "a length past the sample is refused");
    }
}

#[cfg(test)]
mod real {
    /// Clips a real ComfyUI 0.3.64 wrote with SaveVideo (H.264 through PyAV's libx264).
    #[test]
    fn decodes_what_comfyui_writes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mocks/media");
        for (file, frames) in [("frozen.mp4", 10u64), ("h264.mp4", 12)] {
            let bytes = std::fs::read(root.join(file)).unwrap();
            let all: Vec<u64> = (0..frames).collect();
            let got = super::frames(&bytes, &all).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(got.len() as u64, frames, "{file}");
        }
    }

    /// The same frames, in the same order, as FFmpeg gives (when an `ffmpeg`
    /// executable is here): only the YUV to RGB rounding may differ.
    #[test]
    fn matches_ffmpeg_frame_for_frame() {
        if !crate::media::ffmpeg_cli::available() {
            eprintln!("no ffmpeg executable: comparison skipped");
            return;
        }
        let bytes = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mocks/media/h264.mp4")).unwrap();
        let all: Vec<u64> = (0..12).collect();
        let ours = super::frames(&bytes, &all).unwrap();
        let theirs = crate::media::ffmpeg_cli::frames(&bytes, &all).unwrap();
        assert_eq!(ours.len(), theirs.len());
        for ((i, a), (j, b)) in ours.iter().zip(&theirs) {
            assert_eq!((i, a.dimensions()), (j, b.dimensions()));
            let mean = a.iter().zip(b.iter()).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.len() as f64;
            assert!(mean < 3.0, "frame {i}: mean difference {mean:.2} levels from FFmpeg's");
        }
    }
}
