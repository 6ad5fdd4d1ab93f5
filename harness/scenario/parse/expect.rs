//! Validation of what a scenario expects and tolerates: `expect`, `snapshot`
//! and `budget`, each problem reported at its key with "did you mean".

use serde_json::Value;

use super::Cx;
use crate::scenario::raw::{RawBand, RawBudget, RawCount, RawExpect, RawImageExpect, RawSnapshot};
use crate::scenario::*;

/// Colour families `expect.images.color` accepts.
const COLORS: &[&str] = &["rgb", "rgba", "gray", "gray_alpha"];
/// Largest image side a scenario may expect; beyond it a check is surely a typo.
const MAX_SIDE: u32 = 16384;

impl Cx<'_> {
    pub(super) fn expect(&mut self, raw: RawExpect) -> Expect {
        let status = match raw.status.as_deref() {
            None => ExpectedStatus::Completed,
            Some(s) => match ExpectedStatus::ALL.iter().find(|(n, _)| *n == s) {
                Some((_, st)) => *st,
                None => {
                    let names: Vec<&str> = ExpectedStatus::ALL.iter().map(|(n, _)| *n).collect();
                    self.one_of("expect.status", s, &names);
                    ExpectedStatus::Completed
                }
            },
        };
        let error = raw.error.as_deref().and_then(|e| self.error_match(e));
        if error.is_some() && status == ExpectedStatus::Completed {
            self.key_err(
                "expect.error",
                "`expect.error` needs `expect.status: FAILED` (or TIMED_OUT / CANCELLED)",
                None,
            );
        }
        if raw.images.is_some() && status != ExpectedStatus::Completed {
            self.key_err(
                "expect.images",
                format!(
                    "`expect.images` applies only to COMPLETED jobs, not {}",
                    status.as_str()
                ),
                None,
            );
        }
        let explicit_images = raw.images.as_ref().is_some_and(|i| i.count.is_some());
        if raw.videos.is_some() && status != ExpectedStatus::Completed {
            self.key_err(
                "expect.videos",
                format!(
                    "`expect.videos` applies only to COMPLETED jobs, not {}",
                    status.as_str()
                ),
                None,
            );
        }
        let videos = raw.videos.map(|v| self.video_expect(v));
        let mut images = self.image_expect(raw.images.unwrap_or_default());
        // A scenario about videos need not return a still too.
        if videos.is_some() && !explicit_images {
            images.count = CountRange { min: 0, max: None };
        }
        let warnings = match raw.warnings.as_deref() {
            None | Some("forbid") => WarningPolicy::Forbid,
            Some("allow") => WarningPolicy::Allow,
            Some(other) => {
                self.one_of("expect.warnings", other, &["forbid", "allow"]);
                WarningPolicy::Forbid
            }
        };
        Expect {
            status,
            error,
            images,
            videos,
            warnings,
        }
    }

    fn error_match(&mut self, text: &str) -> Option<ErrorMatch> {
        match text.strip_prefix('/').and_then(|t| t.strip_suffix('/')) {
            Some(re) if !re.is_empty() => match regex::Regex::new(re) {
                Ok(r) => Some(ErrorMatch::Regex(r)),
                Err(e) => {
                    self.val_err(
                        "expect.error",
                        format!("`expect.error` is not a valid regex: {e}"),
                        None,
                    );
                    None
                }
            },
            _ => Some(ErrorMatch::Substring(text.to_string())),
        }
    }

    fn image_expect(&mut self, raw: RawImageExpect) -> ImageExpect {
        let count = match &raw.count {
            None => CountRange { min: 1, max: None },
            Some(v) => self.count("expect.images.count", v, 4096),
        };
        let format = match raw.format.as_deref() {
            None => None,
            Some("png") => Some(ImageFormat::Png),
            Some("jpeg" | "jpg") => Some(ImageFormat::Jpeg),
            Some("webp") => Some(ImageFormat::Webp),
            Some(other) => {
                self.one_of("expect.images.format", other, &["png", "jpeg", "webp"]);
                None
            }
        };
        for (key, v) in [("width", raw.width), ("height", raw.height)] {
            if let Some(v) = v.filter(|v| *v == 0 || *v > MAX_SIDE) {
                self.val_err(
                    &format!("expect.images.{key}"),
                    format!("`expect.images.{key}` of {v} is outside 1..={MAX_SIDE}"),
                    None,
                );
            }
        }
        let color = raw.color.filter(|c| {
            let ok = COLORS.contains(&c.as_str());
            if !ok {
                self.one_of("expect.images.color", c, COLORS);
            }
            ok
        });
        let max_bytes = raw
            .max_bytes
            .as_ref()
            .and_then(|v| self.bytes("expect.images.max_bytes", v));
        ImageExpect {
            color,
            alpha: raw.alpha,
            max_bytes,
            count,
            format,
            width: raw.width,
            height: raw.height,
            not_blank: raw.not_blank.unwrap_or(true),
            not_noise: raw.not_noise.unwrap_or(true),
        }
    }

    /// A byte size: an integer, or a number with a unit (KB, MB, KiB, MiB, GB, B).
    pub(super) fn bytes(&mut self, path: &str, v: &Value) -> Option<u64> {
        if let Some(n) = v.as_u64() {
            return Some(n);
        }
        let text = v.as_str().unwrap_or_default().trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (num, unit) = text.split_at(split);
        let mult = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => Some(1.0),
            "kb" => Some(1e3),
            "mb" => Some(1e6),
            "gb" => Some(1e9),
            "kib" => Some(1024.0),
            "mib" => Some(1024.0 * 1024.0),
            _ => None,
        };
        match (num.parse::<f64>(), mult) {
            (Ok(n), Some(m)) if n > 0.0 => Some((n * m) as u64),
            _ => {
                self.val_err(
                    path,
                    format!("`{path}` must be a size like 5000000, \"5MB\" or \"512KiB\""),
                    None,
                );
                None
            }
        }
    }

    /// A count at `path`: an integer (exact) or `{min, max}`, at most `limit`.
    pub(super) fn count(&mut self, path: &str, v: &Value, limit: u32) -> CountRange {
        let fallback = CountRange { min: 1, max: None };
        if let Some(n) = v.as_u64() {
            return match u32::try_from(n) {
                Ok(n) if n <= limit => CountRange {
                    min: n,
                    max: Some(n),
                },
                _ => {
                    self.val_err(
                        path,
                        format!("`{path}` of {n} is not plausible (at most {limit})"),
                        None,
                    );
                    fallback
                }
            };
        }
        // serde_json would also read a struct from a list (`[1, 2]`): only a mapping is `{min, max}`.
        let parsed = match v {
            Value::Object(_) => serde_json::from_value::<RawCount>(v.clone()),
            other => Err(serde::de::Error::invalid_type(
                unexpected(other),
                &"a mapping",
            )),
        };
        match parsed {
            Ok(RawCount { min, max }) => {
                let r = CountRange {
                    min: min.unwrap_or(0),
                    max,
                };
                if r.max.is_some_and(|m| m < r.min) {
                    self.val_err(
                        path,
                        format!("count max {} is below min {}", r.max.unwrap_or(0), r.min),
                        None,
                    );
                }
                r
            }
            Err(e) => {
                self.val_err(
                    path,
                    format!(
                        "`{path}` must be a number or {{min, max}}: {}",
                        super::help::plain_types(&e.to_string())
                    ),
                    Some("e.g. `count: 1` or `count: {min: 1, max: 4}`".into()),
                );
                fallback
            }
        }
    }

    /// `snapshot:`; absent, no comparison. A block without `compare` is the
    /// tolerant comparison: a user who wrote one expects images compared.
    pub(super) fn snapshot(&mut self, raw: Option<RawSnapshot>) -> SnapshotSpec {
        let Some(raw) = raw else {
            return SnapshotSpec::off();
        };
        let compare = match raw.compare.as_deref() {
            None | Some("perceptual") => CompareMode::Perceptual,
            Some("off") => CompareMode::Off,
            Some("exact") => CompareMode::Exact,
            Some(other) => {
                self.one_of("snapshot.compare", other, &["off", "exact", "perceptual"]);
                CompareMode::Off
            }
        };
        let max_distance = raw.max_distance;
        if let Some(d) = max_distance.filter(|d| *d > 64) {
            self.val_err(
                "snapshot.max_distance",
                format!("max_distance {d} is above 64, the hash length in bits"),
                None,
            );
        }
        let min_similarity = raw.min_similarity;
        if let Some(s) = min_similarity.filter(|s| !(0.0..=1.0).contains(s)) {
            self.val_err(
                "snapshot.min_similarity",
                format!("min_similarity {s} is outside 0..=1"),
                None,
            );
        }
        let defaults = DEFAULT_TOLERANCE;
        let pass = self.band("snapshot.pass", raw.pass, defaults.pass);
        let fail = self.band("snapshot.fail", raw.fail, defaults.fail);
        let tolerance = Tolerance { pass, fail };
        if pass.psnr < fail.psnr || pass.ssim < fail.ssim || pass.block > fail.block {
            self.val_err(
                "snapshot.fail",
                "the `fail` band must lie beyond the `pass` band (a lower psnr and ssim, a higher block)",
                Some(format!(
                    "now pass: psnr {}, ssim {}, block {}; fail: psnr {}, ssim {}, block {}",
                    pass.psnr, pass.ssim, pass.block, fail.psnr, fail.ssim, fail.block
                )),
            );
        }
        let review = match raw.review.as_deref() {
            None | Some("report") => ReviewPolicy::Report,
            Some("fail") => ReviewPolicy::Fail,
            Some(other) => {
                self.one_of("snapshot.review", other, &["report", "fail"]);
                ReviewPolicy::Report
            }
        };
        let frames = raw.frames.unwrap_or_default();
        if frames.iter().any(|f| *f > crate::media::MAX_FRAMES) {
            self.val_err(
                "snapshot.frames",
                format!(
                    "frame numbers count from 0 and stop below {}",
                    crate::media::MAX_FRAMES
                ),
                None,
            );
        }
        let class = match raw.class {
            None => crate::model::ClassField::DEFAULT.to_vec(),
            Some(names) => {
                let mut out = Vec::new();
                for n in names {
                    match crate::model::ClassField::parse(&n.0) {
                        Some(f) => out.push(f),
                        None => {
                            let all = crate::model::ClassField::ALL.map(|f| f.name());
                            self.one_of("snapshot.class", &n.0, &all);
                        }
                    }
                }
                out
            }
        };
        SnapshotSpec {
            compare,
            tolerance,
            review,
            max_distance,
            min_similarity,
            frames,
            class,
        }
    }

    /// One band, each figure in its range, the defaults where left out.
    fn band(&mut self, path: &str, raw: Option<RawBand>, default: Band) -> Band {
        let raw = raw.unwrap_or_default();
        let mut figure = |key: &str,
                          v: Option<f64>,
                          range: std::ops::RangeInclusive<f64>,
                          fallback: f64| {
            match v {
                Some(x) if range.contains(&x) => x,
                Some(x) => {
                    self.val_err(
                        &format!("{path}.{key}"),
                        format!("{key} {x} is outside {}..={}", range.start(), range.end()),
                        None,
                    );
                    fallback
                }
                None => fallback,
            }
        };
        Band {
            psnr: figure("psnr", raw.psnr, 0.0..=100.0, default.psnr),
            ssim: figure("ssim", raw.ssim, -1.0..=1.0, default.ssim),
            block: figure("block", raw.block, 0.0..=255.0, default.block),
        }
    }

    pub(super) fn budget(&mut self, raw: RawBudget) -> Budget {
        let mut one = |key: &str, v: Option<String>| {
            v.and_then(|t| self.duration(&format!("budget.{key}"), &t))
        };
        let (queue, execution, total, p99) = (
            one("queue", raw.queue),
            one("execution", raw.execution),
            one("total", raw.total),
            one("p99", raw.p99),
        );
        let error_rate = raw
            .error_rate
            .as_ref()
            .and_then(|v| self.share("budget.error_rate", v));
        let throughput = raw
            .throughput
            .as_ref()
            .and_then(|v| self.per("budget.throughput", v, 60.0));
        Budget {
            queue,
            execution,
            total,
            p99,
            error_rate,
            cold_starts: raw.cold_starts,
            throughput,
        }
    }
}

/// What serde calls a JSON value in a type error ("sequence", "string \"x\"").
fn unexpected(v: &Value) -> serde::de::Unexpected<'_> {
    use serde::de::Unexpected;
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Unexpected::Signed(i),
            (None, Some(f)) => Unexpected::Float(f),
            _ => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}
