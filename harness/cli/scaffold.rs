//! `endpoint-harness new` (a scenario from an exported workflow) and
//! `endpoint-harness import-hub` (scenarios from a RunPod Hub tests.json).

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::env_path;

/// `new NAME --workflow FILE`: scaffold a scenario from an exported (API-format) workflow.
#[derive(clap::Args)]
pub(crate) struct NewArgs {
    /// Scenario name, e.g. `sdxl/portrait` (becomes scenarios/sdxl/portrait.yaml).
    name: String,
    /// The workflow exported with Workflow > Export (API).
    #[arg(long)]
    workflow: PathBuf,
    /// Scenario folder (default: $HARNESS_SCENARIOS or scenarios/).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

impl NewArgs {
    pub(crate) fn run(self) -> ExitCode {
        let dir = self
            .dir
            .unwrap_or_else(|| env_path("HARNESS_SCENARIOS", "scenarios"));
        match crate::tools::scaffold::new_scenario(&dir, &self.name, &self.workflow, self.force) {
            Ok(files) => {
                for f in files {
                    println!("wrote {}", f.display());
                }
                println!(
                    "run it: cargo test --test scenarios -- --exact {}",
                    self.name
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        }
    }
}

/// `import-hub TESTS.JSON [--out DIR]`: convert a RunPod Hub tests.json into scenario files.
#[derive(clap::Args)]
pub(crate) struct ImportHubArgs {
    /// The Hub test file (e.g. .runpod/tests.json).
    tests: PathBuf,
    /// Folder for the scenarios (workflows/ and fixtures/ go beside them).
    #[arg(long, default_value = "scenarios/hub")]
    out: PathBuf,
}

impl ImportHubArgs {
    pub(crate) fn run(self) -> ExitCode {
        match crate::tools::hub::import(&self.tests, &self.out) {
            Ok((files, remarks)) => {
                for f in &files {
                    println!("wrote {}", f.display());
                }
                for r in &remarks {
                    eprintln!("note: {r}");
                }
                println!(
                    "{} scenario(s) imported from {}",
                    files.len(),
                    self.tests.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        }
    }
}
