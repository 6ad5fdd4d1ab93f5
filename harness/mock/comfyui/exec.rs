//! One simulated ComfyUI server per behaviour: a prompt queue run one prompt
//! at a time, as ComfyUI runs it. Each prompt waits out the behaviour's
//! `queue` time, then its nodes run in dependency order over the behaviour's
//! `execution` time with the messages a real ComfyUI 0.3.64 sends
//! (`execution_start`, `execution_cached`, `executing`, `executed`,
//! `execution_success` / `execution_error` / `execution_interrupted`, the
//! final `executing` with no node), and a history entry of the same shape.
//! Interrupts take effect at the next node boundary, as in ComfyUI.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::sync::{broadcast, Notify};

use super::super::behaviour::{Behaviour, FinalStatus, OutputShape};
use super::order::execution_order;
use crate::mock::runpod::render;

/// Finished prompts a server remembers (with their files); older ones are forgotten.
const HISTORY_KEPT: usize = 256;

/// The servers of the ComfyUI face, one per behaviour, made on first use.
pub(crate) struct Face {
    servers: Mutex<HashMap<String, Arc<Server>>>,
    events: broadcast::Sender<Event>,
}

impl Face {
    /// The server of behaviour `endpoint`, made on first use.
    pub(crate) fn server(&self, endpoint: &str, b: Arc<Behaviour>, speed: f64) -> Arc<Server> {
        let mut servers = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        servers
            .entry(endpoint.to_string())
            .or_insert_with(|| Arc::new(Server::new(b, self.events.clone(), speed)))
            .clone()
    }

    /// Every message from now on (each websocket filters its own).
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}

impl Default for Face {
    fn default() -> Self {
        Face {
            servers: Mutex::default(),
            events: broadcast::channel(4096).0,
        }
    }
}

/// A message for the websocket of `client` (`None`: every client).
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub client: Option<Arc<str>>,
    pub text: Arc<str>,
}

/// A queued prompt.
#[derive(Clone)]
pub(crate) struct Prompt {
    pub id: String,
    pub number: u64,
    pub graph: Map<String, Value>,
    pub client: String,
    pub outputs: Vec<String>,
    /// Not run before this (the behaviour's queue time); `None`: never (a stuck queue).
    pub ready_at: Option<Instant>,
}

impl Prompt {
    /// As `/queue` and the history list it: `[number, id, graph, extra, outputs]`.
    pub(crate) fn as_item(&self) -> Value {
        json!([self.number, self.id, self.graph, {"client_id": self.client}, self.outputs])
    }
}

#[derive(Default)]
struct State {
    pending: VecDeque<Prompt>,
    running: Option<Prompt>,
    interrupt: bool,
    history: HashMap<String, Value>,
    order: VecDeque<String>,
    /// `subfolder/filename` -> bytes, and which prompt made them.
    files: HashMap<String, (String, Arc<Vec<u8>>)>,
    counters: HashMap<String, u32>,
    pub uploads: HashMap<String, (u32, u32)>,
    executor: bool,
}

/// One behaviour's simulated ComfyUI.
pub(crate) struct Server {
    pub behaviour: Arc<Behaviour>,
    state: Mutex<State>,
    wake: Notify,
    number: AtomicU64,
    events: broadcast::Sender<Event>,
    speed: f64,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Server {
    pub(crate) fn new(
        behaviour: Arc<Behaviour>,
        events: broadcast::Sender<Event>,
        speed: f64,
    ) -> Self {
        Server {
            behaviour,
            state: Mutex::default(),
            wake: Notify::new(),
            number: AtomicU64::new(0),
            events,
            speed: speed.max(1e-6),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn send(&self, client: Option<&str>, kind: &str, data: Value) {
        let text = json!({"type": kind, "data": data}).to_string();
        let _ = self.events.send(Event {
            client: client.map(Arc::from),
            text: text.into(),
        });
    }

    /// The `status` message a client gets on connecting and on every queue change.
    pub(crate) fn status(&self) -> Value {
        let st = self.lock();
        let n = st.pending.len() + usize::from(st.running.is_some());
        json!({"status": {"exec_info": {"queue_remaining": n}}})
    }

    fn announce(&self) {
        let status = self.status();
        self.send(None, "status", status);
    }

    /// An uploaded input image (its size, when it decodes).
    pub(crate) fn upload(&self, name: &str, size: (u32, u32)) {
        self.lock().uploads.insert(name.to_string(), size);
    }

    pub(crate) fn uploaded(&self) -> HashMap<String, (u32, u32)> {
        self.lock().uploads.clone()
    }

    /// Queues a validated prompt; starts the executor on first use.
    pub(crate) fn queue(
        self: &Arc<Self>,
        id: String,
        graph: Map<String, Value>,
        client: String,
        outputs: Vec<String>,
    ) -> u64 {
        let number = self.number.fetch_add(1, Ordering::Relaxed);
        let ready_at =
            (!self.behaviour.stuck).then(|| Instant::now() + self.real(self.behaviour.queue_d));
        let start = {
            let mut st = self.lock();
            st.pending.push_back(Prompt {
                id,
                number,
                graph,
                client,
                outputs,
                ready_at,
            });
            !std::mem::replace(&mut st.executor, true)
        };
        if start {
            let me = self.clone();
            tokio::spawn(async move { me.execute_forever().await });
        }
        self.announce();
        self.wake.notify_one();
        number
    }

    fn real(&self, d: Duration) -> Duration {
        d.div_f64(self.speed)
    }

    /// `[running], [pending]` as `/queue` lists them.
    pub(crate) fn queue_items(&self) -> (Vec<Value>, Vec<Value>) {
        let st = self.lock();
        (
            st.running.iter().map(Prompt::as_item).collect(),
            st.pending.iter().map(Prompt::as_item).collect(),
        )
    }

    /// Removes waiting prompts (`POST /queue {"delete": [...]}` or `{"clear": true}`).
    pub(crate) fn delete(&self, ids: &[String], clear: bool) {
        {
            let mut st = self.lock();
            st.pending.retain(|p| !clear && !ids.contains(&p.id));
        }
        self.announce();
    }

    /// `POST /interrupt`: stops the running prompt (only `id`, when given) at the next node.
    pub(crate) fn interrupt(&self, id: Option<&str>) {
        let mut st = self.lock();
        let hit = match (&st.running, id) {
            (Some(p), Some(id)) => p.id == id,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if hit {
            st.interrupt = true;
            drop(st);
            self.wake.notify_waiters();
        }
    }

    pub(crate) fn history(&self, id: &str) -> Option<Value> {
        self.lock().history.get(id).cloned()
    }

    pub(crate) fn file(&self, subfolder: &str, filename: &str) -> Option<Arc<Vec<u8>>> {
        let key = format!("{subfolder}/{filename}");
        self.lock().files.get(&key).map(|(_, b)| b.clone())
    }

    async fn execute_forever(self: Arc<Self>) {
        loop {
            let next = {
                let mut st = self.lock();
                let now = Instant::now();
                match st.pending.front().map(|p| p.ready_at) {
                    Some(Some(t)) if t <= now => {
                        let p = st.pending.pop_front().expect("front exists");
                        st.running = Some(p.clone());
                        st.interrupt = false;
                        Ok(p)
                    }
                    Some(Some(t)) => Err(Some(t)),
                    _ => Err(None),
                }
            };
            match next {
                Ok(p) => {
                    self.announce();
                    self.run(p).await;
                    self.lock().running = None;
                    self.announce();
                }
                Err(Some(t)) => {
                    let _ = tokio::time::timeout(
                        t.saturating_duration_since(Instant::now()),
                        self.wake.notified(),
                    )
                    .await;
                }
                // Nothing ready (or a stuck queue): wait for a change, re-checking now and then.
                Err(None) => {
                    let _ = tokio::time::timeout(Duration::from_millis(500), self.wake.notified())
                        .await;
                }
            }
        }
    }

    /// Sleeps `d` (real time), waking early for an interrupt; true if interrupted.
    async fn pause(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        loop {
            if self.lock().interrupt {
                return true;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), self.wake.notified())
                .await;
        }
    }

    async fn run(&self, p: Prompt) {
        let mut run = Run {
            server: self,
            prompt: &p,
            messages: Vec::new(),
        };
        run.note(
            "execution_start",
            json!({"prompt_id": p.id, "timestamp": now_ms()}),
            true,
        );
        run.note(
            "execution_cached",
            json!({"nodes": [], "prompt_id": p.id, "timestamp": now_ms()}),
            true,
        );
        let (outputs, ok) = run.nodes().await;
        if ok {
            run.note(
                "execution_success",
                json!({"prompt_id": p.id, "timestamp": now_ms()}),
                true,
            );
        }
        let meta: Map<String, Value> = outputs
            .keys()
            .map(|n| (n.clone(), json!({"node_id": n, "display_node": n, "parent_node": null, "real_node_id": n})))
            .collect();
        let status = if ok { "success" } else { "error" };
        let entry = json!({
            "prompt": p.as_item(),
            "outputs": outputs,
            "status": {"status_str": status, "completed": ok, "messages": run.messages},
            "meta": meta,
        });
        self.remember(&p.id, entry);
        // ComfyUI writes the history, then sends the last `executing`.
        self.send(
            Some(&p.client),
            "executing",
            json!({"node": null, "prompt_id": p.id}),
        );
    }

    fn remember(&self, id: &str, entry: Value) {
        let mut st = self.lock();
        st.history.insert(id.to_string(), entry);
        st.order.push_back(id.to_string());
        while st.order.len() > HISTORY_KEPT {
            if let Some(old) = st.order.pop_front() {
                st.history.remove(&old);
                st.files.retain(|_, (owner, _)| owner != &old);
            }
        }
    }

    /// The files each output node writes (stored for `/view`), by node id.
    /// A node's output is `{"images": [...]}`, plus `"animated": [true]` for
    /// videos and animations, as SaveVideo and SaveAnimatedWEBP report them.
    fn produce(&self, p: &Prompt) -> HashMap<String, Value> {
        let b = &self.behaviour;
        let uploads = self.uploaded();
        let plan = render::plan(&p.graph, &|name| uploads.get(name).copied());
        // (extension, bytes): a replayed file keeps its kind (mp4, webm, webp, ...).
        let mut images: VecDeque<(String, Vec<u8>)> = if b.output == OutputShape::SuccessNoImages {
            VecDeque::new()
        } else if b.replay.is_some() {
            b.replay_images
                .iter()
                .map(|(name, bytes)| {
                    let ext = name.rsplit_once('.').map_or("png", |(_, e)| e).to_string();
                    (ext, bytes.clone())
                })
                .collect()
        } else {
            render::render_cached(&plan, b.image, p.number)
                .into_iter()
                .map(|(_, bytes)| ("png".to_string(), bytes))
                .collect()
        };
        let mut out = HashMap::new();
        let mut st = self.lock();
        for node in &p.outputs {
            let n = &p.graph[node];
            let class = n
                .get("class_type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let preview = class == "PreviewImage";
            let prefix = n
                .pointer("/inputs/filename_prefix")
                .and_then(Value::as_str)
                .unwrap_or("ComfyUI");
            let (subfolder, stem) = match prefix.rsplit_once('/') {
                Some((dir, stem)) => (dir.to_string(), stem.to_string()),
                None => (String::new(), prefix.to_string()),
            };
            let count = if preview {
                plan.batch as usize
            } else {
                (plan.batch as usize).min(images.len())
            };
            let mut files = Vec::new();
            let mut animated = false;
            for _ in 0..count {
                let (ext, bytes) = if preview {
                    let first = render::render_cached(&plan, b.image, p.number);
                    (
                        "png".to_string(),
                        first.first().map(|(_, b)| b.clone()).unwrap_or_default(),
                    )
                } else {
                    images.pop_front().unwrap_or_default()
                };
                animated |= matches!(crate::media::sniff(&bytes), crate::media::Kind::Moving(_));
                let stem = if preview {
                    "ComfyUI_temp_mock".to_string()
                } else {
                    stem.clone()
                };
                let c = st
                    .counters
                    .entry(format!("{subfolder}/{stem}"))
                    .or_insert(0);
                *c += 1;
                let filename = format!("{stem}_{:05}_.{ext}", *c);
                let kind = if preview { "temp" } else { "output" };
                st.files.insert(
                    format!("{subfolder}/{filename}"),
                    (p.id.clone(), Arc::new(bytes)),
                );
                files.push(json!({"filename": filename, "subfolder": subfolder, "type": kind}));
            }
            if !files.is_empty() {
                let mut output = json!({"images": files});
                if animated {
                    output["animated"] = json!([true]);
                }
                out.insert(node.clone(), output);
            }
        }
        out
    }
}

/// One prompt being run: the messages it sent that its history keeps.
struct Run<'a> {
    server: &'a Server,
    prompt: &'a Prompt,
    messages: Vec<Value>,
}

impl Run<'_> {
    /// Sends a message to the prompt's client; `keep`: also into the history's `status.messages`.
    fn note(&mut self, kind: &str, data: Value, keep: bool) {
        if keep {
            self.messages.push(json!([kind, data.clone()]));
        }
        self.server.send(Some(&self.prompt.client), kind, data);
    }

    /// Spends `d` in one node; a sampler (a node with `steps`) reports each step
    /// as ComfyUI's `progress` message does.
    async fn sample(&mut self, node: &str, class: &str, d: Duration) {
        let steps = self.prompt.graph[node]
            .pointer("/inputs/steps")
            .and_then(Value::as_u64)
            .filter(|_| class.contains("Sampler"))
            .unwrap_or(0);
        if steps == 0 {
            self.server.pause(d).await;
            return;
        }
        let id = self.prompt.id.clone();
        for value in 1..=steps {
            if self.server.pause(d / steps as u32).await {
                return; // interrupted: the next node boundary reports it
            }
            self.note(
                "progress",
                json!({"value": value, "max": steps, "prompt_id": id, "node": node}),
                false,
            );
        }
    }

    /// Runs the nodes in order; returns the outputs and whether it succeeded.
    async fn nodes(&mut self) -> (Map<String, Value>, bool) {
        let (p, b) = (self.prompt, &self.server.behaviour);
        let id = p.id.as_str();
        let order = execution_order(&p.graph, &p.outputs);
        let per_node = self.server.real(b.execution_d) / order.len().max(1) as u32;
        let mut produced = self.server.produce(p);
        let mut outputs = Map::new();
        let mut executed: Vec<String> = Vec::new();
        // A failing behaviour fails at the first output node, before it saves anything.
        let fail_at = order
            .iter()
            .position(|n| p.outputs.contains(n))
            .unwrap_or(order.len().saturating_sub(1));
        for (i, node) in order.iter().enumerate() {
            let class = p.graph[node]
                .get("class_type")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let stopped = json!({"prompt_id": id, "node_id": node, "node_type": class, "executed": executed, "timestamp": now_ms()});
            self.note(
                "executing",
                json!({"node": node, "display_node": node, "prompt_id": id}),
                false,
            );
            // ComfyUI raises an interrupt when the next node starts.
            if self.server.lock().interrupt || (i == fail_at && b.status == FinalStatus::Cancelled)
            {
                self.note("execution_interrupted", stopped, true);
                return (outputs, false);
            }
            // TIMED_OUT: the first node never finishes; like a sampler checking
            // between steps, it stops itself when interrupted.
            if b.status == FinalStatus::TimedOut && i == 0 {
                self.server.pause(Duration::from_secs(7 * 24 * 3600)).await;
                self.note("execution_interrupted", stopped, true);
                return (outputs, false);
            }
            let recorded = b
                .replay
                .as_ref()
                .and_then(|r| r.nodes.iter().find(|t| t.node == *node));
            let spend =
                recorded.map_or(per_node, |t| self.server.real(Duration::from_millis(t.ms)));
            self.sample(node, class, spend).await;
            if i == fail_at && b.status == FinalStatus::Failed {
                let message = b
                    .error
                    .clone()
                    .unwrap_or_else(|| "mock execution error".into());
                let mut data = stopped;
                data["exception_message"] = json!(format!("{message}\n"));
                data["exception_type"] = json!("RuntimeError");
                data["traceback"] = json!(["  File \"execution.py\", line 496, in execute\n"]);
                data["current_inputs"] = json!({});
                data["current_outputs"] = json!({});
                self.note("execution_error", data, true);
                return (outputs, false);
            }
            if let Some(out) = produced.remove(node) {
                self.note(
                    "executed",
                    json!({"node": node, "display_node": node, "output": out, "prompt_id": id}),
                    false,
                );
                outputs.insert(node.clone(), out);
            }
            executed.push(node.clone());
        }
        (outputs, true)
    }
}
