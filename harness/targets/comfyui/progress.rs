//! Following one prompt through ComfyUI's progress messages (from the
//! websocket, or the `status.messages` of its history entry): when execution
//! started, which node ran when and for how long, which were cached, and how
//! it ended. Pure: fed `(ms since submission, message)`, so it is tested on
//! message sequences recorded from a real ComfyUI.

use serde_json::{Map, Value};

use crate::model::NodeTiming;

/// How a prompt ended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum End {
    /// `execution_success` (or the final `executing` with no node).
    Success,
    /// `execution_error`: a node raised.
    Error {
        node_id: String,
        node_type: String,
        exception_type: String,
        message: String,
    },
    /// `execution_interrupted`: stopped at a node boundary.
    Interrupted { node_id: String, node_type: String },
}

/// What the messages so far say about one prompt.
pub(crate) struct Progress<'g> {
    prompt_id: String,
    graph: &'g Map<String, Value>,
    /// `execution_start`, ms after submission.
    pub started_ms: Option<u64>,
    /// When it ended, ms after submission.
    pub ended_ms: Option<u64>,
    pub end: Option<End>,
    running: Option<(String, u64)>,
    pub nodes: Vec<NodeTiming>,
    /// The samplers' step updates (`progress` messages), each kept once.
    pub steps: Vec<crate::model::ProgressSeen>,
}

impl<'g> Progress<'g> {
    pub(crate) fn new(prompt_id: &str, graph: &'g Map<String, Value>) -> Self {
        Progress {
            prompt_id: prompt_id.to_string(),
            graph,
            started_ms: None,
            ended_ms: None,
            end: None,
            running: None,
            nodes: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Takes one message (`{"type": ..., "data": {...}}`); returns true when it
    /// moved the prompt from queued to running.
    pub(crate) fn on(&mut self, at_ms: u64, msg: &Value) -> bool {
        let kind = msg.get("type").and_then(Value::as_str).unwrap_or_default();
        let data = msg.get("data").unwrap_or(&Value::Null);
        self.on_parts(at_ms, kind, data)
    }

    /// Takes one `[type, data]` pair as history's `status.messages` lists them.
    pub(crate) fn on_pair(&mut self, at_ms: u64, pair: &Value) -> bool {
        match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(kind), data]) => self.on_parts(at_ms, kind, data),
            _ => false,
        }
    }

    fn on_parts(&mut self, at_ms: u64, kind: &str, data: &Value) -> bool {
        // Messages for other prompts (another client, an earlier run) are not ours;
        // `status` messages carry no prompt id at all.
        if data.get("prompt_id").and_then(Value::as_str) != Some(self.prompt_id.as_str())
            || self.end.is_some()
        {
            return false;
        }
        let text = |k: &str| {
            data.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let mut began = false;
        if self.started_ms.is_none() && kind != "execution_cached" {
            self.started_ms = Some(at_ms);
            began = true;
        }
        match kind {
            "execution_start" => {}
            // A sampler's step: `{"value": 12, "max": 25, "prompt_id", "node"}`.
            "progress" => {
                let step = data.as_object().and_then(|o| {
                    let mut o = o.clone();
                    o.insert("type".into(), Value::from("progress"));
                    crate::runpod::wire::JobProgress::from_map(&o)
                });
                if let Some(p) = step {
                    self.step(at_ms, p);
                }
            }
            "execution_cached" => {
                self.started_ms.get_or_insert(at_ms);
                for node in data
                    .get("nodes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(id) = node.as_str() {
                        self.push(id, at_ms, at_ms, true);
                    }
                }
            }
            "executing" => {
                self.close(at_ms);
                match data.get("node").and_then(Value::as_str) {
                    Some(id) => self.running = Some((id.to_string(), at_ms)),
                    // The last `executing` names no node: the prompt is done.
                    None => self.finish(at_ms, End::Success),
                }
            }
            "execution_success" => self.finish(at_ms, End::Success),
            "execution_error" => self.finish(
                at_ms,
                End::Error {
                    node_id: text("node_id"),
                    node_type: text("node_type"),
                    exception_type: text("exception_type"),
                    message: text("exception_message").trim_end().to_string(),
                },
            ),
            "execution_interrupted" => self.finish(
                at_ms,
                End::Interrupted {
                    node_id: text("node_id"),
                    node_type: text("node_type"),
                },
            ),
            _ => {}
        }
        began
    }

    /// Keeps a changed step: the first ones and the latest (see `PROGRESS_KEPT`).
    fn step(&mut self, at_ms: u64, progress: crate::runpod::wire::JobProgress) {
        if self.steps.last().is_some_and(|l| l.progress == progress) {
            return;
        }
        if self.steps.len() >= crate::model::PROGRESS_KEPT {
            self.steps.pop();
        }
        self.steps
            .push(crate::model::ProgressSeen { at_ms, progress });
    }

    /// The latest step, for the progress line.
    pub(crate) fn last_step(&self) -> Option<&crate::runpod::wire::JobProgress> {
        self.steps.last().map(|s| &s.progress)
    }

    fn finish(&mut self, at_ms: u64, end: End) {
        // An interrupted or failed node did not finish: it is not timed.
        if end == End::Success {
            self.close(at_ms);
        }
        self.running = None;
        self.ended_ms = Some(at_ms);
        self.end = Some(end);
    }

    fn close(&mut self, at_ms: u64) {
        if let Some((id, since)) = self.running.take() {
            self.push(&id, since, at_ms, false);
        }
    }

    fn push(&mut self, id: &str, from: u64, to: u64, cached: bool) {
        let node = self.graph.get(id);
        let class_type = node
            .and_then(|n| n.get("class_type"))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let title = node
            .and_then(|n| n.pointer("/_meta/title"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let base = self.started_ms.unwrap_or(from);
        self.nodes.push(NodeTiming {
            node: id.to_string(),
            class_type,
            title,
            start_ms: from.saturating_sub(base),
            ms: to.saturating_sub(from),
            cached,
        });
    }

    /// Queued to execution start, and execution start to the end.
    pub(crate) fn phases(&self, queued_ms: u64) -> (Option<u64>, Option<u64>) {
        let delay = self.started_ms.map(|s| s.saturating_sub(queued_ms));
        let exec = match (self.started_ms, self.ended_ms) {
            (Some(s), Some(e)) => Some(e.saturating_sub(s)),
            _ => None,
        };
        (delay, exec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn recording(case: &str) -> Value {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/comfyui/recorded")
            .join(format!("{case}.json"));
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    /// What following a recording's messages gives.
    struct Replayed {
        nodes: Vec<NodeTiming>,
        end: Option<End>,
        delay: Option<u64>,
        exec: Option<u64>,
    }

    fn replay(case: &str) -> Replayed {
        let r = recording(case);
        let graph = r["graph"].as_object().unwrap().clone();
        let id = r["prompt"]["body"]["prompt_id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut p = Progress::new(&id, &graph);
        for m in r["ws"].as_array().unwrap() {
            p.on(m["at_ms"].as_u64().unwrap(), m);
        }
        let (delay, exec) = p.phases(0);
        Replayed {
            nodes: p.nodes,
            end: p.end,
            delay,
            exec,
        }
    }

    #[test]
    fn a_real_run_times_every_node_in_order() {
        let Replayed {
            nodes,
            end,
            delay,
            exec,
        } = replay("success");
        assert_eq!(end, Some(End::Success));
        let ids: Vec<&str> = nodes.iter().map(|n| n.node.as_str()).collect();
        assert_eq!(ids, ["1", "2", "5", "3", "4"]);
        assert_eq!(nodes[0].class_type, "EmptyImage");
        assert!(nodes.iter().all(|n| !n.cached));
        let sum: u64 = nodes.iter().map(|n| n.ms).sum();
        assert!(sum <= exec.unwrap(), "{sum} > {exec:?}");
        assert!(delay.is_some());
    }

    #[test]
    fn a_cached_run_marks_cached_nodes() {
        let Replayed { nodes, end, .. } = replay("cached");
        assert_eq!(end, Some(End::Success));
        assert_eq!(nodes.len(), 5);
        assert!(nodes.iter().all(|n| n.cached && n.ms == 0));
    }

    #[test]
    fn errors_and_interrupts_name_the_node() {
        let Replayed { end, .. } = replay("execution_error");
        match end {
            Some(End::Error {
                node_id,
                node_type,
                message,
                ..
            }) => {
                assert_eq!((node_id.as_str(), node_type.as_str()), ("4", "SaveVideo"));
                assert_eq!(message, "'bogus' is not a valid VideoContainer");
            }
            other => panic!("{other:?}"),
        }
        let Replayed { nodes, end, .. } = replay("interrupted");
        assert_eq!(
            end,
            Some(End::Interrupted {
                node_id: "3".into(),
                node_type: "ImageBlur".into()
            })
        );
        // Node 2 ran for seconds before the interrupt; the interrupted node is not timed.
        assert_eq!(nodes.last().unwrap().node, "2");
        assert!(nodes.last().unwrap().ms > 1000);
    }

    #[test]
    fn history_messages_give_the_same_end() {
        let r = recording("execution_error");
        let id = r["prompt"]["body"]["prompt_id"].as_str().unwrap();
        let graph = r["graph"].as_object().unwrap().clone();
        let mut p = Progress::new(id, &graph);
        for m in r["history"][id]["status"]["messages"].as_array().unwrap() {
            p.on_pair(0, m);
        }
        assert!(matches!(p.end, Some(End::Error { .. })));
    }
}
