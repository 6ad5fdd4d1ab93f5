//! Preflight: what ComfyUI would refuse in a graph, found offline and said
//! for a person. Unlike `/prompt`, which stops at the first unknown node
//! type, every unknown type is listed (with "did you mean"); then the graph is
//! validated as ComfyUI validates it ([`validate`], with the combo lists
//! ComfyUI only checks at run time checked too), each error kept with
//! ComfyUI's error type and placed on its node and input.

use std::fmt;

use serde_json::{Map, Value};

use super::defs::{InputType, Inventory};
use super::pyrepr::py_str;
use super::validate::{validate, InputError, Strictness};
use crate::text::did_you_mean;

/// One problem, placed on a node (and an input) when it has one.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The node id.
    pub node: Option<String>,
    /// The node's class.
    pub class_type: Option<String>,
    /// The node's `_meta.title`, when it differs from its class.
    pub title: Option<String>,
    /// The input concerned.
    pub input: Option<String>,
    /// ComfyUI's error type (`value_not_in_list`, `invalid_prompt`, ...).
    pub kind: String,
    /// What is wrong.
    pub message: String,
    /// The fix, when there is one.
    pub help: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(node) = &self.node {
            write!(f, "node {node}")?;
            match (&self.title, &self.class_type) {
                (Some(t), Some(c)) => write!(f, " \"{t}\" ({c})")?,
                (None, Some(c)) => write!(f, " ({c})")?,
                _ => {}
            }
            write!(f, ": ")?;
        }
        write!(f, "{} [{}]", self.message, self.kind)
    }
}

/// Everything ComfyUI would refuse in `graph`; `uploaded` are the input images
/// the job sends. Empty when ComfyUI would accept it.
pub fn preflight(graph: &Map<String, Value>, inv: &Inventory, uploaded: &[String]) -> Vec<Finding> {
    let found = unknown_types(graph, inv);
    if !found.is_empty() {
        return found;
    }
    let Err(refusal) = validate(graph, inv, uploaded, Strictness::Preflight) else {
        return Vec::new();
    };
    if refusal.node_errors.is_empty() {
        return vec![Finding {
            node: None,
            class_type: None,
            title: None,
            input: None,
            kind: refusal.kind,
            message: format!("ComfyUI refuses the graph: {}", refusal.message),
            help: (refusal.message == "Prompt has no outputs").then(|| {
                "add a node that saves its result (SaveImage, SaveVideo, PreviewImage, ...)"
                    .to_string()
            }),
        }];
    }
    let mut out = Vec::new();
    for n in &refusal.node_errors {
        for e in &n.errors {
            let (message, help) = explain(graph, inv, &n.class_type, e);
            out.push(Finding {
                node: Some(n.node.clone()),
                class_type: Some(n.class_type.clone()),
                title: title(graph, &n.node, &n.class_type),
                input: e.input.clone(),
                kind: e.kind.to_string(),
                message,
                help,
            });
        }
    }
    out
}

fn title(graph: &Map<String, Value>, id: &str, class: &str) -> Option<String> {
    graph
        .get(id)
        .and_then(|n| n.pointer("/_meta/title"))
        .and_then(Value::as_str)
        .filter(|t| *t != class)
        .map(str::to_string)
}

fn unknown_types(graph: &Map<String, Value>, inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    for (id, node) in graph {
        let Some(class) = node.get("class_type").and_then(Value::as_str) else {
            out.push(Finding {
                node: Some(id.clone()),
                class_type: None,
                title: None,
                input: None,
                kind: "invalid_prompt".into(),
                message: "the node has no `class_type`".into(),
                help: None,
            });
            continue;
        };
        if inv.node(class).is_none() {
            let help = match did_you_mean(class, inv.names()) {
                Some(s) => format!("did you mean `{s}`? otherwise install the custom node that provides it in the worker image"),
                None => "install the custom node that provides it in the worker image, then take the inventory again".into(),
            };
            out.push(Finding {
                node: Some(id.clone()),
                class_type: Some(class.to_string()),
                title: title(graph, id, class),
                input: None,
                kind: "invalid_prompt".into(),
                message: format!("node type `{class}` does not exist in this ComfyUI"),
                help: Some(help),
            });
        }
    }
    out
}

/// A person's wording of one of ComfyUI's errors, and the fix.
fn explain(
    graph: &Map<String, Value>,
    inv: &Inventory,
    class: &str,
    e: &InputError,
) -> (String, Option<String>) {
    let input = e.input.as_deref().unwrap_or("?");
    if let Some(x) = &e.explain {
        if e.kind != "value_not_in_list" {
            return (x.clone(), None);
        }
    }
    match e.kind {
        "required_input_missing" => (
            format!("required input `{input}` is missing"),
            Some("link it to an output or give it a value".into()),
        ),
        "value_not_in_list" => {
            let received = e
                .extra_info
                .get("received_value")
                .map(py_str)
                .unwrap_or_default();
            let options: Vec<String> = inv
                .node(class)
                .and_then(|d| d.input(input))
                .map(|i| match &i.ty {
                    InputType::Combo { options, .. } => options.iter().map(py_str).collect(),
                    _ => Vec::new(),
                })
                .unwrap_or_default();
            let mut message = match options.len() {
                0 => format!("input `{input}`: `{received}` is not available (the inventory offers no value for it)"),
                n => format!("input `{input}`: `{received}` is not one of the {n} values the inventory offers"),
            };
            if let Some(x) = &e.explain {
                message = format!("{message} ({x})");
            }
            let help = match did_you_mean(&received, options.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None if options.is_empty() => "add the file to the worker image (or its network volume), then take the inventory again".into(),
                None if options.len() <= 8 => format!("it offers: {}", options.join(", ")),
                None => format!("it offers {} values, e.g. {}", options.len(), options[..5].join(", ")),
            };
            (message, Some(help))
        }
        "return_type_mismatch" => {
            let got = e
                .extra_info
                .get("received_type")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let from = e
                .extra_info
                .pointer("/linked_node/0")
                .map(py_str)
                .unwrap_or_default();
            let from_class = graph
                .get(&from)
                .and_then(|n| n.get("class_type"))
                .and_then(Value::as_str)
                .unwrap_or("?");
            let want = e
                .extra_info
                .pointer("/input_config/0")
                .and_then(Value::as_str)
                .unwrap_or("?");
            (
                format!("input `{input}` takes {want} but is linked to a {got} output of node {from} ({from_class})"),
                None,
            )
        }
        _ => (
            format!("input `{input}`: {}: {}", e.message, e.details),
            None,
        ),
    }
}
