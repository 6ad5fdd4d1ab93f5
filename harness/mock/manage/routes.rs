//! The mock's management API, RunPod REST v2 (`/v2/serverless`): create an
//! endpoint from an image, get it, list them, list its workers, delete it.
//! A created endpoint answers the runtime routes (`/v2/{id}/run`, ...) with the
//! behaviour its image names (`mock/<behaviour>`; any other image runs
//! `default`), and its workers go through the pull, cold start and fate of
//! that behaviour's `provision:` block. Errors are RFC 9457 problem bodies, as
//! v2 documents them; what the real API says word for word is a guess. The
//! created endpoints themselves are kept in `managed.rs`.

// Handlers answer errors with a ready `Response`; its size only matters on error paths.
#![expect(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::mock::behaviour::Behaviour;
use crate::mock::behaviour::FaultKind;
use crate::mock::manage::provisioning::{ManageFaultType, ManageRoute, Provisioning, WorkerFate};
use crate::mock::manage::registry::{lock, name, Managed};
use crate::mock::runpod::faults::http_fault;
use crate::mock::runpod::jobs::Phase;
use crate::mock::state::Mock;

/// More endpoints than this at once is refused (RunPod's account quota is
/// about workers; this only keeps a forgotten mock's memory flat).
const MAX_ENDPOINTS: usize = 200;

type Answer = Result<Response, Response>;

/// An RFC 9457 problem answer.
fn problem(status: StatusCode, detail: impl Into<String>, errors: &[String]) -> Response {
    let mut body = json!({
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail.into(),
    });
    if !errors.is_empty() {
        body["errors"] = json!(errors);
    }
    (
        status,
        [("content-type", "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

fn auth(m: &Mock, headers: &HeaderMap, route: ManageRoute) -> Result<(), Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if token.is_empty() || token != m.opts.api_key {
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "missing or invalid bearer token",
            &[],
        ));
    }
    count_stat(m, "serverless", name(route));
    Ok(())
}

fn count_stat(m: &Mock, endpoint: &str, route: &str) {
    *lock(&m.stats)
        .entry(format!("{endpoint} {route}"))
        .or_insert(0) += 1;
}

/// A fault before the call is carried out (`http`, `rate_limit`), or whether
/// the answer is to be lost after it (`lost`).
fn fault_for(
    m: &Mock,
    behaviour: &str,
    prov: Option<&Provisioning>,
    route: ManageRoute,
) -> Result<bool, Response> {
    let Some(prov) = prov else { return Ok(false) };
    let n = m.manage.count(behaviour, route);
    let Some(f) = prov.fault(route, n) else {
        return Ok(false);
    };
    match f.respond {
        ManageFaultType::Http => {
            let code = StatusCode::from_u16(f.status.unwrap_or(500))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Err(problem(code, format!("injected {}", code.as_u16()), &[]))
        }
        ManageFaultType::RateLimit => {
            let mut r = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "rate limit exceeded for the minute window",
                &[],
            );
            if let Ok(v) = f.retry_after.unwrap_or(1).to_string().parse() {
                r.headers_mut().insert("retry-after", v);
            }
            Err(r)
        }
        ManageFaultType::Lost => Ok(true),
    }
}

async fn lost() -> Response {
    http_fault(&FaultKind::Reset)
        .await
        .expect("a reset is an answer")
}

/// `POST /v2/serverless`.
pub(crate) async fn create(State(m): State<Arc<Mock>>, headers: HeaderMap, body: Bytes) -> Answer {
    auth(&m, &headers, ManageRoute::Create)?;
    let req: Value = serde_json::from_slice(&body).map_err(|e| {
        problem(
            StatusCode::BAD_REQUEST,
            format!("request body is not JSON: {e}"),
            &[],
        )
    })?;
    let image = req.get("image").and_then(Value::as_str).unwrap_or("");
    let (bname, behaviour) = behaviour_for(&m, image)?;
    let prov = behaviour.provision.clone().unwrap_or_default();
    let lose = fault_for(&m, &bname, Some(&prov), ManageRoute::Create)?;
    let errors = validate(&req);
    if !errors.is_empty() {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "request could not be processed",
            &errors,
        ));
    }
    let id = new_id();
    let endpoint = endpoint_body(&m.base_url, &id, &req);
    let workers = |k: &str, d: u64| {
        req.pointer(&format!("/workers/{k}"))
            .and_then(Value::as_u64)
            .unwrap_or(d) as u32
    };
    {
        let mut all = lock(&m.manage.endpoints);
        if all.len() >= MAX_ENDPOINTS {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                format!("the mock holds {MAX_ENDPOINTS} endpoints already: delete some"),
                &[],
            ));
        }
        all.insert(
            id.clone(),
            Managed {
                behaviour,
                behaviour_name: bname,
                provision: prov,
                body: endpoint.clone(),
                created: Instant::now(),
                workers_min: workers("min", 0),
                workers_max: workers("max", 3),
            },
        );
    }
    if lose {
        return Err(lost().await);
    }
    Ok((StatusCode::CREATED, axum::Json(endpoint)).into_response())
}

/// The behaviour an image runs: `mock/<behaviour>[:tag]`, or `default`.
fn behaviour_for(m: &Mock, image: &str) -> Result<(String, Arc<Behaviour>), Response> {
    let repo = image.split('@').next().unwrap_or("");
    let repo = match repo.rfind(':') {
        Some(i) if !repo[i..].contains('/') => &repo[..i],
        _ => repo,
    };
    let name = repo.strip_prefix("mock/").unwrap_or("default");
    match m.opts.endpoints.get(&crate::mock::options::endpoint_id(name)) {
        Some(b) => Ok((name.to_string(), b.clone())),
        None => Err(problem(
            StatusCode::BAD_REQUEST,
            format!(
                "image `{}` cannot be resolved: the mock serves mock/<behaviour> for its behaviours ({})",
                crate::text::truncate(image, 120),
                m.opts
                    .endpoints
                    .keys()
                    .map(|k| k.replace('~', "/"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &[],
        )),
    }
}

/// What v2's schema would refuse, one message per problem (a subset: the
/// fields this harness sends, and unknown ones).
fn validate(req: &Value) -> Vec<String> {
    const KNOWN: &[&str] = &[
        "name",
        "type",
        "scaling",
        "image",
        "templateId",
        "gpu",
        "cpu",
        "workers",
        "timeout",
        "flashboot",
        "env",
        "disk",
        "registry",
        "args",
        "ports",
        "dataCenterIds",
        "networkVolumes",
    ];
    let mut errors = Vec::new();
    let Some(obj) = req.as_object() else {
        return vec!["$: must be an object".into()];
    };
    for k in obj.keys().filter(|k| !KNOWN.contains(&k.as_str())) {
        errors.push(format!("$: additional properties '{k}' not allowed"));
    }
    if obj
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        errors.push("$.name: required, a non-empty string".into());
    }
    if !matches!(
        obj.get("type").and_then(Value::as_str),
        Some("QUEUE" | "LOAD_BALANCER")
    ) {
        errors.push("$.type: required, QUEUE or LOAD_BALANCER".into());
    }
    match obj
        .get("scaling")
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
    {
        Some("QUEUE_DELAY" | "REQUEST_COUNT") => {}
        _ => errors.push("$.scaling: required, type QUEUE_DELAY or REQUEST_COUNT".into()),
    }
    if obj.get("templateId").is_none()
        && obj
            .get("image")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        errors.push("$.image: required unless templateId is set".into());
    }
    if let Some(gpu) = obj.get("gpu") {
        errors.extend(validate_gpu(gpu));
    }
    if let Some(w) = obj.get("workers") {
        errors.extend(validate_workers(w));
    }
    if let Some(f) = obj.get("flashboot") {
        if !matches!(f.as_str(), Some("OFF" | "FLASHBOOT" | "PRIORITY_FLASHBOOT")) {
            errors.push("$.flashboot: OFF, FLASHBOOT or PRIORITY_FLASHBOOT".into());
        }
    }
    errors
}

/// The request's `gpu` object, as the management API's schema checks it.
fn validate_gpu(gpu: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    if gpu
        .get("pools")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        errors.push("$.gpu.pools: required, at least one pool".into());
    }
    let set = gpu
        .get("allowedCudaVersions")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if set && gpu.get("minCudaVersion").is_some() {
        errors.push("$.gpu: allowedCudaVersions and minCudaVersion are mutually exclusive".into());
    }
    if gpu
        .get("count")
        .is_some_and(|c| c.as_u64().is_none_or(|c| c < 1))
    {
        errors.push("$.gpu.count: minimum 1".into());
    }
    errors
}

/// The request's `workers` object.
fn validate_workers(w: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let get = |k: &str| w.get(k).and_then(Value::as_u64);
    if let (Some(min), Some(max)) = (get("min"), get("max")) {
        if min > max {
            errors.push(format!(
                "$.workers: min ({min}) must not exceed max ({max})"
            ));
        }
    }
    if get("idleTimeout").is_some_and(|t| !(1..=3600).contains(&t)) {
        errors.push("$.workers.idleTimeout: 1 to 3600 seconds".into());
    }
    errors
}

fn new_id() -> String {
    // RunPod ids are short lowercase alphanumerics.
    let u = uuid::Uuid::new_v4().simple().to_string();
    format!("mk{}", &u[..12])
}

fn endpoint_body(base: &str, id: &str, req: &Value) -> Value {
    let mut e: Map<String, Value> = req.as_object().cloned().unwrap_or_default();
    e.insert("id".into(), json!(id));
    e.entry("flashboot").or_insert(json!("OFF"));
    e.entry("timeout").or_insert(json!(300000));
    e.entry("dataCenterIds").or_insert(json!([]));
    e.entry("networkVolumes").or_insert(json!([]));
    let w = e.entry("workers").or_insert(json!({}));
    if let Some(w) = w.as_object_mut() {
        w.entry("min").or_insert(json!(0));
        w.entry("max").or_insert(json!(3));
    }
    e.insert(
        "createdAt".into(),
        json!(humantime::format_rfc3339_seconds(SystemTime::now()).to_string()),
    );
    let u = format!("{base}/v2/{id}");
    e.insert(
        "requestUrls".into(),
        json!({
            "run": format!("{u}/run"), "runSync": format!("{u}/runsync"),
            "status": format!("{u}/status/{{job_id}}"), "stream": format!("{u}/stream/{{job_id}}"),
            "cancel": format!("{u}/cancel/{{job_id}}"), "retry": format!("{u}/retry/{{job_id}}"),
            "purgeQueue": format!("{u}/purge-queue"), "health": format!("{u}/health"),
        }),
    );
    Value::Object(e)
}

/// The managed endpoint `id`, with its behaviour's faults applied to `route`.
fn find(m: &Mock, id: &str, route: ManageRoute) -> Result<(Value, bool), Response> {
    let (bname, prov, body) = {
        let all = lock(&m.manage.endpoints);
        let e = all.get(id).ok_or_else(|| {
            problem(
                StatusCode::NOT_FOUND,
                format!(
                    "endpoint {} not found",
                    crate::text::truncate(&crate::text::one_line(id), 64)
                ),
                &[],
            )
        })?;
        (
            e.behaviour_name.clone(),
            e.provision.clone(),
            e.body.clone(),
        )
    };
    let lose = fault_for(m, &bname, Some(&prov), route)?;
    Ok((body, lose))
}

/// `GET /v2/serverless/{id}`.
pub(crate) async fn get_one(
    State(m): State<Arc<Mock>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    auth(&m, &headers, ManageRoute::Get)?;
    let (body, lose) = find(&m, &id, ManageRoute::Get)?;
    if lose {
        return Err(lost().await);
    }
    Ok(axum::Json(body).into_response())
}

/// `GET /v2/serverless`: `{"endpoints": [...]}`.
pub(crate) async fn list(State(m): State<Arc<Mock>>, headers: HeaderMap) -> Answer {
    auth(&m, &headers, ManageRoute::List)?;
    let bodies: Vec<Value> = lock(&m.manage.endpoints)
        .values()
        .map(|e| e.body.clone())
        .collect();
    Ok(axum::Json(json!({ "endpoints": bodies })).into_response())
}

/// `DELETE /v2/serverless/{id}`: 204; its jobs are cancelled (forgotten).
pub(crate) async fn delete(
    State(m): State<Arc<Mock>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    auth(&m, &headers, ManageRoute::Delete)?;
    let (_, lose) = find(&m, &id, ManageRoute::Delete)?;
    lock(&m.manage.endpoints).remove(&id);
    for job in m.store.jobs_of(&id) {
        m.store.remove(&job.id);
    }
    if lose {
        return Err(lost().await);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /v2/serverless/{id}/workers`: `{workers: [...], summary: {...}}`.
pub(crate) async fn workers(
    State(m): State<Arc<Mock>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    auth(&m, &headers, ManageRoute::Workers)?;
    // A behaviour's own endpoint (the embedded mock's, the standalone mock's
    // "live" one) lists the workers its jobs ran on.
    let managed = lock(&m.manage.endpoints).contains_key(&id);
    if !managed {
        if let Some(b) = m.opts.endpoints.get(&id) {
            return Ok(super::evidence::workers(&m, &id, b));
        }
    }
    let (_, lose) = find(&m, &id, ManageRoute::Workers)?;
    let (statuses, image) = {
        let all = lock(&m.manage.endpoints);
        let Some(e) = all.get(&id) else {
            return Err(problem(StatusCode::NOT_FOUND, "endpoint not found", &[]));
        };
        let jobs = m.store.jobs_of(&id);
        let running = jobs
            .iter()
            .filter(|j| matches!(m.store.phase(j), Phase::Running))
            .count();
        let wanted = e
            .workers_min
            .max(u32::from(!jobs.is_empty()))
            .min(e.workers_max);
        let elapsed = e.created.elapsed().as_secs_f64() * m.opts.speed;
        let statuses: Vec<&str> = (0..wanted)
            .map(|i| worker_status(e, elapsed, (i as usize) < running))
            .collect();
        (
            statuses,
            e.body.get("image").cloned().unwrap_or(Value::Null),
        )
    };
    if lose {
        return Err(lost().await);
    }
    let mut summary: BTreeMap<&str, u32> =
        ["running", "idle", "initializing", "throttled", "unhealthy"]
            .into_iter()
            .map(|k| (k, 0))
            .collect();
    let workers: Vec<Value> = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| {
            *summary.entry(leak_lower(s)).or_insert(0) += 1;
            json!({"id": format!("{id}-w{i}"), "status": s, "isStale": false, "version": 1,
                   "gpuCount": 1, "image": image, "gpuTypeId": null})
        })
        .collect();
    let total = workers.len();
    let mut summary = json!(summary);
    summary["total"] = json!(total);
    Ok(
        axum::Json(json!({"workers": workers, "summary": summary, "endpointVersion": 1}))
            .into_response(),
    )
}

fn leak_lower(s: &str) -> &'static str {
    match s {
        "RUNNING" => "running",
        "IDLE" => "idle",
        "THROTTLED" => "throttled",
        "UNHEALTHY" => "unhealthy",
        _ => "initializing",
    }
}

fn worker_status(e: &Managed, elapsed_s: f64, busy: bool) -> &'static str {
    let pulled = Duration::from_secs_f64(elapsed_s) >= e.provision.pull_d;
    let started =
        Duration::from_secs_f64(elapsed_s) >= e.provision.pull_d + e.provision.cold_start_d;
    match e.provision.workers {
        WorkerFate::Throttled => "THROTTLED",
        WorkerFate::NeverReady => "INITIALIZING",
        WorkerFate::Unhealthy if pulled => "UNHEALTHY",
        WorkerFate::Ready if started && busy => "RUNNING",
        WorkerFate::Ready if started => "IDLE",
        _ => "INITIALIZING",
    }
}
