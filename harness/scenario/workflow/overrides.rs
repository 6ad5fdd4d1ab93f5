//! `set:` overrides: `NODE.INPUT: value`, the node addressed by id or by its
//! `_meta.title`, with "did you mean" for nodes and inputs that do not exist.

use serde_json::{Map, Value};

use crate::comfyui::graph::{class_type, title, Graph, WorkflowProblem};

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
/// since titles may contain dots and ComfyUI input names never do. Returns the
/// node id and input it set.
pub fn apply_override(
    graph: &mut Graph,
    key: &str,
    value: Value,
) -> Result<(String, String), WorkflowProblem> {
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
    Ok((id, input.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use super::super::parse::normalise;
    use serde_json::json;

    fn graph() -> Graph {
        normalise(
            json!({
            "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "model": ["4", 0]}},
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a"}, "_meta": {"title": "Positive Prompt"}},
            "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "b"}, "_meta": {"title": "Prompt"}},
            "8": {"class_type": "CLIPTextEncode", "inputs": {"text": "c"}, "_meta": {"title": "Prompt"}}
        }),
            None,
        )
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
}
