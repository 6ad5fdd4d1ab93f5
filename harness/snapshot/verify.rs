//! Comparing a scenario's returned images with its references, in order. The
//! references are kept per class (the fingerprint fields `snapshot.class`
//! names): an image is judged against its own class's reference in three
//! strict bands (pass, review, fail); with no reference of its class yet,
//! against the nearest other class's, where only what GPU drift cannot change
//! fails (the layout and colours of the coarse cells, the size, the count),
//! strict matches pass saying so, and the rest is for review. A digest
//! shortcut skips decoding for identical pixels; evidence files are written for
//! review and mismatches; `update` writes the job's own class, never another.

use std::path::{Path, PathBuf};

use image::{DynamicImage, GenericImageView};

use super::config::{Candidate, Config, Mode};
use super::metrics::{diff_image, identical, judge, judge_across, measure_with, pixel_hash, Judgement};
use super::provenance::Provenance;
use super::store::{read_meta, reference_count, remove_candidate, save_evidence, write_reference, RefSet};
use crate::model::{CheckFailure, ClassKey, Metrics, SnapshotRecord};
use crate::scenario::{CompareMode, ReviewPolicy, SnapshotSpec};

/// The snapshot verdict of a scenario run.
#[derive(Default)]
pub struct Outcome {
    pub failures: Vec<CheckFailure>,
    pub records: Vec<SnapshotRecord>,
    /// Images in the review band that do not fail the scenario: one line each.
    pub reviews: Vec<String>,
    /// What a person should know that is neither a failure nor a review (a
    /// pass judged against another class's reference).
    pub notes: Vec<String>,
}

/// Compares the returned images of a scenario (in order) with the references
/// of the job's class; with none of that class yet, with the nearest other
/// class's, judged on what GPU drift does not change.
pub fn verify(
    cfg: &Config,
    scenario: &str,
    spec: &SnapshotSpec,
    images: &[Option<Candidate>],
    provenance: &Provenance,
) -> Outcome {
    let mut v = Verifier::new(cfg, scenario, spec, provenance);
    for img in images {
        v.next(*img);
    }
    v.finish()
}

/// [`verify`] one image at a time, in order: a job's stills are judged as they
/// are read, so no more than one of them is held decoded (a job of a hundred
/// large images stays within a small multiple of one). The count and, in
/// update mode, the references beyond it are settled by [`Verifier::finish`].
pub struct Verifier<'a> {
    cfg: &'a Config,
    scenario: &'a str,
    spec: &'a SnapshotSpec,
    provenance: &'a Provenance,
    /// None when the scenario compares nothing.
    classes: Option<Classes>,
    seen: usize,
    out: Outcome,
}

/// The job's class, the reference sets on disk and where `update` writes.
struct Classes {
    class: ClassKey,
    sets: Vec<RefSet>,
    own: Option<RefSet>,
    write_dir: PathBuf,
    /// References of the count-giving set before any was judged, and its folder.
    have: Option<(usize, PathBuf)>,
}

impl<'a> Verifier<'a> {
    /// Reads the scenario's reference sets once.
    pub fn new(cfg: &'a Config, scenario: &'a str, spec: &'a SnapshotSpec, provenance: &'a Provenance) -> Self {
        let classes = (spec.compare != CompareMode::Off).then(|| {
            let fields = cfg.fields(spec);
            let class = cfg.job_class(spec, &provenance.fingerprint);
            let sets = cfg.sets(scenario, &fields);
            let own = sets.iter().find(|s| s.class == class).cloned();
            let write_dir = cfg.class_dir(scenario, &class, &sets);
            // The count is a fact of the graph, not of the hardware: any class's count holds.
            let have = own.as_ref().or(sets.first()).map(|set| (reference_count(&set.dir), set.dir.clone()));
            Classes { class, sets, own, write_dir, have }
        });
        Verifier { cfg, scenario, spec, provenance, classes, seen: 0, out: Outcome::default() }
    }

    /// Judges the next image (None: a returned still that did not read, which
    /// still counts).
    pub fn next(&mut self, img: Option<Candidate>) {
        let i = self.seen;
        self.seen += 1;
        let (Some(c), Some(cand)) = (&self.classes, img) else { return };
        let slot = Slot {
            cfg: self.cfg,
            scenario: self.scenario,
            spec: self.spec,
            i,
            provenance: self.provenance,
            class: &c.class,
            write_dir: &c.write_dir,
        };
        let rec = slot.judge(c.own.as_ref(), &c.sets, cand, &mut self.out);
        self.out.records.push(rec);
    }

    /// The verdicts, with the count against the references' first.
    pub fn finish(mut self) -> Outcome {
        let Some(c) = &self.classes else { return self.out };
        if let Some((have, dir)) = &c.have {
            if *have > 0 && *have != self.seen && self.cfg.mode == Mode::Verify {
                self.out.failures.insert(
                    0,
                    CheckFailure::new(
                        "snapshot count",
                        format!("{have} image(s), as in {}", crate::paths::display_path(dir).display()),
                        format!("{} image(s)", self.seen),
                    ),
                );
            }
        }
        if self.cfg.mode == Mode::Update {
            drop_beyond(&c.write_dir, self.seen);
        }
        self.out
    }
}

/// Drops references (and candidates) beyond the new count, so a smaller batch
/// leaves neither orphans nor superseded candidates.
fn drop_beyond(dir: &Path, count: usize) {
    let beyond = |name: &str| {
        name.split('.')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= count)
    };
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let reference = [".png", ".snap", ".png.new", ".snap.new"].iter().any(|x| name.ends_with(x));
        if reference && beyond(&name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// One accepted reference of a slot: its class and its PNG.
struct Reference {
    class: ClassKey,
    png: PathBuf,
}

impl Reference {
    fn shown(&self) -> String {
        crate::paths::display_path(&self.png).display().to_string()
    }

    fn snap(&self) -> PathBuf {
        self.png.with_extension("snap")
    }
}

/// One image's place: which scenario, which image, with what settings.
struct Slot<'a> {
    cfg: &'a Config,
    scenario: &'a str,
    spec: &'a SnapshotSpec,
    i: usize,
    provenance: &'a Provenance,
    /// The job's class.
    class: &'a ClassKey,
    /// Where this class's references (and candidates) are written.
    write_dir: &'a Path,
}

/// The closest reference found for an image, and how it compares.
struct Closest {
    reference: Reference,
    pixels: Option<DynamicImage>,
    metrics: Metrics,
    judgement: Judgement,
}

impl Slot<'_> {
    fn record(&self, shown: String) -> SnapshotRecord {
        SnapshotRecord {
            index: self.i,
            reference: shown,
            outcome: String::new(),
            class: Some(self.class.text()),
            across: None,
            variant: self.cfg.variant.clone(),
            reasons: Vec::new(),
            metrics: None,
            expected: None,
            actual: None,
            diff: None,
            thumbnails: Vec::new(),
        }
    }

    fn reference_in(&self, set: &RefSet) -> Option<Reference> {
        let png = set.dir.join(format!("{}.png", self.i));
        png.is_file().then(|| Reference { class: set.class.clone(), png })
    }

    /// Judges the image: against its own class's reference with the strict
    /// bands; with none, against the nearest other class's (the cross-class
    /// judgment); with no reference at all, it is missing.
    fn judge(&self, own: Option<&RefSet>, sets: &[RefSet], cand: Candidate, out: &mut Outcome) -> SnapshotRecord {
        if let Some(reference) = own.and_then(|s| self.reference_in(s)) {
            return self.within(reference, cand, out);
        }
        let others: Vec<Reference> = sets.iter().filter_map(|s| self.reference_in(s)).collect();
        let written_to = self.write_dir.join(format!("{}.png", self.i));
        if others.is_empty() {
            let mut rec = self.record(crate::paths::display_path(&written_to).display().to_string());
            rec.outcome = self.missing(&rec.reference, cand, out);
            return rec;
        }
        self.across(others, cand, out)
    }

    /// Against the reference of the job's own class, with the scenario's bands.
    fn within(&self, reference: Reference, cand: Candidate, out: &mut Outcome) -> SnapshotRecord {
        let closest = match self.closest(vec![reference], cand, false) {
            Ok(c) => c,
            Err(unread) => return self.unreadable(unread, out),
        };
        let mut rec = self.record(closest.reference.shown());
        rec.metrics = Some(closest.metrics.clone());
        let class = format!(" (class {})", self.class);
        rec.outcome = match (&closest.judgement, self.cfg.mode) {
            (Judgement::Pass, _) => {
                // A candidate left by an earlier run is stale once the image matches again.
                if !self.cfg.ci {
                    remove_candidate(self.write_dir, self.i);
                }
                "matched".into()
            }
            (_, Mode::Update) => {
                self.write(cand, "", out);
                "updated".into()
            }
            (Judgement::Review(why), Mode::Verify) => {
                rec.reasons = why.clone();
                let files = self.evidence(&closest, cand, &mut rec, out);
                let line = format!("snapshot {} in review against {}{class}: {}{files}", self.i, rec.reference, why.join("; "));
                self.review(line, &rec.reference, why, &files, out);
                "review".into()
            }
            (Judgement::Fail(why), Mode::Verify) => {
                rec.reasons = why.clone();
                let files = self.evidence(&closest, cand, &mut rec, out);
                out.failures.push(CheckFailure::new(
                    format!("snapshot {} ({})", self.i, tolerance(self.spec)),
                    format!("a match with {}{class}", rec.reference),
                    format!("{}{files}", why.join("; ")),
                ));
                "mismatched".into()
            }
        };
        rec
    }

    /// No reference of the job's class yet: judged against the nearest other
    /// class's. Identical or strictly close pixels pass, saying so; another
    /// composition fails; anything else is for review, never red for drift alone.
    fn across(&self, others: Vec<Reference>, cand: Candidate, out: &mut Outcome) -> SnapshotRecord {
        let closest = match self.closest(others, cand, true) {
            Ok(c) => c,
            Err(unread) => return self.unreadable(unread, out),
        };
        let mut rec = self.record(closest.reference.shown());
        rec.metrics = Some(closest.metrics.clone());
        rec.across = Some(closest.reference.class.text());
        let head = format!(
            "no reference for class {}; nearest class {} ({})",
            self.class,
            closest.reference.class,
            self.class.differences(&closest.reference.class).join(", ")
        );
        rec.outcome = match (&closest.judgement, self.cfg.mode) {
            (_, Mode::Update) => {
                self.write(cand, "", out);
                "written".into()
            }
            (Judgement::Pass, Mode::Verify) => {
                rec.reasons = vec![format!("{head}: within the strict pass band of its reference")];
                let accept = if self.cfg.ci {
                    "record this class with HARNESS_SNAPSHOTS=update to verify it strictly"
                } else {
                    self.write(cand, ".new", out);
                    "a candidate for this class was written as .new: accept it to verify the class strictly"
                };
                out.notes.push(format!("snapshot {}: {head}: passed within the strict band of {} ({accept})", self.i, rec.reference));
                "matched".into()
            }
            (Judgement::Review(why), Mode::Verify) => {
                rec.reasons = std::iter::once(head.clone()).chain(why.iter().cloned()).collect();
                let files = self.evidence(&closest, cand, &mut rec, out);
                let line = format!(
                    "snapshot {}: {head}: {}{files}; accept it as this class's reference (`endpoint-harness review`) if it is the same picture",
                    self.i,
                    why.join("; ")
                );
                self.review(line, &rec.reference, why, &files, out);
                "review".into()
            }
            (Judgement::Fail(why), Mode::Verify) => {
                rec.reasons = std::iter::once(head.clone()).chain(why.iter().cloned()).collect();
                let files = self.evidence(&closest, cand, &mut rec, out);
                out.failures.push(CheckFailure::new(
                    format!("snapshot {} (across classes)", self.i),
                    format!("the composition of {} (class {})", rec.reference, closest.reference.class),
                    format!("{head}: {}{files}", why.join("; ")),
                ));
                "mismatched".into()
            }
        };
        rec
    }

    /// The record of an image or reference that could not be read: a mismatch.
    fn unreadable(&self, (shown, failure): (String, CheckFailure), out: &mut Outcome) -> SnapshotRecord {
        let mut rec = self.record(shown);
        rec.outcome = "mismatched".into();
        out.failures.push(failure);
        rec
    }

    /// A review line, or a failure where the scenario or the run asks for one.
    fn review(&self, line: String, reference: &str, why: &[String], files: &str, out: &mut Outcome) {
        if self.spec.review == ReviewPolicy::Fail || self.cfg.strict {
            let by = if self.spec.review == ReviewPolicy::Fail { "snapshot.review: fail" } else { "HARNESS_STRICT" };
            out.failures.push(CheckFailure::new(
                format!("snapshot {} ({by})", self.i),
                format!("a match with {reference} ({})", tolerance(self.spec)),
                format!("an image in the review band: {}{files}", why.join("; ")),
            ));
        } else {
            out.reviews.push(line);
        }
    }

    /// The reference closest to the image: an identical digest ends the search;
    /// otherwise each reference is decoded and judged (`across`: with the
    /// cross-class judgment), the best judgement (then the highest PSNR) wins.
    /// Fails when the image or a reference cannot be read.
    fn closest(&self, refs: Vec<Reference>, cand: Candidate, across: bool) -> Result<Closest, (String, CheckFailure)> {
        let first = refs[0].shown();
        let img = cand
            .pixels
            .get()
            .map_err(|e| (first.clone(), self.failure("a returned image that decodes in full", e.to_string())))?;
        let digest = pixel_hash(img);
        let metas: Vec<_> = refs.iter().map(|r| read_meta(&r.snap())).collect();
        if let Some(k) = metas.iter().position(|m| {
            m.as_ref().is_some_and(|m| m.size == cand.pixels.size() && m.pixels.as_deref() == Some(&digest))
        }) {
            let reference = refs.into_iter().nth(k).expect("position is in range");
            return Ok(Closest { reference, pixels: None, metrics: identical(), judgement: Judgement::Pass });
        }
        let mut best: Option<Closest> = None;
        for reference in refs {
            let decoded = std::fs::read(&reference.png)
                .map_err(|e| e.to_string())
                .and_then(|b| crate::media::decode(&b).map_err(|e| e.to_string()))
                .map_err(|e| (reference.shown(), self.failure(&format!("a readable reference {}", reference.shown()), e)))?;
            let (metrics, judgement) = self.compare(&decoded, img, cand, across);
            let better = best.as_ref().is_none_or(|b| {
                (judgement.rank(), -metrics.psnr.unwrap_or(0.0)) < (b.judgement.rank(), -b.metrics.psnr.unwrap_or(0.0))
            });
            if better {
                best = Some(Closest { reference, pixels: Some(decoded), metrics, judgement });
            }
        }
        Ok(best.expect("at least one reference"))
    }

    /// The figures and judgement of the image against one decoded reference.
    fn compare(&self, reference: &DynamicImage, img: &DynamicImage, cand: Candidate, across: bool) -> (Metrics, Judgement) {
        if reference.dimensions() != img.dimensions() {
            let (rw, rh) = reference.dimensions();
            let (w, h) = img.dimensions();
            let why = format!("a {w}x{h} image where the reference is {rw}x{rh}: the size changed");
            return (Metrics::default(), Judgement::Fail(vec![why]));
        }
        let mut m = measure_with(reference, img, cand.thumb);
        if across {
            super::metrics::add_coarse(reference, img, &mut m);
        }
        let judgement = match self.spec.compare {
            CompareMode::Exact if !across => match m.differing_pixels.unwrap_or(0) {
                0 => Judgement::Pass,
                n => Judgement::Fail(vec![format!(
                    "{n} differing pixels (psnr {:.1} dB, largest difference {} levels)",
                    m.psnr.unwrap_or(0.0),
                    m.max_diff.unwrap_or(0)
                )]),
            },
            _ if across => judge_across(self.spec, &m),
            _ => judge(self.spec, &m),
        };
        (m, judgement)
    }

    fn failure(&self, expected: &str, got: String) -> CheckFailure {
        CheckFailure::new(format!("snapshot {}", self.i), expected, got)
    }

    /// Writes the reference (or its `.new` candidate); a failure to decode the
    /// returned image in full becomes a failure of this slot.
    fn write(&self, cand: Candidate, suffix: &str, out: &mut Outcome) {
        let meta = super::store::MetaInputs {
            spec: self.spec,
            scenario: self.scenario,
            i: self.i,
            provenance: self.provenance,
            variant: self.cfg.variant.as_deref(),
            class: self.class,
        };
        if let Err(e) = write_reference(self.write_dir, cand, &meta, suffix) {
            out.failures.push(self.failure("a returned image that decodes in full", e.to_string()));
        }
    }

    /// No reference yet: written in update mode, proposed (locally) or demanded (CI) in verify.
    fn missing(&self, shown: &str, cand: Candidate, out: &mut Outcome) -> String {
        if self.cfg.mode == Mode::Update {
            self.write(cand, "", out);
            return "written".into();
        }
        let fix = if self.cfg.ci {
            "record it locally with HARNESS_SNAPSHOTS=update and commit it".to_string()
        } else {
            self.write(cand, ".new", out);
            "a candidate was written beside it as .new: review it, then `endpoint-harness snapshots accept`"
                .to_string()
        };
        out.failures.push(CheckFailure::new(
            format!("snapshot {}", self.i),
            format!("a reference image to compare with at {shown}"),
            format!("no reference there yet, so the returned image was not compared ({fix})"),
        ));
        "missing".into()
    }

    /// Writes the expected/actual/diff evidence (and, locally, the `.new`
    /// candidate); returns the sentence naming the files.
    fn evidence(&self, closest: &Closest, cand: Candidate, rec: &mut SnapshotRecord, out: &mut Outcome) -> String {
        let (Some(reference), Ok(img)) = (&closest.pixels, cand.pixels.get()) else {
            return String::new();
        };
        let (e, a, d) = save_evidence(self.cfg, self.scenario, self.i, reference, img);
        rec.expected = e.clone();
        rec.actual = a.clone();
        rec.diff = d.clone();
        rec.thumbnails = vec![
            crate::png::data_uri(&crate::media::sample::sample(reference).thumb),
            crate::png::data_uri(cand.thumb),
        ];
        if reference.dimensions() == img.dimensions() {
            let diff = DynamicImage::ImageRgb8(diff_image(reference, img));
            rec.thumbnails.push(crate::png::data_uri(&crate::media::sample::sample(&diff).thumb));
        }
        let shown = |p: &Option<String>| {
            p.as_deref()
                .map(|p| crate::paths::display_path(&self.cfg.reports.join(p)).display().to_string())
                .unwrap_or_default()
        };
        let mut files = format!("; expected {}, actual {}", shown(&e), shown(&a));
        if d.is_some() {
            files.push_str(&format!(", diff {}", shown(&d)));
        }
        if !self.cfg.ci {
            self.write(cand, ".new", out);
            files.push_str(" (candidate written as .new)");
        }
        files
    }
}

fn tolerance(spec: &SnapshotSpec) -> String {
    match spec.compare {
        CompareMode::Exact => "exact pixels".into(),
        _ => {
            let (p, f) = (spec.tolerance.pass, spec.tolerance.fail);
            format!(
                "pass: psnr >= {} dB, ssim >= {}, block <= {}; fail: psnr < {}, ssim < {}, block > {}",
                p.psnr, p.ssim, p.block, f.psnr, f.ssim, f.block
            )
        }
    }
}
