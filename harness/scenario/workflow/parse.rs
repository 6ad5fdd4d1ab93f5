//! Reading a workflow: a file's JSON, an inline YAML mapping, or a value,
//! whatever wrapper it comes in (a bare API graph, a worker-comfyui request,
//! a `/prompt` body). A UI-format save (`nodes` + `links`) is converted with
//! the node inventory when there is one, and refused with the fix otherwise.

use serde_json::Value;

use crate::comfyui::graph::{kind_of, Graph, WorkflowProblem, EXPORT_HELP};
use crate::comfyui::inventory::Inventory;

/// Parses a workflow file's text; a UI-format save is converted when `inv` is given.
pub fn from_json_text(text: &str, inv: Option<&Inventory>) -> Result<Graph, WorkflowProblem> {
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
    normalise(value, inv)
}

/// Accepts a bare API graph, a worker-comfyui request `{"input": {"workflow": ...}}`,
/// or a ComfyUI `/prompt` body `{"prompt": ...}`. A UI-format save (`nodes` +
/// `links`) is converted as the frontend's Export (API) does when the inventory
/// is known, and refused with the fix when it is not.
pub fn normalise(value: Value, inv: Option<&Inventory>) -> Result<Graph, WorkflowProblem> {
    if crate::comfyui::ui::is_ui_format(&value) {
        let Some(inv) = inv else {
            return Err(WorkflowProblem::new("this is a UI-format workflow (it has `nodes` and `links`), not the API format the worker needs")
                .help(UI_HELP));
        };
        let graph = crate::comfyui::ui::convert(&value, inv)?;
        validate_nodes(&graph)?;
        return Ok(graph);
    }
    let Value::Object(mut map) = value else {
        return Err(WorkflowProblem::new(format!(
            "a workflow must be a JSON object of nodes, found {}",
            kind_of(&value)
        )));
    };
    if let Some(Value::Object(input)) = map.get("input") {
        return match input.get("workflow") {
            Some(inner) => normalise(inner.clone(), inv),
            None => Err(WorkflowProblem::new(
                "worker request has `input` but no `input.workflow`",
            )),
        };
    }
    if map.len() == 1 {
        if let Some(inner @ Value::Object(_)) = map.get("prompt") {
            let inner = inner.clone();
            map.clear();
            return normalise(inner, inv);
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

/// The fix for a UI-format save without an inventory.
const UI_HELP: &str = "in ComfyUI use Workflow > Export (API) and point `workflow:` at that file; or give the harness the node inventory (HARNESS_INVENTORY=inventory.json, from `endpoint-harness inventory --comfyui URL`) and it converts the save itself";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unwraps_worker_request_and_refuses_ui_format_without_an_inventory() {
        let g = normalise(
            json!({"input": {"workflow": {"1": {"class_type": "SaveImage", "inputs": {}}}}}),
            None,
        )
        .unwrap();
        assert!(g.contains_key("1"));
        let err = normalise(json!({"nodes": [], "links": [], "version": 0.4}), None).unwrap_err();
        assert!(err.message.contains("UI-format"), "{}", err.message);
        assert!(err.help.unwrap().contains("Export (API)"));
    }

    #[test]
    fn bad_json_has_position() {
        let err = from_json_text("{\n  \"1\": {,}\n}", None).unwrap_err();
        assert_eq!(err.at, Some((2, 9)));
    }
}
