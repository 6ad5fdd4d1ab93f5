//! `endpoint-harness run`: the scenario suite without cargo, the same entry
//! point as a `tests/scenarios.rs` test target. Its flags mirror the
//! environment variables (a flag wins over its variable); what follows `--`
//! is libtest's (filters, `--exact`, `--skip`, `--list`, `--test-threads`,
//! `--include-ignored`).

use std::path::PathBuf;
use std::process::ExitCode;

/// `run [FLAGS] [-- LIBTEST ARGS]`.
#[derive(clap::Args)]
pub(crate) struct RunArgs {
    /// `mock` (embedded), `live`, `local` or `comfyui` (HARNESS_TARGET).
    #[arg(long, value_parser = ["mock", "live", "local", "comfyui"])]
    target: Option<String>,
    /// The scenario folder (HARNESS_SCENARIOS, default scenarios/).
    #[arg(long, value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// The report folder (HARNESS_REPORTS, default reports/).
    #[arg(long, value_name = "DIR")]
    reports: Option<PathBuf>,
    /// Mock behaviours of your own, over the built-in ones (HARNESS_MOCKS, default mocks/).
    #[arg(long, value_name = "DIR")]
    mocks: Option<PathBuf>,
    /// `verify` or `update` the reference snapshots (HARNESS_SNAPSHOTS).
    #[arg(long, value_name = "MODE", value_parser = ["verify", "update"])]
    snapshots: Option<String>,
    /// The reference folder (HARNESS_SNAPSHOT_DIR, default snapshots/).
    #[arg(long, value_name = "DIR")]
    snapshot_dir: Option<PathBuf>,
    /// Run only shard K of N, `hash:K/N` (HARNESS_PARTITION).
    #[arg(long, value_name = "hash:K/N")]
    partition: Option<String>,
    /// Filters and libtest's own flags, after `--`: `-- sdxl/ --skip slow`,
    /// `-- --exact sd15/txt2img-basic`, `-- --list`, `-- --include-ignored`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "LIBTEST ARGS"
    )]
    args: Vec<String>,
}

impl RunArgs {
    pub(crate) fn run(self) -> ExitCode {
        let path = |p: PathBuf| p.to_string_lossy().into_owned();
        let overrides: Vec<(&'static str, String)> = [
            ("HARNESS_TARGET", self.target),
            ("HARNESS_SCENARIOS", self.scenarios.map(path)),
            ("HARNESS_REPORTS", self.reports.map(path)),
            ("HARNESS_MOCKS", self.mocks.map(path)),
            ("HARNESS_SNAPSHOTS", self.snapshots),
            ("HARNESS_SNAPSHOT_DIR", self.snapshot_dir.map(path)),
            ("HARNESS_PARTITION", self.partition),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        if !crate::settings::Env::capture_with(&overrides) && !overrides.is_empty() {
            eprintln!("error: the environment was read before the flags were applied");
            return ExitCode::from(crate::settings::EXIT_SETUP);
        }
        let argv = std::iter::once("endpoint-harness run".to_string()).chain(self.args);
        crate::run::main_with_argv(argv.collect())
    }
}
