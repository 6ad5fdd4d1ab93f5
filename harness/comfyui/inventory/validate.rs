//! A graph validated against an inventory as ComfyUI's `/prompt` validates it
//! (`execution.validate_prompt` in ComfyUI 0.3.64): unknown node types and a
//! missing `class_type` refuse the prompt at once; otherwise every output
//! node and what it depends on is checked: required inputs, links (shape,
//! target node, output slot, type), values (conversion, min/max, combo
//! lists). The result carries ComfyUI's own error types, messages and details,
//! in ComfyUI's order, so the mock can answer with them and a preflight can
//! say exactly what ComfyUI would.

use serde_json::{json, Map, Value};

use super::pyvalue::{convert, py_eq, types_fit};
use super::defs::{InputDef, InputType, Inventory, NodeDef};
use super::pyrepr::{py_float, py_repr, py_str};

/// Why a prompt is refused: ComfyUI's top-level `error` and its `node_errors`.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    /// `error.type`: `invalid_prompt`, `prompt_no_outputs`, `prompt_outputs_failed_validation`.
    pub kind: String,
    /// `error.message`.
    pub message: String,
    /// `error.details`.
    pub details: String,
    /// Per node, in the order ComfyUI reports them (dependencies first).
    pub node_errors: Vec<NodeErrors>,
}

/// The errors of one node.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeErrors {
    /// The node id.
    pub node: String,
    /// Its class.
    pub class_type: String,
    /// What is wrong with it.
    pub errors: Vec<InputError>,
    /// The output nodes it keeps from running.
    pub dependent_outputs: Vec<String>,
}

/// One problem with one node, as ComfyUI words it.
#[derive(Clone, Debug, PartialEq)]
pub struct InputError {
    /// `required_input_missing`, `value_not_in_list`, `return_type_mismatch`, ...
    pub kind: &'static str,
    /// ComfyUI's message.
    pub message: String,
    /// ComfyUI's details.
    pub details: String,
    /// The input concerned, when there is one.
    pub input: Option<String>,
    /// ComfyUI's `extra_info`.
    pub extra_info: Value,
    /// A plainer explanation where ComfyUI's is an exception text (a link to a
    /// node that does not exist, an output slot out of range).
    pub explain: Option<String>,
}

impl Refusal {
    /// The `/prompt` 400 body: `{"error": {...}, "node_errors": {...}}`.
    pub fn to_comfy_json(&self) -> Value {
        let mut node_errors = Map::new();
        for n in &self.node_errors {
            let errors: Vec<Value> = n
                .errors
                .iter()
                .map(|e| {
                    json!({"type": e.kind, "message": e.message, "details": e.details, "extra_info": e.extra_info})
                })
                .collect();
            node_errors.insert(
                n.node.clone(),
                json!({"errors": errors, "dependent_outputs": n.dependent_outputs, "class_type": n.class_type}),
            );
        }
        json!({
            "error": {"type": self.kind, "message": self.message, "details": self.details, "extra_info": {}},
            "node_errors": node_errors,
        })
    }
}

type Validated = Vec<(String, bool, Vec<InputError>)>;

/// How strict a validation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    /// Exactly what ComfyUI 0.3.64 refuses at `/prompt` (the mock answers so).
    Comfy,
    /// That, plus what fails only once the graph runs: a value outside a
    /// `["COMBO", {options}]` list, which ComfyUI does not check at `/prompt`.
    Preflight,
}

/// Validates `graph` as ComfyUI would; `uploaded` are the input images the job
/// sends (worker-comfyui uploads them first, so an upload combo may name them).
pub fn validate(
    graph: &Map<String, Value>,
    inv: &Inventory,
    uploaded: &[String],
    strictness: Strictness,
) -> Result<(), Refusal> {
    let mut outputs = Vec::new();
    for (id, node) in graph {
        let Some(class) = node.get("class_type").and_then(Value::as_str) else {
            return Err(invalid_prompt(
                "Cannot execute because a node is missing the class_type property.".into(),
                format!("Node ID '#{id}'"),
            ));
        };
        let Some(def) = inv.node(class) else {
            return Err(invalid_prompt(
                format!("Cannot execute because node {class} does not exist."),
                format!("Node ID '#{id}'"),
            ));
        };
        if def.output_node {
            outputs.push(id.clone());
        }
    }
    if outputs.is_empty() {
        return Err(Refusal {
            kind: "prompt_no_outputs".into(),
            message: "Prompt has no outputs".into(),
            details: String::new(),
            node_errors: Vec::new(),
        });
    }
    // ComfyUI walks a set of outputs; numeric ids in order is as good an order as any.
    outputs.sort_by_key(|id| crate::comfyui::graph::id_key(id));
    let cx = Cx {
        graph,
        inv,
        uploaded,
        strictness,
    };
    let mut validated: Validated = Vec::new();
    let mut node_errors: Vec<NodeErrors> = Vec::new();
    let mut output_reasons = Vec::new();
    let mut good = 0;
    for o in &outputs {
        let (ok, reasons) = cx.node(o, &mut validated, &mut Vec::new());
        if ok {
            good += 1;
            continue;
        }
        output_reasons.extend(reasons);
        for (id, valid, reasons) in &validated {
            if *valid || reasons.is_empty() {
                continue;
            }
            match node_errors.iter_mut().find(|n| &n.node == id) {
                Some(n) => n.dependent_outputs.push(o.clone()),
                None => node_errors.push(NodeErrors {
                    node: id.clone(),
                    class_type: class_of(graph, id).to_string(),
                    errors: reasons.clone(),
                    dependent_outputs: vec![o.clone()],
                }),
            }
        }
    }
    if node_errors.is_empty() && good > 0 {
        return Ok(());
    }
    let details = output_reasons
        .iter()
        .map(|e| format!("{}: {}", e.message, e.details))
        .collect::<Vec<_>>()
        .join("\n");
    Err(Refusal {
        kind: "prompt_outputs_failed_validation".into(),
        message: "Prompt outputs failed validation".into(),
        details,
        node_errors,
    })
}

fn invalid_prompt(message: String, details: String) -> Refusal {
    Refusal {
        kind: "invalid_prompt".into(),
        message,
        details,
        node_errors: Vec::new(),
    }
}

fn class_of<'a>(graph: &'a Map<String, Value>, id: &str) -> &'a str {
    graph
        .get(id)
        .and_then(|n| n.get("class_type"))
        .and_then(Value::as_str)
        .unwrap_or("?")
}

struct Cx<'a> {
    graph: &'a Map<String, Value>,
    inv: &'a Inventory,
    uploaded: &'a [String],
    strictness: Strictness,
}

impl Cx<'_> {
    /// `validate_inputs` for node `id`, memoised in `validated` (insertion order is
    /// ComfyUI's: dependencies first). `path` breaks cycles.
    fn node(
        &self,
        id: &str,
        validated: &mut Validated,
        path: &mut Vec<String>,
    ) -> (bool, Vec<InputError>) {
        if let Some((_, ok, r)) = validated.iter().find(|(n, _, _)| n == id) {
            return (*ok, r.clone());
        }
        let Some(def) = self.inv.node(class_of(self.graph, id)) else {
            return (false, Vec::new());
        };
        if path.iter().any(|p| p == id) {
            // ComfyUI recurses until Python's stack gives out; a cycle is refused.
            let e = exception(
                "exception_during_validation",
                "Exception when validating node",
                "maximum recursion depth exceeded",
                format!("node {id} depends on itself (a cycle of links)"),
            );
            return (false, vec![e]);
        }
        path.push(id.to_string());
        let inputs = self.graph[id].get("inputs").and_then(Value::as_object);
        let mut errors = Vec::new();
        let mut valid = true;
        let custom = custom_validator(&def.name);
        for input in &def.inputs {
            match inputs.and_then(|i| i.get(&input.name)) {
                None if input.required => errors.push(missing(input)),
                None => {}
                Some(Value::Array(link)) => {
                    if let Some(e) = self.link(input, link, validated, path, &mut valid) {
                        errors.push(e);
                    }
                }
                Some(value) => {
                    let own_check = custom.is_some_and(|(x, _)| x == input.name);
                    errors.extend(self.value(input, value, own_check));
                }
            }
        }
        // The node's own VALIDATE_INPUTS runs after the generic checks.
        if let Some((x, what)) = custom {
            let given = inputs.and_then(|i| i.get(x)).filter(|v| !v.is_array());
            if let (Some(v), Some(input)) = (given, def.input(x)) {
                if !self.file_known(input, v) {
                    errors.push(InputError {
                        kind: "custom_validation_failed",
                        message: "Custom validation failed for node".into(),
                        details: format!("{x} - Invalid {what} file: {}", py_str(v)),
                        input: Some(x.to_string()),
                        extra_info: json!({"input_name": x}),
                        explain: Some(format!(
                            "`{}` is neither a file ComfyUI has nor an input image the scenario sends (`images:`)",
                            py_str(v)
                        )),
                    });
                }
            }
        }
        path.pop();
        let ok = errors.is_empty() && valid;
        validated.push((id.to_string(), ok, errors.clone()));
        (ok, errors)
    }

    /// A linked input: shape, target node, slot, type; then the upstream node.
    fn link(
        &self,
        input: &InputDef,
        link: &[Value],
        validated: &mut Validated,
        path: &mut Vec<String>,
        valid: &mut bool,
    ) -> Option<InputError> {
        let x = &input.name;
        if link.len() != 2 {
            return Some(InputError {
                kind: "bad_linked_input",
                message: "Bad linked input, must be a length-2 list of [node_id, slot_index]"
                    .into(),
                details: x.clone(),
                input: Some(x.clone()),
                extra_info: json!({"input_name": x, "input_config": config(input), "received_value": link}),
                explain: None,
            });
        }
        let from = match &link[0] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let Some(src) = self.graph.get(&from) else {
            return Some(exception(
                "exception_during_validation",
                "Exception when validating node",
                &format!("'{from}'"),
                format!("input `{x}` links to node {from}, which is not in the workflow"),
            ));
        };
        let src_def: Option<&NodeDef> = src
            .get("class_type")
            .and_then(Value::as_str)
            .and_then(|c| self.inv.node(c));
        let slot = link[1].as_u64().map(|s| s as usize);
        let received = match (src_def, slot) {
            (Some(d), Some(s)) if s < d.outputs.len() => d.outputs[s].clone(),
            (Some(d), _) => {
                return Some(exception(
                    "exception_during_validation",
                    "Exception when validating node",
                    "tuple index out of range",
                    format!(
                    "input `{x}` links to output {} of node {from} ({}), which has {} output(s)",
                    link[1],
                    d.name,
                    d.outputs.len()
                ),
                ))
            }
            (None, _) => return None,
        };
        let expected = input.type_name();
        if !types_fit(&received, expected) {
            return Some(InputError {
                kind: "return_type_mismatch",
                message: "Return type mismatch between linked nodes".into(),
                details: format!("{x}, received_type({received}) mismatch input_type({expected})"),
                input: Some(x.clone()),
                extra_info: json!({"input_name": x, "input_config": config(input), "received_type": received, "linked_node": link}),
                explain: None,
            });
        }
        let (ok, _) = self.node(&from, validated, path);
        if !ok {
            *valid = false;
        }
        None
    }

    /// Whether a loader's file is one ComfyUI lists or one the job uploads.
    fn file_known(&self, input: &InputDef, v: &Value) -> bool {
        let listed = match &input.ty {
            InputType::Combo { options, .. } => options.iter().any(|o| py_eq(o, v)),
            _ => false,
        };
        listed
            || v.as_str()
                .is_some_and(|v| self.uploaded.iter().any(|u| u == v))
    }

    /// A literal value: conversion to the input's type, min/max, combo lists
    /// (not for an input the node validates itself, `own_check`).
    fn value(&self, input: &InputDef, raw: &Value, own_check: bool) -> Option<InputError> {
        let x = &input.name;
        // The frontend wraps list values as {"__value__": [...]}; ComfyUI unwraps them.
        let val = raw
            .as_object()
            .and_then(|o| o.get("__value__"))
            .unwrap_or(raw);
        let converted = match convert(&input.ty, val) {
            Ok(v) => v,
            Err(ex) => {
                return Some(InputError {
                    kind: "invalid_input_type",
                    message: format!(
                        "Failed to convert an input value to a {} value",
                        input.type_name()
                    ),
                    details: format!("{x}, {}, {ex}", py_str(val)),
                    input: Some(x.clone()),
                    extra_info: json!({"input_name": x, "input_config": config(input), "received_value": val, "exception_message": ex.to_string()}),
                    explain: None,
                });
            }
        };
        if let Some(n) = converted.as_f64() {
            let shown = py_str(&converted);
            if let Some(min) = input.min.filter(|m| n < *m) {
                return Some(range_error(
                    input,
                    "value_smaller_than_min",
                    format!("Value {shown} smaller than min of {}", number(min)),
                    &converted,
                ));
            }
            if let Some(max) = input.max.filter(|m| n > *m) {
                return Some(range_error(
                    input,
                    "value_bigger_than_max",
                    format!("Value {shown} bigger than max of {}", number(max)),
                    &converted,
                ));
            }
        }
        if let InputType::Combo { options, checked } = &input.ty {
            if own_check || (!checked && self.strictness == Strictness::Comfy) {
                return None;
            }
            let listed = options.iter().any(|o| py_eq(o, val));
            let uploaded = input.upload
                && val
                    .as_str()
                    .is_some_and(|v| self.uploaded.iter().any(|u| u == v));
            if !listed && !uploaded {
                let (list_info, input_config) = if options.len() > 20 {
                    (format!("(list of length {})", options.len()), Value::Null)
                } else {
                    (py_repr(&Value::Array(options.clone())), config(input))
                };
                let explain = if !checked {
                    Some("ComfyUI 0.3.64 does not check this combo at /prompt: the node fails when it runs".to_string())
                } else if input.upload {
                    Some(format!("`{}` is neither a file ComfyUI has nor an input image the scenario sends (`images:`)", py_str(val)))
                } else {
                    None
                };
                return Some(InputError {
                    kind: "value_not_in_list",
                    message: "Value not in list".into(),
                    details: format!("{x}: '{}' not in {list_info}", py_str(val)),
                    input: Some(x.clone()),
                    extra_info: json!({"input_name": x, "input_config": input_config, "received_value": val}),
                    explain,
                });
            }
        }
        None
    }
}

/// Core nodes whose `VALIDATE_INPUTS` checks a file input instead of its combo
/// list (ComfyUI 0.3.64: nodes.py, nodes_video.py, nodes_audio.py), and the
/// word in their message ("Invalid image file: x").
fn custom_validator(class: &str) -> Option<(&'static str, &'static str)> {
    match class {
        "LoadImage" | "LoadImageMask" => Some(("image", "image")),
        "LoadLatent" => Some(("latent", "latent")),
        "LoadVideo" => Some(("file", "video")),
        "LoadAudio" => Some(("audio", "audio")),
        _ => None,
    }
}

fn missing(input: &InputDef) -> InputError {
    InputError {
        kind: "required_input_missing",
        message: "Required input is missing".into(),
        details: input.name.clone(),
        input: Some(input.name.clone()),
        extra_info: json!({"input_name": input.name}),
        explain: None,
    }
}

fn range_error(input: &InputDef, kind: &'static str, message: String, val: &Value) -> InputError {
    InputError {
        kind,
        message,
        details: input.name.clone(),
        input: Some(input.name.clone()),
        extra_info: json!({"input_name": input.name, "input_config": config(input), "received_value": val}),
        explain: None,
    }
}

fn exception(kind: &'static str, message: &str, details: &str, explain: String) -> InputError {
    InputError {
        kind,
        message: message.into(),
        details: details.into(),
        input: None,
        extra_info: json!({}),
        explain: Some(explain),
    }
}

/// `input_config` as ComfyUI reports it: `[type, options]`, options `{}` when absent.
fn config(input: &InputDef) -> Value {
    match &input.spec {
        Value::Array(a) => json!([
            a.first().cloned().unwrap_or(Value::Null),
            a.get(1).cloned().unwrap_or_else(|| json!({}))
        ]),
        other => json!([other, {}]),
    }
}

/// A number as Python prints it (ints as ints).
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e16 {
        format!("{}", n as i64)
    } else {
        py_float(n)
    }
}
