//! Live targets: read `/health` once before the first job and say up front
//! when no worker can start, instead of letting every scenario wait.

use std::time::Duration;

use super::ctx::Ctx;
use crate::targets::Kind;

/// Reads `/health` once (live targets only) and prints what it says.
pub(crate) fn preflight(ctx: &Ctx, any: Option<&crate::scenario::Scenario>) {
    if ctx.target.kind != Kind::Live {
        return;
    }
    let Some(Ok(target)) = any.map(|s| ctx.target_for(s)) else {
        return;
    };
    // Under nextest, once per run (the first process to get here), not once per trial.
    if let Some(run) = &ctx.settings.nextest_run {
        if !crate::results::shards::first_to_claim(&ctx.settings.reports, run, "preflight") {
            return;
        }
    }
    let health = ctx
        .handle
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), target.health()).await });
    match health {
        Ok(Ok(h)) => {
            let throttled = h.worker("throttled");
            eprintln!("endpoint-harness: preflight /health: {}", h.describe());
            if throttled > 0 || (h.no_worker_can_start() && h.job("inQueue") > 0) {
                eprintln!(
                    "endpoint-harness: warning: no worker can start right now ({}); jobs that stay IN_QUEUE longer than {} fail with this diagnosis (HARNESS_QUEUE_GRACE)",
                    if throttled > 0 { "workers are throttled" } else { "jobs are queued and no worker is running" },
                    humantime::format_duration(ctx.settings.queue_grace)
                );
            }
        }
        Ok(Err(e)) => eprintln!("endpoint-harness: warning: preflight {e}"),
        Err(_) => {
            eprintln!("endpoint-harness: warning: preflight GET /health: no answer within 10s")
        }
    }
}
