//! The order a ComfyUI runs a prompt's nodes in: what each output node needs,
//! depth first, as ComfyUI 0.3.64's execution list schedules it.

use serde_json::{Map, Value};

/// The order nodes run in, as ComfyUI's `ExecutionList` picks them: only
/// what the output nodes need; of the nodes whose inputs are ready, an output
/// node first, then one an output waits on, then one that feeds such a node,
/// else the first found (`ux_friendly_pick_node` in ComfyUI's graph.py).
pub(crate) fn execution_order(graph: &Map<String, Value>, outputs: &[String]) -> Vec<String> {
    let deps = |id: &str| -> Vec<String> {
        let mut out = Vec::new();
        for v in graph[id]
            .get("inputs")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|i| i.values())
        {
            if let Some([Value::String(from), Value::Number(_)]) = v.as_array().map(Vec::as_slice) {
                if graph.contains_key(from) && !out.contains(from) {
                    out.push(from.clone());
                }
            }
        }
        out
    };
    // Every needed node, in the order it is found from the outputs.
    let mut needed: Vec<String> = Vec::new();
    let mut stack: Vec<String> = outputs.iter().rev().cloned().collect();
    while let Some(id) = stack.pop() {
        if needed.contains(&id) || !graph.contains_key(&id) {
            continue;
        }
        for d in deps(&id).into_iter().rev() {
            stack.push(d);
        }
        needed.push(id);
    }
    let is_output = |id: &str| outputs.iter().any(|o| o == id);
    // Who waits on whom.
    let blocks = |id: &str| -> Vec<String> {
        needed
            .iter()
            .filter(|n| deps(n).iter().any(|d| d == id))
            .cloned()
            .collect()
    };
    let mut done: Vec<String> = Vec::new();
    while done.len() < needed.len() {
        let ready: Vec<&String> = needed
            .iter()
            .filter(|n| !done.contains(n) && deps(n).iter().all(|d| done.contains(d)))
            .collect();
        let Some(first) = ready.first() else {
            break; // a cycle: ComfyUI refuses it at validation
        };
        let pick = ready
            .iter()
            .find(|n| is_output(n))
            .or_else(|| {
                ready
                    .iter()
                    .find(|n| blocks(n).iter().any(|b| is_output(b)))
            })
            .or_else(|| {
                ready.iter().find(|n| {
                    blocks(n)
                        .iter()
                        .any(|b| blocks(b).iter().any(|c| is_output(c)))
                })
            })
            .unwrap_or(first);
        done.push((*pick).clone());
    }
    done
}
