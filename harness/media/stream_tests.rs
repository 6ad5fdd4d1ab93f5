//! Row-streamed PNG sampling agrees with the full decode on every colour
//! type and size, and a damaged PNG is a problem, not a panic.

use super::{inspect, inspect_keeping};
use image::{DynamicImage, ImageBuffer};

use super::{Returned, Transport};

fn encode(img: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

fn returned(bytes: Vec<u8>) -> Returned {
    Returned {
        filename: "x.png".into(),
        transport: Transport::Base64,
        declared_mime: None,
        bytes: Ok(bytes),
    }
}

/// Pixels that vary in every channel, so a wrong offset or row shows.
fn value(x: u32, y: u32, c: u32) -> u8 {
    ((x * 7 + y * 13 + c * 61 + (x * y) % 17) % 256) as u8
}

#[test]
fn sampling_while_decoding_matches_the_full_decode() {
    let mut cases: Vec<DynamicImage> = Vec::new();
    for (w, h) in [(1, 1), (3, 7), (97, 50), (192, 192), (193, 64), (50, 1000), (1024, 768)] {
        cases.push(DynamicImage::ImageRgb8(ImageBuffer::from_fn(w, h, |x, y| image::Rgb([0, 1, 2].map(|c| value(x, y, c))))));
        cases.push(DynamicImage::ImageRgba8(ImageBuffer::from_fn(w, h, |x, y| image::Rgba([0, 1, 2, 3].map(|c| value(x, y, c))))));
        cases.push(DynamicImage::ImageLuma8(ImageBuffer::from_fn(w, h, |x, y| image::Luma([value(x, y, 0)]))));
        cases.push(DynamicImage::ImageLumaA8(ImageBuffer::from_fn(w, h, |x, y| image::LumaA([value(x, y, 0), value(x, y, 1)]))));
    }
    // 16-bit takes the full decode and still agrees.
    cases.push(DynamicImage::ImageRgb16(ImageBuffer::from_fn(64, 48, |x, y| image::Rgb([0, 1, 2].map(|c| u16::from(value(x, y, c)) * 257)))));
    for img in &cases {
        let r = returned(encode(img));
        let full = inspect(0, &r);
        let streamed = inspect_keeping(0, &r, false);
        assert!(streamed.pixels.is_none() || img.color().bytes_per_pixel() > 4);
        assert_eq!(full.info.problem, None);
        assert_eq!(
            (full.info.width, full.info.height, &full.info.color, full.info.stddev),
            (streamed.info.width, streamed.info.height, &streamed.info.color, streamed.info.stddev),
            "{:?} {}x{}",
            img.color(),
            img.width(),
            img.height()
        );
        assert_eq!(full.thumb, streamed.thumb, "{:?} {}x{}", img.color(), img.width(), img.height());
    }
}

#[test]
fn a_truncated_or_oversized_png_is_a_problem_not_a_panic() {
    let img = DynamicImage::ImageRgb8(ImageBuffer::from_fn(64, 64, |x, y| image::Rgb([0, 1, 2].map(|c| value(x, y, c)))));
    let bytes = encode(&img);
    let cut = returned(bytes[..bytes.len() / 2].to_vec());
    let i = inspect_keeping(0, &cut, false);
    assert!(i.info.problem.is_some() && i.thumb.is_none(), "{:?}", i.info.problem);
    let huge = returned(crate::png::declaring(100_000, 100_000));
    let i = inspect_keeping(0, &huge, false);
    let full = inspect(0, &huge);
    assert_eq!(i.info.problem, full.info.problem);
    // Both paths name the declared size and the limit it passes.
    let problem = full.info.problem.unwrap_or_default();
    assert!(problem.contains("declares 100000x100000 pixels, over the 16384 px a side"), "{problem}");
}
