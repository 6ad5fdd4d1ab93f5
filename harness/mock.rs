//! The mock RunPod endpoint: an axum server speaking the serverless v2 API under
//! `/v2/{endpoint_id}/`, with Bearer auth, the job life cycle, health counts,
//! cancel, retry, purge, retention expiry, payload limits and injected faults.
//!
//! Each behaviour of `mocks/` is served as its own endpoint id (`/v2/cold-start/`),
//! so scenarios choose a behaviour just by their URL. The same code runs embedded
//! (on its own thread and runtime, like wiremock) and standalone (`endpoint-harness mock`).

// Handlers answer errors with a ready `Response`; its size only matters on error paths.
#![expect(clippy::result_large_err)]

pub mod behaviour;
mod jobs;
pub(crate) mod render;
mod worker;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use behaviour::{Behaviour, FaultKind, Route};
use jobs::{Phase, Store};

use crate::wire::{Health, JobState, PurgeAnswer, StatusAnswer, RUNSYNC_LIMIT, RUN_LIMIT};

/// How a mock server is set up.
#[derive(Clone)]
pub struct MockOptions {
    /// The Bearer key clients must send.
    pub api_key: String,
    /// Endpoint id -> behaviour.
    pub endpoints: BTreeMap<String, Arc<Behaviour>>,
    /// Simulated seconds per real second (1 = real time).
    pub speed: f64,
    /// Results never expire sooner than this in real time, whatever the speed.
    pub min_retention: Duration,
}

impl MockOptions {
    /// Serves every behaviour of `catalogue` under its own name (`/` becomes `~`).
    pub fn from_catalogue(cat: &behaviour::Catalogue, api_key: &str, speed: f64) -> Self {
        let endpoints = cat
            .behaviours
            .iter()
            .map(|(name, b)| (endpoint_id(name), b.clone()))
            .collect();
        MockOptions {
            api_key: api_key.to_string(),
            endpoints,
            speed,
            min_retention: Duration::from_secs(30),
        }
    }
}

/// The endpoint id under which a behaviour is served.
pub fn endpoint_id(behaviour: &str) -> String {
    behaviour.replace('/', "~")
}

struct Mock {
    opts: MockOptions,
    store: Arc<Store>,
    base_url: String,
    /// Requests per (endpoint, route) for faults on routes without a job.
    seen: Mutex<HashMap<(String, &'static str), u32>>,
    /// Every request per `endpoint route`, for `/_mock/stats` (tests count submissions).
    stats: Mutex<BTreeMap<String, u32>>,
}

/// A running mock on 127.0.0.1; dropping it stops the server.
pub struct MockServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockServer {
    /// Starts on `127.0.0.1:port` (0 = any free port) on a thread with its own runtime.
    pub fn start(opts: MockOptions, port: u16) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mock-endpoint".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("mock runtime");
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("mock listener");
                    let _ = serve(listener, opts, async {
                        let _ = rx.await;
                    })
                    .await;
                });
            })?;
        Ok(MockServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v2/<id>`
    pub fn endpoint_url(&self, id: &str) -> String {
        format!("{}/v2/{}", self.url(), id)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves the mock on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    opts: MockOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let base_url = format!("http://{}", listener.local_addr()?);
    axum::serve(listener, router(opts, base_url))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The mock's routes, for serving or for calling in-process.
pub fn router(opts: MockOptions, base_url: String) -> Router {
    let store = Arc::new(Store::new(opts.speed, opts.min_retention));
    let mock = Arc::new(Mock {
        opts,
        store,
        base_url,
        seen: Mutex::default(),
        stats: Mutex::default(),
    });
    Router::new()
        .route("/v2/{endpoint}/run", post(run))
        .route("/v2/{endpoint}/runsync", post(runsync))
        .route("/v2/{endpoint}/status/{id}", get(status).post(status))
        .route(
            "/v2/{endpoint}/status-sync/{id}",
            get(status_sync).post(status_sync),
        )
        .route("/v2/{endpoint}/cancel/{id}", post(cancel))
        .route("/v2/{endpoint}/retry/{id}", post(retry))
        .route("/v2/{endpoint}/purge-queue", post(purge))
        .route("/v2/{endpoint}/health", get(health))
        .route("/s3/{*key}", get(download))
        .route("/_mock/stats", get(stats))
        // RunPod refuses /runsync bodies over 20 MB; the route handlers apply 10 MB to /run.
        .layer(DefaultBodyLimit::max(RUNSYNC_LIMIT + 1))
        .with_state(mock)
}

type Answer = Result<Response, Response>;

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

impl Mock {
    /// Auth, endpoint lookup, then any HTTP fault for this request.
    async fn enter(
        &self,
        headers: &HeaderMap,
        endpoint: &str,
        route: Route,
        job: Option<&jobs::Job>,
    ) -> Result<Arc<Behaviour>, Response> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = auth.strip_prefix("Bearer ").unwrap_or(auth);
        if token.is_empty() || token != self.opts.api_key {
            return Err(error(StatusCode::UNAUTHORIZED, "Unauthorized"));
        }
        *self
            .stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(format!("{endpoint} {}", route_name(route)))
            .or_insert(0) += 1;
        let Some(b) = self.opts.endpoints.get(endpoint).cloned() else {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!("endpoint {endpoint} not found"),
            ));
        };
        // A status check is a status check, polled or long-polled: faults on `status`
        // apply to both routes and count them together.
        let kind = if route == Route::StatusSync {
            Route::Status
        } else {
            route
        };
        let n = self.count(endpoint, kind, job);
        for f in &b.faults {
            let hits = f.on == kind || f.on == route || f.on == Route::Any;
            if hits && (f.nth.is_empty() || f.nth.contains(&n)) {
                if let Some(resp) = http_fault(f.kind()).await {
                    return Err(resp);
                }
            }
        }
        Ok(b)
    }

    fn count(&self, endpoint: &str, route: Route, job: Option<&jobs::Job>) -> u32 {
        let name = route_name(route);
        match job {
            Some(j) => {
                let mut m = j.m.lock().unwrap_or_else(|e| e.into_inner());
                let n = m.seen.entry(name).or_insert(0);
                *n += 1;
                *n
            }
            None => {
                let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
                let n = seen.entry((endpoint.to_string(), name)).or_insert(0);
                *n += 1;
                *n
            }
        }
    }

    fn job(&self, endpoint: &str, id: &str) -> Result<Arc<jobs::Job>, Response> {
        self.store
            .get(endpoint, id)
            .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("job {id} not found")))
    }

    /// The job's status body, or 404 once it has expired.
    async fn status_of(&self, job: &Arc<jobs::Job>) -> Answer {
        match self.store.status_body(job, &self.base_url).await {
            Some(body) => {
                let mut resp = Json(body).into_response();
                // Mock-only: when the job ended (unix ms), so benchmarks can measure detection lag.
                if let Phase::Done(at) = self.store.phase(job) {
                    let unix = std::time::SystemTime::now() - at.elapsed();
                    if let Ok(ms) = unix.duration_since(std::time::UNIX_EPOCH) {
                        if let Ok(v) =
                            axum::http::HeaderValue::from_str(&ms.as_millis().to_string())
                        {
                            resp.headers_mut().insert("x-mock-done-at", v);
                        }
                    }
                }
                Ok(resp)
            }
            None => {
                self.store.remove(&job.id);
                Err(error(
                    StatusCode::NOT_FOUND,
                    format!("job {} not found", job.id),
                ))
            }
        }
    }

    async fn submit(
        &self,
        headers: &HeaderMap,
        endpoint: &str,
        body: &Bytes,
        sync: bool,
    ) -> Result<Arc<jobs::Job>, Response> {
        let route = if sync { Route::Runsync } else { Route::Run };
        let b = self.enter(headers, endpoint, route, None).await?;
        let limit = if sync { RUNSYNC_LIMIT } else { RUN_LIMIT };
        if body.len() > limit {
            // RunPod's exact status code for an oversized body is unconfirmed; 413 is the HTTP one.
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request body of {} bytes exceeds the {} MB limit",
                    body.len(),
                    limit / 1_000_000
                ),
            ));
        }
        let req: Value = serde_json::from_slice(body)
            .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))?;
        let Some(input) = req.get("input") else {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "request body has no `input`",
            ));
        };
        let webhook = req
            .get("webhook")
            .and_then(Value::as_str)
            .map(str::to_string);
        let policy = req.get("policy").cloned().unwrap_or(Value::Null);
        Ok(self
            .store
            .create(endpoint, b, input, sync, webhook, &policy))
    }
}

fn route_name(r: Route) -> &'static str {
    match r {
        Route::Run => "run",
        Route::Runsync => "runsync",
        Route::Status => "status",
        Route::StatusSync => "status-sync",
        Route::Cancel => "cancel",
        Route::Health => "health",
        Route::Download => "download",
        Route::Retry => "retry",
        Route::PurgeQueue => "purge-queue",
        Route::Any => "any",
    }
}

/// The faulty answer for an HTTP-level fault; None for image faults (applied to output).
async fn http_fault(kind: &FaultKind) -> Option<Response> {
    Some(match kind {
        FaultKind::Http { status, body } => {
            let code = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                code,
                body.clone()
                    .unwrap_or_else(|| format!("{{\"error\": \"injected {status}\"}}")),
            )
                .into_response()
        }
        FaultKind::RateLimit { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", retry_after.to_string())],
            "{\"error\": \"Too Many Requests\"}",
        )
            .into_response(),
        FaultKind::Reset => {
            // Headers go out, then the body stream fails: the client sees the connection drop.
            let stream = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected reset",
                ))
            });
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .expect("static response")
        }
        FaultKind::Slow { delay } => {
            tokio::time::sleep(*delay).await;
            return None;
        }
        FaultKind::MalformedJson => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"id\": \"x\", \"status\": ",
        )
            .into_response(),
        _ => return None,
    })
}

async fn run(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let job = m.submit(&headers, &endpoint, &body, false).await?;
    Ok(Json(StatusAnswer::new(&job.id, JobState::InQueue)).into_response())
}

#[derive(serde::Deserialize)]
struct Wait {
    wait: Option<u64>,
}

/// Waits until the job is terminal or `wait` passes. `wait` is simulated time like
/// every other duration the mock sees, so RunPod's 90 s default stays proportionate
/// to the scaled job times.
async fn wait_for(m: &Mock, job: &jobs::Job, wait: Duration) {
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

async fn runsync(
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

async fn status(
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

async fn status_sync(
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

async fn cancel(
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

async fn retry(
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

async fn purge(
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

async fn health(
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
    // A stuck endpoint has no worker at all; otherwise a small pool with one idle when free.
    let (idle, ready) = if b.stuck {
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
            ("initializing", 0),
            ("ready", ready),
            ("running", running),
            ("throttled", 0),
            ("unhealthy", 0),
        ]),
    })
    .into_response())
}

async fn download(
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

/// Mock-only introspection: requests seen per `endpoint route` (after auth) and jobs
/// created per endpoint. Tests use it to prove a job was submitted exactly once.
async fn stats(State(m): State<Arc<Mock>>, headers: HeaderMap) -> Answer {
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
    Ok(
        Json(json!({"requests": requests, "jobs_created": jobs, "done_at": done_at}))
            .into_response(),
    )
}
