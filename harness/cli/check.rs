//! `endpoint-harness check`: every scenario loaded and validated offline, every
//! diagnostic printed with `file:line:col`; exit 1 if any file is bad.

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::env_path;
use crate::scenario::load;

/// `check [PATH]`: lint scenario files without running anything; exit 1 on any error.
#[derive(clap::Args)]
pub(crate) struct CheckArgs {
    /// Scenario folder or file (default: $HARNESS_SCENARIOS or scenarios/).
    path: Option<PathBuf>,
}

impl CheckArgs {
    pub(crate) fn run(self) -> ExitCode {
        check(self.path)
    }
}

fn check(path: Option<PathBuf>) -> ExitCode {
    let root = path.unwrap_or_else(|| env_path("HARNESS_SCENARIOS", "scenarios"));
    let files = if root.is_file() {
        vec![root.clone()]
    } else {
        match crate::runner::discover(&root) {
            Ok(f) if !f.is_empty() => f,
            Ok(_) => {
                eprintln!(
                    "error: no scenario files (*.yaml) found under {}",
                    root.display()
                );
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let base = if root.is_file() {
        root.parent().map(PathBuf::from).unwrap_or_default()
    } else {
        root.clone()
    };
    let mut bad = 0;
    for f in &files {
        if let Err(diags) = load::load(f, &base) {
            bad += 1;
            eprintln!("{diags}\n");
        }
    }
    if bad > 0 {
        eprintln!("{bad} of {} scenario file(s) have errors", files.len());
        ExitCode::from(1)
    } else {
        println!("{} scenario file(s) OK", files.len());
        ExitCode::SUCCESS
    }
}
