//! ComfyUI API-format workflows: loading, recognising the wrong formats, and
//! `set:` overrides addressed by node id or by the node's `_meta.title`.
//!
//! An API-format graph is a map `node id -> {class_type, inputs, _meta?}`; an
//! input is a literal or a link `[source node id, output index]`.

use serde_json::{Map, Value};

/// The API-format graph sent as `input.workflow`.
pub type Graph = Map<String, Value>;

/// A problem with a workflow, with an optional fix and position in a JSON file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WorkflowProblem {
    pub message: String,
    pub help: Option<String>,
    /// 1-based line and column inside the workflow file, when the JSON itself is bad.
    pub at: Option<(usize, usize)>,
}

impl WorkflowProblem {
    fn new(message: impl Into<String>) -> Self {
        WorkflowProblem {
            message: message.into(),
            help: None,
            at: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

const EXPORT_HELP: &str =
    "in ComfyUI enable dev mode options if needed and use Workflow > Export (API), then point `workflow:` at that file";

/// Parses a workflow file's text.
pub fn from_json_text(text: &str) -> Result<Graph, WorkflowProblem> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json counts columns in bytes; diagnostics count characters.
        let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
        let col = crate::text::char_of_byte(line, e.column().saturating_sub(1)) + 1;
        WorkflowProblem {
            message: format!("workflow is not valid JSON: {e}"),
            help: None,
            at: Some((e.line(), col)),
        }
    })?;
    normalise(value)
}

/// Accepts a bare API graph, a worker-comfyui request `{"input": {"workflow": ...}}`,
/// or a ComfyUI `/prompt` body `{"prompt": ...}`; refuses a UI-format export.
pub fn normalise(value: Value) -> Result<Graph, WorkflowProblem> {
    let Value::Object(mut map) = value else {
        return Err(WorkflowProblem::new(format!(
            "a workflow must be a JSON object of nodes, found {}",
            kind_of(&value)
        )));
    };
    if map.contains_key("nodes") && map.contains_key("links") {
        return Err(WorkflowProblem::new("this is a UI-format workflow (it has `nodes` and `links`), not the API format the worker needs")
            .help(EXPORT_HELP));
    }
    if let Some(Value::Object(input)) = map.get("input") {
        return match input.get("workflow") {
            Some(inner) => normalise(inner.clone()),
            None => Err(WorkflowProblem::new(
                "worker request has `input` but no `input.workflow`",
            )),
        };
    }
    if map.len() == 1 {
        if let Some(inner @ Value::Object(_)) = map.get("prompt") {
            let inner = inner.clone();
            map.clear();
            return normalise(inner);
        }
    }
    validate_nodes(&map)?;
    Ok(map)
}

fn validate_nodes(graph: &Graph) -> Result<(), WorkflowProblem> {
    if graph.is_empty() {
        return Err(WorkflowProblem::new("the workflow has no nodes"));
    }
    for (id, node) in graph {
        let Some(obj) = node.as_object() else {
            return Err(WorkflowProblem::new(format!(
                "node `{id}` is {}, not an object",
                kind_of(node)
            ))
            .help(EXPORT_HELP));
        };
        if !obj.get("class_type").is_some_and(Value::is_string) {
            return Err(WorkflowProblem::new(format!(
                "node `{id}` has no `class_type`; is this an API-format workflow?"
            ))
            .help(EXPORT_HELP));
        }
        if obj.get("inputs").is_some_and(|i| !i.is_object()) {
            return Err(WorkflowProblem::new(format!(
                "node `{id}` has `inputs` that is not an object"
            )));
        }
    }
    Ok(())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
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

/// Resolves `NODE` (an id or a `_meta.title`) to a node id.
pub fn resolve_node(graph: &Graph, node: &str) -> Result<String, WorkflowProblem> {
    if graph.contains_key(node) {
        return Ok(node.to_string());
    }
    let by_title: Vec<&String> = graph
        .iter()
        .filter(|(_, n)| title(n) == Some(node))
        .map(|(id, _)| id)
        .collect();
    match by_title.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let names: Vec<&str> = graph
                .iter()
                .flat_map(|(id, n)| [Some(id.as_str()), title(n)])
                .flatten()
                .collect();
            let mut p = WorkflowProblem::new(format!("no node has id or title `{node}`"));
            let listing = list_nodes(graph);
            p.help = Some(match crate::text::did_you_mean(node, names) {
                Some(s) => format!("did you mean `{s}`? nodes: {listing}"),
                None => format!("nodes: {listing}"),
            });
            Err(p)
        }
        many => {
            let ids: Vec<String> = many.iter().map(|id| format!("`{id}`")).collect();
            Err(WorkflowProblem::new(format!(
                "title `{node}` is ambiguous: nodes {} share it",
                ids.join(", ")
            ))
            .help("address the node by its id instead"))
        }
    }
}

fn list_nodes(graph: &Graph) -> String {
    let mut items: Vec<String> = graph
        .iter()
        .map(|(id, n)| match title(n) {
            Some(t) => format!("{id} ({}, \"{t}\")", class_type(n)),
            None => format!("{id} ({})", class_type(n)),
        })
        .collect();
    items.sort_by_key(|s| {
        let id = s.split(' ').next().unwrap_or("");
        (id.parse::<u64>().unwrap_or(u64::MAX), s.clone())
    });
    items.join(", ")
}

/// Applies one `NODE.INPUT: value` override. The input name is after the last `.`,
/// since titles may contain dots and ComfyUI input names never do.
pub fn apply_override(graph: &mut Graph, key: &str, value: Value) -> Result<(), WorkflowProblem> {
    let Some((node, input)) = key
        .rsplit_once('.')
        .filter(|(n, i)| !n.is_empty() && !i.is_empty())
    else {
        return Err(
            WorkflowProblem::new(format!("override key `{key}` must be NODE.INPUT"))
                .help("e.g. `\"3.seed\": 42` or `\"Positive Prompt.text\": \"a fox\"`"),
        );
    };
    let id = resolve_node(graph, node)?;
    let node_value = graph.get_mut(&id).expect("resolved id exists");
    let class = class_type(node_value).to_string();
    let inputs = node_value
        .as_object_mut()
        .expect("validated node")
        .entry("inputs")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .expect("validated inputs");
    if !inputs.contains_key(input) {
        let names: Vec<&str> = inputs.keys().map(String::as_str).collect();
        let mut p = WorkflowProblem::new(format!("node `{id}` ({class}) has no input `{input}`"));
        let listing = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        p.help = Some(
            match crate::text::did_you_mean(input, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? its inputs: {listing}"),
                None => format!("its inputs: {listing}"),
            },
        );
        return Err(p);
    }
    inputs.insert(input.to_string(), value);
    Ok(())
}

/// Converts YAML (inline workflows, override values) to JSON; mapping keys become strings.
pub fn yaml_to_json(v: &serde_yaml_ng::Value) -> Result<Value, WorkflowProblem> {
    use serde_yaml_ng::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| WorkflowProblem::new(format!("number {f} has no JSON form")))?
            }
        }
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(seq) => Value::Array(seq.iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s.clone(),
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => {
                        return Err(WorkflowProblem::new(format!(
                            "mapping key {other:?} cannot be a JSON key"
                        )))
                    }
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(&t.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph() -> Graph {
        normalise(json!({
            "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "model": ["4", 0]}},
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a"}, "_meta": {"title": "Positive Prompt"}},
            "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "b"}, "_meta": {"title": "Prompt"}},
            "8": {"class_type": "CLIPTextEncode", "inputs": {"text": "c"}, "_meta": {"title": "Prompt"}}
        }))
        .unwrap()
    }

    #[test]
    fn overrides_by_id_and_title() {
        let mut g = graph();
        apply_override(&mut g, "3.seed", json!(42)).unwrap();
        apply_override(&mut g, "Positive Prompt.text", json!("a fox")).unwrap();
        assert_eq!(g["3"]["inputs"]["seed"], json!(42));
        assert_eq!(g["6"]["inputs"]["text"], json!("a fox"));
    }

    #[test]
    fn unknown_node_lists_candidates() {
        let err = apply_override(&mut graph(), "Positve Prompt.text", json!("x")).unwrap_err();
        assert_eq!(err.message, "no node has id or title `Positve Prompt`");
        assert_eq!(
            err.help.unwrap(),
            "did you mean `Positive Prompt`? nodes: 3 (KSampler), 6 (CLIPTextEncode, \"Positive Prompt\"), 7 (CLIPTextEncode, \"Prompt\"), 8 (CLIPTextEncode, \"Prompt\")"
        );
    }

    #[test]
    fn ambiguous_title_names_the_nodes() {
        let err = apply_override(&mut graph(), "Prompt.text", json!("x")).unwrap_err();
        assert_eq!(
            err.message,
            "title `Prompt` is ambiguous: nodes `7`, `8` share it"
        );
    }

    #[test]
    fn unknown_input_suggests() {
        let err = apply_override(&mut graph(), "3.sed", json!(1)).unwrap_err();
        assert_eq!(err.message, "node `3` (KSampler) has no input `sed`");
        assert_eq!(
            err.help.unwrap(),
            "did you mean `seed`? its inputs: `seed`, `steps`, `model`"
        );
    }

    #[test]
    fn malformed_key() {
        let err = apply_override(&mut graph(), "seed", json!(1)).unwrap_err();
        assert_eq!(err.message, "override key `seed` must be NODE.INPUT");
    }

    #[test]
    fn unwraps_worker_request_and_refuses_ui_format() {
        let g = normalise(
            json!({"input": {"workflow": {"1": {"class_type": "SaveImage", "inputs": {}}}}}),
        )
        .unwrap();
        assert!(g.contains_key("1"));
        let err = normalise(json!({"nodes": [], "links": [], "version": 0.4})).unwrap_err();
        assert!(err.message.contains("UI-format"), "{}", err.message);
        assert!(err.help.unwrap().contains("Export (API)"));
    }

    #[test]
    fn bad_json_has_position() {
        let err = from_json_text("{\n  \"1\": {,}\n}").unwrap_err();
        assert_eq!(err.at, Some((2, 9)));
    }
}

/// What a workflow will produce and which inputs a scenario usually pins:
/// used to scaffold scenarios (`endpoint-harness new`) and to import Hub tests.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    /// Size and batch from the first latent/empty-image node, when there is one.
    pub size: Option<(u64, u64)>,
    pub batch: u64,
    /// Nodes that save images (PreviewImage excluded: worker-comfyui skips temp images).
    pub savers: usize,
    /// `(override key, value, class)` of seed inputs.
    pub seeds: Vec<(String, Value, String)>,
    /// `(override key, text)` of prompt inputs.
    pub prompts: Vec<(String, String)>,
}

impl Summary {
    /// The number of images the worker will return.
    pub fn images(&self) -> u64 {
        self.savers as u64 * self.batch.max(1)
    }
}

/// The node's title when no other node shares it (so it can address the node).
fn unique_title<'a>(graph: &Graph, node: &'a Value) -> Option<&'a str> {
    title(node).filter(|t| graph.values().filter(|n| title(n) == Some(*t)).count() == 1)
}

/// Reads a [`Summary`]; override keys use the node's title when it is unique, else its id.
pub fn summary(graph: &Graph) -> Summary {
    let mut ids: Vec<&String> = graph.keys().collect();
    ids.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), (*id).clone()));
    let mut s = Summary {
        batch: 1,
        ..Summary::default()
    };
    for id in ids {
        let node = &graph[id];
        let class = class_type(node);
        let inputs = node.get("inputs").and_then(Value::as_object);
        let get = |k: &str| inputs.and_then(|i| i.get(k));
        let key = |input: &str| format!("{}.{input}", unique_title(graph, node).unwrap_or(id));
        if matches!(
            class,
            "EmptyLatentImage" | "EmptySD3LatentImage" | "EmptyImage" | "EmptyHunyuanLatentVideo"
        ) && s.size.is_none()
        {
            if let (Some(w), Some(h)) = (
                get("width").and_then(Value::as_u64),
                get("height").and_then(Value::as_u64),
            ) {
                s.size = Some((w, h));
                s.batch = get("batch_size").and_then(Value::as_u64).unwrap_or(1);
            }
        }
        if class != "PreviewImage" && class.contains("Save") && class.contains("Image") {
            s.savers += 1;
        }
        for k in ["seed", "noise_seed"] {
            if let Some(v) = get(k).filter(|v| v.is_number()) {
                s.seeds.push((key(k), v.clone(), class.to_string()));
            }
        }
        if let Some(t) = get("text").and_then(Value::as_str) {
            s.prompts.push((key("text"), t.to_string()));
        }
    }
    s
}
