//! `endpoint-harness report build` (a nextest run's fragments made into the
//! reports, once) and `endpoint-harness report merge OUT IN...` (shards made
//! into one report set, one history and one summary).

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::env_path;

/// `report build|merge`.
#[derive(clap::Args)]
pub(crate) struct ReportArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Build the reports of a nextest run from its fragments (run it after `cargo nextest run`).
    Build {
        /// The reports folder (default: $HARNESS_REPORTS or reports/).
        #[arg(long, value_name = "DIR")]
        reports: Option<PathBuf>,
        /// The run (default: $NEXTEST_RUN_ID, else the run written last).
        #[arg(long, value_name = "ID")]
        run: Option<String>,
    },
    /// Merge shards (report folders or fragment folders) into one report set in OUT.
    Merge {
        /// Where the merged reports go (its history.jsonl is kept and extended).
        out: PathBuf,
        /// Report folders (with report.json) or fragment folders (reports/.trials/<run>).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
}

impl ReportArgs {
    pub(crate) fn run(self) -> ExitCode {
        let (what, result) = match self.action {
            Action::Build { reports, run } => {
                let dir = reports.unwrap_or_else(|| env_path("HARNESS_REPORTS", "reports"));
                (
                    "built",
                    crate::results::shards::build(&dir, run.as_deref()).map(|r| (dir, r)),
                )
            }
            Action::Merge { out, inputs } => (
                "merged",
                crate::results::shards::merge(&out, &inputs).map(|r| (out, r)),
            ),
        };
        match result {
            Ok((dir, r)) => {
                let c = &r.counts;
                println!(
                    "{what} {} scenario(s) into {}: {} passed, {} failed, {} over budget, {} errors, {} timed out, {} ignored",
                    c.total,
                    dir.display(),
                    c.passed,
                    c.failed,
                    c.over_budget,
                    c.error,
                    c.timed_out,
                    c.ignored
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    }
}
