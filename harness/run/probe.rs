//! Live targets: read `/health` once before the first job and say up front
//! when no worker can start, instead of letting every scenario wait; an
//! endpoint that cannot be reached or refuses the key stops the run once
//! (every trial fails with one line pointing here), instead of failing each
//! scenario with the same transport error.

use std::time::Duration;

use super::ctx::Ctx;
use crate::targets::Kind;

/// Reads `/health` once (live targets only) and prints what it says.
pub(crate) fn preflight(ctx: &Ctx, any: Option<&crate::scenario::Scenario>) {
    if matches!(ctx.target.kind, Kind::Local | Kind::Comfyui) && !ctx.target.uses_mock() {
        return listening(ctx);
    }
    if ctx.target.kind != Kind::Live {
        return;
    }
    let Some(Ok(target)) = any.map(|s| ctx.target_for(s)) else {
        return;
    };
    // Under nextest, once per run (the first process to get here), not once per
    // trial; the others learn an unreachable endpoint from the file it leaves.
    let shared = ctx.settings.nextest_run.as_ref().map(|run| {
        crate::results::shards::fragments_dir(&ctx.settings.reports, run).join("unreachable")
    });
    if let Some(run) = &ctx.settings.nextest_run {
        if !crate::results::shards::first_to_claim(&ctx.settings.reports, run, "preflight") {
            if let Some(why) = shared
                .as_ref()
                .and_then(|f| std::fs::read_to_string(f).ok())
            {
                let _ = ctx.unreachable.set(why);
            }
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
        Ok(Err(e)) if unreachable(&e.kind) => {
            eprintln!(
                "endpoint-harness: error: preflight: {e}: no job will be sent to the {}",
                ctx.target
            );
            let why = match e.kind {
                crate::http::ErrorKind::Unauthorized => "the endpoint refused the API key",
                _ => "the endpoint cannot be reached",
            }
            .to_string();
            if let Some(f) = &shared {
                let _ = crate::paths::atomic_write(f, why.as_bytes());
            }
            let _ = ctx.unreachable.set(why);
        }
        Ok(Err(e)) => eprintln!("endpoint-harness: warning: preflight {e}"),
        Err(_) => {
            eprintln!("endpoint-harness: warning: preflight GET /health: no answer within 10s")
        }
    }
}

/// An answer that no job can get past: nothing listens, or the key is refused.
/// (A 404 is not: a proxy may serve `/run` and `/status` without `/health`.)
fn unreachable(kind: &crate::http::ErrorKind) -> bool {
    matches!(
        kind,
        crate::http::ErrorKind::Transport(_) | crate::http::ErrorKind::Unauthorized
    )
}

/// A local worker or a ComfyUI (neither has RunPod's `/health`): is anything
/// listening at its address? Nothing is a stop for the whole run, said once.
fn listening(ctx: &Ctx) {
    let Some(url) = ctx
        .target
        .url
        .as_deref()
        .and_then(|u| reqwest::Url::parse(u).ok())
    else {
        return;
    };
    let (Some(host), Some(port)) = (
        url.host_str().map(str::to_string),
        url.port_or_known_default(),
    ) else {
        return;
    };
    let connect = ctx.handle.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(5),
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
    });
    if let Ok(Err(e)) = connect {
        eprintln!(
            "endpoint-harness: error: preflight: nothing answers at {}:{port} ({e}): no job will be sent to the {}",
            host, ctx.target
        );
        let _ = ctx
            .unreachable
            .set(format!("nothing answers at {host}:{port}"));
    }
}
