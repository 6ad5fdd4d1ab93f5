//! `endpoint-harness provision [--file F] [--image I] [--no-cost-cap] [-- ARGS]`
//! runs the suite on a throwaway endpoint created from a worker image (the
//! same as `HARNESS_PROVISION=F cargo test --test scenarios`), and
//! `endpoint-harness provision cleanup [--older-than 6h]` deletes what killed
//! runs left, for CI's always-step.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::common::env_path;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ProvisionArgs {
    #[command(subcommand)]
    action: Option<Action>,
    /// The provision file (image, GPU pools, workers, timeouts).
    #[arg(
        long,
        value_name = "FILE",
        env = "HARNESS_PROVISION",
        default_value = "provision.yaml"
    )]
    file: PathBuf,
    /// The worker image, overriding the file's `image:` (e.g. the tag CI just pushed).
    #[arg(long, value_name = "IMAGE", env = "HARNESS_PROVISION_IMAGE")]
    image: Option<String>,
    /// Create the endpoint even though HARNESS_MAX_COST is not set.
    #[arg(long)]
    no_cost_cap: bool,
    /// libtest arguments for the suite (filters, --include-ignored, ...).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Subcommand)]
enum Action {
    /// Delete endpoints that killed runs left: by the state files under the
    /// reports folder, and by name prefix among the account's endpoints.
    Cleanup {
        /// Leave endpoints younger than this alone (a run may still use them).
        #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = humantime::parse_duration)]
        older_than: Duration,
        /// The reports folder whose `.provision/` state files to use (default: $HARNESS_REPORTS or reports/).
        #[arg(long, value_name = "DIR")]
        reports: Option<PathBuf>,
        /// The name prefix (default: the provision file's `name_prefix`, else `eh`).
        #[arg(long)]
        prefix: Option<String>,
        /// Only the state files: leave endpoints found by prefix alone (for a
        /// CI always-step, where other runs may be using endpoints of the same prefix).
        #[arg(long)]
        state_only: bool,
        /// The provision file to take the prefix from.
        #[arg(
            long,
            value_name = "FILE",
            env = "HARNESS_PROVISION",
            default_value = "provision.yaml"
        )]
        file: PathBuf,
    },
}

impl ProvisionArgs {
    pub(crate) fn run(self) -> ExitCode {
        match self.action {
            Some(Action::Cleanup {
                older_than,
                reports,
                prefix,
                state_only,
                file,
            }) => cleanup(older_than, reports, prefix, state_only, &file),
            None => {
                crate::tools::provision::set_from_cli(crate::tools::provision::Options {
                    file: self.file,
                    image: self.image,
                    no_cost_cap: self.no_cost_cap,
                });
                let argv =
                    std::iter::once("endpoint-harness provision".to_string()).chain(self.args);
                crate::run::main_with_argv(argv.collect())
            }
        }
    }
}

fn cleanup(
    older_than: Duration,
    reports: Option<PathBuf>,
    prefix: Option<String>,
    state_only: bool,
    file: &std::path::Path,
) -> ExitCode {
    let var = crate::settings::Env::process().reader();
    let api = match crate::tools::provision::manager(&var) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let prefix = prefix.unwrap_or_else(|| {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|t| crate::text::yaml::from_str::<crate::tools::provision::SpecFile>(&t).ok())
            .and_then(|s| s.name_prefix)
            .unwrap_or_else(|| "eh".into())
    });
    let reports = reports.unwrap_or_else(|| env_path("HARNESS_REPORTS", "reports"));
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let by_prefix = (!state_only).then_some(prefix.as_str());
    let done = rt.block_on(crate::tools::provision::cleanup(
        &api, &reports, by_prefix, older_than,
    ));
    let scope = match by_prefix {
        Some(p) => format!("prefix `{p}-`"),
        None => "state files only".into(),
    };
    println!(
        "provision cleanup ({} via {}, {scope}, older than {}): {} deleted, {} kept, {} failed",
        reports.display(),
        api.base(),
        humantime::format_duration(older_than),
        done.deleted.len(),
        done.kept.len(),
        done.failed.len()
    );
    for id in &done.deleted {
        println!("  deleted {id}");
    }
    for k in &done.kept {
        println!("  kept {k}");
    }
    for f in &done.failed {
        println!("  FAILED {f}");
    }
    if done.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
