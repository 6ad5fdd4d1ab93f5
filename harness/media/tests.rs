//! The media readers against files a real ComfyUI wrote (`mocks/media/`,
//! made by `tests/comfyui/record_media.py`; `facts.json` is what PyAV and Pillow
//! read from the same files).

use std::path::PathBuf;

use super::facts::{check_limits, FramesError};
use super::frames::{frames_to_sample, sample};
use super::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/media").join(name)).unwrap()
}

fn facts(name: &str) -> (Container, Facts) {
    let bytes = fixture(name);
    let Kind::Moving(c) = sniff(&bytes) else { panic!("{name} is not moving: {:?}", sniff(&bytes)) };
    (c, probe(c, &bytes).unwrap_or_else(|e| panic!("{name}: {e}")))
}

#[test]
fn container_facts_agree_with_pyav_and_pillow() {
    let (c, f) = facts("h264.mp4");
    assert_eq!((c, f.codec.as_deref(), f.width, f.height, f.frames), (Container::Mp4, Some("h264"), 64, 48, 12));
    assert!((f.fps.unwrap() - 8.0).abs() < 0.01, "{f:?}");
    assert!((f.duration_ms.unwrap() - 1500.0).abs() < 125.0, "{f:?}");
    let (c, f) = facts("vp9.webm");
    assert_eq!((c, f.codec.as_deref(), f.width, f.height, f.frames), (Container::Webm, Some("vp9"), 48, 32, 6));
    assert!((f.fps.unwrap() - 6.0).abs() < 0.06, "{f:?}");
    let (_, f) = facts("av1.webm");
    assert_eq!((f.codec.as_deref(), f.frames), (Some("av1"), 6));
    let (c, f) = facts("anim.webp");
    assert_eq!((c, f.width, f.height, f.frames), (Container::Webp, 48, 32, 6));
    // ComfyUI writes int(1000 / fps) ms per frame: 166 ms at 6 fps.
    assert_eq!(f.duration_ms, Some(996.0));
    let (c, f) = facts("anim.png");
    assert_eq!((c, f.width, f.height, f.frames), (Container::Apng, 40, 24, 5));
    assert!((f.fps.unwrap() - 5.0).abs() < 0.01, "{f:?}");
    let (c, f) = facts("anim.gif");
    assert_eq!((c, f.width, f.height, f.frames), (Container::Gif, 48, 32, 8));
    // GIF delays are centiseconds: Pillow stored 125 ms as 12.
    assert_eq!(f.duration_ms, Some(960.0));
}

#[test]
fn a_truncated_mp4_says_so() {
    let bytes = fixture("truncated.mp4");
    let Kind::Moving(c) = sniff(&bytes) else { panic!() };
    let e = probe(c, &bytes).unwrap_err().to_string();
    assert!(e.starts_with("mp4 does not parse: truncated: box `mdat` at byte"), "{e}");
    assert!(e.ends_with("and there is no `moov` box (the index of the samples)"), "{e}");
}

#[test]
fn sampling_picks_spread_frames_and_the_asked_ones() {
    assert_eq!(frames_to_sample(81, &[40, 100]), [0, 20, 40, 60, 80]);
    assert_eq!(frames_to_sample(1, &[]), [0]);
    assert!(frames_to_sample(0, &[]).is_empty());
}

#[test]
fn animation_frames_decode_in_pure_rust() {
    for name in ["anim.webp", "anim.png", "anim.gif"] {
        let bytes = fixture(name);
        let (c, f) = facts(name);
        let wanted = frames_to_sample(f.frames, &[]);
        let got = sample(c, None, &bytes, &wanted).unwrap();
        assert_eq!(got.iter().map(|(i, _)| *i).collect::<Vec<_>>(), wanted, "{name}");
        assert_eq!((got[0].1.width(), got[0].1.height()), (f.width, f.height));
    }
}

#[cfg(feature = "ffmpeg")]
#[test]
fn video_frames_decode_with_ffmpeg() {
    for name in ["h264.mp4", "vp9.webm", "av1.webm", "frozen.mp4"] {
        let bytes = fixture(name);
        let (c, f) = facts(name);
        let wanted = frames_to_sample(f.frames, &[]);
        let got = sample(c, f.codec.as_deref(), &bytes, &wanted).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.iter().map(|(i, _)| *i).collect::<Vec<_>>(), wanted, "{name}");
        assert_eq!((got[0].1.width(), got[0].1.height()), (f.width, f.height), "{name}");
    }
}

#[test]
fn h264_decodes_without_ffmpeg_and_other_codecs_say_what_they_need() {
    use super::frames::video_with;
    for name in ["h264.mp4", "frozen.mp4"] {
        let (c, f) = facts(name);
        let wanted = frames_to_sample(f.frames, &[]);
        let got = video_with(c, f.codec.as_deref(), &fixture(name), &wanted, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.iter().map(|(i, _)| *i).collect::<Vec<_>>(), wanted, "{name}");
        assert_eq!((got[0].1.width(), got[0].1.height()), (f.width, f.height), "{name}");
    }
    for name in ["vp9.webm", "av1.webm"] {
        let (c, f) = facts(name);
        let e = video_with(c, f.codec.as_deref(), &fixture(name), &[0], false).unwrap_err();
        assert!(
            matches!(&e, FramesError::NoDecoder(m) if m.contains("not checked") && m.contains("ffmpeg") && m.contains("HARNESS_FFMPEG")),
            "{name}: {e}"
        );
    }
}

/// With an `ffmpeg` executable on PATH (CI installs one), VP9 and AV1 decode too.
#[test]
fn other_codecs_decode_through_an_ffmpeg_executable() {
    if !super::ffmpeg_cli::available() {
        eprintln!("no ffmpeg executable here: skipped");
        return;
    }
    for name in ["vp9.webm", "av1.webm", "h264.mp4"] {
        let (c, f) = facts(name);
        let wanted = frames_to_sample(f.frames, &[]);
        let got = super::frames::video_with(c, Some("none"), &fixture(name), &wanted, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.iter().map(|(i, _)| *i).collect::<Vec<_>>(), wanted, "{name}");
        assert_eq!((got[0].1.width(), got[0].1.height()), (f.width, f.height), "{name}");
    }
}

#[test]
fn huge_declarations_are_refused_before_decoding() {
    let too_big = Facts { width: 100_000, height: 100_000, frames: 10, ..Facts::default() };
    assert!(check_limits(&too_big).unwrap_err().to_string().contains("100000x100000"));
    let ten_hours = Facts { width: 64, height: 64, frames: 10, duration_ms: Some(36_000_000.0), ..Facts::default() };
    assert_eq!(check_limits(&ten_hours).unwrap_err().to_string(), "declares a duration of 10h, over the 1 hour the harness reads");
}


/// The fixture MP4 with bytes at `offset` past the first `tag` inside `moov` replaced
/// (`ftyp` lists `avc1` as a brand too).
fn patched(name: &str, tag: &[u8], offset: usize, with: &[u8]) -> Vec<u8> {
    let mut b = fixture(name);
    let moov = b.windows(4).position(|w| w == b"moov").unwrap();
    let at = moov + b[moov..].windows(tag.len()).position(|w| w == tag).unwrap() + offset;
    b[at..at + with.len()].copy_from_slice(with);
    b
}

#[test]
fn a_declared_huge_or_endless_video_is_refused_by_its_container() {
    // The avc1 sample entry's width and height (u16 each) set to 65535.
    let huge = patched("h264.mp4", b"avc1", 28, &[0xFF, 0xFF, 0xFF, 0xFF]);
    let e = probe(Container::Mp4, &huge).unwrap_err().to_string();
    assert_eq!(e, "declares 65535x65535 pixels, over the 16384 px a side the harness reads");
    // The track's media duration (mdhd, version 0) set to ten hours of its timescale.
    let b = fixture("h264.mp4");
    let mdhd = b.windows(4).rposition(|w| w == b"mdhd").unwrap();
    let scale = u32::from_be_bytes(b[mdhd + 16..mdhd + 20].try_into().unwrap());
    let long = patched("h264.mp4", b"mdhd", 20, &(scale * 36_000).to_be_bytes());
    let e = probe(Container::Mp4, &long).unwrap_err().to_string();
    assert_eq!(e, "declares a duration of 10h, over the 1 hour the harness reads");
}

#[cfg(feature = "ffmpeg")]
#[test]
fn a_codec_the_decoder_lacks_is_not_checked_not_passed() {
    // The sample entry (and its configuration box) renamed to a codec nobody has.
    let mut odd = patched("h264.mp4", b"avc1", 0, b"zzzz");
    let cfg = odd.windows(4).position(|w| w == b"avcC").unwrap();
    odd[cfg..cfg + 4].copy_from_slice(b"zzzC");
    let f = probe(Container::Mp4, &odd).unwrap();
    assert_eq!(f.codec.as_deref(), Some("zzzz"));
    match sample(Container::Mp4, f.codec.as_deref(), &odd, &[0]) {
        Err(FramesError::NoDecoder(m)) | Err(FramesError::Decode(m)) => assert!(!m.is_empty()),
        Ok(frames) => panic!("decoded {} frames of an unknown codec", frames.len()),
    }
}
