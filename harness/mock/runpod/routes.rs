//! The RunPod serverless v2 routes of the mock: run, runsync, status,
//! status-sync, cancel, retry, purge-queue, health, and the presigned
//! downloads of `s3_url` outputs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use crate::mock::behaviour::Route;
use crate::mock::runpod::jobs::{self, Phase};
use crate::mock::state::{error, Answer, Mock};
use crate::runpod::wire::{Health, JobState, PurgeAnswer, StatusAnswer};

pub(crate) async fn run(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let job = m.submit(&headers, &endpoint, &body, false).await?;
    Ok(Json(StatusAnswer::new(&job.id, JobState::InQueue)).into_response())
}

#[derive(serde::Deserialize)]
pub(crate) struct Wait {
    wait: Option<u64>,
}

/// Waits until the job is terminal or `wait` passes. `wait` is simulated time like
/// every other duration the mock sees, so RunPod's 90 s default stays proportionate
/// to the scaled job times.
pub(crate) async fn wait_for(m: &Mock, job: &jobs::Job, wait: Duration) {
    // A virtual run's time passes only by its own requests: answer at once.
    if crate::mock::runpod::clock::is_virtual() {
        return;
    }
    let until = Instant::now() + m.store.real(wait);
    loop {
        if matches!(m.store.phase(job), Phase::Done(_) | Phase::Expired) || Instant::now() >= until
        {
            return;
        }
        // Sleep until the job's scheduled end (or the wait's), waking at least every
        // 100 ms for a cancel: hundreds of waiting requests cost next to nothing.
        let now = Instant::now();
        let wake = m
            .store
            .ends_at(job)
            .unwrap_or(until)
            .min(until)
            .min(now + Duration::from_millis(100));
        tokio::time::sleep(wake.saturating_duration_since(now)).await;
    }
}

pub(crate) async fn runsync(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    Query(q): Query<Wait>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let job = m.submit(&headers, &endpoint, &body, true).await?;
    let wait = Duration::from_millis(q.wait.unwrap_or(90_000).clamp(1000, 300_000));
    wait_for(&m, &job, wait).await;
    match m.store.phase(&job) {
        Phase::Queued => Ok(Json(StatusAnswer::new(&job.id, JobState::InQueue)).into_response()),
        _ => m.status_of(&job).await,
    }
}

pub(crate) async fn status(
    State(m): State<Arc<Mock>>,
    Path((endpoint, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let job = m.store.get(&endpoint, &id);
    m.enter(&headers, &endpoint, Route::Status, job.as_deref())
        .await?;
    let job = m.job(&endpoint, &id)?;
    m.status_of(&job).await
}

pub(crate) async fn status_sync(
    State(m): State<Arc<Mock>>,
    Path((endpoint, id)): Path<(String, String)>,
    Query(q): Query<Wait>,
    headers: HeaderMap,
) -> Answer {
    let job = m.store.get(&endpoint, &id);
    m.enter(&headers, &endpoint, Route::StatusSync, job.as_deref())
        .await?;
    let job = m.job(&endpoint, &id)?;
    wait_for(
        &m,
        &job,
        Duration::from_millis(q.wait.unwrap_or(90_000).clamp(1000, 300_000)),
    )
    .await;
    m.status_of(&job).await
}

pub(crate) async fn cancel(
    State(m): State<Arc<Mock>>,
    Path((endpoint, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let job = m.store.get(&endpoint, &id);
    m.enter(&headers, &endpoint, Route::Cancel, job.as_deref())
        .await?;
    let job = m.job(&endpoint, &id)?;
    if m.store.cancel(&job) {
        Ok(Json(StatusAnswer::new(&job.id, JobState::Cancelled)).into_response())
    } else {
        m.status_of(&job).await
    }
}

pub(crate) async fn retry(
    State(m): State<Arc<Mock>>,
    Path((endpoint, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    m.enter(&headers, &endpoint, Route::Retry, None).await?;
    let job = m.job(&endpoint, &id)?;
    if matches!(m.store.phase(&job), Phase::Done(_)) {
        m.store.outcome(&job, &m.base_url).await;
    }
    if m.store.retry(&job) {
        Ok(Json(StatusAnswer::new(&job.id, JobState::InQueue)).into_response())
    } else {
        Err(error(
            StatusCode::BAD_REQUEST,
            format!("job {id} is not FAILED or TIMED_OUT and cannot be retried"),
        ))
    }
}

pub(crate) async fn purge(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
) -> Answer {
    m.enter(&headers, &endpoint, Route::PurgeQueue, None)
        .await?;
    let mut removed = 0;
    for job in m.store.jobs_of(&endpoint) {
        if m.store.phase(&job) == Phase::Queued {
            m.store.remove(&job.id);
            removed += 1;
        }
    }
    Ok(Json(PurgeAnswer {
        removed,
        status: "completed".into(),
    })
    .into_response())
}

pub(crate) async fn health(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let b = m.enter(&headers, &endpoint, Route::Health, None).await?;
    let (mut queued, mut running, mut completed, mut failed, mut retried) = (0i64, 0i64, 0, 0, 0);
    for job in m.store.jobs_of(&endpoint) {
        retried += i64::from(job.m.lock().unwrap_or_else(|e| e.into_inner()).retries);
        match m.store.phase(&job) {
            Phase::Queued => queued += 1,
            Phase::Running => running += 1,
            Phase::Done(_) => {
                let o = m.store.outcome(&job, &m.base_url).await;
                if o.status == JobState::Completed {
                    completed += 1
                } else {
                    failed += 1
                }
            }
            Phase::Expired => {}
        }
    }
    // A scaling endpoint reports its pool; a stuck one has no worker at all;
    // otherwise a small pool with one idle when free.
    let mut initializing = 0;
    let (idle, ready) = if let Some(c) = m.store.cluster(&endpoint) {
        let n = c.counts();
        (queued, running, initializing) = (n.in_queue, n.running, n.initializing);
        (n.idle, n.idle)
    } else if b.stuck || b.scaling.is_some() {
        (0, 0)
    } else {
        (i64::from(running == 0), i64::from(running == 0))
    };
    let counts = |pairs: &[(&str, i64)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<BTreeMap<String, i64>>()
    };
    Ok(Json(Health {
        jobs: counts(&[
            ("completed", completed),
            ("failed", failed),
            ("inProgress", running),
            ("inQueue", queued),
            ("retried", retried),
        ]),
        workers: counts(&[
            ("idle", idle),
            ("initializing", initializing),
            ("ready", ready),
            ("running", running),
            ("throttled", 0),
            ("unhealthy", 0),
        ]),
    })
    .into_response())
}

pub(crate) async fn download(
    State(m): State<Arc<Mock>>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    // Presigned URLs carry their credentials; without the signature, S3 says 403.
    if !q.contains_key("X-Amz-Signature") {
        return Err(error(StatusCode::FORBIDDEN, "missing signature"));
    }
    match m.store.file(&key) {
        Some(bytes) => Ok(([("content-type", "image/png")], bytes).into_response()),
        None => Err(error(StatusCode::NOT_FOUND, "NoSuchKey")),
    }
}
