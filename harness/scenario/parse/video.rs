//! Validation of `expect.videos`: containers and the frozen policy from
//! their lists (with "did you mean"), counts and frame ranges, fps, duration
//! and size each at its key.

use super::Cx;
use crate::scenario::raw::RawVideoExpect;
use crate::scenario::*;

/// Containers `expect.videos.container` accepts.
const CONTAINERS: &[&str] = &["mp4", "mov", "webm", "mkv", "gif", "webp", "png"];

impl Cx<'_> {
    pub(super) fn video_expect(&mut self, raw: RawVideoExpect) -> VideoExpect {
        let count = match &raw.count {
            None => CountRange { min: 1, max: None },
            Some(v) => self.count("expect.videos.count", v, 4096),
        };
        let frames = raw
            .frames
            .as_ref()
            .map(|v| self.count("expect.videos.frames", v, crate::media::MAX_FRAMES as u32));
        let container = raw.container.filter(|c| {
            let ok = CONTAINERS.contains(&c.as_str());
            if !ok {
                self.one_of("expect.videos.container", c, CONTAINERS);
            }
            ok
        });
        for (key, v) in [("width", raw.width), ("height", raw.height)] {
            if let Some(v) = v.filter(|v| *v == 0 || *v > crate::media::limits::MAX_SIDE) {
                self.val_err(
                    &format!("expect.videos.{key}"),
                    format!(
                        "`expect.videos.{key}` of {v} is outside 1..={}",
                        crate::media::limits::MAX_SIDE
                    ),
                    None,
                );
            }
        }
        if let Some(fps) = raw.fps.filter(|f| !(*f > 0.0 && *f <= 1000.0)) {
            self.val_err(
                "expect.videos.fps",
                format!("`expect.videos.fps` of {fps} is outside (0, 1000]"),
                None,
            );
        }
        let duration = raw
            .duration
            .as_deref()
            .and_then(|d| self.duration("expect.videos.duration", d));
        let frozen = match raw.frozen.as_deref() {
            None | Some("forbid") => FrozenPolicy::Forbid,
            Some("allow") => FrozenPolicy::Allow,
            Some(other) => {
                self.one_of("expect.videos.frozen", other, &["forbid", "allow"]);
                FrozenPolicy::Forbid
            }
        };
        let max_bytes = raw
            .max_bytes
            .as_ref()
            .and_then(|v| self.bytes("expect.videos.max_bytes", v));
        VideoExpect {
            count,
            container,
            codec: raw.codec.map(|c| c.to_ascii_lowercase()),
            width: raw.width,
            height: raw.height,
            frames,
            fps: raw.fps.filter(|f| *f > 0.0),
            duration,
            not_blank: raw.not_blank.unwrap_or(true),
            frozen,
            max_bytes,
        }
    }
}
