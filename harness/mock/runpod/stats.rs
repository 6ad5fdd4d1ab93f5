//! `GET /_mock/stats`: mock-only introspection for tests and benchmarks.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::mock::runpod::jobs::Phase;
use crate::mock::state::{error, Answer, Mock};

/// Mock-only introspection: requests seen per `endpoint route` (after auth) and jobs
/// created per endpoint. Tests use it to prove a job was submitted exactly once.
pub(crate) async fn stats(State(m): State<Arc<Mock>>, headers: HeaderMap) -> Answer {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth.strip_prefix("Bearer ").unwrap_or(auth) != m.opts.api_key {
        return Err(error(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    let requests = m.stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut jobs: BTreeMap<String, usize> = BTreeMap::new();
    let mut done_at: BTreeMap<String, u64> = BTreeMap::new();
    let now_unix = std::time::SystemTime::now();
    for id in m.opts.endpoints.keys() {
        jobs.insert(id.clone(), m.store.created(id));
        for job in m.store.jobs_of(id) {
            if let Phase::Done(at) = m.store.phase(&job) {
                let unix = (now_unix - at.elapsed())
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0);
                done_at.insert(job.id.clone(), unix);
            }
        }
    }
    // done_at: when each finished job ended (unix ms), for detection-lag benchmarks.
    let (held_jobs, held_files) = m.store.held();
    Ok(Json(json!({
        "requests": requests,
        "jobs_created": jobs,
        "done_at": done_at,
        "held_jobs": held_jobs,
        "held_files": held_files
    }))
    .into_response())
}
