//! ComfyUI itself as a [`Target`]: the scenario's worker request is taken
//! apart (input images uploaded with `/upload/image`, the graph queued with
//! `/prompt` under a prompt id chosen here), progress followed over the
//! websocket (falling back to polling `/history` and `/queue` when the socket
//! is refused or drops), and the result read from the history entry into
//! worker-comfyui's output shape. A `/prompt` refusal is a FAILED job worded
//! as worker-comfyui words it. The prompt is owned from before it is queued:
//! a deadline, a dropped future or Ctrl-C dequeues and interrupts it.

mod outputs;
mod progress;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use serde_json::{Map, Value};
use tokio_tungstenite::tungstenite::Message;

use super::api::{JobRequest, Target};
use crate::comfyui::ComfyClient;
use crate::comfyui::ComfyWs;
use crate::http::EndpointError;
use crate::http::ErrorKind;
use crate::comfyui::Queued;
use crate::runpod::job::{interrupted, Canceller, DriveError, Finished, InFlight, Watch};
use crate::model::Seen;
use crate::runpod::wire::{Health, JobState, StatusAnswer};
use progress::{End, Progress};

/// While the socket is quiet this long, the history is read in case a message was lost.
const QUIET: Duration = Duration::from_secs(5);
/// Polling interval bounds when there is no socket.
const FIRST_POLL: Duration = Duration::from_millis(50);
const MAX_POLL: Duration = Duration::from_millis(1000);
/// How long a finished prompt's history entry may lag behind its last message.
const HISTORY_LAG: Duration = Duration::from_secs(10);

/// A ComfyUI server.
pub struct Comfyui {
    client: ComfyClient,
    label: String,
    websocket: bool,
    facts: tokio::sync::OnceCell<super::api::TargetFacts>,
}

impl Comfyui {
    /// The server behind `client`, shown as `label`; progress is followed over
    /// the websocket unless `websocket` is false (then `/history` is polled).
    pub fn new(client: ComfyClient, label: impl Into<String>, websocket: bool) -> Self {
        Comfyui {
            client,
            label: label.into(),
            websocket,
            facts: tokio::sync::OnceCell::new(),
        }
    }

    /// The client.
    #[cfg(any(test, feature = "internals"))]
    pub fn client(&self) -> &ComfyClient {
        &self.client
    }
}

impl Target for Comfyui {
    fn label(&self) -> &str {
        &self.label
    }

    fn run<'a>(
        &'a self,
        request: JobRequest,
        watch: &'a Watch,
    ) -> BoxFuture<'a, Result<Finished, DriveError>> {
        Box::pin(drive(&self.client, request, watch, self.websocket))
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, EndpointError>> {
        Box::pin(async {
            Err(EndpointError {
                op: "GET /health".into(),
                job: None,
                kind: ErrorKind::Unsupported("ComfyUI has no RunPod health"),
            })
        })
    }

    fn facts(&self) -> BoxFuture<'_, super::api::TargetFacts> {
        Box::pin(async {
            self.facts
                .get_or_init(|| async {
                    self.client
                        .system_stats()
                        .await
                        .map(|v| facts_of(&v))
                        .unwrap_or_default()
                })
                .await
                .clone()
        })
    }
}

/// The device and versions in a `/system_stats` answer.
fn facts_of(stats: &Value) -> super::api::TargetFacts {
    let text = |p: &str| stats.pointer(p).and_then(Value::as_str).map(str::to_string);
    let software = text("/system/comfyui_version").map(|v| match text("/system/pytorch_version") {
        Some(t) => format!("ComfyUI {v}, torch {t}"),
        None => format!("ComfyUI {v}"),
    });
    super::api::TargetFacts {
        gpu: text("/devices/0/name"),
        software,
        fingerprint: crate::comfyui::stack::from_system_stats(stats),
    }
}

/// Cancelling a prompt: out of the queue if it waits, interrupted if it runs.
impl Canceller for ComfyClient {
    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), EndpointError>> {
        Box::pin(async move {
            // Dequeue first so it cannot start between the two calls unnoticed:
            // if it started, the interrupt finds it running.
            let dequeued = ComfyClient::dequeue(self, id).await;
            let interrupted = ComfyClient::interrupt(self, id).await;
            dequeued.and(interrupted)
        })
    }
}

/// Input images to upload: `(name, bytes)`.
type Uploads = Vec<(String, Vec<u8>)>;

/// A worker-comfyui request that cannot be taken apart into a graph and uploads.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadRequest(String);

/// The graph and the input images of a worker-comfyui request.
fn take_apart(body: &[u8]) -> Result<(Map<String, Value>, Uploads), BadRequest> {
    let v: Value = serde_json::from_slice(body).map_err(|e| BadRequest(format!("request is not JSON: {e}")))?;
    let graph = v
        .pointer("/input/workflow")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| BadRequest("request has no input.workflow object".into()))?;
    let mut images = Vec::new();
    for img in v
        .pointer("/input/images")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = img
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| BadRequest("an input image has no name".into()))?;
        let data = img.get("image").and_then(Value::as_str).unwrap_or_default();
        // worker-comfyui accepts data URIs and strips the prefix.
        let data = data.split_once("base64,").map_or(data, |(_, d)| d);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| BadRequest(format!("input image `{name}` is not base64: {e}")))?;
        images.push((name.to_string(), bytes));
    }
    Ok((graph, images))
}

fn submit_error(op: &str, kind: ErrorKind) -> DriveError {
    DriveError::Submit(EndpointError {
        op: op.into(),
        job: None,
        kind,
    })
}

/// What was seen of one prompt, shared by the socket and polling paths.
struct Run<'a> {
    client: &'a ComfyClient,
    prompt_id: String,
    start: Instant,
    end: Instant,
    timeline: Vec<Seen>,
    watch: &'a Watch,
    calls: u32,
}

impl Run<'_> {
    fn ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn seen(&mut self, state: JobState) {
        self.timeline.push(Seen {
            at_ms: self.ms(),
            state: state.to_string(),
        });
        if let Some(o) = &self.watch.observer {
            o(&self.prompt_id, &state, None);
        }
    }

    /// A sampler step, for the progress line.
    fn stepped(&self, step: Option<&crate::runpod::wire::JobProgress>) {
        if let Some(o) = &self.watch.observer {
            o(&self.prompt_id, &JobState::InProgress, step);
        }
    }
}

async fn drive(
    client: &ComfyClient,
    request: JobRequest,
    watch: &Watch,
    websocket: bool,
) -> Result<Finished, DriveError> {
    if interrupted() {
        return Err(DriveError::Interrupted);
    }
    let (graph, images) = take_apart(&request.body)
        .map_err(|e| submit_error("POST /prompt", ErrorKind::Malformed(e.0)))?;
    let start = Instant::now();
    let client_id = uuid::Uuid::new_v4().to_string();
    let prompt_id = uuid::Uuid::new_v4().to_string();
    // Listen before queueing, so no message of this prompt is missed.
    let mut ws = match websocket {
        true => client.connect_ws(&client_id).await.ok(),
        false => None,
    };
    for (name, bytes) in images {
        client
            .upload_image(&name, bytes)
            .await
            .map_err(DriveError::Submit)?;
    }
    // Owned from here: whatever happens to the answer, the prompt is settled or cancelled.
    let guard = InFlight::new(&prompt_id, Arc::new(client.clone()));
    let mut run = Run {
        client,
        prompt_id: prompt_id.clone(),
        start,
        end: start + request.deadline,
        timeline: Vec::new(),
        watch,
        calls: 0,
    };
    let graph_value = Value::Object(graph.clone());
    let left = run.end.saturating_duration_since(Instant::now());
    let queued = match tokio::time::timeout(
        left,
        client.queue_prompt(&graph_value, &client_id, &prompt_id),
    )
    .await
    {
        Ok(Ok(q)) => q,
        Ok(Err(e)) => return Err(DriveError::Submit(e)),
        Err(_) => return Err(submit_error("POST /prompt", ErrorKind::Timeout(left))),
    };
    let queued_ms = run.ms();
    if let Queued::Refused(body) = queued {
        guard.settle();
        run.seen(JobState::Failed);
        let checkpoints = client.checkpoints().await;
        let mut status = StatusAnswer::new(&prompt_id, JobState::Failed);
        status.error = Some(refusal_text(&body, &checkpoints));
        return Ok(finished(status, run, Vec::new(), Vec::new()));
    }
    run.seen(JobState::InQueue);
    let mut progress = Progress::new(&prompt_id, &graph);
    let followed = match watch.abort.clone() {
        Some(abort) => tokio::select! {
            r = follow(&mut run, &mut ws, &mut progress) => r,
            _ = abort.raised() => Err(Stop::Aborted),
        },
        None => follow(&mut run, &mut ws, &mut progress).await,
    };
    let entry = match followed {
        Ok(entry) => entry,
        Err(stop) => return Err(abandon(stop, guard, run, request.deadline, &progress).await),
    };
    guard.settle();
    let end = progress.end.clone().unwrap_or(End::Success);
    let result = outputs::collect(client, &prompt_id, &entry, &end).await;
    run.seen(result.state.clone());
    let (delay, exec) = progress.phases(queued_ms);
    let mut status = StatusAnswer::new(&prompt_id, result.state);
    status.output = result.output;
    status.error = result.error;
    status.delay_ms = delay;
    status.execution_ms = exec;
    Ok(finished(status, run, progress.nodes, progress.steps))
}

fn finished(
    status: StatusAnswer,
    run: Run<'_>,
    nodes: Vec<crate::model::NodeTiming>,
    progress: Vec<crate::model::ProgressSeen>,
) -> Finished {
    Finished {
        status,
        wall: run.start.elapsed(),
        timeline: run.timeline,
        status_calls: run.calls,
        nodes,
        progress,
    }
}

/// worker-comfyui's wording of a refusal, then one plain line per node error.
fn refusal_text(body: &Value, checkpoints: &[String]) -> String {
    let mut text = crate::comfyui::inventory::worker_text(body, checkpoints);
    let mut lines = Vec::new();
    for (node, e) in body
        .get("node_errors")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let class = e.get("class_type").and_then(Value::as_str).unwrap_or("?");
        for err in e
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let details = err
                .get("details")
                .and_then(Value::as_str)
                .unwrap_or_default();
            lines.push(format!("node {node} ({class}): {message}: {details}"));
        }
    }
    if !lines.is_empty() {
        text.push_str("\n\nIn short:\n");
        text.push_str(&lines.join("\n"));
    }
    text
}

/// Why following stopped before the prompt ended.
enum Stop {
    Deadline,
    Lost(EndpointError),
    Aborted,
}

/// Follows the prompt to its end; returns its history entry.
async fn follow(
    run: &mut Run<'_>,
    ws: &mut Option<ComfyWs>,
    progress: &mut Progress<'_>,
) -> Result<Value, Stop> {
    let mut pause = FIRST_POLL;
    let mut failures = 0u32;
    loop {
        if progress.end.is_some() {
            return settle(run, progress).await;
        }
        let left = run.end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Stop::Deadline);
        }
        if let Some(socket) = ws.as_mut() {
            match tokio::time::timeout(left.min(QUIET), socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    if let Ok(msg) = serde_json::from_str::<Value>(text.as_str()) {
                        let at = run.ms();
                        let steps = progress.steps.len();
                        if progress.on(at, &msg) {
                            run.seen(JobState::InProgress);
                        }
                        if progress.steps.len() != steps {
                            run.stepped(progress.last_step());
                        }
                    }
                    continue;
                }
                // Preview frames, pings.
                Ok(Some(Ok(_))) => continue,
                // The socket dropped: poll from now on.
                Ok(Some(Err(_)) | None) => {
                    *ws = None;
                    continue;
                }
                // Quiet: look at the history in case a message was lost.
                Err(_) => {}
            }
        } else {
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(MAX_POLL);
        }
        match poll(run, progress).await {
            Ok(Some(entry)) => return Ok(entry),
            Ok(None) => failures = 0,
            Err(e) if e.kind.is_transient() && failures < 8 => failures += 1,
            Err(e) => return Err(Stop::Lost(e)),
        }
    }
}

/// One look at the history (and the queue while there is no entry).
async fn poll(
    run: &mut Run<'_>,
    progress: &mut Progress<'_>,
) -> Result<Option<Value>, EndpointError> {
    run.calls += 1;
    if let Some(entry) = run.client.history(&run.prompt_id).await? {
        replay_history(run, progress, &entry);
        return Ok(Some(entry));
    }
    run.calls += 1;
    match run.client.queue_position(&run.prompt_id).await? {
        Some("running") if progress.started_ms.is_none() => {
            progress.started_ms = Some(run.ms());
            run.seen(JobState::InProgress);
        }
        Some(_) => {}
        // Neither queued, running nor in the history: it may be finishing
        // (history is written just after), so look once more.
        None => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            run.calls += 1;
            if let Some(entry) = run.client.history(&run.prompt_id).await? {
                replay_history(run, progress, &entry);
                return Ok(Some(entry));
            }
            return Err(EndpointError {
                op: "GET /queue".into(),
                job: Some(run.prompt_id.clone()),
                kind: ErrorKind::NotFound(": the prompt left ComfyUI's queue without a history entry (deleted from the queue, or the server restarted)".into()),
            });
        }
    }
    Ok(None)
}

/// Reads how the prompt ended from its history entry, when the socket did not say.
fn replay_history(run: &mut Run<'_>, progress: &mut Progress<'_>, entry: &Value) {
    if progress.end.is_some() {
        return;
    }
    let now = run.ms();
    let began = progress.started_ms.is_none();
    for pair in entry
        .pointer("/status/messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        progress.on_pair(now, pair);
    }
    if progress.end.is_none() {
        let ok = entry.pointer("/status/status_str").and_then(Value::as_str) != Some("error");
        if ok {
            progress.on(now, &serde_json::json!({"type": "execution_success", "data": {"prompt_id": run.prompt_id}}));
        }
    }
    if began && progress.started_ms.is_some() {
        run.seen(JobState::InProgress);
    }
}

/// The prompt ended: its history entry (written just after the last message).
async fn settle(run: &mut Run<'_>, progress: &mut Progress<'_>) -> Result<Value, Stop> {
    let until = Instant::now() + HISTORY_LAG;
    let mut pause = Duration::from_millis(20);
    loop {
        run.calls += 1;
        match run.client.history(&run.prompt_id).await {
            Ok(Some(entry)) => {
                replay_history(run, progress, &entry);
                return Ok(entry);
            }
            Ok(None) if Instant::now() < until => {}
            Ok(None) => {
                return Err(Stop::Lost(EndpointError {
                    op: "GET /history".into(),
                    job: Some(run.prompt_id.clone()),
                    kind: ErrorKind::NotFound(": the prompt ended but has no history entry".into()),
                }))
            }
            Err(e) if e.kind.is_transient() && Instant::now() < until => {}
            Err(e) => return Err(Stop::Lost(e)),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

/// Gives the prompt up: dequeued and interrupted, and the stop explained.
async fn abandon(
    stop: Stop,
    guard: InFlight,
    run: Run<'_>,
    deadline: Duration,
    progress: &Progress<'_>,
) -> DriveError {
    let cancelled = Some(guard.cancel().await);
    let last_state = if progress.started_ms.is_some() {
        JobState::InProgress
    } else {
        JobState::InQueue
    };
    match stop {
        Stop::Deadline => DriveError::Deadline {
            job: run.prompt_id,
            last_state: last_state.to_string(),
            deadline,
            diagnosis: None,
            cancelled,
            timeline: run.timeline,
            worker: None,
        },
        Stop::Lost(error) => DriveError::Status {
            error,
            job: run.prompt_id,
            worker: None,
            cancelled,
        },
        Stop::Aborted => DriveError::Abandoned {
            job: run.prompt_id,
            last_state: last_state.to_string(),
            cancelled,
        },
    }
}

impl crate::runpod::output::Download for Comfyui {
    fn download<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, EndpointError>> {
        let _ = url;
        Box::pin(async {
            Err(EndpointError {
                op: "download".into(),
                job: None,
                kind: ErrorKind::Unsupported("ComfyUI returns files inline"),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_refusal_reads_like_the_worker_then_plainly() {
        let body = json!({
            "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation", "details": "", "extra_info": {}},
            "node_errors": {"4": {"errors": [{"type": "value_not_in_list", "message": "Value not in list",
                "details": "ckpt_name: 'x.safetensors' not in []", "extra_info": {}}], "dependent_outputs": ["9"], "class_type": "CheckpointLoaderSimple"}}
        });
        let text = refusal_text(&body, &[]);
        assert!(
            text.starts_with("Workflow validation failed:\n• Node 4 (errors): "),
            "{text}"
        );
        assert!(text.ends_with("In short:\nnode 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: 'x.safetensors' not in []"), "{text}");
    }

    #[test]
    fn requests_are_taken_apart_with_data_uris() {
        let body = json!({"input": {"workflow": {"1": {"class_type": "X", "inputs": {}}},
            "images": [{"name": "a.png", "image": "data:image/png;base64,aGk="}]}});
        let (graph, images) = take_apart(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert!(graph.contains_key("1"));
        assert_eq!(images, vec![("a.png".to_string(), b"hi".to_vec())]);
        assert!(take_apart(b"{}").unwrap_err().0.contains("input.workflow"));
    }
}
