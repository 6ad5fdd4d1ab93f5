//! The workers and queue over a load run: `/health` read every
//! `sample_every` while the run lasts (targets without `/health` give none).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock;

use crate::model::HealthPoint;
use crate::targets::Target;

/// Samples `/health` into `seen` until `stop` is set (on a virtual clock the
/// run drops this task instead: it cannot wait for a sleeper).
pub(super) async fn sample(
    target: Arc<dyn Target>,
    every: Duration,
    start: Instant,
    stop: Arc<std::sync::atomic::AtomicBool>,
    seen: Arc<Mutex<Vec<HealthPoint>>>,
) {
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let asked = clock::now();
        match tokio::time::timeout(Duration::from_secs(10), target.health()).await {
            Ok(Ok(h)) => seen.lock().unwrap_or_else(|e| e.into_inner()).push(HealthPoint {
                at_ms: clock::since(start).as_millis() as u64,
                idle: h.worker("idle"),
                running: h.worker("running"),
                initializing: h.worker("initializing"),
                throttled: h.worker("throttled"),
                in_queue: h.job("inQueue"),
                in_progress: h.job("inProgress"),
            }),
            // No /health on this target (ComfyUI, a local worker): nothing to sample.
            Ok(Err(e)) if matches!(e.kind, crate::http::ErrorKind::Unsupported(_)) => break,
            _ => {}
        }
        clock::sleep(every.saturating_sub(clock::since(asked))).await;
    }
}
