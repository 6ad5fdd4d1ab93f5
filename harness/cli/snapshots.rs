//! `endpoint-harness snapshots`: review reference snapshots (pending candidates
//! to accept or reject, orphans, tolerances suggested from repeated runs).

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::env_path;
use crate::scenario::parse;

/// `snapshots ACTION [--snapshot-dir DIR]`.
#[derive(clap::Args)]
pub(crate) struct SnapshotsArgs {
    #[command(subcommand)]
    action: SnapshotAction,
    /// Reference folder (default: $HARNESS_SNAPSHOT_DIR or snapshots/).
    #[arg(
        long = "snapshot-dir",
        alias = "dir",
        value_name = "DIR",
        global = true
    )]
    dir: Option<PathBuf>,
}

impl SnapshotsArgs {
    pub(crate) fn run(self) -> ExitCode {
        snapshots(self.action, self.dir)
    }
}

#[derive(clap::Subcommand)]
enum SnapshotAction {
    /// List candidates (`*.new`) waiting for review.
    Pending,
    /// Accept candidates: they replace the references. FILTER limits to paths containing it.
    Accept { filter: Option<String> },
    /// Reject candidates: they are deleted.
    Reject { filter: Option<String> },
    /// List references no scenario (with `snapshot.compare` on) produces; exit 1 if any.
    Orphans {
        /// Scenario folder (default: $HARNESS_SCENARIOS or scenarios/).
        #[arg(long)]
        scenarios: Option<PathBuf>,
    },
    /// Suggest tolerances from a report of scenarios run with `repeat` > 1.
    Calibrate {
        /// The report to read.
        #[arg(default_value = "reports/report.json")]
        report: PathBuf,
    },
}

fn snapshots(action: SnapshotAction, dir: Option<PathBuf>) -> ExitCode {
    use crate::snapshot;
    let root = dir.unwrap_or_else(|| env_path("HARNESS_SNAPSHOT_DIR", "snapshots"));
    match action {
        SnapshotAction::Pending => {
            let p = snapshot::pending(&root);
            for f in &p {
                println!("{}", f.display());
            }
            println!("{} pending file(s)", p.len());
            ExitCode::SUCCESS
        }
        SnapshotAction::Accept { filter } => resolve(&root, filter, true),
        SnapshotAction::Reject { filter } => resolve(&root, filter, false),
        SnapshotAction::Orphans { scenarios } => {
            let scen = scenarios.unwrap_or_else(|| env_path("HARNESS_SCENARIOS", "scenarios"));
            let files = crate::run::discover(&scen).unwrap_or_default();
            let mut wanted = Vec::new();
            for f in &files {
                match parse::load(f, &scen) {
                    Ok(s) if s.snapshot.compare != crate::scenario::CompareMode::Off => {
                        wanted.push(s.name)
                    }
                    Ok(_) => {}
                    // A broken scenario may still own references: never call them orphans.
                    Err(_) => wanted.push(parse::scenario_name(&scen, f)),
                }
            }
            let orphans = snapshot::orphans(&root, &wanted);
            for o in &orphans {
                println!("{}", o.display());
            }
            if orphans.is_empty() {
                println!("no orphan references under {}", root.display());
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "{} reference file(s) under {} belong to no scenario that compares snapshots",
                    orphans.len(),
                    root.display()
                );
                ExitCode::from(1)
            }
        }
        SnapshotAction::Calibrate { report } => calibrate(&report),
    }
}

fn resolve(root: &std::path::Path, filter: Option<String>, accept: bool) -> ExitCode {
    match crate::snapshot::resolve_pending(root, filter.as_deref(), accept) {
        Ok(done) => {
            for f in &done {
                println!(
                    "{} {}",
                    if accept { "accepted" } else { "rejected" },
                    f.display()
                );
            }
            println!(
                "{} file(s) {}",
                done.len(),
                if accept { "accepted" } else { "rejected" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn calibrate(report: &std::path::Path) -> ExitCode {
    let text = match std::fs::read_to_string(report) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", report.display());
            return ExitCode::from(2);
        }
    };
    let parsed: crate::model::RunReport = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {} is not a report.json: {e}", report.display());
            return ExitCode::from(2);
        }
    };
    let mut any = false;
    for s in &parsed.scenarios {
        if let Some(c) = &s.calibration {
            any = true;
            let b = crate::snapshot::suggest(c);
            let seen = match (c.min_psnr, c.min_ssim, c.max_block_diff) {
                (Some(p), Some(ss), Some(bl)) => format!(
                    "lowest psnr {p:.1} dB, lowest ssim {ss:.4}, worst block {bl:.2} levels"
                ),
                _ => format!(
                    "max distance {}, min similarity {:.4} (no full-size figures in this report)",
                    c.max_distance, c.min_similarity
                ),
            };
            println!(
                "{}: {} pairs, {seen} -> suggest snapshot: {{pass: {{psnr: {}, ssim: {}, block: {}}}}}",
                s.name, c.pairs, b.psnr, b.ssim, b.block
            );
        }
    }
    if !any {
        println!("no calibration data: run scenarios with `repeat: 5` (or more) and snapshot.compare on, then calibrate");
    }
    ExitCode::SUCCESS
}
