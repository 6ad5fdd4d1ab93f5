//! What a worker-comfyui worker would do with a job's `input`: validate it as
//! the handler and ComfyUI do (with their real error texts), render the images,
//! and shape the `output` per the behaviour (images, s3_url, legacy message,
//! none, success_no_images, warnings, damaged image data).

use std::collections::HashMap;

use base64::Engine;
use serde_json::{json, Value};

use crate::runpod::wire::{ItemType, OutputItem, WorkerOutput, LEGACY_SUCCESS, SUCCESS_NO_IMAGES};

use crate::mock::behaviour::{Behaviour, FaultKind, OutputShape};
use crate::mock::runpod::render::{self, Plan};
use crate::scenario::workflow::{class_type, Graph};

/// A job's input after worker-side validation.
pub(crate) struct Accepted {
    pub plan: Plan,
}

/// The worker refused the input: the job's `error`, exactly as worker-comfyui
/// (or ComfyUI behind it) words it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Refusal(pub String);

impl From<&str> for Refusal {
    fn from(s: &str) -> Self {
        Refusal(s.to_string())
    }
}

impl From<String> for Refusal {
    fn from(s: String) -> Self {
        Refusal(s)
    }
}

/// Validates `input` as worker-comfyui 5.x and ComfyUI's `/prompt` do. The error is
/// the job's `error` string exactly as the worker would report it.
pub(crate) fn accept(input: &Value, behaviour: &Behaviour) -> Result<Accepted, Refusal> {
    let parsed;
    let input = match input {
        Value::Null => return Err("Please provide input".into()),
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s)
                .map_err(|_| Refusal::from("Invalid JSON format in input"))?;
            &parsed
        }
        other => other,
    };
    let Some(Value::Object(graph)) = input.get("workflow") else {
        return Err("Missing 'workflow' parameter".into());
    };
    let mut uploaded: HashMap<String, (u32, u32)> = HashMap::new();
    if let Some(images) = input.get("images") {
        let list = images.as_array().filter(|l| {
            l.iter().all(|i| {
                i.get("name").is_some_and(Value::is_string)
                    && i.get("image").is_some_and(Value::is_string)
            })
        });
        let Some(list) = list else {
            return Err("'images' must be a list of objects with 'name' and 'image' keys".into());
        };
        let mut details = Vec::new();
        for item in list {
            let name = item["name"].as_str().unwrap_or_default();
            let (_, bytes) =
                crate::runpod::output::decode_base64(item["image"].as_str().unwrap_or_default());
            match bytes
                .map_err(|e| e.to_string())
                .and_then(|b| image::load_from_memory(&b).map_err(|e| e.to_string()))
            {
                Ok(img) => {
                    uploaded.insert(name.to_string(), (img.width(), img.height()));
                }
                Err(e) => details.push(format!("Error uploading {name}: {e}")),
            }
        }
        if !details.is_empty() {
            return Err(format!(
                "Failed to upload one or more input images: {}",
                details.join("; ")
            )
            .into());
        }
    }
    match behaviour.inventory() {
        // With an inventory, what ComfyUI 0.3.64 would refuse, worded as the worker words it.
        Some(inv) => {
            let names: Vec<String> = uploaded.keys().cloned().collect();
            crate::comfyui::inventory::validate(
                graph,
                inv,
                &names,
                crate::comfyui::inventory::Strictness::Comfy,
            )
            .map_err(|r| Refusal(crate::comfyui::inventory::worker_error(&r, inv)))?;
        }
        None => validate_graph(graph, behaviour, &uploaded)?,
    }
    Ok(Accepted {
        plan: render::plan(graph, &|name| uploaded.get(name).copied()),
    })
}

/// ComfyUI-side validation: every node has a class_type, checkpoints exist, and
/// LoadImage names an uploaded image.
fn validate_graph(
    graph: &Graph,
    behaviour: &Behaviour,
    uploaded: &HashMap<String, (u32, u32)>,
) -> Result<(), Refusal> {
    for (id, node) in graph {
        if node.get("class_type").and_then(Value::as_str).is_none() {
            let body = json!({"error": {"type": "invalid_prompt", "message": format!("Cannot execute because a node is missing the class_type property.: Node ID '#{id}'"), "details": "", "extra_info": {}}, "node_errors": {}});
            return Err(format!("Cannot execute because a node is missing the class_type property.: Node ID '#{id}'. Raw response: {body}").into());
        }
    }
    let mut errors: Vec<String> = Vec::new();
    let mut missing_ckpt = false;
    for (id, node) in graph {
        let inputs = node.get("inputs");
        let class = class_type(node);
        let field = |k: &str| inputs.and_then(|i| i.get(k)).and_then(Value::as_str);
        if class == "CheckpointLoaderSimple" && !behaviour.models.is_empty() {
            if let Some(ckpt) =
                field("ckpt_name").filter(|c| !behaviour.models.iter().any(|m| m == c))
            {
                let list: Vec<String> = behaviour.models.iter().map(|m| format!("'{m}'")).collect();
                errors.push(node_error(
                    id,
                    class,
                    "value_not_in_list",
                    "Value not in list",
                    &format!("ckpt_name: '{ckpt}' not in [{}]", list.join(", ")),
                ));
                missing_ckpt = true;
            }
        }
        if class == "LoadImage" {
            if let Some(img) = field("image").filter(|i| !uploaded.contains_key(*i)) {
                errors.push(node_error(
                    id,
                    class,
                    "custom_validation_failed",
                    "Custom validation failed for node",
                    &format!("image - Invalid image file: {img}"),
                ));
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let mut msg = format!("Workflow validation failed:\n{}", errors.join("\n"));
    if missing_ckpt {
        msg.push_str(&format!(
            "\n\nAvailable checkpoint models: {}",
            behaviour.models.join(", ")
        ));
    }
    Err(msg.into())
}

/// One node error in the worker's bullet format (`• Node <id> (<key>): <value>`).
fn node_error(id: &str, class: &str, kind: &str, message: &str, details: &str) -> String {
    format!(
        "• Node {id} (errors): [{{'type': '{kind}', 'message': '{message}', 'details': \"{details}\", 'extra_info': {{}}}}]\n• Node {id} (dependent_outputs): []\n• Node {id} (class_type): {class}"
    )
}

/// A file the mock serves for `s3_url` outputs.
pub(crate) struct Stored {
    pub key: String,
    pub bytes: Vec<u8>,
}

/// Builds the COMPLETED job's `output` (None = no `output` key) and the files to serve.
pub(crate) fn output(
    accepted: &Accepted,
    behaviour: &Behaviour,
    job_id: &str,
    nonce: u64,
    base_url: &str,
) -> (Option<Value>, Vec<Stored>) {
    let mut stored = Vec::new();
    let images = match behaviour.output {
        OutputShape::None => return (None, stored),
        OutputShape::SuccessNoImages => Vec::new(),
        _ if behaviour.replay.is_some() => behaviour.replay_images.clone(),
        _ => {
            let mut imgs = render::render_cached(&accepted.plan, behaviour.image, nonce);
            for (_, bytes) in &mut imgs {
                damage(bytes, behaviour);
            }
            imgs
        }
    };
    let b64 = |bytes: &[u8]| {
        let mut s = base64::engine::general_purpose::STANDARD.encode(bytes);
        if has_fault(behaviour, |k| matches!(k, FaultKind::TruncatedBase64)) {
            s.truncate(s.len() * 2 / 3 + 1);
        }
        if has_fault(behaviour, |k| matches!(k, FaultKind::InvalidBase64)) {
            s.replace_range(0..s.len().min(8), "!!not**b");
        }
        s
    };
    let mut out = WorkerOutput {
        errors: behaviour.warnings.clone(),
        ..WorkerOutput::default()
    };
    match behaviour.output {
        OutputShape::Message => {
            // Pre-5.0 workers returned only the last image.
            out.message = Some(images.last().map(|(_, b)| b64(b)).unwrap_or_default());
            out.status = Some(LEGACY_SUCCESS.into());
        }
        _ if images.is_empty() => {
            out.status = Some(SUCCESS_NO_IMAGES.into());
            out.images = Some(Vec::new());
        }
        OutputShape::S3Url => {
            let items = images
                .into_iter()
                .enumerate()
                .map(|(i, (filename, bytes))| {
                    // The key holds the job id: escaped, so an id cannot shape the URL.
                    let key = format!(
                        "{}/{:08x}.png",
                        crate::http::send::segment(job_id),
                        nonce.wrapping_add(i as u64) as u32
                    );
                    let data = format!("{base_url}/s3/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=604800&X-Amz-Signature={nonce:016x}");
                    stored.push(Stored { key, bytes });
                    OutputItem { filename, kind: ItemType::S3Url, data }
                })
                .collect();
            out.images = Some(items);
        }
        OutputShape::Videos => {
            // Stills stay in `images`; what moves goes to `videos` (issue #232).
            let (mut stills, mut moving) = (Vec::new(), Vec::new());
            for (filename, bytes) in &images {
                let item = OutputItem {
                    filename: filename.clone(),
                    kind: ItemType::Base64,
                    data: b64(bytes),
                };
                match crate::media::sniff(bytes) {
                    crate::media::Kind::Moving(_) => moving.push(item),
                    _ => stills.push(item),
                }
            }
            out.images = Some(stills);
            out.videos = Some(moving);
        }
        _ => {
            let items = images
                .iter()
                .map(|(filename, bytes)| OutputItem {
                    filename: filename.clone(),
                    kind: ItemType::Base64,
                    data: b64(bytes),
                })
                .collect();
            out.images = Some(items);
        }
    }
    (serde_json::to_value(out).ok(), stored)
}

fn has_fault(b: &Behaviour, pred: impl Fn(&FaultKind) -> bool) -> bool {
    b.faults.iter().any(|f| pred(f.kind()))
}

/// Applies image-damaging faults to rendered PNG bytes.
fn damage(bytes: &mut Vec<u8>, b: &Behaviour) {
    if has_fault(b, |k| matches!(k, FaultKind::CorruptPng)) && bytes.len() > 64 {
        // Keep the signature and IHDR, scramble the image data.
        for x in bytes[40..].iter_mut().step_by(7) {
            *x ^= 0x5A;
        }
    }
    if has_fault(b, |k| matches!(k, FaultKind::HugePng)) {
        *bytes = crate::png::declaring(100_000, 100_000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn behaviour(yaml: &str) -> Behaviour {
        Behaviour::parse(yaml).unwrap()
    }

    #[test]
    fn worker_errors_match_worker_comfyui() {
        let b = behaviour("models: [sd_xl_base_1.0.safetensors]");
        let refusal = |v: &Value| accept(v, &b).err().unwrap().0;
        assert_eq!(refusal(&json!({})), "Missing 'workflow' parameter");
        assert_eq!(refusal(&Value::Null), "Please provide input");
        assert_eq!(refusal(&json!("{oops")), "Invalid JSON format in input");
        let wf = json!({"workflow": {"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev.safetensors"}}}});
        let err = refusal(&wf);
        assert!(
            err.starts_with(
                "Workflow validation failed:\n• Node 4 (errors): [{'type': 'value_not_in_list'"
            ),
            "{err}"
        );
        assert!(
            err.ends_with("\n\nAvailable checkpoint models: sd_xl_base_1.0.safetensors"),
            "{err}"
        );
        let bad_images = json!({"workflow": {"1": {"class_type": "SaveImage", "inputs": {}}}, "images": [{"name": "a.png"}]});
        assert_eq!(
            refusal(&bad_images),
            "'images' must be a list of objects with 'name' and 'image' keys"
        );
    }
}
