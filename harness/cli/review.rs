//! `endpoint-harness review`: the pending snapshot candidates as a page on
//! 127.0.0.1, to accept or reject one by one (`snapshots accept` stays for terminals).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::common::env_path;

/// `review [--snapshot-dir DIR] [--port PORT]`.
#[derive(clap::Args)]
pub(crate) struct ReviewArgs {
    /// Reference folder (default: $HARNESS_SNAPSHOT_DIR or snapshots/).
    #[arg(long = "snapshot-dir", value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Port to listen on, on 127.0.0.1 only (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

impl ReviewArgs {
    pub(crate) fn run(self) -> ExitCode {
        let root = self
            .dir
            .unwrap_or_else(|| env_path("HARNESS_SNAPSHOT_DIR", "snapshots"));
        let pending = crate::snapshot::pending(&root)
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(".png.new"))
            .count();
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("error: no runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        let served = rt.block_on(async {
            let serve = crate::tools::review::serve(root.clone(), self.port, |addr| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "review {pending} pending candidate(s) under {} at http://{addr}/ (Ctrl-C to stop)",
                    crate::paths::display_path(&root).display()
                );
                let _ = out.flush();
            });
            tokio::select! {
                r = serve => r,
                _ = tokio::signal::ctrl_c() => Ok(()),
            }
        });
        match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "error: cannot serve the review page on 127.0.0.1:{}: {e}",
                    self.port
                );
                ExitCode::FAILURE
            }
        }
    }
}
