//! Video frames through FFmpeg's libraries (the `ffmpeg` feature): the file
//! is demuxed by libavformat (from a temporary file, since it takes a path),
//! decoded by libavcodec (H.264, HEVC, VP8/9, AV1 as the OS build has them) in
//! order until the last wanted frame, and the wanted frames converted to RGB
//! by libswscale. FFmpeg's own logging is silenced.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use ffmpeg_next as ff;
use image::RgbImage;

use super::facts::FramesError;

static INIT: Once = Once::new();
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A temporary copy of the bytes, removed on drop.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub(super) fn frames(bytes: &[u8], wanted: &[u64]) -> Result<Vec<(u64, RgbImage)>, FramesError> {
    INIT.call_once(|| {
        let _ = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Quiet);
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = TempFile(std::env::temp_dir().join(format!("endpoint-harness-{}-{n}.media", std::process::id())));
    std::fs::write(&tmp.0, bytes).map_err(|e| FramesError::Decode(format!("cannot stage the file for the decoder: {e}")))?;
    let bad = |e: ff::Error| FramesError::Decode(e.to_string());
    let mut input = ff::format::input(&tmp.0).map_err(bad)?;
    let stream = input
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| FramesError::Decode("no video stream".into()))?;
    let index = stream.index();
    let context = ff::codec::context::Context::from_parameters(stream.parameters()).map_err(bad)?;
    let codec = context.id();
    let mut decoder = context.decoder().video().map_err(|e| {
        FramesError::NoDecoder(format!("pixels not checked: this FFmpeg has no decoder for {codec:?} ({e})"))
    })?;
    let last = wanted.iter().copied().max().unwrap_or(0);
    let mut got = Vec::new();
    let mut seen = 0u64;
    let mut scaler: Option<ff::software::scaling::Context> = None;
    let mut take = |decoder: &mut ff::decoder::Video, got: &mut Vec<(u64, RgbImage)>, seen: &mut u64| -> Result<bool, FramesError> {
        let mut frame = ff::frame::Video::empty();
        while decoder.receive_frame(&mut frame).is_ok() {
            if wanted.contains(seen) {
                got.push((*seen, rgb(&frame, &mut scaler)?));
            }
            *seen += 1;
            if *seen > last {
                return Ok(true);
            }
        }
        Ok(false)
    };
    for (s, packet) in input.packets() {
        if s.index() != index {
            continue;
        }
        decoder.send_packet(&packet).map_err(bad)?;
        if take(&mut decoder, &mut got, &mut seen)? {
            return Ok(got);
        }
    }
    decoder.send_eof().map_err(bad)?;
    take(&mut decoder, &mut got, &mut seen)?;
    Ok(got)
}

fn rgb(frame: &ff::frame::Video, scaler: &mut Option<ff::software::scaling::Context>) -> Result<RgbImage, FramesError> {
    let (w, h) = (frame.width(), frame.height());
    let bad = |e: ff::Error| FramesError::Decode(e.to_string());
    if scaler.is_none() {
        *scaler = Some(
            ff::software::scaling::Context::get(
                frame.format(),
                w,
                h,
                ff::format::Pixel::RGB24,
                w,
                h,
                ff::software::scaling::Flags::BILINEAR,
            )
            .map_err(bad)?,
        );
    }
    let mut out = ff::frame::Video::empty();
    scaler.as_mut().expect("made above").run(frame, &mut out).map_err(bad)?;
    let stride = out.stride(0);
    let data = out.data(0);
    let mut img = RgbImage::new(w, h);
    let buf: &mut [u8] = &mut img;
    for (y, row) in buf.chunks_exact_mut(w as usize * 3).enumerate() {
        row.copy_from_slice(&data[y * stride..y * stride + w as usize * 3]);
    }
    Ok(img)
}
