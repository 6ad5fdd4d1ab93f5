//! Reading a UI-format save (what ComfyUI's Save, a PNG's embedded `workflow`
//! or a subgraph definition holds) into plain structs: nodes with their mode,
//! title, sockets and widget values, and links by id. Both link shapes are
//! read: `[id, origin, slot, target, slot, type]` and `{id, origin_id, ...}`.

use std::collections::HashMap;

use serde_json::Value;

use crate::comfyui::graph::{kind_of, WorkflowProblem};

/// A node id as the save writes it (a number, or a string in some exports).
pub(super) type NodeId = String;

/// The frontend's node modes that change what is sent (`LGraphEventMode`).
pub(super) const MODE_NEVER: i64 = 2;
pub(super) const MODE_BYPASS: i64 = 4;

/// The subgraph input and output pseudo-nodes inside a subgraph definition.
pub(super) const SUBGRAPH_INPUT: &str = "-10";
pub(super) const SUBGRAPH_OUTPUT: &str = "-20";

#[derive(Clone)]
pub(super) struct UiNode {
    pub id: NodeId,
    pub ty: String,
    pub mode: i64,
    pub title: Option<String>,
    pub inputs: Vec<UiInput>,
    pub outputs: Vec<String>,
    pub widgets_values: Value,
}

#[derive(Clone)]
pub(super) struct UiInput {
    pub name: String,
    /// The widget this socket stands for, when it is a widget input.
    pub widget: Option<String>,
    pub ty: String,
    pub link: Option<String>,
}

#[derive(Clone)]
pub(super) struct UiLink {
    pub origin: NodeId,
    pub origin_slot: usize,
    pub target: NodeId,
    pub target_slot: usize,
}

/// One graph: the root or a subgraph definition.
pub(super) struct UiGraph {
    pub nodes: Vec<UiNode>,
    pub links: HashMap<String, UiLink>,
}

impl UiGraph {
    pub fn node(&self, id: &str) -> Option<&UiNode> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// Reads `nodes` and `links` of a root graph or a subgraph definition; `at`
/// names it in errors.
pub(super) fn graph(v: &Value, at: &str) -> Result<UiGraph, WorkflowProblem> {
    let nodes = v
        .get("nodes")
        .and_then(Value::as_array)
        .ok_or_else(|| WorkflowProblem::new(format!("{at}: `nodes` is not a list")))?
        .iter()
        .enumerate()
        .map(|(i, n)| node(n).map_err(|e| WorkflowProblem::new(format!("{at}: node #{i}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut links = HashMap::new();
    if let Some(list) = v.get("links").and_then(Value::as_array) {
        for l in list {
            // A link that cannot be read is one the frontend would drop too.
            if let Some((id, link)) = link(l) {
                links.insert(id, link);
            }
        }
    }
    Ok(UiGraph { nodes, links })
}

fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn node(v: &Value) -> Result<UiNode, NodeShape> {
    let id = v
        .get("id")
        .and_then(id_of)
        .ok_or("it has no `id`")?;
    let ty = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("node {id} has no `type`"))?
        .to_string();
    let inputs = match v.get("inputs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(input).collect(),
        Some(other) => return Err(NodeShape(format!("node {id} has `inputs` that is {}", kind_of(other)))),
    };
    let outputs = v
        .get("outputs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|o| type_name(o.get("type")))
                .collect()
        })
        .unwrap_or_default();
    Ok(UiNode {
        id,
        ty,
        mode: v.get("mode").and_then(Value::as_i64).unwrap_or(0),
        title: v.get("title").and_then(Value::as_str).map(str::to_string),
        inputs,
        outputs,
        widgets_values: v.get("widgets_values").cloned().unwrap_or(Value::Null),
    })
}

fn type_name(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        // LiteGraph writes the wildcard type as the number -1 or 0 in old saves.
        _ => "*".to_string(),
    }
}

fn input(v: &Value) -> UiInput {
    UiInput {
        name: v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        widget: v
            .get("widget")
            .and_then(|w| w.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string),
        ty: type_name(v.get("type")),
        link: v.get("link").and_then(id_of),
    }
}

fn link(v: &Value) -> Option<(String, UiLink)> {
    let slot = |v: Option<&Value>| v.and_then(Value::as_u64).map(|s| s as usize);
    match v {
        Value::Array(a) if a.len() >= 5 => Some((
            id_of(&a[0])?,
            UiLink {
                origin: id_of(&a[1])?,
                origin_slot: slot(a.get(2))?,
                target: id_of(&a[3])?,
                target_slot: slot(a.get(4))?,
            },
        )),
        Value::Object(o) => Some((
            id_of(o.get("id")?)?,
            UiLink {
                origin: id_of(o.get("origin_id")?)?,
                origin_slot: slot(o.get("origin_slot"))?,
                target: id_of(o.get("target_id")?)?,
                target_slot: slot(o.get("target_slot"))?,
            },
        )),
        _ => None,
    }
}

/// A UI node that is not shaped as the frontend saves nodes.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct NodeShape(String);

impl From<String> for NodeShape {
    fn from(s: String) -> Self {
        NodeShape(s)
    }
}

impl From<&str> for NodeShape {
    fn from(s: &str) -> Self {
        NodeShape(s.to_string())
    }
}
