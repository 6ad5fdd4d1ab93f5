//! Returned animations and videos, as [`crate::media`] read them, held to
//! `expect.videos` ([`videos`]):
//! count, container, codec, size, frames, fps (within 1%), duration (within
//! one frame), size in bytes, blank frames, frozen frames. A file that cannot
//! be read fails whether or not the scenario mentions videos.

use crate::media::limits::BLANK_STDDEV;
use crate::model::{CheckFailure, VideoInfo};
use crate::scenario::{FrozenPolicy, VideoExpect};

/// Problems reading returned animations and videos: they fail whatever the scenario expects.
pub fn unreadable(found: &[VideoInfo]) -> Vec<CheckFailure> {
    found
        .iter()
        .filter_map(|v| {
            v.problem.as_ref().map(|p| {
                CheckFailure::new(format!("video {} ({}) is readable", v.index, v.filename), "a readable animation or video", p.clone())
            })
        })
        .collect()
}

/// `expect.videos` against what was found.
pub fn videos(expect: &VideoExpect, found: &[VideoInfo]) -> Vec<CheckFailure> {
    let mut out = Vec::new();
    if !expect.count.contains(found.len()) {
        out.push(CheckFailure::new("video count", expect.count.describe(), found.len().to_string()));
    }
    for v in found.iter().filter(|v| v.problem.is_none()) {
        let label = |what: &str| format!("video {} ({}) {what}", v.index, v.filename);
        let mut differ = |what: &str, want: String, got: String| {
            if want != got {
                out.push(CheckFailure::new(label(what), want, got));
            }
        };
        if let (Some(want), Some(got)) = (&expect.container, &v.container) {
            differ("container", want.clone(), got.clone());
        }
        if let Some(want) = &expect.codec {
            differ("codec", want.clone(), v.codec.clone().unwrap_or_else(|| "none (an animation of pictures)".into()));
        }
        if let (Some(want), Some(got)) = (expect.width, v.width) {
            differ("width", format!("{want} px"), format!("{got} px"));
        }
        if let (Some(want), Some(got)) = (expect.height, v.height) {
            differ("height", format!("{want} px"), format!("{got} px"));
        }
        if let (Some(want), Some(got)) = (&expect.frames, v.frames) {
            if !want.contains(got as usize) {
                out.push(CheckFailure::new(label("frames"), want.describe(), got.to_string()));
            }
        }
        timing(expect, v, &label, &mut out);
        if let Some(max) = expect.max_bytes.filter(|m| v.bytes as u64 > *m) {
            out.push(CheckFailure::new(label("size"), format!("at most {max} bytes"), format!("{} bytes", v.bytes)));
        }
        pixels(expect, v, &label, &mut out);
    }
    out
}

/// fps within 1%, duration within one frame.
fn timing(expect: &VideoExpect, v: &VideoInfo, label: &dyn Fn(&str) -> String, out: &mut Vec<CheckFailure>) {
    if let Some(want) = expect.fps {
        match v.fps {
            Some(got) if ((got - want) / want).abs() <= 0.01 => {}
            Some(got) => out.push(CheckFailure::new(label("fps"), format!("{want} (within 1%)"), format!("{got:.3}"))),
            None => out.push(CheckFailure::new(label("fps"), format!("{want}"), "no frame timing in the file")),
        }
    }
    if let Some(want) = expect.duration {
        let want_ms = want.as_secs_f64() * 1000.0;
        let frame_ms = 1000.0 / v.fps.or(expect.fps).unwrap_or(1.0).max(1e-6);
        match v.duration_ms {
            Some(got) if (got - want_ms).abs() <= frame_ms => {}
            Some(got) => out.push(CheckFailure::new(
                label("duration"),
                format!("{} (within one frame, {frame_ms:.0} ms)", humantime::format_duration(want)),
                format!("{got:.0} ms"),
            )),
            None => out.push(CheckFailure::new(label("duration"), humantime::format_duration(want).to_string(), "no duration in the file")),
        }
    }
}

/// Blank and frozen sampled frames.
fn pixels(expect: &VideoExpect, v: &VideoInfo, label: &dyn Fn(&str) -> String, out: &mut Vec<CheckFailure>) {
    if expect.not_blank {
        let blank: Vec<(u64, f64)> = v
            .sampled
            .iter()
            .zip(&v.stddevs)
            .filter(|(_, sd)| **sd < BLANK_STDDEV)
            .map(|(f, sd)| (*f, *sd))
            .collect();
        if !blank.is_empty() {
            let frames: Vec<String> = blank.iter().map(|(f, _)| f.to_string()).collect();
            let worst = blank.iter().map(|(_, sd)| *sd).fold(0.0, f64::max);
            out.push(CheckFailure::new(
                label("is not blank"),
                format!("pixel variation in every sampled frame (stddev >= {BLANK_STDDEV})"),
                format!(
                    "single-colour frame(s) {} of sampled {:?} (stddev at most {worst:.2})",
                    frames.join(", "),
                    v.sampled
                ),
            ));
        }
    }
    if expect.frozen == FrozenPolicy::Forbid && v.frozen == Some(true) {
        out.push(CheckFailure::new(
            label("moves"),
            "sampled frames that differ (or `frozen: allow`)",
            format!("frames {:?} are the same picture", v.sampled),
        ));
    }
}
