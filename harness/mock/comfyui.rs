//! The mock's ComfyUI face: each behaviour served as a ComfyUI server under
//! `/comfyui/{behaviour}/` with ComfyUI's own routes (`prompt`, `ws`,
//! `history/{id}`, `view`, `upload/image`, `queue`, `interrupt`,
//! `object_info`, `system_stats`), answering in the shapes recorded from a
//! real ComfyUI 0.3.64 (`tests/comfyui/recorded/`). It is what CI runs the
//! `comfyui` target against. Requests carry the mock's key as a bearer token,
//! as a pod proxy would ask.

// Handlers answer errors with a ready `Response`; its size only matters on error paths.
#![expect(clippy::result_large_err)]

pub(crate) mod exec;
mod order;
mod refuse;

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::state::{error, Mock};
use exec::{Event, Server};

type Answer = Result<Response, Response>;

impl Mock {
    /// Auth and behaviour lookup for a ComfyUI-face request.
    fn comfy(
        &self,
        headers: &HeaderMap,
        endpoint: &str,
        route: &str,
    ) -> Result<Arc<Server>, Response> {
        let b = self.admit(headers, endpoint, &format!("comfyui/{route}"))?;
        Ok(self.comfy.server(endpoint, b, self.opts.speed))
    }
}

/// ComfyUI's own 400 for a body it cannot use.
fn bad_prompt(kind: &str, message: &str) -> Response {
    let body = json!({"error": {"type": kind, "message": message, "details": message, "extra_info": {}}, "node_errors": {}});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

pub(crate) async fn prompt(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let server = m.comfy(&headers, &endpoint, "prompt")?;
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return Err((StatusCode::BAD_REQUEST, "invalid JSON").into_response());
    };
    let Some(graph) = v.get("prompt").and_then(Value::as_object).cloned() else {
        return Err(bad_prompt("no_prompt", "No prompt provided"));
    };
    let id = match v.get("prompt_id") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    if let Some(refused) = refuse::refusal(&graph, &server.behaviour, &server.uploaded()) {
        return Err((StatusCode::BAD_REQUEST, Json(refused)).into_response());
    }
    let client = v
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let outputs = refuse::output_nodes(&graph, &server.behaviour);
    let number = server.queue(id.clone(), graph, client, outputs);
    Ok(Json(json!({"prompt_id": id, "number": number, "node_errors": {}})).into_response())
}

#[derive(serde::Deserialize)]
pub(crate) struct WsQuery {
    #[serde(rename = "clientId")]
    client_id: Option<String>,
}

pub(crate) async fn ws(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    Query(q): Query<WsQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Answer {
    let server = m.comfy(&headers, &endpoint, "ws")?;
    let client = q
        .client_id
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let events = m.comfy.subscribe();
    Ok(upgrade.on_upgrade(move |socket| follow(socket, server, client, events)))
}

/// Forwards this client's messages (and everyone's `status`) until it hangs up.
async fn follow(
    mut socket: WebSocket,
    server: Arc<Server>,
    client: String,
    mut events: broadcast::Receiver<Event>,
) {
    let mut hello = server.status();
    hello["sid"] = json!(client);
    let first = json!({"type": "status", "data": hello}).to_string();
    if socket.send(Message::Text(first.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(e) if e.client.as_deref().is_none_or(|c| c == client) => {
                    if socket.send(Message::Text(e.text.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

pub(crate) async fn history(
    State(m): State<Arc<Mock>>,
    Path((endpoint, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let server = m.comfy(&headers, &endpoint, "history")?;
    let body = match server.history(&id) {
        Some(entry) => json!({ id: entry }),
        None => json!({}),
    };
    Ok(Json(body).into_response())
}

#[derive(serde::Deserialize)]
pub(crate) struct ViewQuery {
    filename: String,
    #[serde(default)]
    subfolder: String,
}

pub(crate) async fn view(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    Query(q): Query<ViewQuery>,
    headers: HeaderMap,
) -> Answer {
    let server = m.comfy(&headers, &endpoint, "view")?;
    match server.file(&q.subfolder, &q.filename) {
        Some(bytes) => Ok((
            [(header::CONTENT_TYPE, "image/png")],
            bytes.as_ref().clone(),
        )
            .into_response()),
        None => Err(StatusCode::NOT_FOUND.into_response()),
    }
}

pub(crate) async fn upload(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Answer {
    let server = m.comfy(&headers, &endpoint, "upload/image")?;
    let mut saved = None;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() != Some("image") {
            continue;
        }
        let name = field.file_name().unwrap_or("image.png").to_string();
        let Ok(bytes) = field.bytes().await else {
            return Err(StatusCode::BAD_REQUEST.into_response());
        };
        let size = image::load_from_memory(&bytes)
            .map(|i| (i.width(), i.height()))
            .unwrap_or((0, 0));
        server.upload(&name, size);
        saved = Some(name);
    }
    match saved {
        Some(name) => {
            Ok(Json(json!({"name": name, "subfolder": "", "type": "input"})).into_response())
        }
        None => Err(StatusCode::BAD_REQUEST.into_response()),
    }
}

pub(crate) async fn get_queue(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let server = m.comfy(&headers, &endpoint, "queue")?;
    let (running, pending) = server.queue_items();
    Ok(Json(json!({"queue_running": running, "queue_pending": pending})).into_response())
}

pub(crate) async fn post_queue(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let server = m.comfy(&headers, &endpoint, "queue")?;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let ids: Vec<String> = v
        .get("delete")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let clear = v.get("clear").and_then(Value::as_bool).unwrap_or(false);
    server.delete(&ids, clear);
    Ok(StatusCode::OK.into_response())
}

pub(crate) async fn interrupt(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let server = m.comfy(&headers, &endpoint, "interrupt")?;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    server.interrupt(v.get("prompt_id").and_then(Value::as_str));
    Ok(StatusCode::OK.into_response())
}

pub(crate) async fn object_info(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let server = m.comfy(&headers, &endpoint, "object_info")?;
    match server.behaviour.inventory_data() {
        Some(data) => Ok(Json(data.1.clone()).into_response()),
        None => Err(error(
            StatusCode::NOT_FOUND,
            format!("mock behaviour `{endpoint}` has no `inventory:`"),
        )),
    }
}

pub(crate) async fn object_info_node(
    State(m): State<Arc<Mock>>,
    Path((endpoint, node)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let server = m.comfy(&headers, &endpoint, "object_info")?;
    let body = match server.behaviour.inventory_data() {
        Some(data) => data
            .1
            .get(&node)
            .map(|d| json!({ node: d }))
            .unwrap_or_else(|| json!({})),
        // Without an inventory the behaviour's `models:` are its checkpoints.
        None if node == "CheckpointLoaderSimple" => {
            json!({"CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [server.behaviour.models, {}]}}}})
        }
        None => json!({}),
    };
    Ok(Json(body).into_response())
}

pub(crate) async fn system_stats(
    State(m): State<Arc<Mock>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
) -> Answer {
    // The same stack the behaviour's workers print at start-up: a job's
    // fingerprint (and so its reference class) is the same on both faces.
    let b = m.admit(&headers, &endpoint, "comfyui/system_stats")?;
    let w = &b.worker;
    let gpu = w
        .gpu
        .as_deref()
        .unwrap_or(crate::mock::manage::evidence::DEFAULT_GPU);
    Ok(Json(json!({
        "system": {"os": "posix", "comfyui_version": w.comfyui.as_deref().unwrap_or("0.3.64"), "pytorch_version": w.torch.as_deref().unwrap_or("2.11.0+cu130"),
                   "python_version": "mock", "embedded_python": false, "argv": ["main.py", "--mock"]},
        "devices": [{"name": format!("cuda:0 {gpu} : cudaMallocAsync"), "type": "cuda", "index": 0}],
    }))
    .into_response())
}
