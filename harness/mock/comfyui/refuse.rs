//! What the mock's ComfyUI refuses at `/prompt`, as ComfyUI's 400 body. With
//! the behaviour's inventory, exactly what ComfyUI 0.3.64 refuses
//! ([`crate::comfyui::inventory::validate`]); without one, the checks the mock can make
//! from the graph alone: a node without `class_type`, no output node, a
//! checkpoint the behaviour's `models:` lacks, a LoadImage of a file that was
//! not uploaded.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::super::behaviour::Behaviour;
use crate::comfyui::inventory::{self, Strictness};

/// The 400 body, when the prompt is refused.
pub(crate) fn refusal(
    graph: &Map<String, Value>,
    b: &Behaviour,
    uploaded: &HashMap<String, (u32, u32)>,
) -> Option<Value> {
    if let Some(inv) = b.inventory() {
        let names: Vec<String> = uploaded.keys().cloned().collect();
        return inventory::validate(graph, inv, &names, Strictness::Comfy)
            .err()
            .map(|r| r.to_comfy_json());
    }
    for (id, node) in graph {
        if node.get("class_type").and_then(Value::as_str).is_none() {
            return Some(top(
                "invalid_prompt",
                "Cannot execute because a node is missing the class_type property.",
                &format!("Node ID '#{id}'"),
            ));
        }
    }
    let outputs = output_nodes(graph, b);
    if outputs.is_empty() {
        return Some(top("prompt_no_outputs", "Prompt has no outputs", ""));
    }
    let mut node_errors = Map::new();
    for (id, node) in graph {
        let class = node
            .get("class_type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let field = |k: &str| {
            node.pointer(&format!("/inputs/{k}"))
                .and_then(Value::as_str)
        };
        let error = match class {
            "CheckpointLoaderSimple" if !b.models.is_empty() => field("ckpt_name")
                .filter(|c| !b.models.iter().any(|m| m == c))
                .map(|c| {
                    let list = inventory::py_repr(&json!(b.models));
                    json!({"type": "value_not_in_list", "message": "Value not in list",
                        "details": format!("ckpt_name: '{c}' not in {list}"),
                        "extra_info": {"input_name": "ckpt_name", "input_config": [b.models, {}], "received_value": c}})
                }),
            "LoadImage" => field("image").filter(|i| !uploaded.contains_key(*i)).map(|i| {
                json!({"type": "custom_validation_failed", "message": "Custom validation failed for node",
                    "details": format!("image - Invalid image file: {i}"), "extra_info": {"input_name": "image"}})
            }),
            _ => None,
        };
        if let Some(e) = error {
            node_errors.insert(
                id.clone(),
                json!({"errors": [e], "dependent_outputs": outputs, "class_type": class}),
            );
        }
    }
    if node_errors.is_empty() {
        return None;
    }
    Some(json!({
        "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation", "details": "", "extra_info": {}},
        "node_errors": node_errors,
    }))
}

fn top(kind: &str, message: &str, details: &str) -> Value {
    json!({"error": {"type": kind, "message": message, "details": details, "extra_info": {}}, "node_errors": {}})
}

/// The nodes ComfyUI runs the graph for: the inventory's output nodes, or by
/// name without one (savers and previews), in ascending id order.
pub(crate) fn output_nodes(graph: &Map<String, Value>, b: &Behaviour) -> Vec<String> {
    let mut out: Vec<String> = graph
        .iter()
        .filter(|(_, n)| {
            let class = n
                .get("class_type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match b.inventory() {
                Some(inv) => inv.node(class).is_some_and(|d| d.output_node),
                None => class.starts_with("Save") || class.starts_with("Preview"),
            }
        })
        .map(|(id, _)| id.clone())
        .collect();
    out.sort_by_key(|id| crate::comfyui::graph::id_key(id));
    out
}
