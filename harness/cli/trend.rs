//! `endpoint-harness trend`: per-scenario trends from `history.jsonl`, with
//! exit 1 when a regression is flagged.

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::env_path;

/// `trend [--history FILE] ...`.
#[derive(clap::Args)]
pub(crate) struct TrendArgs {
    /// The history file (default: $HARNESS_REPORTS/history.jsonl).
    #[arg(long)]
    history: Option<PathBuf>,
    /// Earlier runs whose median is the baseline.
    #[arg(long, default_value_t = 5)]
    baseline_runs: usize,
    /// Flag a latency (total p95, execution) above baseline x this.
    #[arg(long, default_value_t = 1.5)]
    latency_ratio: f64,
    /// Flag a snapshot similarity below baseline minus this.
    #[arg(long, default_value_t = 0.02)]
    similarity_drop: f64,
    /// A latency is flagged only when it also grew by more than this (ratios
    /// of millisecond-scale times are noise).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    latency_floor: std::time::Duration,
    /// Exit 0 even when something is flagged (report only).
    #[arg(long)]
    no_fail: bool,
}

impl TrendArgs {
    pub(crate) fn run(self) -> ExitCode {
        let path = self
            .history
            .unwrap_or_else(|| env_path("HARNESS_REPORTS", "reports").join("history.jsonl"));
        let (lines, bad) = match crate::results::history::read(&path) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        if bad > 0 {
            eprintln!(
                "warning: {bad} unreadable line(s) in {} skipped",
                path.display()
            );
        }
        let opts = crate::results::trend::Options {
            baseline_runs: self.baseline_runs,
            latency_ratio: self.latency_ratio,
            similarity_drop: self.similarity_drop,
            latency_floor_ms: self.latency_floor.as_millis() as u64,
        };
        let trends = crate::results::trend::analyse(&lines, &opts);
        print!("{}", crate::results::trend::render(&trends));
        if !self.no_fail && trends.iter().any(|t| !t.flags.is_empty()) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}
