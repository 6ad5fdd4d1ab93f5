//! Every returned file of a COMPLETED job, one at a time as it is read: a
//! still inspected (sampled while it streams), saved under `reports/images/`
//! and judged against its reference before the next file is fetched; an
//! animation or video probed, sampled, saved and its snapshot frames judged
//! (under `<scenario>/video-<n>/`). Only the small facts are kept (sizes,
//! thumbnails, verdicts), so a job of hundreds of large files needs the memory
//! of one. The counts and `expect` are judged when the last file is in.

use image::{DynamicImage, RgbImage};

use super::env::TrialEnv;
use super::save::{image_ext, save_image};
use crate::checks;
use crate::media::{self, Kind, Returned};
use crate::model::{CheckFailure, ImageInfo, RunRecord, SnapshotRecord, VideoInfo, VideoRecord};
use crate::scenario::{CompareMode, Scenario};
use crate::snapshot;

/// What the reference comparison of one job found.
#[derive(Default)]
pub(crate) struct Compared {
    pub(crate) records: Vec<SnapshotRecord>,
    /// Images in the review band that do not fail the scenario.
    pub(crate) reviews: Vec<String>,
    /// Passes worth saying (judged against another class's reference).
    pub(crate) notes: Vec<String>,
}

/// Inspects, saves and judges one job's files as they come.
pub(crate) struct Inspector<'a> {
    s: &'a Scenario,
    env: &'a TrialEnv,
    index: u32,
    provenance: &'a snapshot::Provenance,
    /// A load run keeps the files of its first job only.
    keep: bool,
    /// Calibration across repeats keeps every run's pixels.
    calibrating: bool,
    /// The stills' references, when this job's are compared (videos are too, then).
    stills: Option<snapshot::Verifier<'a>>,
    /// Files seen so far (their index in the output).
    seen: usize,
    infos: Vec<ImageInfo>,
    vinfos: Vec<VideoInfo>,
    /// The videos' snapshot verdicts (said after the stills').
    videos: snapshot::verify::Outcome,
    /// Decoded stills, for calibration across repeats.
    pub(crate) pixels: Vec<DynamicImage>,
}

impl<'a> Inspector<'a> {
    pub(crate) fn new(s: &'a Scenario, env: &'a TrialEnv, index: u32, provenance: &'a snapshot::Provenance) -> Self {
        // Later repeats are verified too, but only the first may write
        // references; a load run compares its first job only.
        let comparing = s.snapshot.compare != CompareMode::Off
            && (index == 0 || (env.snapshots.mode == snapshot::Mode::Verify && s.load.is_none()));
        Inspector {
            s,
            env,
            index,
            provenance,
            keep: s.load.is_none() || index == 0,
            calibrating: s.snapshot.compare != CompareMode::Off && s.repeat > 1,
            stills: comparing.then(|| snapshot::Verifier::new(&env.snapshots, &s.name, &s.snapshot, provenance)),
            seen: 0,
            infos: Vec::new(),
            vinfos: Vec::new(),
            videos: Default::default(),
            pixels: Vec::new(),
        }
    }

    /// Inspects, saves and judges the next file; its bytes can go afterwards.
    pub(crate) fn take(&mut self, returned: &Returned, record: &mut RunRecord) {
        let (s, env, i) = (self.s, self.env, self.seen);
        self.seen += 1;
        if let Some(video) = moving(s, i, returned) {
            let file = returned.bytes.as_ref().ok().filter(|_| self.keep).and_then(|b| {
                let ext = video.info.container.as_deref();
                save_image(&env.reports_dir, &s.name, self.index, i, &returned.filename, b, ext)
            });
            let strip = video.thumbs.iter().map(crate::png::data_uri).collect();
            if self.stills.is_some() {
                self.video_snapshots(&video.frames);
            }
            self.vinfos.push(video.info.clone());
            record.videos.push(VideoRecord { info: video.info, file, strip });
            return;
        }
        // A PNG is sampled while it streams, without a pixel buffer; a snapshot
        // decodes it in full only when it needs more than the thumbnail (a
        // mismatch, a reference to write). Calibration keeps every run's
        // pixels, so those are decoded at once.
        let inspected = crate::media::inspect_keeping(i, returned, self.calibrating);
        let file = returned.bytes.as_ref().ok().filter(|_| self.keep).and_then(|b| {
            let ext = image_ext(inspected.info.format);
            save_image(&env.reports_dir, &s.name, self.index, i, &returned.filename, b, ext)
        });
        let thumbnail = inspected.thumb.as_ref().map(crate::png::data_uri);
        let pixels = match (inspected.pixels, inspected.info.width.zip(inspected.info.height), &returned.bytes) {
            (Some(decoded), _, _) => Some(snapshot::Pixels::from(decoded)),
            (None, Some(size), Ok(bytes)) => Some(snapshot::Pixels::lazy(size, bytes)),
            _ => None,
        };
        let candidate = pixels.zip(inspected.thumb);
        if let Some(v) = &mut self.stills {
            v.next(candidate.as_ref().map(|(pixels, thumb)| snapshot::Candidate { pixels, thumb }));
        }
        if self.calibrating {
            self.pixels.extend(candidate.and_then(|(p, _)| p.into_image()));
        }
        self.infos.push(inspected.info.clone());
        record.images.push(crate::model::ImageRecord { info: inspected.info, file, thumbnail });
    }

    /// A video's snapshot frames against `<scenario>/video-<n>/`.
    fn video_snapshots(&mut self, frames: &[(u64, RgbImage)]) {
        let j = self.vinfos.len();
        let wanted = snapshot_frames(self.s, frames.last().map(|(i, _)| i + 1).unwrap_or(0));
        let picked: Vec<(snapshot::Pixels, RgbImage)> = frames
            .iter()
            .filter(|(i, _)| wanted.contains(i))
            .map(|(_, f)| {
                let pixels = DynamicImage::ImageRgb8(f.clone());
                let thumb = crate::media::sample::sample(&pixels).thumb;
                (snapshot::Pixels::from(pixels), thumb)
            })
            .collect();
        if picked.is_empty() {
            return;
        }
        let refs: Vec<Option<snapshot::Candidate>> =
            picked.iter().map(|(pixels, thumb)| Some(snapshot::Candidate { pixels, thumb })).collect();
        let name = format!("{}/video-{j}", self.s.name);
        let snap = snapshot::verify(&self.env.snapshots, &name, &self.s.snapshot, &refs, self.provenance);
        self.videos.failures.extend(snap.failures.into_iter().map(|mut f: CheckFailure| {
            f.check = format!("video {j}: {}", f.check);
            f
        }));
        self.videos.records.extend(snap.records);
        self.videos.reviews.extend(snap.reviews.into_iter().map(|r| format!("video {j}: {r}")));
        self.videos.notes.extend(snap.notes.into_iter().map(|r| format!("video {j}: {r}")));
    }

    /// The checks on what came (counts, sizes, formats, `expect.videos`),
    /// then the references' verdicts: stills first, then each video's.
    pub(crate) fn finish(self, failures: &mut Vec<CheckFailure>) -> (Compared, Vec<DynamicImage>) {
        let s = self.s;
        let mut found = checks::images(&s.expect.images, &self.infos);
        if !self.vinfos.is_empty() && self.infos.len() < s.expect.images.count.min as usize {
            for f in found.iter_mut().filter(|f| f.check == "image count") {
                f.actual = format!(
                    "{} (and {} animation(s) or video(s): check them with `expect.videos`)",
                    f.actual,
                    self.vinfos.len()
                );
            }
        }
        found.extend(checks::unreadable(&self.vinfos));
        if let Some(v) = &s.expect.videos {
            found.extend(checks::videos(v, &self.vinfos));
        }
        failures.extend(found);
        let mut compared = Compared::default();
        if let Some(v) = self.stills {
            let snap = v.finish();
            failures.extend(snap.failures);
            compared.records = snap.records;
            compared.reviews = snap.reviews;
            compared.notes = snap.notes;
        }
        failures.extend(self.videos.failures);
        compared.records.extend(self.videos.records);
        compared.reviews.extend(self.videos.reviews);
        compared.notes.extend(self.videos.notes);
        (compared, self.pixels)
    }
}

/// The file as an animation or video, when it is one (a one-frame animation is a still).
fn moving(s: &Scenario, i: usize, returned: &crate::media::Returned) -> Option<crate::media::InspectedVideo> {
    let bytes = returned.bytes.as_ref().ok()?;
    let Kind::Moving(container) = media::sniff(bytes) else {
        return None;
    };
    let facts = media::probe(container, bytes);
    if !container.is_video() && facts.as_ref().is_ok_and(|f| f.frames <= 1) {
        return None;
    }
    let extra = snapshot_frames(s, facts.as_ref().map(|f| f.frames).unwrap_or(0));
    Some(crate::media::inspect_video(i, returned, container, facts, &extra))
}

/// The frames a video's snapshot compares: `snapshot.frames`, else first, middle, last.
fn snapshot_frames(s: &Scenario, frames: u64) -> Vec<u64> {
    if !s.snapshot.frames.is_empty() {
        return s.snapshot.frames.clone();
    }
    match frames {
        0 => Vec::new(),
        n => {
            let mut v = vec![0, (n - 1) / 2, n - 1];
            v.dedup();
            v
        }
    }
}

