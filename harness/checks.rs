//! Judging a finished job: its terminal status and error text, warnings, the
//! facts [`crate::media`] found in each returned still (decodes, format, size,
//! not blank, not noise) and animation or video (`video`), and latency
//! budgets ([`budget`]). Checks only read facts and `expect`; they decode
//! nothing. Every check returns all its failures, each with what was expected
//! and what was found.

pub mod budget;
mod video;

pub use video::{unreadable, videos};

use crate::media::limits::{BLANK_STDDEV, NOISE_CORRELATION};
use crate::model::{CheckFailure, ImageFormat, ImageInfo};
use crate::scenario::{Expect, ImageExpect, WarningPolicy};

/// The colour family of a colour-type name: `rgba16` -> `rgba`.
fn family(color: &str) -> &str {
    color.trim_end_matches(|c: char| c.is_ascii_digit() || c == 'f')
}

/// Count, format, size and blankness of the returned images.
pub fn images(expect: &ImageExpect, found: &[ImageInfo]) -> Vec<CheckFailure> {
    let mut out = Vec::new();
    if !expect.count.contains(found.len()) {
        out.push(CheckFailure::new(
            "image count",
            expect.count.describe(),
            found.len().to_string(),
        ));
    }
    for img in found {
        out.extend(image(expect, img));
    }
    out
}

/// The checks of one returned image against `expect`, in the order reports show them.
fn image(expect: &ImageExpect, img: &ImageInfo) -> Vec<CheckFailure> {
    let label = |what: &str| format!("image {} ({}) {what}", img.index, img.filename);
    let mut out = Vec::new();
    if let Some(p) = &img.problem {
        out.push(CheckFailure::new(label("is readable"), "a decodable image", p.clone()));
    }
    // Format, width and height: compared when both sides are known.
    let mut differ = |what: &str, want: Option<String>, got: Option<String>| {
        if let (Some(want), Some(got)) = (want, got) {
            if want != got {
                out.push(CheckFailure::new(label(what), want, got));
            }
        }
    };
    let name = |f: ImageFormat| f.as_str().to_string();
    let px = |n: u32| format!("{n} px");
    differ("format", expect.format.map(name), img.format.map(name));
    differ("width", expect.width.map(px), img.width.map(px));
    differ("height", expect.height.map(px), img.height.map(px));
    if let (Some(want), Some(got)) = (&expect.color, &img.color) {
        if family(got) != want {
            out.push(CheckFailure::new(label("colour type"), want.clone(), got.clone()));
        }
    }
    if let (Some(want), Some(got)) = (expect.alpha, &img.color) {
        let has = family(got).ends_with("alpha") || family(got) == "rgba";
        if want != has {
            let say = |b: bool| if b { "an alpha channel" } else { "no alpha channel" };
            out.push(CheckFailure::new(label("alpha"), say(want), format!("{} ({got})", say(has))));
        }
    }
    if let Some(max) = expect.max_bytes.filter(|m| img.bytes as u64 > *m) {
        out.push(CheckFailure::new(
            label("size"),
            format!("at most {max} bytes"),
            format!("{} bytes", img.bytes),
        ));
    }
    if expect.not_blank {
        if let Some(sd) = img.stddev.filter(|sd| *sd < BLANK_STDDEV) {
            out.push(CheckFailure::new(
                label("is not blank"),
                format!("pixel variation (stddev >= {BLANK_STDDEV})"),
                blank(img.mean_color.as_deref(), sd),
            ));
        }
    }
    if expect.not_noise {
        if let Some(r) = img.neighbour_correlation.filter(|r| *r < NOISE_CORRELATION) {
            out.push(CheckFailure::new(
                label("is not pure noise"),
                format!("neighbouring pixels alike (correlation >= {NOISE_CORRELATION})"),
                format!(
                    "pure noise: neighbouring pixels are uncorrelated ({r:.3}); a broken VAE or sampler gives this \
                     (`expect.images.not_noise: false` if noise is what the workflow makes)"
                ),
            ));
        }
    }
    out
}

/// What a single-colour image is, named by its colour: black is what NaNs in
/// the VAE's output (fp16 overflow) and most safety filters give.
fn blank(mean: Option<&str>, sd: f64) -> String {
    let level = |hex: &str| u8::from_str_radix(hex, 16).unwrap_or(128);
    let rgb = mean.filter(|m| m.len() == 7).map(|m| [level(&m[1..3]), level(&m[3..5]), level(&m[5..7])]);
    match rgb {
        Some(c) if c.iter().all(|v| *v <= 8) => format!(
            "an all-black image (stddev {sd:.2}): NaNs in the VAE's output (fp16 overflow: try an fp32 or bf16 VAE) \
             or a safety filter give this"
        ),
        Some(c) if c.iter().all(|v| *v >= 247) => format!(
            "an all-white image (stddev {sd:.2}): a broken VAE or an empty canvas gives this"
        ),
        _ => format!(
            "a single-colour image ({}, stddev {sd:.2}); a safety filter or broken VAE gives this",
            mean.unwrap_or("one colour")
        ),
    }
}

/// `output.errors` under the scenario's warning policy.
pub fn warnings(policy: WarningPolicy, warnings: &[String]) -> Vec<CheckFailure> {
    if policy == WarningPolicy::Forbid && !warnings.is_empty() {
        let shown: Vec<String> = warnings
            .iter()
            .map(|w| crate::redact::redact(w).into_owned())
            .collect();
        vec![CheckFailure::new(
            "output.errors",
            "none (or `expect.warnings: allow`)",
            shown.join(" | "),
        )]
    } else {
        Vec::new()
    }
}

/// The terminal status and, for negative scenarios, the error text.
pub fn status(expect: &Expect, state: &str, error: Option<&str>) -> Vec<CheckFailure> {
    let mut out = Vec::new();
    if state != expect.status.as_str() {
        let got = match error {
            Some(e) => format!("{state} with error: {}", crate::redact::redact(e)),
            None => state.to_string(),
        };
        out.push(CheckFailure::new("job status", expect.status.as_str(), got));
    } else if let Some(m) = &expect.error {
        match error {
            Some(e) if m.matches(e) => {}
            Some(e) => out.push(CheckFailure::new(
                "job error",
                m.describe(),
                format!("{:?}", crate::redact::redact(e)),
            )),
            None => out.push(CheckFailure::new(
                "job error",
                m.describe(),
                "no error text",
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{inspect, Returned};
    use crate::scenario::CountRange;
    use std::io::Cursor;

    fn png(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    fn returned(bytes: Vec<u8>, mime: Option<&str>) -> Returned {
        Returned {
            filename: "x.png".into(),
            transport: crate::media::Transport::Base64,
            declared_mime: mime.map(str::to_string),
            bytes: Ok(bytes),
        }
    }

    fn expect() -> ImageExpect {
        ImageExpect {
            color: Some("rgba".into()),
            alpha: Some(true),
            max_bytes: Some(10),
            count: CountRange {
                min: 1,
                max: Some(1),
            },
            format: Some(ImageFormat::Jpeg),
            width: Some(64),
            height: Some(32),
            not_blank: true,
            not_noise: true,
        }
    }

    #[test]
    fn reports_every_failure_of_an_image() {
        let black = inspect(0, &returned(png(32, 32, |_, _| [0, 0, 0]), None));
        let fails = images(&expect(), &[black.info]);
        let names: Vec<&str> = fails.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(
            names,
            [
                "image 0 (x.png) format",
                "image 0 (x.png) width",
                "image 0 (x.png) colour type",
                "image 0 (x.png) alpha",
                "image 0 (x.png) size",
                "image 0 (x.png) is not blank"
            ]
        );
        assert_eq!(
            fails[1].to_string(),
            "image 0 (x.png) width: expected 64 px, got 32 px"
        );
    }

    #[test]
    fn near_uniform_frame_is_blank_but_a_pattern_is_not() {
        let noisy_black = inspect(
            0,
            &returned(
                png(64, 64, |x, y| [((x * 7 + y * 3) % 3) as u8, 0, 0]),
                None,
            ),
        );
        assert!(noisy_black.info.stddev.unwrap() < BLANK_STDDEV);
        let pattern = inspect(
            0,
            &returned(png(64, 64, |x, _| [(x * 4) as u8, 0, 0]), None),
        );
        assert!(pattern.info.stddev.unwrap() > 10.0);
    }

    #[test]
    fn mismatched_data_uri_type_and_garbage_bytes() {
        let i = inspect(
            0,
            &returned(png(4, 4, |_, _| [1, 2, 3]), Some("image/jpeg")),
        );
        assert_eq!(
            i.info.problem.as_deref(),
            Some("data URI declares image/jpeg but the bytes are png")
        );
        let i = inspect(0, &returned(b"BM6......".to_vec(), None));
        assert!(i
            .info
            .problem
            .unwrap()
            .starts_with("not a PNG, JPEG, WebP or GIF image, nor an animation or video the harness reads (first bytes: 42 4d 36"));
    }

    #[test]
    fn huge_declared_dimensions_fail_cleanly() {
        // A valid PNG header declaring 100000x100000, with no data behind it.
        let mut bytes = png(1, 1, |_, _| [0, 0, 0]);
        bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let i = inspect(0, &returned(bytes, None));
        assert!(i.pixels.is_none());
        assert!(i.info.problem.unwrap().starts_with("image does not decode"));
    }
}
