//! Converting a UI-format save into the API format, as the ComfyUI frontend's
//! Workflow > Export (API) does (`graphToPrompt` of frontend 1.27.10): widget
//! values named with the node inventory; Reroute, PrimitiveNode and notes
//! dissolved; muted nodes (mode 2) left out and links to them dropped;
//! bypassed nodes (mode 4) passed through by type; subgraphs flattened with
//! execution ids `outer:inner`, legacy group nodes with `group:index`. A save
//! whose nodes the inventory lacks is refused naming the node, since their
//! widget values cannot be named.

mod group;
mod read;
mod widgets;

use std::collections::HashMap;

use serde_json::{json, Value};

use self::read::{UiGraph, UiInput, UiNode, MODE_BYPASS, MODE_NEVER, SUBGRAPH_INPUT, SUBGRAPH_OUTPUT};
use crate::comfyui::graph::{Graph, WorkflowProblem, EXPORT_HELP};
use crate::comfyui::inventory::{Inventory, NodeDef};

/// Nodes the frontend itself provides: never sent.
const FRONTEND_NODES: [&str; 4] = ["Reroute", "PrimitiveNode", "Note", "MarkdownNote"];

/// Links followed through reroutes, bypassed nodes and subgraph borders
/// before a chain is taken for a circle (the frontend keeps a visited set).
const MAX_HOPS: usize = 256;

/// Subgraphs nested deeper than this are taken for a subgraph that contains itself.
const MAX_DEPTH: usize = 32;

/// Whether `v` is a UI-format save (it has `nodes` and `links`).
pub fn is_ui_format(v: &Value) -> bool {
    v.get("nodes").is_some_and(Value::is_array) && v.get("links").is_some()
}

/// Converts a UI-format save to the API format with the node inventory `inv`.
pub fn convert(save: &Value, inv: &Inventory) -> Result<Graph, WorkflowProblem> {
    let root = read::graph(save, "the workflow")?;
    let mut subgraphs = HashMap::new();
    collect_subgraphs(save, &mut subgraphs, 0)?;
    let groups = group::read_all(save)?;
    let cx = Cx {
        inv,
        subgraphs,
        groups,
    };
    let mut out = Graph::new();
    cx.emit(&[Frame { graph: &root, via: None }], &mut out)?;
    drop_dangling(&mut out);
    if out.is_empty() {
        return Err(WorkflowProblem::new(
            "the workflow has no nodes ComfyUI would run (all are notes, reroutes, muted or bypassed)",
        ));
    }
    Ok(out)
}

fn collect_subgraphs(
    v: &Value,
    into: &mut HashMap<String, UiGraph>,
    depth: usize,
) -> Result<(), WorkflowProblem> {
    let Some(list) = v.pointer("/definitions/subgraphs").and_then(Value::as_array) else {
        return Ok(());
    };
    if depth > MAX_DEPTH {
        return Err(WorkflowProblem::new("subgraph definitions nest too deep"));
    }
    for def in list {
        let id = def.get("id").and_then(Value::as_str).unwrap_or_default();
        let name = def.get("name").and_then(Value::as_str).unwrap_or(id);
        if !into.contains_key(id) {
            into.insert(id.to_string(), read::graph(def, &format!("subgraph `{name}`"))?);
            collect_subgraphs(def, into, depth + 1)?;
        }
    }
    Ok(())
}

/// One level of the subgraph path: the graph, and the subgraph node it was entered through.
#[derive(Clone, Copy)]
struct Frame<'a> {
    graph: &'a UiGraph,
    via: Option<&'a UiNode>,
}

/// Where an input's value comes from.
enum Source {
    Output(String, usize),
    Value(Value),
}

struct Cx<'a> {
    inv: &'a Inventory,
    subgraphs: HashMap<String, UiGraph>,
    groups: HashMap<String, group::Group>,
}

fn exec_id(path: &[Frame<'_>], id: &str) -> String {
    let mut parts: Vec<&str> = path.iter().filter_map(|f| f.via).map(|n| n.id.as_str()).collect();
    parts.push(id);
    parts.join(":")
}

fn enter<'a>(path: &[Frame<'a>], graph: &'a UiGraph, via: &'a UiNode) -> Result<Vec<Frame<'a>>, WorkflowProblem> {
    if path.len() > MAX_DEPTH {
        return Err(WorkflowProblem::new(format!(
            "subgraph node {} nests deeper than {MAX_DEPTH} levels: does a subgraph contain itself?",
            exec_id(path, &via.id)
        )));
    }
    let mut inner = path.to_vec();
    inner.push(Frame { graph, via: Some(via) });
    Ok(inner)
}

impl<'a> Cx<'a> {
    fn emit(&'a self, path: &[Frame<'a>], out: &mut Graph) -> Result<(), WorkflowProblem> {
        let frame = path.last().expect("a path has a frame");
        for node in &frame.graph.nodes {
            if let Some(sub) = self.subgraphs.get(&node.ty) {
                // Frontend 1.27 expands a subgraph's nodes whatever its own mode.
                self.emit(&enter(path, sub, node)?, out)?;
                continue;
            }
            if let Some(g) = self.groups.get(&node.ty) {
                if node.mode != MODE_NEVER && node.mode != MODE_BYPASS {
                    self.emit_group(path, node, g, out)?;
                }
                continue;
            }
            if FRONTEND_NODES.contains(&node.ty.as_str()) || node.mode == MODE_NEVER || node.mode == MODE_BYPASS {
                continue;
            }
            let id = exec_id(path, &node.id);
            let def = self.def(node, &id)?;
            let mut inputs = widgets::values(def, &node.widgets_values);
            for input in &node.inputs {
                let source = self.resolve_input(path, node, input, &input.ty, 0)?;
                put(&mut inputs, &input.name, source);
            }
            let title = node.title.clone().unwrap_or_else(|| def.display_name.clone());
            out.insert(
                id,
                json!({"inputs": inputs, "class_type": node.ty, "_meta": {"title": title}}),
            );
        }
        Ok(())
    }

    /// A group node's inner nodes, as `<group node id>:<index>`.
    fn emit_group(
        &'a self,
        path: &[Frame<'a>],
        instance: &UiNode,
        g: &group::Group,
        out: &mut Graph,
    ) -> Result<(), WorkflowProblem> {
        let exposed = g.exposed(self.inv);
        for (j, inner) in g.nodes.iter().enumerate() {
            if FRONTEND_NODES.contains(&inner.ty.as_str()) || inner.mode == MODE_NEVER || inner.mode == MODE_BYPASS {
                continue;
            }
            let id = exec_id(path, &format!("{}:{j}", instance.id));
            let def = self.def(inner, &id)?;
            let saved = g
                .widget_values(j, &instance.widgets_values, self.inv)
                .unwrap_or_else(|| inner.widgets_values.clone());
            let mut inputs = widgets::values(def, &saved);
            for (slot, input) in inner.inputs.iter().enumerate() {
                let source = match g.source(j, slot, &exposed) {
                    group::Inner::Node(o, s) => {
                        Some(Source::Output(exec_id(path, &format!("{}:{o}", instance.id)), s))
                    }
                    group::Inner::Outside(name) => match instance.inputs.iter().find(|i| i.name == name) {
                        Some(outer) => self.resolve_input(path, instance, outer, &input.ty, 0)?,
                        None => None,
                    },
                    group::Inner::Nothing => None,
                };
                put(&mut inputs, &input.name, source);
            }
            let title = inner.title.clone().unwrap_or_else(|| def.display_name.clone());
            out.insert(
                id,
                json!({"inputs": inputs, "class_type": inner.ty, "_meta": {"title": title}}),
            );
        }
        Ok(())
    }

    fn def(&self, node: &UiNode, id: &str) -> Result<&'a NodeDef, WorkflowProblem> {
        if let Some(def) = self.inv.node(&node.ty) {
            return Ok(def);
        }
        if group::is_group_type(&node.ty) {
            return Err(WorkflowProblem::new(format!(
                "node {id} is a group node (`{}`) whose definition is not in the save's `extra.groupNodes`",
                node.ty
            ))
            .help("save the workflow again from ComfyUI (the save carries its group node definitions), or convert the group node to nodes"));
        }
        let suggestion = crate::text::did_you_mean(&node.ty, self.inv.names())
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        Err(WorkflowProblem::new(format!(
            "node {id} has type `{}`, which the inventory does not list, so its widget values cannot be named",
            node.ty
        ))
        .help(format!("{suggestion}either the worker lacks this custom node (install it in the image, then take the inventory again) or it is a frontend-only node; {EXPORT_HELP}")))
    }

    /// Where `node`'s `input` gets its value; `ty` is the type the consumer expects.
    fn resolve_input(
        &self,
        path: &[Frame<'a>],
        node: &UiNode,
        input: &UiInput,
        ty: &str,
        hops: usize,
    ) -> Result<Option<Source>, WorkflowProblem> {
        let Some(link_id) = &input.link else {
            return Ok(None);
        };
        let frame = path.last().expect("a path has a frame");
        let Some(link) = frame.graph.links.get(link_id) else {
            return Err(WorkflowProblem::new(format!(
                "input `{}` of node {} refers to link {link_id}, which the workflow does not have",
                input.name,
                exec_id(path, &node.id)
            )));
        };
        if link.origin == SUBGRAPH_INPUT {
            return self.subgraph_input(path, link.origin_slot, ty, hops);
        }
        self.resolve_output(path, &link.origin, link.origin_slot, ty, hops + 1)
    }

    /// A link from a subgraph's input: follow the subgraph node's input outside,
    /// or take the value of the widget it promotes.
    fn subgraph_input(
        &self,
        path: &[Frame<'a>],
        slot: usize,
        ty: &str,
        hops: usize,
    ) -> Result<Option<Source>, WorkflowProblem> {
        let (outer, [.., Frame { via: Some(sg), .. }]) = (&path[..path.len() - 1], path) else {
            return Ok(None);
        };
        let Some(input) = sg.inputs.get(slot) else {
            return Ok(None);
        };
        if input.link.is_some() {
            return self.resolve_input(outer, sg, input, ty, hops + 1);
        }
        if input.widget.is_none() {
            return Ok(None);
        }
        let index = sg.inputs[..slot].iter().filter(|i| i.widget.is_some()).count();
        Ok(match &sg.widgets_values {
            Value::Array(a) => a.get(index).cloned().map(Source::Value),
            Value::Object(o) => o.get(&input.name).cloned().map(Source::Value),
            _ => None,
        })
    }

    fn resolve_output(
        &self,
        path: &[Frame<'a>],
        id: &str,
        slot: usize,
        ty: &str,
        hops: usize,
    ) -> Result<Option<Source>, WorkflowProblem> {
        if hops > MAX_HOPS {
            return Err(WorkflowProblem::new(format!(
                "links through node {} go round in a circle",
                exec_id(path, id)
            )));
        }
        let frame = path.last().expect("a path has a frame");
        let Some(node) = frame.graph.node(id) else {
            return Err(WorkflowProblem::new(format!(
                "a link comes from node {}, which the workflow does not have",
                exec_id(path, id)
            )));
        };
        if node.mode == MODE_BYPASS {
            let Some(input) = self.bypass_input(node, slot, ty) else {
                return Ok(None);
            };
            return self.resolve_input(path, node, input, ty, hops + 1);
        }
        if let Some(g) = self.groups.get(&node.ty) {
            return Ok(g.external.get(slot).map(|(idx, s)| {
                Source::Output(exec_id(path, &format!("{}:{idx}", node.id)), *s)
            }));
        }
        if let Some(sub) = self.subgraphs.get(&node.ty) {
            let inner = enter(path, sub, node)?;
            let Some(link) = sub
                .links
                .values()
                .find(|l| l.target == SUBGRAPH_OUTPUT && l.target_slot == slot)
            else {
                return Ok(None);
            };
            if link.origin == SUBGRAPH_INPUT {
                return self.subgraph_input(&inner, link.origin_slot, ty, hops + 1);
            }
            return self.resolve_output(&inner, &link.origin, link.origin_slot, ty, hops + 1);
        }
        match node.ty.as_str() {
            // The frontend writes a primitive's value into the widget it feeds.
            "PrimitiveNode" => Ok(match &node.widgets_values {
                Value::Array(a) => a.first().cloned().map(Source::Value),
                _ => None,
            }),
            "Reroute" => match node.inputs.first() {
                Some(input) => self.resolve_input(path, node, input, ty, hops + 1),
                None => Ok(None),
            },
            _ => Ok(Some(Source::Output(exec_id(path, id), slot))),
        }
    }

    /// The input a bypassed node passes to output `slot` (the frontend's
    /// `getBypassSlotIndex`): the same index when its type fits, else the
    /// first input of exactly the consumer's type, else the first that fits.
    fn bypass_input<'n>(&self, node: &'n UiNode, slot: usize, ty: &str) -> Option<&'n UiInput> {
        // The live node has every input of its definition; a compact save lists
        // only the linked ones, so take names and types from the inventory.
        let full: Vec<(String, String)> = match self.inv.node(&node.ty) {
            Some(def) => def
                .inputs
                .iter()
                .map(|i| (i.name.clone(), i.type_name().to_string()))
                .collect(),
            None => node.inputs.iter().map(|i| (i.name.clone(), i.ty.clone())).collect(),
        };
        let out_ty = node.outputs.get(slot).map(String::as_str).unwrap_or("*");
        let fits = |t: &str| compatible(t, out_ty) && compatible(t, ty);
        let index = if ty == "*" || ty.is_empty() {
            Some(if full.len() > slot { slot } else { 0 })
        } else if full.get(slot).is_some_and(|(_, t)| fits(t)) {
            Some(slot)
        } else {
            full.iter()
                .position(|(_, t)| t == ty)
                .or_else(|| full.iter().position(|(_, t)| fits(t)))
        }?;
        let (name, _) = full.get(index)?;
        node.inputs.iter().find(|i| &i.name == name)
    }
}

/// Sets input `name` from where it comes (lists wrapped as the frontend wraps them).
fn put(inputs: &mut serde_json::Map<String, Value>, name: &str, source: Option<Source>) {
    match source {
        Some(Source::Output(from, slot)) => {
            inputs.insert(name.to_string(), json!([from, slot]));
        }
        Some(Source::Value(v)) => {
            let v = if v.is_array() { json!({"__value__": v}) } else { v };
            inputs.insert(name.to_string(), v);
        }
        None => {}
    }
}

/// LiteGraph's `isValidConnection`: wildcards fit anything; type lists
/// (`INT,FLOAT`) fit when they share a type; case does not matter.
fn compatible(a: &str, b: &str) -> bool {
    if a.is_empty() || a == "*" || b.is_empty() || b == "*" || a == b {
        return true;
    }
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    a.split(',').any(|x| b.split(',').any(|y| x.trim() == y.trim()))
}

/// The frontend's last pass: a link to a node that is not sent (muted) is dropped.
fn drop_dangling(out: &mut Graph) {
    let ids: Vec<String> = out.keys().cloned().collect();
    for node in out.values_mut() {
        if let Some(inputs) = node.get_mut("inputs").and_then(Value::as_object_mut) {
            inputs.retain(|_, v| match v.as_array().map(Vec::as_slice) {
                Some([Value::String(from), Value::Number(_)]) => ids.contains(from),
                _ => true,
            });
        }
    }
}


#[cfg(test)]
mod tests;
