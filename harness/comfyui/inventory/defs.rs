//! The node inventory: ComfyUI's `/object_info`, read into node definitions
//! (inputs in the order the frontend lays out widgets, their types, combo
//! options, min/max, upload and seed-control flags; outputs; output nodes).
//! Both combo shapes ComfyUI sends are understood: `[["a", "b"], {...}]`
//! and `["COMBO", {"options": ["a", "b"], ...}]`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::paths::FileError;

/// What an input takes.
#[derive(Clone, Debug, PartialEq)]
pub enum InputType {
    /// `INT`: a widget.
    Int,
    /// `FLOAT`: a widget.
    Float,
    /// `STRING`: a widget.
    String,
    /// `BOOLEAN`: a widget.
    Boolean,
    /// A choice among values: a widget. `checked` is false for the
    /// `["COMBO", {options}]` shape, which ComfyUI 0.3.64 does not check at `/prompt`.
    Combo {
        /// The values offered.
        options: Vec<Value>,
        /// Whether `/prompt` refuses a value outside `options`.
        checked: bool,
    },
    /// A socket only (`IMAGE`, `MODEL`, `*`, `INT,FLOAT`, ...).
    Link(String),
}

/// One input of a node type.
#[derive(Clone, Debug)]
pub struct InputDef {
    /// The input's name.
    pub name: String,
    /// Required (else optional).
    pub required: bool,
    /// What it takes.
    pub ty: InputType,
    /// Smallest accepted number.
    pub min: Option<f64>,
    /// Largest accepted number.
    pub max: Option<f64>,
    /// The frontend adds a `control_after_generate` widget after this one.
    pub control_after_generate: bool,
    /// The frontend adds an upload button widget after this one (`image_upload`, ...).
    pub upload: bool,
    /// A socket even though its type could be a widget.
    pub force_input: bool,
    /// The whole spec, as ComfyUI reports it (`input_config` in its errors).
    pub spec: Value,
}

impl InputDef {
    /// Whether the frontend shows it as a widget (a value) rather than a socket.
    pub fn is_widget(&self) -> bool {
        !self.force_input && !matches!(self.ty, InputType::Link(_))
    }

    /// The type name as ComfyUI compares link types (`INT`, `IMAGE`, `COMBO`).
    pub fn type_name(&self) -> &str {
        match &self.ty {
            InputType::Int => "INT",
            InputType::Float => "FLOAT",
            InputType::String => "STRING",
            InputType::Boolean => "BOOLEAN",
            InputType::Combo { .. } => "COMBO",
            InputType::Link(t) => t,
        }
    }
}

/// One node type.
#[derive(Clone, Debug)]
pub struct NodeDef {
    /// The class name (`class_type`).
    pub name: String,
    /// The title the frontend gives a new node.
    pub display_name: String,
    /// Inputs: required in `input_order`, then optional.
    pub inputs: Vec<InputDef>,
    /// Output types, by slot.
    pub outputs: Vec<String>,
    /// Whether ComfyUI runs the graph for this node (SaveImage, PreviewImage, ...).
    pub output_node: bool,
}

impl NodeDef {
    /// The input named `name`.
    pub fn input(&self, name: &str) -> Option<&InputDef> {
        self.inputs.iter().find(|i| i.name == name)
    }
}

/// Every node type a ComfyUI (or a worker image) has.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    nodes: BTreeMap<String, NodeDef>,
}

/// Why an inventory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The file could not be read.
    #[error("{0}")]
    File(#[from] FileError),
    /// Not an `/object_info` answer.
    #[error("{0}")]
    Shape(String),
}

impl From<String> for InventoryError {
    fn from(s: String) -> Self {
        InventoryError::Shape(s)
    }
}

impl From<&str> for InventoryError {
    fn from(s: &str) -> Self {
        InventoryError::Shape(s.to_string())
    }
}

impl Inventory {
    /// Reads a saved `/object_info` (`endpoint-harness inventory > inventory.json`).
    pub fn load(path: &Path) -> Result<Self, InventoryError> {
        let text = std::fs::read_to_string(path).map_err(FileError::read(path))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| FileError::invalid(path, format!("not JSON: {e}")))?;
        Self::from_value(&v).map_err(|e| FileError::invalid(path, e.to_string()).into())
    }

    /// Reads an `/object_info` answer.
    pub fn from_value(v: &Value) -> Result<Self, InventoryError> {
        let obj = v
            .as_object()
            .ok_or_else(|| InventoryError::Shape("an inventory is ComfyUI's /object_info: a JSON object of node types".into()))?;
        let mut nodes = BTreeMap::new();
        for (name, def) in obj {
            let def = node_def(name, def).map_err(|e| format!("node type `{name}`: {e}"))?;
            nodes.insert(name.clone(), def);
        }
        if nodes.is_empty() {
            return Err(InventoryError::Shape("the inventory lists no node types".into()));
        }
        Ok(Inventory { nodes })
    }

    /// The node type `name`.
    pub fn node(&self, name: &str) -> Option<&NodeDef> {
        self.nodes.get(name)
    }

    /// Every node type name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// How many node types.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether it lists none (never, once loaded).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

fn node_def(name: &str, def: &Value) -> Result<NodeDef, InventoryError> {
    let input = def.get("input").and_then(Value::as_object);
    let order = def.get("input_order").and_then(Value::as_object);
    let mut inputs = Vec::new();
    for (category, required) in [("required", true), ("optional", false)] {
        let Some(specs) = input
            .and_then(|i| i.get(category))
            .and_then(Value::as_object)
        else {
            continue;
        };
        // `input_order` is what the frontend follows; older ComfyUI lacks it, and
        // then the object's own order (kept by serde_json's preserve_order) is it.
        let names: Vec<String> = match order
            .and_then(|o| o.get(category))
            .and_then(Value::as_array)
        {
            Some(list) => list
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
            None => specs.keys().cloned().collect(),
        };
        for n in names {
            if let Some(spec) = specs.get(&n) {
                inputs.push(input_def(&n, required, spec)?);
            }
        }
    }
    let outputs = def
        .get("output")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| match t {
                    Value::String(s) => s.clone(),
                    // A combo output is a list of values: its type is COMBO.
                    Value::Array(_) => "COMBO".to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(NodeDef {
        name: name.to_string(),
        display_name: def
            .get("display_name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(name)
            .to_string(),
        inputs,
        outputs,
        output_node: def.get("output_node").and_then(Value::as_bool) == Some(true),
    })
}

fn input_def(name: &str, required: bool, spec: &Value) -> Result<InputDef, InventoryError> {
    let (head, opts) = match spec {
        Value::Array(a) if !a.is_empty() => (&a[0], a.get(1).and_then(Value::as_object)),
        Value::String(_) => (spec, None),
        _ => return Err(InventoryError::Shape(format!("input `{name}` has no type"))),
    };
    let empty = Map::new();
    let opts = opts.unwrap_or(&empty);
    let ty = match head {
        Value::Array(options) => InputType::Combo {
            options: options.clone(),
            checked: true,
        },
        Value::String(t) => match t.as_str() {
            "INT" => InputType::Int,
            "FLOAT" => InputType::Float,
            "STRING" => InputType::String,
            "BOOLEAN" => InputType::Boolean,
            "COMBO" => InputType::Combo {
                options: opts
                    .get("options")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                checked: false,
            },
            other => InputType::Link(other.to_string()),
        },
        other => return Err(InventoryError::Shape(format!("input `{name}` has type {other}"))),
    };
    let flag = |k: &str| opts.get(k).and_then(Value::as_bool) == Some(true);
    Ok(InputDef {
        name: name.to_string(),
        required,
        ty,
        min: opts.get("min").and_then(Value::as_f64),
        max: opts.get("max").and_then(Value::as_f64),
        control_after_generate: flag("control_after_generate"),
        upload: [
            "image_upload",
            "video_upload",
            "audio_upload",
            "file_upload",
        ]
        .iter()
        .any(|k| flag(k)),
        force_input: flag("forceInput"),
        spec: spec.clone(),
    })
}
