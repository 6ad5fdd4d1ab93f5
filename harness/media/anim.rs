//! Animations of pictures (GIF, animated WebP, APNG) through the `image`
//! crate's decoders, which composite each frame onto the canvas as a viewer
//! shows it: the count and delays give frames, duration and fps; the same
//! pass, again, gives the sampled frames' pixels. The canvas size is checked
//! before any frame is decoded.

use std::io::Cursor;

use image::codecs::{gif::GifDecoder, png::PngDecoder, webp::WebPDecoder};
use image::{AnimationDecoder, Frames, ImageDecoder, RgbImage};

use super::facts::{Facts, MediaError, MAX_FRAMES};
use super::sniff::Container;
use crate::media::limits::{MAX_DECODE_BYTES, MAX_SIDE};

fn fail(container: Container) -> impl Fn(image::ImageError) -> MediaError {
    move |e| MediaError::Container {
        container: container.as_str(),
        detail: e.to_string(),
    }
}

/// The canvas size and the frames of an animation.
fn open(container: Container, bytes: &[u8]) -> Result<((u32, u32), Frames<'_>), MediaError> {
    let err = fail(container);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let too_large = |(w, h): (u32, u32)| {
        (w > MAX_SIDE || h > MAX_SIDE).then(|| MediaError::TooLarge {
            what: format!("{w}x{h} pixels"),
            limit: format!("{MAX_SIDE} px a side"),
        })
    };
    macro_rules! frames_of {
        ($decoder:expr) => {{
            let mut d = $decoder;
            let dims = d.dimensions();
            if let Some(e) = too_large(dims) {
                return Err(e);
            }
            d.set_limits(limits).map_err(&err)?;
            (dims, d.into_frames())
        }};
    }
    Ok(match container {
        Container::Gif => frames_of!(GifDecoder::new(Cursor::new(bytes)).map_err(&err)?),
        Container::Webp => frames_of!(WebPDecoder::new(Cursor::new(bytes)).map_err(&err)?),
        Container::Apng => {
            let png = PngDecoder::new(Cursor::new(bytes)).map_err(&err)?;
            let dims = png.dimensions();
            if let Some(e) = too_large(dims) {
                return Err(e);
            }
            (dims, png.apng().map_err(&err)?.into_frames())
        }
        other => unreachable!("{other:?} is not an animation"),
    })
}

pub(super) fn probe(container: Container, bytes: &[u8]) -> Result<Facts, MediaError> {
    let ((width, height), frames) = open(container, bytes)?;
    let mut count = 0u64;
    let mut total_ms = 0.0;
    for frame in frames {
        let frame = frame.map_err(fail(container))?;
        let (num, den) = frame.delay().numer_denom_ms();
        total_ms += f64::from(num) / f64::from(den.max(1));
        count += 1;
        if count > MAX_FRAMES {
            return Err(MediaError::TooLarge {
                what: format!("more than {MAX_FRAMES} frames"),
                limit: format!("{MAX_FRAMES} frames"),
            });
        }
    }
    let timed = total_ms > 0.0;
    Ok(Facts {
        codec: None,
        width,
        height,
        frames: count,
        fps: timed.then(|| count as f64 * 1000.0 / total_ms),
        duration_ms: timed.then_some(total_ms),
    })
}

/// The pixels of frames `wanted` (sorted), as shown on the canvas.
pub(super) fn frames(container: Container, bytes: &[u8], wanted: &[u64]) -> Result<Vec<(u64, RgbImage)>, MediaError> {
    let (_, frames) = open(container, bytes)?;
    let last = wanted.iter().copied().max().unwrap_or(0);
    let mut out = Vec::new();
    for (i, frame) in frames.enumerate() {
        let i = i as u64;
        if i > last {
            break;
        }
        let frame = frame.map_err(fail(container))?;
        if wanted.contains(&i) {
            out.push((i, image::DynamicImage::ImageRgba8(frame.into_buffer()).to_rgb8()));
        }
    }
    Ok(out)
}
