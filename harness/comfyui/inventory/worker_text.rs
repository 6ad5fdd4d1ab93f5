//! A refusal as worker-comfyui 5.8.5 words it in a FAILED job's `error`
//! (`handler.py`, `queue_workflow`): "Workflow validation failed:" and one
//! bullet per key of each node's error dict, or the top-level message with
//! the raw answer when there are no node errors.

use serde_json::Value;

use super::defs::Inventory;
use super::pyrepr::{py_json, py_repr};
use super::validate::Refusal;

/// The job error worker-comfyui reports for `r`; `inv` lists the checkpoints it offers.
pub fn worker_error(r: &Refusal, inv: &Inventory) -> String {
    worker_text(&r.to_comfy_json(), &checkpoints(inv))
}

/// The job error worker-comfyui reports for a `/prompt` 400 `body`;
/// `checkpoints` are the names `CheckpointLoaderSimple` offers.
pub fn worker_text(body: &Value, checkpoints: &[String]) -> String {
    let error = body.get("error");
    let mut message = match error {
        Some(Value::Object(e))
            if e.get("type").and_then(Value::as_str)
                == Some("prompt_outputs_failed_validation") =>
        {
            "Workflow validation failed".to_string()
        }
        Some(Value::Object(e)) => e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("Workflow validation failed")
            .to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => py_repr(other),
        None => "Workflow validation failed".to_string(),
    };
    let mut details = Vec::new();
    if let Some(errors) = body.get("node_errors").and_then(Value::as_object) {
        for (node, e) in errors {
            if let Some(fields) = e.as_object() {
                for (k, v) in fields {
                    let shown = match v {
                        Value::String(s) => s.clone(),
                        other => py_repr(other),
                    };
                    details.push(format!("Node {node} ({k}): {shown}"));
                }
            } else {
                details.push(format!("Node {node}: {}", py_repr(e)));
            }
        }
    }
    if details.is_empty() {
        message.push_str(&format!(". Raw response: {}", py_json(body)));
        return message;
    }
    let mut text = format!(
        "{message}:\n{}",
        details
            .iter()
            .map(|d| format!("• {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    if details
        .iter()
        .any(|d| d.contains("not in list") && d.contains("ckpt_name"))
    {
        if checkpoints.is_empty() {
            text.push_str("\n\nNo checkpoint models appear to be available. Please check your model installation.");
        } else {
            text.push_str(&format!(
                "\n\nAvailable checkpoint models: {}",
                checkpoints.join(", ")
            ));
        }
    }
    text
}

/// The checkpoint names `CheckpointLoaderSimple` offers.
fn checkpoints(inv: &Inventory) -> Vec<String> {
    use super::defs::InputType;
    inv.node("CheckpointLoaderSimple")
        .and_then(|n| n.input("ckpt_name"))
        .map(|i| match &i.ty {
            InputType::Combo { options, .. } => options
                .iter()
                .filter_map(|o| o.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default()
}
