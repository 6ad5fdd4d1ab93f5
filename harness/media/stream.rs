//! Sampling a PNG while it decodes, row by row, when the scenario keeps no
//! pixels (no snapshot): the thumbnail and blankness come out the same as
//! from a full decode, but only a row of memory is touched instead of the
//! whole image. In a nextest trial process, where every page is touched for
//! the first time, that is most of a large image's cost
//! (`cargo bench --bench nextest_scale`). Interlaced and 16-bit files take the
//! full decode.

use std::io::Cursor;

use image::error::{DecodingError, ImageFormatHint, LimitError, LimitErrorKind};
use image::{ColorType, ImageError};

use crate::media::limits::{DecodeError, MAX_DECODE_BYTES, MAX_SIDE};
use crate::media::sample::{RowSampler, Sampled};

/// What a streamed decode found.
pub struct Streamed {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The colour type a full decode would have given.
    pub color: ColorType,
    /// The thumbnail and blankness measure.
    pub sampled: Sampled,
}

fn png_error(e: png::DecodingError) -> DecodeError {
    DecodeError::Decode(match e {
        png::DecodingError::LimitsExceeded => ImageError::Limits(LimitError::from_kind(LimitErrorKind::InsufficientMemory)),
        e => ImageError::Decoding(DecodingError::new(ImageFormatHint::Exact(image::ImageFormat::Png), e)),
    })
}

/// Samples the PNG in `bytes`; None when this file needs the full decode.
pub fn sample_png(bytes: &[u8]) -> Option<Result<Streamed, DecodeError>> {
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: MAX_DECODE_BYTES as usize });
    // As the `image` crate decodes PNGs: palettes and low bit depths expanded, tRNS to alpha.
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = match decoder.read_info() {
        Ok(r) => r,
        Err(e) => return Some(Err(png_error(e))),
    };
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    if info.interlaced {
        return None;
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Some(Err(DecodeError::TooLarge { width, height }));
    }
    let (kind, depth) = reader.output_color_type();
    if depth != png::BitDepth::Eight {
        return None;
    }
    let (color, stride, rgb) = match kind {
        png::ColorType::Grayscale => (ColorType::L8, 1, [0, 0, 0]),
        png::ColorType::GrayscaleAlpha => (ColorType::La8, 2, [0, 0, 0]),
        png::ColorType::Rgb => (ColorType::Rgb8, 3, [0, 1, 2]),
        png::ColorType::Rgba => (ColorType::Rgba8, 4, [0, 1, 2]),
        png::ColorType::Indexed => return None,
    };
    let mut sampler = RowSampler::new(width, height, stride, rgb);
    let mut y = 0;
    loop {
        match reader.next_row() {
            Ok(Some(row)) => {
                sampler.row(y, row.data());
                y += 1;
            }
            Ok(None) => break,
            Err(e) => return Some(Err(png_error(e))),
        }
    }
    if y != height as usize {
        return Some(Err(png_error(png::DecodingError::IoError(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("image data ended after {y} of {height} rows"),
        )))));
    }
    Some(Ok(Streamed { width, height, color, sampled: sampler.finish() }))
}
