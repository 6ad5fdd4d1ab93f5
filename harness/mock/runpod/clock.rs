//! The mock's notion of "now" for one request: the machine's instant, or the
//! virtual instant a load run sends in `X-Harness-Sim: <run>@<ms>` (see the
//! harness's `clock` module). A virtual request is placed on a timeline of its
//! own run, starting when the mock first sees that run, so its job times,
//! worker pool and queue depend only on the run's requests; the mock never
//! waits in real time for it (long polls and `/runsync` answer at once).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// The instant a request is served at.
#[derive(Clone, Debug)]
pub(crate) struct At {
    pub at: Instant,
    /// The virtual run, when the request came from one.
    pub run: Option<String>,
}

tokio::task_local! {
    static AT: At;
}

/// Where each virtual run's timeline starts (real instants), and the speed
/// that turns a run's virtual ms into the store's real-time scale.
pub(crate) struct Runs {
    starts: Mutex<HashMap<String, Instant>>,
    speed: f64,
}

/// Virtual runs remembered at most (each costs a few bytes; a long-lived
/// standalone mock forgets the oldest beyond this).
const MAX_RUNS: usize = 10_000;

impl Runs {
    pub(crate) fn new(speed: f64) -> Self {
        Runs {
            starts: Mutex::default(),
            speed: speed.max(1e-6),
        }
    }

    /// The instant of `value` (`run@ms`), or None when it does not parse.
    fn at(&self, value: &str) -> Option<At> {
        let (run, ms) = value.rsplit_once('@')?;
        let ms: u64 = ms.trim().parse().ok()?;
        if run.is_empty() || run.len() > 128 {
            return None;
        }
        let mut starts = self.starts.lock().unwrap_or_else(|e| e.into_inner());
        if starts.len() >= MAX_RUNS && !starts.contains_key(run) {
            if let Some(oldest) = starts
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| k.clone())
            {
                starts.remove(&oldest);
            }
        }
        let start = *starts.entry(run.to_string()).or_insert_with(Instant::now);
        Some(At {
            at: start + Duration::from_millis(ms).div_f64(self.speed),
            run: Some(run.to_string()),
        })
    }
}

/// Middleware: serves the request at its virtual instant when it carries one.
pub(crate) async fn layer(runs: std::sync::Arc<Runs>, req: Request, next: Next) -> Response {
    let at = req
        .headers()
        .get(crate::clock::SIM_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| runs.at(v));
    match at {
        Some(at) => AT.scope(at, next.run(req)).await,
        None => next.run(req).await,
    }
}

/// Now, for the request being served.
pub(crate) fn now() -> Instant {
    AT.try_with(|a| a.at).unwrap_or_else(|_| Instant::now())
}

/// The virtual run of the request being served, if any.
pub(crate) fn run() -> Option<String> {
    AT.try_with(|a| a.run.clone()).ok().flatten()
}

/// Whether the request being served is on a virtual timeline (so nothing may
/// wait for real time to pass).
pub(crate) fn is_virtual() -> bool {
    run().is_some()
}

/// Runs blocking work (`spawn_blocking`) at the current request's instant.
pub(crate) fn carry<T>(f: impl FnOnce() -> T) -> impl FnOnce() -> T {
    let at = AT.try_with(Clone::clone).ok();
    move || match at {
        Some(at) => AT.sync_scope(at, f),
        None => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_starts_its_own_timeline_and_scales_by_speed() {
        let runs = Runs::new(100.0);
        let a0 = runs.at("a@0").unwrap();
        let a1 = runs.at("a@10000").unwrap();
        assert_eq!(a1.at - a0.at, Duration::from_millis(100));
        assert_eq!(a1.run.as_deref(), Some("a"));
        assert!(runs.at("nonsense").is_none());
        assert!(runs.at("@5").is_none());
        assert!(runs.at("a@x").is_none());
    }
}
