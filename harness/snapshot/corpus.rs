//! The drift corpus: pairs of real diffusion outputs (`tests/fixtures/drift/`,
//! made by `tests/comfyui/diffusion/make_corpus.py` on a real ComfyUI with a
//! random-weight SD1.5-shaped checkpoint), each labelled benign (the same
//! picture on other hardware or another build: attention implementations,
//! precision, threads, batch position, re-encoding) or a regression (seed,
//! steps, cfg, sampler, scheduler, denoise, checkpoint, prompt, LoRA, broken
//! outputs). Judging every pair with a scenario's settings gives the confusion
//! matrix the default bands were chosen on; the test suite and the benchmark
//! print it, and the docs show it.

use std::fmt::Write;
use std::path::Path;

use image::DynamicImage;
use serde::Deserialize;

use super::metrics::{judge, measure, Judgement};
use crate::model::Metrics;
use crate::scenario::{ImageExpect, SnapshotSpec};

/// `corpus.json`.
#[derive(Debug, Deserialize)]
pub struct Corpus {
    /// The labelled pairs.
    pub pairs: Vec<Pair>,
}

/// One labelled pair of images.
#[derive(Clone, Debug, Deserialize)]
pub struct Pair {
    /// `A-bf16-vae`.
    pub id: String,
    /// The base configuration (`A`).
    pub base: String,
    /// `benign`, `regression` or `gray` (not counted).
    pub class: String,
    /// The reference image, relative to corpus.json.
    pub reference: String,
    /// The candidate image.
    pub candidate: String,
    /// How the candidate was made.
    pub how: String,
    /// Measured corpora (`gpu_corpus.py`): `within` when reference and
    /// candidate are of one class (a rerun, cudnn.benchmark), `across` when a
    /// fleet would see them as two classes (another device, dtype or attention
    /// backend). None in the CPU corpus.
    #[serde(default)]
    pub tier: Option<String>,
    /// Measured corpora, regressions: `within` when only a reference of the
    /// job's own class can see it (steps ±1, cfg ±0.5), `both` otherwise.
    #[serde(default)]
    pub visible: Option<String>,
}

/// What the harness made of one pair with a scenario's settings.
#[derive(Clone, Debug)]
pub struct Judged {
    pub pair: Pair,
    /// None when the sizes differ (a mismatch without figures).
    pub metrics: Option<Metrics>,
    /// The snapshot band: 0 pass, 1 review, 2 fail.
    pub band: u8,
    /// A default check on the candidate alone failed (blank, pure noise).
    pub check: Option<String>,
}

impl Judged {
    /// The scenario's outcome: 0 pass, 1 review, 2 fail (a failed check fails).
    pub fn outcome(&self) -> u8 {
        if self.check.is_some() {
            2
        } else {
            self.band
        }
    }
}

/// Why the corpus could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not a corpus.json: {source}")]
    Json { path: String, source: serde_json::Error },
    #[error("{path} does not decode: {reason}")]
    Image { path: String, reason: String },
}

/// Reads `dir/corpus.json`.
pub fn load(dir: &Path) -> Result<Corpus, CorpusError> {
    let path = dir.join("corpus.json");
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| CorpusError::Read { path: shown.clone(), source })?;
    serde_json::from_str(&text).map_err(|source| CorpusError::Json { path: shown, source })
}

fn image(dir: &Path, file: &str) -> Result<(DynamicImage, Vec<u8>), CorpusError> {
    let path = dir.join(file);
    let shown = path.display().to_string();
    let bytes = std::fs::read(&path).map_err(|source| CorpusError::Read { path: shown.clone(), source })?;
    let img = crate::media::decode(&bytes).map_err(|e| CorpusError::Image { path: shown, reason: e.to_string() })?;
    Ok((img, bytes))
}

/// Judges every pair under `spec`, with the default image checks on each candidate.
pub fn judge_all(dir: &Path, corpus: &Corpus, spec: &SnapshotSpec) -> Result<Vec<Judged>, CorpusError> {
    let mut out = Vec::new();
    for pair in &corpus.pairs {
        let (reference, _) = image(dir, &pair.reference)?;
        let (candidate, bytes) = image(dir, &pair.candidate)?;
        let check = default_check(&pair.candidate, bytes);
        let (metrics, band) = if reference.width() == candidate.width() && reference.height() == candidate.height() {
            let m = measure(&reference, &candidate);
            let band = judge(spec, &m).rank();
            (Some(m), band)
        } else {
            (None, Judgement::Fail(Vec::new()).rank())
        };
        out.push(Judged { pair: pair.clone(), metrics, band, check });
    }
    Ok(out)
}

/// The confusion matrix: per class (benign, regression, gray), pairs per outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matrix {
    pub benign: [usize; 3],
    pub regression: [usize; 3],
    pub gray: [usize; 3],
}

impl Matrix {
    /// Counts the outcomes of `judged`.
    pub fn of(judged: &[Judged]) -> Self {
        let mut m = Matrix::default();
        for j in judged {
            let row = match j.pair.class.as_str() {
                "benign" => &mut m.benign,
                "regression" => &mut m.regression,
                _ => &mut m.gray,
            };
            row[j.outcome() as usize] += 1;
        }
        m
    }

    /// Benign pairs that did not pass (a review is an alarm too: a person is asked to look).
    pub fn false_alarms(&self) -> usize {
        self.benign[1] + self.benign[2]
    }

    /// The share of regressions that failed (0..1).
    pub fn caught(&self) -> f64 {
        let n: usize = self.regression.iter().sum();
        if n == 0 {
            return 1.0;
        }
        self.regression[2] as f64 / n as f64
    }
}

/// The figures as a Markdown report: the matrix, the margins, and every pair.
pub fn report(judged: &[Judged], spec: &SnapshotSpec) -> String {
    let m = Matrix::of(judged);
    let t = spec.tolerance;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Bands: pass psnr >= {} dB, ssim >= {}, block <= {}; fail psnr < {} dB, ssim < {}, block > {}.\n",
        t.pass.psnr, t.pass.ssim, t.pass.block, t.fail.psnr, t.fail.ssim, t.fail.block
    );
    let _ = writeln!(out, "| class | pairs | pass | review | fail |\n|---|---|---|---|---|");
    for (name, row) in [("benign", m.benign), ("regression", m.regression), ("gray", m.gray)] {
        let _ = writeln!(out, "| {name} | {} | {} | {} | {} |", row.iter().sum::<usize>(), row[0], row[1], row[2]);
    }
    let _ = writeln!(
        out,
        "\nFalse alarms: {} of {} benign pairs; regressions caught: {:.1}% ({} of {}).\n",
        m.false_alarms(),
        m.benign.iter().sum::<usize>(),
        m.caught() * 100.0,
        m.regression[2],
        m.regression.iter().sum::<usize>()
    );
    let figure = |j: &Judged, f: fn(&Metrics) -> Option<f64>| j.metrics.as_ref().and_then(f);
    fn of_class<'a>(judged: &'a [Judged], c: &'a str) -> impl Iterator<Item = &'a Judged> + 'a {
        judged.iter().filter(move |j| j.pair.class == c)
    }
    let low = |it: Vec<f64>| it.into_iter().fold(f64::INFINITY, f64::min);
    let high = |it: Vec<f64>| it.into_iter().fold(f64::NEG_INFINITY, f64::max);
    let benign_psnr = low(of_class(judged, "benign").filter_map(|j| figure(j, |m| m.psnr)).collect());
    let benign_ssim = low(of_class(judged, "benign").filter_map(|j| figure(j, |m| m.ssim)).collect());
    let benign_block = high(of_class(judged, "benign").filter_map(|j| figure(j, |m| m.block_diff)).collect());
    let reg_psnr = high(of_class(judged, "regression").filter_map(|j| figure(j, |m| m.psnr)).collect());
    let _ = writeln!(
        out,
        "Margins: the worst benign pair has psnr {benign_psnr:.1} dB (pass band {}), ssim {benign_ssim:.4} ({}), block {benign_block:.2} ({}); the closest regression has psnr {reg_psnr:.1} dB (fail band {}).\n",
        t.pass.psnr, t.pass.ssim, t.pass.block, t.fail.psnr
    );
    let _ = writeln!(out, "| pair | class | psnr dB | ssim | block | max | mean | outcome | how |\n|---|---|---|---|---|---|---|---|---|");
    let words = ["pass", "review", "fail"];
    for j in judged {
        let (p, s, b, mx, mn) = match &j.metrics {
            Some(m) => (
                format!("{:.1}", m.psnr.unwrap_or(0.0)),
                format!("{:.4}", m.ssim.unwrap_or(0.0)),
                format!("{:.2}", m.block_diff.unwrap_or(0.0)),
                m.max_diff.unwrap_or(0).to_string(),
                format!("{:.2}", m.mean_diff.unwrap_or(0.0)),
            ),
            None => ("size".into(), "-".into(), "-".into(), "-".into(), "-".into()),
        };
        let outcome = match &j.check {
            Some(c) => format!("fail ({c})"),
            None => words[j.band as usize].to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {p} | {s} | {b} | {mx} | {mn} | {outcome} | {} |",
            j.pair.id,
            j.pair.class,
            j.pair.how.replace('|', "/")
        );
    }
    out
}

/// The regressions that change the composition (another seed, checkpoint,
/// prompt word, negative prompt, a missing LoRA, a size change, black or NaN,
/// noise, a broken sampler): what the cross-class tier must fail. The others
/// (steps, cfg, sampler, scheduler, denoise, LoRA strength, one step) only a
/// reference of the job's own class can see.
pub fn changes_composition(pair: &Pair) -> bool {
    const KINDS: [&str; 9] = ["-seed-", "-ckpt-", "-prompt-word", "-negative", "-no-lora", "-width-", "-nan-black", "-noise", "-noisy-latent"];
    pair.class == "regression" && KINDS.iter().any(|k| format!("{}-", pair.id).contains(k))
}

/// The strengths of the drift model the cross-class tier is judged on: from
/// about 38 dB down to about 25 dB on the corpus's images.
pub const DRIFT_STRENGTHS: [f64; 4] = [0.3, 0.6, 1.0, 1.4];

/// One pair of the cross-class tier: the reference of one class, the image
/// another class made (modelled drift, or a regression as the other class makes it).
#[derive(Clone, Debug)]
pub struct Across {
    /// `A-base ~ drift 1.0 #1`, `A-seed-plus1 ~ drift 1.0`.
    pub id: String,
    /// `drift` (must not fail), `composition` (must fail) or `unseen` (a
    /// regression only a same-class reference can see; shown, not counted).
    pub kind: &'static str,
    /// The figures (none: another size).
    pub metrics: Option<Metrics>,
    /// 0 pass, 1 review, 2 fail (a failed default check fails).
    pub outcome: u8,
}

/// Judges the cross-class tier: every corpus base drifted by the model at
/// each strength (two seeds), and every regression as another class would
/// make it (drifted at strength 1.0), each against the base as the accepted
/// reference of the first class.
pub fn judge_across_all(dir: &Path, corpus: &Corpus, spec: &SnapshotSpec) -> Result<Vec<Across>, CorpusError> {
    use super::drift_model::gpu_drift;
    let mut out = Vec::new();
    let mut bases: Vec<&str> = corpus.pairs.iter().map(|p| p.reference.as_str()).collect();
    bases.sort();
    bases.dedup();
    let checked = |img: &DynamicImage| -> bool {
        let mut bytes = Vec::new();
        let _ = img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png);
        default_check("drifted.png", bytes).is_none()
    };
    for base in &bases {
        let (reference, _) = image(dir, base)?;
        for (k, strength) in DRIFT_STRENGTHS.iter().enumerate() {
            for seed in 1..=2u64 {
                let drifted = DynamicImage::ImageRgb8(gpu_drift(&reference.to_rgb8(), *strength, seed * 100 + k as u64));
                let (metrics, outcome) = judge_one_across(spec, &reference, &drifted, checked(&drifted));
                let name = base.trim_end_matches(".png");
                out.push(Across { id: format!("{name} ~ drift {strength} #{seed}"), kind: "drift", metrics, outcome });
            }
        }
    }
    for pair in corpus.pairs.iter().filter(|p| p.class == "regression") {
        let (reference, _) = image(dir, &pair.reference)?;
        let (candidate, bytes) = image(dir, &pair.candidate)?;
        let passes_checks = default_check(&pair.candidate, bytes).is_none();
        let kind = if changes_composition(pair) { "composition" } else { "unseen" };
        let drifted = DynamicImage::ImageRgb8(gpu_drift(&candidate.to_rgb8(), 1.0, 7));
        let (metrics, outcome) = judge_one_across(spec, &reference, &drifted, passes_checks);
        out.push(Across { id: format!("{} ~ drift 1.0", pair.id), kind, metrics, outcome });
    }
    Ok(out)
}

/// One image of another class against a reference: its figures (none: another
/// size, which fails) and the cross-class outcome; a failed default check fails.
fn judge_one_across(spec: &SnapshotSpec, reference: &DynamicImage, candidate: &DynamicImage, passes_checks: bool) -> (Option<Metrics>, u8) {
    if reference.width() != candidate.width() || reference.height() != candidate.height() {
        return (None, 2);
    }
    let mut m = measure(reference, candidate);
    super::metrics::add_coarse(reference, candidate, &mut m);
    let outcome = if passes_checks { super::metrics::judge_across(spec, &m).rank() } else { 2 };
    (Some(m), outcome)
}

/// The cross-class tier on a measured corpus (`gpu_corpus.py`: pairs made on
/// another device, dtype or attention backend, no model): each `across` pair
/// judged as a new class's image against the other class's reference. Benign
/// pairs are `drift` (must not fail), regressions `composition` (must fail)
/// or, when only a same-class reference can see them, `unseen`.
pub fn judge_measured_across(dir: &Path, corpus: &Corpus, spec: &SnapshotSpec) -> Result<Vec<Across>, CorpusError> {
    let mut out = Vec::new();
    for pair in corpus.pairs.iter().filter(|p| p.tier.as_deref() == Some("across")) {
        let kind = match (pair.class.as_str(), pair.visible.as_deref()) {
            ("benign", _) => "drift",
            ("regression", Some("within")) => "unseen",
            ("regression", _) => "composition",
            _ => continue,
        };
        let (reference, _) = image(dir, &pair.reference)?;
        let (candidate, bytes) = image(dir, &pair.candidate)?;
        let passes_checks = default_check(&pair.candidate, bytes).is_none();
        let (metrics, outcome) = judge_one_across(spec, &reference, &candidate, passes_checks);
        out.push(Across { id: pair.id.clone(), kind, metrics, outcome });
    }
    Ok(out)
}

/// The first default image check (not blank, not noise) a file fails, if any:
/// what a scenario with no `expect.images` would say of it.
fn default_check(filename: &str, bytes: Vec<u8>) -> Option<String> {
    let expect = ImageExpect {
        color: None,
        alpha: None,
        max_bytes: None,
        count: crate::scenario::CountRange { min: 0, max: None },
        format: None,
        width: None,
        height: None,
        not_blank: true,
        not_noise: true,
    };
    let returned = crate::media::Returned {
        filename: filename.to_string(),
        transport: crate::media::Transport::Base64,
        declared_mime: None,
        bytes: Ok(bytes),
    };
    let info = crate::media::inspect_keeping(0, &returned, false).info;
    crate::checks::images(&expect, &[info]).first().map(|f| f.check.clone())
}

/// The cross-class tier as a Markdown report: per kind, pairs per outcome;
/// the margins; every pair.
pub fn across_report(judged: &[Across]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Cross-class fail lines: 8x8 cells psnr < {} dB or luma correlation < {}; pass only within the strict pass band.\n",
        super::metrics::ACROSS_COARSE_PSNR,
        super::metrics::ACROSS_COARSE_CORR
    );
    let _ = writeln!(out, "| kind | pairs | pass | review | fail |\n|---|---|---|---|---|");
    for kind in ["drift", "composition", "unseen"] {
        let mut row = [0usize; 3];
        for j in judged.iter().filter(|j| j.kind == kind) {
            row[j.outcome as usize] += 1;
        }
        let _ = writeln!(out, "| {kind} | {} | {} | {} | {} |", row.iter().sum::<usize>(), row[0], row[1], row[2]);
    }
    let range = |kind: &str, f: fn(&Metrics) -> Option<f64>| {
        let v: Vec<f64> = judged.iter().filter(|j| j.kind == kind).filter_map(|j| j.metrics.as_ref()).filter_map(f).collect();
        (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(f64::NEG_INFINITY, f64::max))
    };
    let (dlo, dhi) = range("drift", |m| m.psnr);
    let (clo, _) = range("drift", |m| m.coarse_psnr);
    let (_, chi) = range("composition", |m| m.coarse_psnr);
    let _ = writeln!(
        out,
        "\nMargins: modelled drift spans psnr {dlo:.1}-{dhi:.1} dB with 8x8 cells at {clo:.1} dB or more; the closest composition change has cells at {chi:.1} dB.\n"
    );
    let _ = writeln!(out, "| pair | kind | psnr dB | ssim | 8x8 psnr dB | 8x8 corr | outcome |\n|---|---|---|---|---|---|---|");
    let words = ["pass", "review", "fail"];
    for j in judged {
        let (p, s, c, r) = match &j.metrics {
            Some(m) => (
                format!("{:.1}", m.psnr.unwrap_or(0.0)),
                format!("{:.4}", m.ssim.unwrap_or(0.0)),
                format!("{:.1}", m.coarse_psnr.unwrap_or(0.0)),
                m.coarse_corr.map_or("-".into(), |c| format!("{c:.3}")),
            ),
            None => ("size".into(), "-".into(), "-".into(), "-".into()),
        };
        let _ = writeln!(out, "| {} | {} | {p} | {s} | {c} | {r} | {} |", j.id, j.kind, words[j.outcome as usize]);
    }
    out
}
