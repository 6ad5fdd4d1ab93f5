//! The workers and queue over a load run: `/health` read every
//! `sample_every` while the run lasts (targets without `/health` give none).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::HealthPoint;
use crate::targets::Target;

/// Samples `/health` until `stop` is set; returns what it saw.
pub(super) async fn sample(
    target: Arc<dyn Target>,
    every: Duration,
    start: Instant,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<HealthPoint> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let asked = Instant::now();
        match tokio::time::timeout(Duration::from_secs(10), target.health()).await {
            Ok(Ok(h)) => seen.lock().unwrap_or_else(|e| e.into_inner()).push(HealthPoint {
                at_ms: start.elapsed().as_millis() as u64,
                idle: h.worker("idle"),
                running: h.worker("running"),
                initializing: h.worker("initializing"),
                throttled: h.worker("throttled"),
                in_queue: h.job("inQueue"),
                in_progress: h.job("inProgress"),
            }),
            // No /health on this target (ComfyUI, a local worker): nothing to sample.
            Ok(Err(e)) if matches!(e.kind, crate::client::ErrorKind::Unsupported(_)) => break,
            _ => {}
        }
        tokio::time::sleep(every.saturating_sub(asked.elapsed())).await;
    }
    let out = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    out
}
