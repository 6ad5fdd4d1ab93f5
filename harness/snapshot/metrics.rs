//! How two images are compared: a gradient hash of the thumbnail, the luma
//! similarity of the thumbnails, an xxh3 digest of the decoded pixels, and the
//! diff image shown on a mismatch.

use image::{DynamicImage, Rgb, RgbImage};
use image_hasher::{HashAlg, HasherConfig};

use crate::model::Metrics;

fn hasher() -> image_hasher::Hasher {
    HasherConfig::new()
        .hash_alg(HashAlg::Gradient)
        .hash_size(8, 8)
        .to_hasher()
}

pub(super) fn hash_thumb(t: &RgbImage) -> image_hasher::ImageHash {
    hasher().hash_image(&DynamicImage::ImageRgb8(t.clone()))
}

/// xxh3 of the decoded RGBA pixels: identical iff the pixels are.
pub fn pixel_hash(img: &DynamicImage) -> String {
    let digest = match img {
        DynamicImage::ImageRgba8(b) => xxhash_rust::xxh3::xxh3_64(b.as_raw()),
        other => xxhash_rust::xxh3::xxh3_64(other.to_rgba8().as_raw()),
    };
    format!("{digest:016x}")
}

/// Distance, similarity and differing pixels of two images of the same size.
pub fn measure(a: &DynamicImage, b: &DynamicImage) -> Metrics {
    let (ta, tb) = (
        crate::sample::sample(a).thumb,
        crate::sample::sample(b).thumb,
    );
    let (ra, rb) = (a.to_rgba8(), b.to_rgba8());
    Metrics {
        distance: hash_thumb(&ta).dist(&hash_thumb(&tb)),
        similarity: crate::sample::similarity(&ta, &tb),
        differing_pixels: Some(ra.pixels().zip(rb.pixels()).filter(|(p, q)| p != q).count() as u64),
    }
}

/// Distance and similarity of two thumbnails alone (when the full images are not at hand).
pub fn measure_thumbs(a: &RgbImage, b: &RgbImage) -> Metrics {
    Metrics {
        distance: hash_thumb(a).dist(&hash_thumb(b)),
        similarity: crate::sample::similarity(a, b),
        differing_pixels: None,
    }
}

/// A diff image: the reference dimmed to grey, changed pixels in red by how much they changed.
pub fn diff_image(expected: &DynamicImage, actual: &DynamicImage) -> RgbImage {
    let (e, a) = (expected.to_rgb8(), actual.to_rgb8());
    RgbImage::from_fn(e.width(), e.height(), |x, y| {
        let p = e.get_pixel(x, y);
        let q = a.get_pixel(x, y);
        let delta =
            p.0.iter()
                .zip(q.0.iter())
                .map(|(u, v)| u.abs_diff(*v))
                .max()
                .unwrap_or(0);
        let grey = ((u16::from(p.0[0]) + u16::from(p.0[1]) + u16::from(p.0[2])) / 3 / 3 + 40) as u8;
        if delta > 2 {
            Rgb([200u8.saturating_add(delta.min(55)), 0, 0])
        } else {
            Rgb([grey, grey, grey])
        }
    })
}
