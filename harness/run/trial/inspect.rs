//! Every returned file of a COMPLETED job, by what its bytes are: stills
//! inspected and held to `expect.images`, animations and videos probed,
//! sampled and held to `expect.videos`; each saved under `reports/images/`;
//! then references compared (a video's sampled frames under
//! `<scenario>/video-<n>/`).

use image::{DynamicImage, RgbImage};

use super::env::TrialEnv;
use super::save::{image_ext, save_image};
use crate::checks;
use crate::media::{self, Kind};
use crate::model::{CheckFailure, ImageRecord, RunRecord, SnapshotRecord, VideoRecord};
use crate::runpod::output;
use crate::scenario::Scenario;
use crate::snapshot;

/// The pixels (decoded, or decodable on demand) and the sampled thumbnail of
/// one returned still, when it read.
pub(crate) type Decoded<'a> = Option<(snapshot::Pixels<'a>, RgbImage)>;

/// What was decoded: stills in order, and each video's sampled frames.
pub(crate) struct Found<'a> {
    pub(crate) stills: Vec<Decoded<'a>>,
    pub(crate) videos: Vec<Vec<(u64, RgbImage)>>,
}

/// Inspects and saves every returned file, and checks them.
pub(crate) fn inspect_all<'a>(
    s: &Scenario,
    env: &TrialEnv,
    index: u32,
    out: &'a output::Output,
    record: &mut RunRecord,
    failures: &mut Vec<CheckFailure>,
) -> Found<'a> {
    let mut found = Found { stills: Vec::new(), videos: Vec::new() };
    let mut infos = Vec::new();
    let mut vinfos = Vec::new();
    // A load run keeps the files of its first job only.
    let keep = s.load.is_none() || index == 0;
    for (i, returned) in out.images.iter().enumerate() {
        if let Some(video) = moving(s, i, returned) {
            let file = returned.bytes.as_ref().ok().filter(|_| keep).and_then(|b| {
                let ext = video.info.container.as_deref();
                save_image(&env.reports_dir, &s.name, index, i, &returned.filename, b, ext)
            });
            let strip = video.thumbs.iter().map(crate::png::data_uri).collect();
            vinfos.push(video.info.clone());
            found.videos.push(video.frames);
            record.videos.push(VideoRecord { info: video.info, file, strip });
            continue;
        }
        // A PNG is sampled while it streams, without a pixel buffer; a snapshot
        // decodes it in full only when it needs more than the thumbnail (a
        // mismatch, a reference to write). Calibration across repeats keeps
        // every run's pixels, so those are decoded at once.
        let calibrating = s.snapshot.compare != crate::scenario::CompareMode::Off && s.repeat > 1;
        let inspected = crate::media::inspect_keeping(i, returned, calibrating);
        let file = returned.bytes.as_ref().ok().filter(|_| keep).and_then(|b| {
            let ext = image_ext(inspected.info.format);
            save_image(&env.reports_dir, &s.name, index, i, &returned.filename, b, ext)
        });
        let thumbnail = inspected.thumb.as_ref().map(crate::png::data_uri);
        let pixels = match (inspected.pixels, inspected.info.width.zip(inspected.info.height), &returned.bytes) {
            (Some(decoded), _, _) => Some(snapshot::Pixels::from(decoded)),
            (None, Some(size), Ok(bytes)) => Some(snapshot::Pixels::lazy(size, bytes)),
            _ => None,
        };
        found.stills.push(pixels.zip(inspected.thumb));
        infos.push(inspected.info.clone());
        record.images.push(ImageRecord { info: inspected.info, file, thumbnail });
    }
    let mut found_failures = checks::images(&s.expect.images, &infos);
    if !vinfos.is_empty() && infos.len() < s.expect.images.count.min as usize {
        for f in found_failures.iter_mut().filter(|f| f.check == "image count") {
            f.actual = format!("{} (and {} animation(s) or video(s): check them with `expect.videos`)", f.actual, vinfos.len());
        }
    }
    found_failures.extend(checks::unreadable(&vinfos));
    if let Some(v) = &s.expect.videos {
        found_failures.extend(checks::videos(v, &vinfos));
    }
    failures.extend(found_failures);
    found
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

/// What the reference comparison of one job found.
#[derive(Default)]
pub(crate) struct Compared {
    pub(crate) records: Vec<SnapshotRecord>,
    /// Images in the review band that do not fail the scenario.
    pub(crate) reviews: Vec<String>,
    /// Passes worth saying (judged against another class's reference).
    pub(crate) notes: Vec<String>,
}

/// Compares stills, then each video's snapshot frames, with their references.
pub(crate) fn compare_snapshots(
    s: &Scenario,
    env: &TrialEnv,
    index: u32,
    found: &Found,
    provenance: &snapshot::Provenance,
    failures: &mut Vec<CheckFailure>,
) -> Compared {
    let mut compared = Compared::default();
    // Later repeats are verified too, but only the first may write references;
    // a load run compares its first job only.
    if index != 0 && (env.snapshots.mode != snapshot::Mode::Verify || s.load.is_some()) {
        return compared;
    }
    let refs: Vec<Option<snapshot::Candidate>> = found
        .stills
        .iter()
        .map(|d| d.as_ref().map(|(pixels, thumb)| snapshot::Candidate { pixels, thumb }))
        .collect();
    let snap = snapshot::verify(&env.snapshots, &s.name, &s.snapshot, &refs, provenance);
    failures.extend(snap.failures);
    compared.records = snap.records;
    compared.reviews = snap.reviews;
    compared.notes = snap.notes;
    for (j, frames) in found.videos.iter().enumerate() {
        let wanted = snapshot_frames(s, frames.last().map(|(i, _)| i + 1).unwrap_or(0));
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
            continue;
        }
        let refs: Vec<Option<snapshot::Candidate>> =
            picked.iter().map(|(pixels, thumb)| Some(snapshot::Candidate { pixels, thumb })).collect();
        let snap = snapshot::verify(&env.snapshots, &format!("{}/video-{j}", s.name), &s.snapshot, &refs, provenance);
        failures.extend(snap.failures.into_iter().map(|mut f: CheckFailure| {
            f.check = format!("video {j}: {}", f.check);
            f
        }));
        compared.records.extend(snap.records);
        compared.reviews.extend(snap.reviews.into_iter().map(|r| format!("video {j}: {r}")));
        compared.notes.extend(snap.notes.into_iter().map(|r| format!("video {j}: {r}")));
    }
    compared
}
