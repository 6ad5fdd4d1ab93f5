//! The API-format graph (a map `node id -> {class_type, inputs, _meta?}`, an
//! input being a literal or a link `[source node id, output index]`), what
//! can be wrong with one, and small readers of its nodes.

use serde_json::{Map, Value};

/// The API-format graph sent as `input.workflow`.
pub type Graph = Map<String, Value>;

/// A problem with a workflow, with an optional fix and position in a JSON file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WorkflowProblem {
    /// What is wrong.
    pub message: String,
    /// The fix, when there is one.
    pub help: Option<String>,
    /// 1-based line and column inside the workflow file, when the JSON itself is bad.
    pub at: Option<(usize, usize)>,
}

impl WorkflowProblem {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        WorkflowProblem {
            message: message.into(),
            help: None,
            at: None,
        }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

pub(crate) const EXPORT_HELP: &str =
    "in ComfyUI enable dev mode options if needed and use Workflow > Export (API), then point `workflow:` at that file";

/// How node ids sort: numeric ids by number (`2` before `10`), as ComfyUI
/// numbers nodes, then any others by name.
pub(crate) fn id_key(id: &str) -> (u64, String) {
    (id.parse::<u64>().unwrap_or(u64::MAX), id.to_string())
}

/// The graph's node ids in [`id_key`] order.
pub(crate) fn sorted_ids(graph: &Graph) -> Vec<&String> {
    let mut ids: Vec<&String> = graph.keys().collect();
    ids.sort_by_key(|id| id_key(id));
    ids
}

/// The node's `_meta.title`, when it has one.
pub fn title(node: &Value) -> Option<&str> {
    node.get("_meta")?.get("title")?.as_str()
}

/// The node's `class_type`.
pub fn class_type(node: &Value) -> &str {
    node.get("class_type")
        .and_then(Value::as_str)
        .unwrap_or("?")
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

