//! Ctrl-C and SIGTERM: stop submitting, cancel every job in flight, tear down
//! a provisioned endpoint, write the reports of what finished, exit 130.

use std::sync::Arc;
use std::time::Duration;

use super::ctx::Ctx;
use crate::settings::EXIT_INTERRUPTED;

/// Spawns the task that waits for a signal on the run's runtime.
pub(crate) fn install(ctx: &Arc<Ctx>, runtime: &tokio::runtime::Runtime) {
    let ctx = ctx.clone();
    runtime.spawn(async move {
        wait_for_signal().await;
        eprintln!("endpoint-harness: interrupted: cancelling the jobs in flight");
        let (ok, failed) = crate::runpod::job::interrupt(Duration::from_secs(5)).await;
        let failed = if failed > 0 {
            format!(", {failed} could not be cancelled")
        } else {
            String::new()
        };
        eprintln!("endpoint-harness: cancelled {ok} job(s){failed}");
        if let Some(p) = &ctx.provision {
            let r = p.teardown().await;
            *ctx.provision_report
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(r);
        }
        super::write::write_reports(&ctx);
        std::process::exit(EXIT_INTERRUPTED);
    });
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
