//! `endpoint-harness compare BASELINE CANDIDATE [--out DIR]`: two report
//! folders side by side; exit 1 when the candidate regressed.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::results::compare::model::{Change, Thresholds};

/// `compare BASELINE CANDIDATE`.
#[derive(clap::Args)]
pub(crate) struct CompareArgs {
    /// The reference report folder (production, last night, the current image).
    baseline: PathBuf,
    /// The report folder judged against it.
    candidate: PathBuf,
    /// Also write compare.json, compare.md and compare.html (and the evidence
    /// images of regressed pairs under compare/) into this folder.
    #[arg(short, long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A time (median queue, execution, total) regresses above baseline x this...
    #[arg(long, default_value_t = 1.5)]
    latency_ratio: f64,
    /// ...and when it is also this much longer (small times jitter).
    #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration)]
    latency_slack: std::time::Duration,
    /// An image regresses below this similarity to its counterpart (0..1).
    #[arg(long, default_value_t = 0.9)]
    min_similarity: f64,
    /// An image regresses above this perceptual-hash distance (bits of 64).
    #[arg(long, default_value_t = 10)]
    max_distance: u32,
    /// The estimated cost regresses above baseline x this.
    #[arg(long, default_value_t = 1.5)]
    cost_ratio: f64,
    /// Exit 0 even when the candidate regressed (report only).
    #[arg(long)]
    no_fail: bool,
}

impl CompareArgs {
    pub(crate) fn run(self) -> ExitCode {
        let t = Thresholds {
            latency_ratio: self.latency_ratio,
            latency_slack_ms: self.latency_slack.as_millis() as u64,
            min_similarity: self.min_similarity,
            max_distance: self.max_distance,
            cost_ratio: self.cost_ratio,
        };
        let result = crate::results::compare::compare(
            &self.baseline,
            &self.candidate,
            &t,
            self.out.as_deref(),
        )
        .and_then(|c| match &self.out {
            Some(out) => crate::results::compare::write(out, &c).map(|()| c),
            None => Ok(c),
        });
        let c = match result {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        print!(
            "{}",
            crate::redact::redact(&crate::results::compare::render::text(&c))
        );
        if let Some(out) = &self.out {
            println!("wrote {}", out.join("compare.html").display());
        }
        if c.verdict == Change::Regressed && !self.no_fail {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}
