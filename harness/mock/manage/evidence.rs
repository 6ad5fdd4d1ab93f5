//! What the mock's management face says about the workers of a behaviour's
//! endpoint (the embedded mock's, or the standalone mock's "live" endpoint):
//! the workers list (GPU type, release, staleness), a worker's log stream as
//! RunPod serves it (Server-Sent Events of `{"source", "line", "ts"}` with
//! the `ts` as event id; `tail`, `since`, `source` and `Last-Event-ID`), and
//! the release history with a rollout that completes over simulated time.
//! The lines are made from the jobs the worker ran: when each started, what it
//! printed (the behaviour's `worker.logs`), how it ended (its error as a
//! traceback). Faults come from the behaviour (`on: logs`, `on: releases`, and
//! `worker.cut_logs_after` for a stream that drops).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::mock::behaviour::{Behaviour, Route};
use crate::mock::runpod::jobs::{Job, Phase, Store};
use crate::mock::state::{error, Answer, Mock};

/// The GPU type the workers list names when the behaviour does not say.
pub(crate) const DEFAULT_GPU: &str = "NVIDIA A40";

/// How long a log stream stays open after its history, waiting for live lines
/// that never come (the client stops reading first).
const LIVE_WAIT: Duration = Duration::from_secs(20);

/// The query of a log stream.
#[derive(serde::Deserialize)]
pub(crate) struct LogQuery {
    since: Option<String>,
    tail: Option<usize>,
    source: Option<String>,
}

/// Where a rolling release stands: (old version, new version, share on the new).
fn rollout(m: &Mock, b: &Behaviour) -> Option<(String, String, f64)> {
    let d = humantime::parse_duration(b.worker.rollout.as_deref()?).ok()?;
    let old = b.worker.version.clone().unwrap_or_else(|| "1".into());
    let new = old
        .parse::<u64>()
        .map_or_else(|_| format!("{old}+1"), |v| (v + 1).to_string());
    let elapsed = m.store.age().mul_f64(m.opts.speed);
    let share = if d.is_zero() {
        1.0
    } else {
        (elapsed.as_secs_f64() / d.as_secs_f64()).min(1.0)
    };
    Some((old, new, share))
}

/// The release a worker runs, given its place among the endpoint's workers.
fn version_of(m: &Mock, b: &Behaviour, index: usize, total: usize) -> (String, bool) {
    match rollout(m, b) {
        Some((old, new, share)) => {
            let on_new = (share * total as f64).floor() as usize;
            if index < on_new {
                (new, false)
            } else {
                (old, true)
            }
        }
        None => (
            b.worker.version.clone().unwrap_or_else(|| "1".into()),
            false,
        ),
    }
}

/// The workers of a behaviour's endpoint: one per worker id its jobs ran on.
pub(crate) fn workers(m: &Mock, id: &str, b: &Behaviour) -> Response {
    let jobs = m.store.jobs_of(id);
    let mut ids: Vec<(String, bool)> = Vec::new();
    for j in &jobs {
        let w = m.store.worker_of(j);
        let busy = matches!(m.store.phase(j), Phase::Running);
        match ids.iter_mut().find(|(x, _)| *x == w) {
            Some(entry) => entry.1 |= busy,
            None => ids.push((w, busy)),
        }
    }
    ids.sort();
    let total = ids.len();
    let gpu = b.worker.gpu.clone().unwrap_or_else(|| DEFAULT_GPU.into());
    let workers: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, (w, busy))| {
            let (version, stale) = version_of(m, b, i, total);
            json!({"id": w, "status": if *busy { "RUNNING" } else { "IDLE" }, "isStale": stale,
                   "version": version, "gpuCount": 1, "gpuTypeId": gpu})
        })
        .collect();
    let running = ids.iter().filter(|(_, b)| *b).count();
    axum::Json(json!({
        "workers": workers,
        "summary": {"running": running, "idle": total - running, "initializing": 0, "throttled": 0, "unhealthy": 0, "total": total},
    }))
    .into_response()
}

/// `GET /v2/serverless/{id}/releases`.
pub(crate) async fn releases(
    State(m): State<Arc<Mock>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let b = m.enter(&headers, &id, Route::Releases, None).await?;
    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let total = 3u64;
    let body = match rollout(&m, &b) {
        Some((old, new, share)) => {
            let on = (share * total as f64).floor() as u64;
            json!({
                "releases": [
                    {"version": new, "createdAt": now, "diff": {"image": "rolled"}},
                    {"version": old, "createdAt": now, "diff": {}},
                ],
                "rollout": {"inProgress": on < total, "workersOnLatest": on, "workersTotal": total,
                            "percentOnLatest": (on as f64 * 1000.0 / total as f64).round() / 10.0},
            })
        }
        None => {
            let v = b.worker.version.clone().unwrap_or_else(|| "1".into());
            json!({
                "releases": [{"version": v, "createdAt": now, "diff": {}}],
                "rollout": {"inProgress": false, "workersOnLatest": total, "workersTotal": total, "percentOnLatest": 100.0},
            })
        }
    };
    Ok(axum::Json(body).into_response())
}

/// `GET /v2/serverless/{id}/workers/{worker}/logs`.
pub(crate) async fn logs(
    State(m): State<Arc<Mock>>,
    Path((id, worker)): Path<(String, String)>,
    Query(q): Query<LogQuery>,
    headers: HeaderMap,
) -> Answer {
    let b = m.enter(&headers, &id, Route::Logs, None).await?;
    let jobs: Vec<Arc<Job>> = m
        .store
        .jobs_of(&id)
        .into_iter()
        .filter(|j| m.store.worker_of(j) == worker)
        .collect();
    if jobs.is_empty() {
        return Err(error(
            axum::http::StatusCode::NOT_FOUND,
            format!("worker {} not found", crate::text::truncate(&worker, 64)),
        ));
    }
    let mut lines: Vec<(SystemTime, &'static str, String)> = Vec::new();
    for j in &jobs {
        lines.extend(job_lines(&m, &b, j, &worker));
    }
    lines.sort_by_key(|l| l.0);
    if let Some(first) = lines.first().map(|l| l.0) {
        let mut boot = startup_lines(&b, first);
        boot.append(&mut lines);
        lines = boot;
    }
    let after = |t: &str| humantime::parse_rfc3339_weak(t).ok();
    if let Some(since) = q.since.as_deref().and_then(after) {
        lines.retain(|l| l.0 >= since);
    } else if let Some(last) = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(after)
    {
        lines.retain(|l| l.0 > last);
    } else {
        let tail = q.tail.unwrap_or(100).min(5000);
        let drop = lines.len().saturating_sub(tail);
        lines.drain(..drop);
    }
    if let Some(src) = q.source.as_deref() {
        lines.retain(|l| l.1 == src);
    }
    let events: Vec<Bytes> = lines
        .into_iter()
        .map(|(t, source, line)| {
            let ts = humantime::format_rfc3339_millis(t).to_string();
            Bytes::from(format!(
                "id: {ts}\ndata: {}\n\n",
                json!({"source": source, "line": line, "ts": ts})
            ))
        })
        .collect();
    let cut = b.worker.cut_logs_after;
    // A mock in real time holds the stream open for live lines, as RunPod
    // does; a fast-forwarded one (the embedded mock) ends it after the
    // history, so a red trial's evidence costs milliseconds, not the
    // client's quiet wait.
    let live = m.opts.speed <= 1.0;
    let stream = async_stream(events, cut, live);
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .expect("static response"))
}

/// The events, then either a dropped connection (`cut`) or a quiet wait for
/// live lines.
fn async_stream(
    events: Vec<Bytes>,
    cut: Option<usize>,
    live: bool,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let n = cut.unwrap_or(usize::MAX).min(events.len());
    let history = futures_util::stream::iter(events.into_iter().take(n).map(Ok));
    let tail: futures_util::stream::BoxStream<'static, Result<Bytes, std::io::Error>> =
        if cut.is_some() {
            // The lines go out first (as a worker's do, over time), then the drop:
            // an error at once would take the unsent response head with it.
            Box::pin(futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected: the log stream was cut",
                ))
            }))
        } else if live {
            Box::pin(futures_util::stream::once(async {
                tokio::time::sleep(LIVE_WAIT).await;
                Ok(Bytes::from_static(b": the mock has no live lines\n\n"))
            }))
        } else {
            Box::pin(futures_util::stream::empty())
        };
    futures_util::StreamExt::chain(history, tail)
}

/// What ComfyUI prints when a worker starts and first loads a model, in its
/// own words (`comfy/model_management.py`, `main.py`, `comfy/model_base.py`,
/// `comfy/sd.py`), each a millisecond apart, ending 100 ms before `first`.
fn startup_lines(b: &Behaviour, first: SystemTime) -> Vec<(SystemTime, &'static str, String)> {
    if b.worker.no_startup_lines {
        return Vec::new();
    }
    let w = &b.worker;
    let gpu = w.gpu.clone().unwrap_or_else(|| DEFAULT_GPU.into());
    let attention = match w.attention.as_deref().unwrap_or("pytorch") {
        a @ ("split" | "sub quadratic") => format!("Using {a} optimization for attention"),
        a => format!("Using {a} attention"),
    };
    let said = [
        "Checkpoint files will always be loaded safely.".to_string(),
        "Total VRAM 46068 MB, total RAM 257567 MB".to_string(),
        format!(
            "pytorch version: {}",
            w.torch.as_deref().unwrap_or("2.11.0+cu130")
        ),
        "Set vram state to: NORMAL_VRAM".to_string(),
        format!("Device: cuda:0 {gpu} : cudaMallocAsync"),
        attention,
        "Python version: 3.12.3 (main, Nov  6 2025, 13:44:16) [GCC 13.2.0]".to_string(),
        format!(
            "ComfyUI version: {}",
            w.comfyui.as_deref().unwrap_or("0.3.64")
        ),
        "Starting server".to_string(),
        "model weight dtype torch.float16, manual cast: None".to_string(),
        "model_type EPS".to_string(),
        "VAE load device: cuda:0, offload device: cpu, dtype: torch.bfloat16".to_string(),
    ];
    let n = said.len() as u64;
    let start = first
        .checked_sub(Duration::from_millis(100 + n))
        .unwrap_or(first);
    // Whole milliseconds, as the job lines are: each timestamp is an event id.
    let since = start
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let start = SystemTime::UNIX_EPOCH + Duration::from_millis(since.as_millis() as u64);
    said.into_iter()
        .enumerate()
        .map(|(i, l)| (start + Duration::from_millis(i as u64), "container", l))
        .collect()
}

/// A real instant of the mock's clock as wall-clock time.
fn wall(t: Instant) -> SystemTime {
    let now = Instant::now();
    if t <= now {
        SystemTime::now() - (now - t)
    } else {
        SystemTime::now() + (t - now)
    }
}

/// The lines one job printed on `worker`: started, what the behaviour says
/// each job prints, then how it ended.
fn job_lines(
    m: &Mock,
    b: &Behaviour,
    j: &Job,
    worker: &str,
) -> Vec<(SystemTime, &'static str, String)> {
    let store: &Store = &m.store;
    let phase = store.phase(j);
    let (start, end) = store.span(j);
    if matches!(phase, Phase::Queued) {
        return Vec::new();
    }
    let start = wall(start);
    let mut out = vec![
        (
            start,
            "system",
            format!("worker {worker}: job {} assigned", j.id),
        ),
        (
            start,
            "container",
            format!("worker-comfyui - Job received: {}", j.id),
        ),
        (
            start,
            "container",
            "worker-comfyui - Validating workflow; got prompt".to_string(),
        ),
    ];
    let subst: HashMap<&str, &str> = [
        ("{job}", j.id.as_str()),
        ("{api_key}", m.opts.api_key.as_str()),
    ]
    .into();
    for (i, l) in b.worker.logs.iter().enumerate() {
        let mut line = l.clone();
        for (k, v) in &subst {
            line = line.replace(k, v);
        }
        out.push((
            start + Duration::from_millis(1 + i as u64),
            "container",
            line,
        ));
    }
    if let Phase::Done(_) = phase {
        let end = wall(end.unwrap_or(Instant::now()));
        match b
            .error
            .as_deref()
            .filter(|_| b.status == crate::mock::behaviour::FinalStatus::Failed)
        {
            Some(err) => {
                out.push((
                    end,
                    "container",
                    "!!! Exception during processing !!!".into(),
                ));
                out.push((
                    end,
                    "container",
                    "Traceback (most recent call last):".into(),
                ));
                out.push((
                    end,
                    "container",
                    "  File \"/comfyui/execution.py\", line 496, in execute".into(),
                ));
                out.push((
                    end,
                    "container",
                    err.lines().next().unwrap_or(err).to_string(),
                ));
                out.push((
                    end,
                    "container",
                    format!("worker-comfyui - Job {} failed", j.id),
                ));
            }
            None => out.push((
                end,
                "container",
                format!("worker-comfyui - Job {} completed", j.id),
            )),
        }
    }
    // One millisecond apart at least: the timestamp is each event's id, and a
    // client resuming with `Last-Event-ID` must not skip or repeat lines.
    // Whole milliseconds, as the timestamps are written.
    for l in out.iter_mut() {
        let since =
            l.0.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
        l.0 = SystemTime::UNIX_EPOCH + Duration::from_millis(since.as_millis() as u64);
    }
    for i in 1..out.len() {
        let floor = out[i - 1].0 + Duration::from_millis(1);
        if out[i].0 < floor {
            out[i].0 = floor;
        }
    }
    out
}
