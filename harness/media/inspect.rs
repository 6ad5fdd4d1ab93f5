//! One returned still, read: its format from its magic numbers (and a data
//! URI's declared type checked against it), decoded within the limits, and
//! measured (size, colour type, spread, mean colour, neighbour correlation,
//! a thumbnail). A PNG whose pixels no snapshot needs is sampled row by row
//! as it decodes ([`super::stream`]).

use std::io::Cursor;

use image::{DynamicImage, ImageReader, Limits};

use super::limits::{DecodeError, MAX_DECODE_BYTES, MAX_SIDE};
use super::returned::Returned;
use crate::model::{ImageFormat, ImageInfo};

/// A returned image, inspected, with its pixels when it decoded.
pub struct Inspected {
    pub info: ImageInfo,
    pub pixels: Option<DynamicImage>,
    /// The sampled thumbnail (reports, perceptual comparison), when it decoded.
    pub thumb: Option<image::RgbImage>,
}

/// Sniffs, decodes (within limits) and measures one returned image, keeping its pixels.
#[cfg(any(test, feature = "internals"))]
pub fn inspect(index: usize, r: &Returned) -> Inspected {
    inspect_keeping(index, r, true)
}

/// [`inspect`], keeping the decoded pixels only when `pixels` (a snapshot
/// compares them). Without, a PNG is sampled as it decodes, row by row.
pub fn inspect_keeping(index: usize, r: &Returned, pixels: bool) -> Inspected {
    let mut info = ImageInfo {
        index,
        filename: r.filename.clone(),
        bytes: 0,
        format: None,
        width: None,
        height: None,
        color: None,
        stddev: None,
        mean_color: None,
        neighbour_correlation: None,
        problem: None,
    };
    let bytes = match &r.bytes {
        Ok(b) => b,
        Err(e) => return Inspected::unreadable(info, e.to_string()),
    };
    info.bytes = bytes.len();
    let format = match sniff(bytes) {
        Ok(f) => f,
        Err(problem) => return Inspected::unreadable(info, problem.to_string()),
    };
    info.format = Some(format);
    info.problem = r.declared_mime.as_deref().and_then(|m| mime_mismatch(m, format));
    if !pixels && format == ImageFormat::Png {
        match super::stream::sample_png(bytes) {
            Some(Ok(st)) => {
                return Inspected::measured(info, (st.width, st.height, st.color), st.sampled, None)
            }
            Some(Err(e)) => return Inspected::unreadable(info, e.to_string()),
            // Interlaced or 16-bit: the full decode below.
            None => {}
        }
    }
    match decode(bytes) {
        Ok(img) => {
            let sampled = super::sample::sample(&img);
            Inspected::measured(info, (img.width(), img.height(), img.color()), sampled, Some(img))
        }
        Err(e) => Inspected::unreadable(info, e.to_string()),
    }
}

impl Inspected {
    /// An image that could not be read; a problem found earlier (a data URI
    /// declaring another type) is kept as the first one.
    fn unreadable(mut info: ImageInfo, problem: String) -> Self {
        info.problem.get_or_insert(problem);
        Inspected { info, pixels: None, thumb: None }
    }

    /// An image that decoded: its size, colour type and sampled look.
    fn measured(
        mut info: ImageInfo,
        (width, height, color): (u32, u32, image::ColorType),
        sampled: super::sample::Sampled,
        pixels: Option<DynamicImage>,
    ) -> Self {
        info.width = Some(width);
        info.height = Some(height);
        info.color = Some(color_name(color).to_string());
        info.stddev = Some(sampled.stddev);
        let [r, g, b] = sampled.mean;
        info.mean_color = Some(format!("#{r:02x}{g:02x}{b:02x}"));
        info.neighbour_correlation = sampled.correlation;
        Inspected { info, pixels, thumb: Some(sampled.thumb) }
    }
}

/// The still-image format of `bytes` from their magic numbers, or what is wrong.
fn sniff(bytes: &[u8]) -> Result<ImageFormat, NotAnImage> {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => Ok(ImageFormat::Png),
        Ok(image::ImageFormat::Jpeg) => Ok(ImageFormat::Jpeg),
        Ok(image::ImageFormat::WebP) => Ok(ImageFormat::Webp),
        Ok(image::ImageFormat::Gif) => Ok(ImageFormat::Gif),
        _ => {
            let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
            Err(NotAnImage { head: head.join(" ") })
        }
    }
}

/// Bytes that are no still image (nor anything the harness reads).
#[derive(Debug, thiserror::Error)]
#[error("not a PNG, JPEG, WebP or GIF image, nor an animation or video the harness reads (first bytes: {head})")]
struct NotAnImage {
    /// The first bytes, in hex.
    head: String,
}

/// The problem when a data URI's declared type is not what the bytes are.
fn mime_mismatch(mime: &str, format: ImageFormat) -> Option<String> {
    let ok = matches!(
        (mime, format),
        ("image/png", ImageFormat::Png)
            | ("image/jpeg" | "image/jpg", ImageFormat::Jpeg)
            | ("image/webp", ImageFormat::Webp)
            | ("image/gif", ImageFormat::Gif)
    );
    (!ok).then(|| format!("data URI declares {mime} but the bytes are {}", format.as_str()))
}

/// Decodes with dimension and allocation limits.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, DecodeError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(DecodeError::Read)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        image::ImageError::Limits(ref l)
            if matches!(l.kind(), image::error::LimitErrorKind::DimensionError) =>
        {
            // Name the declared size: "exceeds limit" alone does not say by how much.
            ImageReader::new(Cursor::new(bytes))
                .with_guessed_format()
                .ok()
                .and_then(|r| r.into_dimensions().ok())
                .map_or(DecodeError::Decode(e), |(width, height)| DecodeError::TooLarge { width, height })
        }
        e => DecodeError::Decode(e),
    })
}

/// A stable name for a decoded colour type.
pub fn color_name(c: image::ColorType) -> &'static str {
    use image::ColorType as C;
    match c {
        C::L8 => "gray8",
        C::La8 => "gray_alpha8",
        C::Rgb8 => "rgb8",
        C::Rgba8 => "rgba8",
        C::L16 => "gray16",
        C::La16 => "gray_alpha16",
        C::Rgb16 => "rgb16",
        C::Rgba16 => "rgba16",
        C::Rgb32F => "rgb32f",
        C::Rgba32F => "rgba32f",
        _ => "other",
    }
}

