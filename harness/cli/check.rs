//! `endpoint-harness check`: every scenario loaded and validated offline, every
//! diagnostic printed with `file:line:col`; exit 1 if any file is bad. With a
//! node inventory (`--inventory`), every graph is also preflighted as ComfyUI
//! would validate it, and UI-format saves are converted.

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::env_path;
use crate::comfyui::inventory::Inventory;
use crate::scenario::{parse, ExpectedStatus};

/// `check [PATH]`: lint scenario files without running anything; exit 1 on any error.
#[derive(clap::Args)]
pub(crate) struct CheckArgs {
    /// Scenario folder or file (default: $HARNESS_SCENARIOS or scenarios/).
    path: Option<PathBuf>,
    /// The target's node inventory (`endpoint-harness inventory --comfyui URL`):
    /// preflight every graph against it as ComfyUI would.
    #[arg(long, env = "HARNESS_INVENTORY", value_name = "FILE")]
    inventory: Option<PathBuf>,
}

impl CheckArgs {
    pub(crate) fn run(self) -> ExitCode {
        let inventory = match self.inventory.as_deref().map(Inventory::load).transpose() {
            Ok(inv) => inv,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        check(self.path, inventory.as_ref())
    }
}

fn check(path: Option<PathBuf>, inventory: Option<&Inventory>) -> ExitCode {
    let root = path.unwrap_or_else(|| env_path("HARNESS_SCENARIOS", "scenarios"));
    let files = if root.is_file() {
        vec![root.clone()]
    } else {
        match crate::run::discover(&root) {
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
    let opts = parse::LoadOptions {
        inventory,
        preflight: inventory.is_some(),
    };
    let mut bad = 0;
    let mut negative = 0;
    for f in &files {
        match parse::load_with(f, &base, opts) {
            Err(diags) => {
                bad += 1;
                eprintln!("{diags}\n");
            }
            Ok(s) if s.expect.status != ExpectedStatus::Completed => negative += 1,
            Ok(_) => {}
        }
    }
    let against = match inventory {
        Some(inv) if negative > 0 => format!(
            ", preflighted against {} node types ({negative} expecting a failure were not)",
            inv.len()
        ),
        Some(inv) => format!(", preflighted against {} node types", inv.len()),
        None => String::new(),
    };
    if bad > 0 {
        eprintln!(
            "{bad} of {} scenario file(s) have errors{against}",
            files.len()
        );
        ExitCode::from(1)
    } else {
        println!("{} scenario file(s) OK{against}", files.len());
        ExitCode::SUCCESS
    }
}
