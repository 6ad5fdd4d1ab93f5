//! Naming a node's saved `widgets_values`: the frontend (1.27) builds one
//! widget per widget-typed input, in the node definition's order (required,
//! then optional), adds a `control_after_generate` widget after an INT that
//! asks for one (or is named `seed`/`noise_seed` and says nothing) and after a
//! COMBO that asks for one, and appends an `upload` widget (and `audioUI` on
//! audio nodes) to the required inputs. Only the input widgets are sent.

use serde_json::{json, Map, Value};

use crate::comfyui::inventory::{InputDef, InputType, NodeDef};

/// One widget, in the order the frontend creates them.
pub(super) struct Widget<'a> {
    /// The input it sets, `None` for the frontend's own widgets (seed control, upload).
    pub input: Option<&'a InputDef>,
    pub name: &'a str,
}

/// Nodes the frontend gives an `audioUI` widget (its `Comfy.AudioWidget` extension).
const AUDIO_UI_NODES: [&str; 5] = [
    "LoadAudio",
    "SaveAudio",
    "PreviewAudio",
    "SaveAudioMP3",
    "SaveAudioOpus",
];

/// The widgets of a node of type `def`, in order.
pub(super) fn layout(def: &NodeDef) -> Vec<Widget<'_>> {
    let mut out = Vec::new();
    let mut upload = false;
    let mut required_done = false;
    for input in &def.inputs {
        if !input.required && !required_done {
            required_done = true;
            extras(def, upload, &mut out);
        }
        if !input.is_widget() {
            continue;
        }
        out.push(Widget {
            input: Some(input),
            name: &input.name,
        });
        if has_control(input) {
            out.push(Widget {
                input: None,
                name: "control_after_generate",
            });
        }
        upload |= input.required && input.upload && matches!(input.ty, InputType::Combo { .. });
    }
    if !required_done {
        extras(def, upload, &mut out);
    }
    out
}

fn extras<'a>(def: &'a NodeDef, upload: bool, out: &mut Vec<Widget<'a>>) {
    if upload {
        out.push(Widget {
            input: None,
            name: "upload",
        });
    }
    if AUDIO_UI_NODES.contains(&def.name.as_str()) {
        out.push(Widget {
            input: None,
            name: "audioUI",
        });
    }
}

fn has_control(input: &InputDef) -> bool {
    let declared = input.spec.get(1).and_then(|o| o.get("control_after_generate"));
    match (&input.ty, declared) {
        (InputType::Int | InputType::Combo { .. }, Some(Value::Bool(b))) => *b,
        // A string names the control widget.
        (InputType::Int | InputType::Combo { .. }, Some(Value::String(_))) => true,
        (InputType::Int, None) => matches!(input.name.as_str(), "seed" | "noise_seed"),
        _ => false,
    }
}

/// The values the frontend sends for a node's widgets: saved values by
/// position (or by name, for extensions that save an object), the input's
/// default for values the save lacks; lists wrapped as `{"__value__": [...]}`.
pub(super) fn values(def: &NodeDef, saved: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for (i, w) in layout(def).iter().enumerate() {
        let Some(input) = w.input else { continue };
        let value = match saved {
            Value::Array(a) => a.get(i).filter(|v| !v.is_null()).cloned(),
            Value::Object(o) => o.get(w.name).cloned(),
            _ => None,
        }
        .or_else(|| default(input));
        if let Some(v) = value {
            let v = if v.is_array() { json!({"__value__": v}) } else { v };
            out.insert(w.name.to_string(), v);
        }
    }
    out
}

/// The value a fresh widget holds (the frontend's widget constructors).
fn default(input: &InputDef) -> Option<Value> {
    if let Some(d) = input.spec.get(1).and_then(|o| o.get("default")) {
        return Some(d.clone());
    }
    Some(match &input.ty {
        InputType::Int => json!(input.min.unwrap_or(0.0).max(0.0) as i64),
        InputType::Float => json!(input.min.unwrap_or(0.0).max(0.0)),
        InputType::String => json!(""),
        InputType::Boolean => json!(false),
        InputType::Combo { options, .. } => options.first()?.clone(),
        InputType::Link(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comfyui::inventory::Inventory;

    fn names(inv: &Inventory, ty: &str) -> Vec<String> {
        layout(inv.node(ty).unwrap())
            .iter()
            .map(|w| w.name.to_string())
            .collect()
    }

    #[test]
    fn layouts_match_the_frontend() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("mocks/inventories/comfyui-0.3.64.json");
        let inv = Inventory::load(&path).unwrap();
        assert_eq!(
            names(&inv, "KSampler"),
            [
                "seed",
                "control_after_generate",
                "steps",
                "cfg",
                "sampler_name",
                "scheduler",
                "denoise"
            ]
        );
        assert_eq!(names(&inv, "LoadImage"), ["image", "upload"]);
        // Which of `upload` and `audioUI` comes first is not pinned: neither is sent.
        assert_eq!(names(&inv, "LoadAudio")[0], "audio");
        assert_eq!(names(&inv, "LoadAudio").len(), 3);
        assert_eq!(
            names(&inv, "ImageAddNoise"),
            ["seed", "control_after_generate", "strength"]
        );
        // No `control_after_generate` key, but named seed: the legacy rule adds one.
        assert!(names(&inv, "TrainLoraNode")
            .windows(2)
            .any(|w| w == ["seed", "control_after_generate"]));
    }
}
