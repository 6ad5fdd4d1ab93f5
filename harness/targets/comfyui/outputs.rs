//! A finished prompt's result in worker-comfyui's shape, so the same checks
//! read it: files from the history entry's outputs (in its key order), `temp`
//! ones (previews) skipped, each fetched from `/view` and returned base64; an
//! execution error added to `errors`; the job FAILED with "Job processing
//! failed" when nothing came back but errors (worker-comfyui 5.8.5,
//! `handler.py`). Videos and animations come under `images` too (SaveVideo,
//! SaveAnimatedWEBP/PNG write `animated: [true]` beside them).

use base64::Engine;
use serde_json::{json, Value};

use super::progress::End;
use crate::comfyui::ComfyClient;
use crate::runpod::wire::JobState;

/// The job's state, output and error text.
pub(crate) struct Result {
    pub state: JobState,
    pub output: Option<Value>,
    pub error: Option<String>,
}

/// Reads the outputs of `entry` (the prompt's history entry) as the worker would.
pub(crate) async fn collect(
    client: &ComfyClient,
    prompt_id: &str,
    entry: &Value,
    end: &End,
) -> Result {
    let mut images = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let outputs = entry.get("outputs").and_then(Value::as_object);
    if let End::Interrupted { node_id, node_type } = end {
        return Result {
            state: JobState::Cancelled,
            output: None,
            error: Some(format!(
                "ComfyUI interrupted the prompt at node {node_id} ({node_type})"
            )),
        };
    }
    if let End::Error {
        node_id,
        node_type,
        message,
        ..
    } = end
    {
        errors.push(format!(
            "Workflow execution error: Node Type: {node_type}, Node ID: {node_id}, Message: {message}"
        ));
    }
    match outputs {
        Some(o) if !o.is_empty() => {
            for (node, out) in o {
                for file in out
                    .get("images")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    fetch(client, node, file, &mut images, &mut errors).await;
                }
            }
        }
        _ if errors.is_empty() => errors.push(format!(
            "No outputs found in history for prompt {prompt_id}."
        )),
        _ => {}
    }
    if images.is_empty() && !errors.is_empty() {
        return Result {
            state: JobState::Failed,
            output: None,
            error: Some(format!("Job processing failed: {}", errors.join("; "))),
        };
    }
    let mut output = json!({"images": images});
    if images.is_empty() {
        output["status"] = json!("success_no_images");
    }
    if !errors.is_empty() {
        output["errors"] = json!(errors);
    }
    Result {
        state: JobState::Completed,
        output: Some(output),
        error: None,
    }
}

async fn fetch(
    client: &ComfyClient,
    node: &str,
    file: &Value,
    images: &mut Vec<Value>,
    errors: &mut Vec<String>,
) {
    let kind = file.get("type").and_then(Value::as_str).unwrap_or_default();
    if kind == "temp" {
        return;
    }
    let Some(name) = file.get("filename").and_then(Value::as_str) else {
        errors.push(format!(
            "Skipping image in node {node} due to missing filename: {file}"
        ));
        return;
    };
    let subfolder = file
        .get("subfolder")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match client.view(name, subfolder, kind).await {
        Ok(bytes) => images.push(json!({
            "filename": name,
            "type": "base64",
            "data": base64::engine::general_purpose::STANDARD.encode(bytes),
        })),
        Err(e) => errors.push(format!(
            "Failed to fetch image data for {name} from /view endpoint. ({e})"
        )),
    }
}
