//! PNG writing (a leaf): fast encoding for generated images (mock renders,
//! report evidence), thorough encoding for references kept in git, data-URI
//! thumbnails for the self-contained HTML report, and raw chunks for building
//! deliberately odd files (a header declaring 100000x100000 pixels).

use std::io::Cursor;

use base64::Engine;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{DynamicImage, ImageEncoder, RgbImage};

/// Encodes quickly: for images made on every run (in
/// `endpoint-harness-pixels`, optimised even in the dev profile).
pub(crate) fn encode_fast(img: &RgbImage) -> Vec<u8> {
    endpoint_harness_pixels::encode_rgb_fast(img.width(), img.height(), img.as_raw())
}

/// Encodes small: references are written rarely and kept in git. Alpha is kept.
pub(crate) fn encode_best(img: &DynamicImage) -> Vec<u8> {
    let mut buf = Vec::new();
    let enc = PngEncoder::new_with_quality(
        Cursor::new(&mut buf),
        CompressionType::Best,
        FilterType::Adaptive,
    );
    let _ = if img.color().has_alpha() {
        enc.write_image(
            img.to_rgba8().as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgba8,
        )
    } else {
        enc.write_image(
            img.to_rgb8().as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
    };
    buf
}

/// A small image as a `data:image/png;base64,` URI.
pub(crate) fn data_uri(small: &RgbImage) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(encode_fast(small))
    )
}

/// Appends a PNG chunk (length, type, data, CRC) to `out`.
pub(crate) fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A tiny but valid PNG whose header declares `w`x`h` pixels (no real data):
/// what a decoder must refuse without allocating gigabytes.
pub(crate) fn declaring(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_carry_a_valid_crc_and_huge_headers_read_back() {
        let png = declaring(100_000, 100_000);
        let dims = image::ImageReader::new(Cursor::new(&png))
            .with_guessed_format()
            .unwrap()
            .into_dimensions()
            .unwrap();
        assert_eq!(dims, (100_000, 100_000));
        let small = RgbImage::from_pixel(3, 2, image::Rgb([1, 2, 3]));
        let back = image::load_from_memory(&encode_fast(&small)).unwrap();
        assert_eq!(back.to_rgb8(), small);
        assert!(data_uri(&small).starts_with("data:image/png;base64,iVBOR"));
    }
}
