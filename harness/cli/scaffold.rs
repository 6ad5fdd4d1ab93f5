//! `endpoint-harness init` (a repository of one's own made ready),
//! `endpoint-harness new` (a scenario from an exported workflow) and
//! `endpoint-harness import-hub` (scenarios from a RunPod Hub tests.json).

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::env_path;

/// `init [DIR]`: a starter scenario, the scenario schema, a .gitignore and a CI workflow.
#[derive(clap::Args)]
pub(crate) struct InitArgs {
    /// The folder to make ready (default: the current one).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Build endpoint-harness in CI with `cargo install --locked ARGS` (e.g.
    /// `--git URL endpoint-harness` for a fork, `--path ../eh` for a checkout)
    /// instead of the default: the released GitHub Action, which installs a
    /// prebuilt wheel of this version.
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    install: Option<String>,
    /// Overwrite the starter files if they exist.
    #[arg(long)]
    force: bool,
}

impl InitArgs {
    pub(crate) fn run(self) -> ExitCode {
        match crate::tools::init::init(&self.dir, self.install.as_deref(), self.force) {
            Ok(files) => {
                for f in &files {
                    println!("wrote {}", self.dir.join(f).display());
                }
                println!(
                    "\nnext:\n  endpoint-harness run                      # the starter scenario against the embedded mock\n  \
                     endpoint-harness new NAME --workflow FILE # a scenario from your workflow (Export (API))\n  \
                     RUNPOD_API_KEY=... RUNPOD_ENDPOINT_ID=... endpoint-harness run --target live"
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

/// `new NAME --workflow FILE`: scaffold a scenario from an exported (API-format) workflow.
#[derive(clap::Args)]
pub(crate) struct NewArgs {
    /// Scenario name, e.g. `sdxl/portrait` (becomes scenarios/sdxl/portrait.yaml).
    name: String,
    /// The workflow exported with Workflow > Export (API).
    #[arg(long)]
    workflow: PathBuf,
    /// Scenario folder (default: $HARNESS_SCENARIOS or scenarios/).
    #[arg(long = "scenarios", alias = "dir", value_name = "DIR")]
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
                    "run it: endpoint-harness run -- --exact {} (in a crate: cargo test --test scenarios -- --exact {})",
                    self.name, self.name
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
    #[arg(short, long, value_name = "DIR", default_value = "scenarios/hub")]
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
