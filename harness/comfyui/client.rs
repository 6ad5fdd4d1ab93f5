//! The ComfyUI client: its own HTTP API (`/prompt` with a client-chosen
//! prompt id, `/upload/image`, `/history/{id}`, `/view`, `/queue`,
//! `/interrupt`, `/object_info`, `/system_stats`) and the progress websocket
//! (`/ws?clientId=`), over HTTP or HTTPS with an optional bearer or basic-auth
//! header (a pod proxy). A `/prompt` refusal (400) is an answer, not an error:
//! its body names the nodes and reasons.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::http::{ClientError, EndpointError, ErrorKind};
use crate::http::send::{segment, snippet, status_error, Auth, Http, RawBody};

/// Timeout of short calls (queue, history, interrupt).
const CALL: Duration = Duration::from_secs(30);
/// Timeout of transfers (uploads, `/view`, `/object_info`).
const TRANSFER: Duration = Duration::from_secs(300);

/// The websocket stream to ComfyUI.
pub type ComfyWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What `/prompt` answered.
#[derive(Debug)]
pub enum Queued {
    /// Queued at this position number.
    Accepted,
    /// Refused (400): ComfyUI's body, `{"error": {...}, "node_errors": {...}}`.
    Refused(Value),
}

/// A client for one ComfyUI server. Cheap to clone.
#[derive(Clone)]
pub struct ComfyClient {
    http: Http,
    auth: Arc<Auth>,
    base: Arc<str>,
}

impl fmt::Debug for ComfyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComfyClient")
            .field("base", &crate::redact::url_for_display(&self.base))
            .finish_non_exhaustive()
    }
}

impl ComfyClient {
    /// A client for the ComfyUI at `base` (`http://127.0.0.1:8188`, or a pod's
    /// HTTPS proxy URL); `token` is sent as a bearer token, `basic` (`user:password`)
    /// as basic auth.
    pub fn new(base: &str, token: Option<&str>, basic: Option<&str>) -> Result<Self, ClientError> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::BadUrl {
                url: crate::redact::url_for_display(base),
            });
        }
        let auth = match (token, basic) {
            (Some(t), _) => Auth::Bearer(t.to_string()),
            (None, Some(b)) => Auth::Basic(b.to_string()),
            (None, None) => Auth::None,
        };
        Ok(ComfyClient {
            http: Http::new(&auth)?,
            auth: Arc::new(auth),
            base: base.trim_end_matches('/').into(),
        })
    }

    /// The server as shown to people (no credentials, no query).
    pub fn display(&self) -> String {
        crate::redact::url_for_display(&self.base)
    }

    fn url(&self, route: &str) -> String {
        format!("{}/{route}", self.base)
    }

    async fn call(
        &self,
        method: Method,
        route: &str,
        body: RawBody,
        timeout: Duration,
        op: &str,
        job: Option<&str>,
    ) -> Result<(StatusCode, Vec<u8>), EndpointError> {
        self.http
            .raw(method, &self.url(route), body, timeout, op, job)
            .await
    }

    /// A call whose answer must be 2xx.
    async fn ok(
        &self,
        method: Method,
        route: &str,
        body: RawBody,
        timeout: Duration,
        op: &str,
        job: Option<&str>,
    ) -> Result<Vec<u8>, EndpointError> {
        let (status, bytes) = self.call(method, route, body, timeout, op, job).await?;
        match comfy_error(status, &bytes) {
            None => Ok(bytes),
            Some(kind) => Err(err(op, job, kind)),
        }
    }

    async fn json(
        &self,
        route: &str,
        timeout: Duration,
        op: &str,
        job: Option<&str>,
    ) -> Result<Value, EndpointError> {
        let bytes = self
            .ok(Method::GET, route, RawBody::None, timeout, op, job)
            .await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            err(
                op,
                job,
                ErrorKind::Malformed(format!("not JSON ({e}): {}", snippet(&bytes))),
            )
        })
    }

    /// `GET /object_info`: every node type the server has (the inventory).
    pub async fn object_info(&self) -> Result<Value, EndpointError> {
        self.json("object_info", TRANSFER, "GET /object_info", None)
            .await
    }

    /// The checkpoint names `CheckpointLoaderSimple` offers (worker-comfyui
    /// lists them in a validation error); empty when they cannot be read.
    pub async fn checkpoints(&self) -> Vec<String> {
        let Ok(v) = self
            .json(
                "object_info/CheckpointLoaderSimple",
                CALL,
                "GET /object_info/CheckpointLoaderSimple",
                None,
            )
            .await
        else {
            return Vec::new();
        };
        v.pointer("/CheckpointLoaderSimple/input/required/ckpt_name/0")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `GET /system_stats`: version, devices, memory.
    pub async fn system_stats(&self) -> Result<Value, EndpointError> {
        self.json("system_stats", CALL, "GET /system_stats", None)
            .await
    }

    /// `POST /upload/image`: an input image, overwriting one of the same name.
    pub async fn upload_image(&self, name: &str, bytes: Vec<u8>) -> Result<(), EndpointError> {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        let form = reqwest::multipart::Form::new()
            .part("image", part)
            .text("type", "input")
            .text("overwrite", "true");
        self.ok(
            Method::POST,
            "upload/image",
            RawBody::Multipart(form),
            TRANSFER,
            "POST /upload/image",
            Some(name),
        )
        .await
        .map(|_| ())
    }

    /// `POST /prompt` with the prompt id chosen here, so the job can be
    /// cancelled even if this answer is lost.
    pub async fn queue_prompt(
        &self,
        graph: &Value,
        client_id: &str,
        prompt_id: &str,
    ) -> Result<Queued, EndpointError> {
        let body = json!({"prompt": graph, "client_id": client_id, "prompt_id": prompt_id});
        let op = "POST /prompt";
        let bytes = serde_json::to_vec(&body).expect("JSON serialises");
        let (status, answer) = self
            .call(
                Method::POST,
                "prompt",
                RawBody::Json(bytes),
                CALL,
                op,
                Some(prompt_id),
            )
            .await?;
        let parsed: Option<Value> = serde_json::from_slice(&answer).ok();
        match (status, parsed) {
            (s, Some(v)) if s.is_success() => match v.get("prompt_id").and_then(Value::as_str) {
                Some(id) if id == prompt_id => Ok(Queued::Accepted),
                Some(other) => Err(err(op, Some(prompt_id), ErrorKind::Malformed(format!(
                    "ComfyUI queued the prompt as `{other}`, not the id it was given (a ComfyUI older than 0.3.4x ignores `prompt_id`)"
                )))),
                None => Err(err(op, Some(prompt_id), ErrorKind::Malformed(format!("no `prompt_id` in {}", snippet(&answer))))),
            },
            (StatusCode::BAD_REQUEST, Some(v)) if v.get("error").is_some() => Ok(Queued::Refused(v)),
            (s, _) => Err(err(
                op,
                Some(prompt_id),
                comfy_error(s, &answer).unwrap_or_else(|| {
                    ErrorKind::Malformed(format!("not JSON: {}", snippet(&answer)))
                }),
            )),
        }
    }

    /// `GET /history/{id}`: the prompt's entry once it has ended, `None` before.
    pub async fn history(&self, prompt_id: &str) -> Result<Option<Value>, EndpointError> {
        let route = format!("history/{}", segment(prompt_id));
        let v = self
            .json(&route, CALL, "GET /history", Some(prompt_id))
            .await?;
        Ok(v.get(prompt_id).cloned())
    }

    /// Whether the prompt is running or waiting (`GET /queue`).
    pub async fn queue_position(
        &self,
        prompt_id: &str,
    ) -> Result<Option<&'static str>, EndpointError> {
        let v = self
            .json("queue", CALL, "GET /queue", Some(prompt_id))
            .await?;
        let holds = |key: &str| {
            v.get(key).and_then(Value::as_array).is_some_and(|items| {
                items
                    .iter()
                    .any(|i| i.get(1).and_then(Value::as_str) == Some(prompt_id))
            })
        };
        Ok(if holds("queue_running") {
            Some("running")
        } else if holds("queue_pending") {
            Some("pending")
        } else {
            None
        })
    }

    /// `GET /view`: one output file.
    pub async fn view(
        &self,
        filename: &str,
        subfolder: &str,
        kind: &str,
    ) -> Result<Vec<u8>, EndpointError> {
        let q = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let route = format!(
            "view?filename={}&subfolder={}&type={}",
            q(filename),
            q(subfolder),
            q(kind)
        );
        self.ok(
            Method::GET,
            &route,
            RawBody::None,
            TRANSFER,
            "GET /view",
            Some(filename),
        )
        .await
    }

    /// `POST /queue {"delete": [id]}`: the prompt leaves the queue if it has not started.
    pub async fn dequeue(&self, prompt_id: &str) -> Result<(), EndpointError> {
        let body = serde_json::to_vec(&json!({"delete": [prompt_id]})).expect("JSON serialises");
        self.ok(
            Method::POST,
            "queue",
            RawBody::Json(body),
            CALL,
            "POST /queue",
            Some(prompt_id),
        )
        .await
        .map(|_| ())
    }

    /// `POST /interrupt {"prompt_id": id}`: stops the prompt if it is the one running
    /// (at the next node boundary).
    pub async fn interrupt(&self, prompt_id: &str) -> Result<(), EndpointError> {
        let body = serde_json::to_vec(&json!({"prompt_id": prompt_id})).expect("JSON serialises");
        self.ok(
            Method::POST,
            "interrupt",
            RawBody::Json(body),
            CALL,
            "POST /interrupt",
            Some(prompt_id),
        )
        .await
        .map(|_| ())
    }

    /// Opens the progress websocket for `client_id` (`ws://` or `wss://`).
    pub async fn connect_ws(&self, client_id: &str) -> Result<ComfyWs, EndpointError> {
        let op = "GET /ws";
        let ws_base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!("ws://{}", self.base.trim_start_matches("http://"))
        };
        let url = format!("{ws_base}/ws?clientId={}", segment(client_id));
        let mut request = url.into_client_request().map_err(|e| {
            err(
                op,
                None,
                ErrorKind::Transport(crate::redact::redact(&e.to_string()).into_owned()),
            )
        })?;
        if let Ok(Some(h)) = self.auth.header() {
            request
                .headers_mut()
                .insert(reqwest::header::AUTHORIZATION, h);
        }
        let connect = tokio_tungstenite::connect_async(request);
        match tokio::time::timeout(CALL, connect).await {
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(e)) => Err(err(
                op,
                None,
                ErrorKind::Transport(crate::redact::redact(&e.to_string()).into_owned()),
            )),
            Err(_) => Err(err(op, None, ErrorKind::Timeout(CALL))),
        }
    }
}

/// The error a non-2xx status is, with ComfyUI's credentials named for 401/403.
fn comfy_error(status: StatusCode, body: &[u8]) -> Option<ErrorKind> {
    match status_error(status, body)? {
        ErrorKind::Unauthorized => Some(ErrorKind::Status {
            status: status.as_u16(),
            body: "ComfyUI (or the proxy in front of it) refused the credentials: check COMFYUI_TOKEN or COMFYUI_BASIC_AUTH".into(),
        }),
        other => Some(other),
    }
}

fn err(op: &str, job: Option<&str>, kind: ErrorKind) -> EndpointError {
    EndpointError {
        op: op.to_string(),
        job: job.map(str::to_string),
        kind,
    }
}
