//! One mock server's state: its options, the job store and the request
//! counters, with what every route does first (auth, endpoint lookup, faults)
//! and what submissions share.

// Handlers answer errors with a ready `Response`; its size only matters on error paths.
#![expect(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::behaviour::{Behaviour, Route};
use super::options::MockOptions;
use super::runpod::faults::{http_fault, route_name};
use super::runpod::jobs::{self, Phase, Store};
use super::runpod::worker;
use crate::runpod::wire::{RunRequest, RUNSYNC_LIMIT, RUN_LIMIT};

/// The state of one mock server.
pub(crate) struct Mock {
    pub(crate) opts: MockOptions,
    pub(crate) store: Arc<Store>,
    pub(crate) base_url: String,
    /// Requests per (endpoint, route) for faults on routes without a job.
    pub(crate) seen: Mutex<HashMap<(String, &'static str), u32>>,
    /// Every request per `endpoint route`, for `/_mock/stats` (tests count submissions).
    pub(crate) stats: Mutex<BTreeMap<String, u32>>,
    /// The ComfyUI face's servers.
    pub(crate) comfy: super::comfyui::exec::Face,
    /// Endpoints created through the management API.
    pub(crate) manage: super::manage::registry::Registry,
}

pub(crate) type Answer = Result<Response, Response>;

pub(crate) fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

impl Mock {
    /// Bearer auth, then the behaviour of a known endpoint, the request counted
    /// in the stats as `endpoint route` (both faces of the mock).
    pub(crate) fn admit(
        &self,
        headers: &HeaderMap,
        endpoint: &str,
        route: &str,
    ) -> Result<Arc<Behaviour>, Response> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = auth.strip_prefix("Bearer ").unwrap_or(auth);
        if token.is_empty() || token != self.opts.api_key {
            return Err(error(StatusCode::UNAUTHORIZED, "Unauthorized"));
        }
        // Only a known endpoint keys anything (counters, stats): a client sending
        // random ids must not grow the mock's memory.
        let known = self.opts.endpoints.get(endpoint).cloned();
        let Some(b) = known.or_else(|| self.manage.behaviour_of(endpoint)) else {
            let shown = crate::text::truncate(&crate::text::one_line(endpoint), 64);
            return Err(error(
                StatusCode::NOT_FOUND,
                format!("endpoint {shown} not found"),
            ));
        };
        *self
            .stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(format!("{endpoint} {route}"))
            .or_insert(0) += 1;
        Ok(b)
    }

    /// Auth, endpoint lookup, then any HTTP fault for this request.
    pub(crate) async fn enter(
        &self,
        headers: &HeaderMap,
        endpoint: &str,
        route: Route,
        job: Option<&jobs::Job>,
    ) -> Result<Arc<Behaviour>, Response> {
        let b = self.admit(headers, endpoint, route_name(route))?;
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

    pub(crate) fn job(&self, endpoint: &str, id: &str) -> Result<Arc<jobs::Job>, Response> {
        self.store
            .get(endpoint, id)
            .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("job {id} not found")))
    }

    /// The job's status body, or 404 once it has expired.
    pub(crate) async fn status_of(&self, job: &Arc<jobs::Job>) -> Answer {
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

    pub(crate) async fn submit(
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
        self.store.maybe_evict();
        let req: RunRequest<Value> = serde_json::from_slice(body).map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                format!("invalid request body: {e}"),
            )
        })?;
        // Validating the input decodes its images: blocking work, kept off the async workers.
        let behaviour = b.clone();
        let input = req.input;
        let accepted =
            tokio::task::spawn_blocking(move || worker::accept(&input, &behaviour).map(Arc::new))
                .await
                .map_err(|e| {
                    error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("mock worker crashed: {e}"),
                    )
                })?;
        Ok(self.store.create(
            endpoint,
            b,
            accepted,
            sync,
            req.webhook,
            &req.policy.unwrap_or_default(),
        ))
    }
}
