//! Legacy group nodes (`workflow>Name`, defined in the save's
//! `extra.groupNodes`), expanded as frontend 1.27.10 expands them: the inner
//! nodes run as `<group node id>:<index>`; the group node's widget values are
//! its inner nodes' widget values one after another; each input an inner node
//! does not get from inside the group is one of the group node's inputs,
//! named like the inner input or, when two share a name, prefixed with the
//! inner node's title or type (`ImageScale width`); the group node's outputs
//! are its `external` outputs in order.

use std::collections::HashMap;

use serde_json::Value;

use super::read::{self, UiNode};
use crate::comfyui::graph::WorkflowProblem;
use crate::comfyui::inventory::Inventory;

/// The prefixes of a group node's type (`workflow/` in older saves).
const PREFIXES: [&str; 2] = ["workflow>", "workflow/"];

/// A link inside a group: `origin` is `None` for one from outside the group.
#[derive(Clone)]
struct Link {
    origin: Option<usize>,
    origin_slot: usize,
    target: usize,
    target_slot: usize,
}

/// One group node definition.
#[derive(Clone)]
pub(super) struct Group {
    pub nodes: Vec<UiNode>,
    links: Vec<Link>,
    /// The group node's outputs: `(inner node, its output slot)`.
    pub external: Vec<(usize, usize)>,
}

/// Where one of an inner node's inputs comes from.
pub(super) enum Inner {
    /// Another node of the group: `(inner index, output slot)`.
    Node(usize, usize),
    /// The group node's input of this name.
    Outside(String),
    /// Nothing: a widget value, or unconnected.
    Nothing,
}

/// The group definitions of a save, by group node type.
pub(super) fn read_all(save: &Value) -> Result<HashMap<String, Group>, WorkflowProblem> {
    let mut out = HashMap::new();
    let Some(defs) = save.pointer("/extra/groupNodes").and_then(Value::as_object) else {
        return Ok(out);
    };
    for (name, def) in defs {
        let at = format!("group node `{name}`");
        let graph = read::graph(&serde_json::json!({"nodes": def.get("nodes").cloned().unwrap_or_default()}), &at)?;
        let index = |v: &Value| v.as_u64().map(|n| n as usize);
        let links = def
            .get("links")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|l| {
                let l = l.as_array()?;
                Some(Link {
                    origin: l.first().and_then(index),
                    origin_slot: l.get(1).and_then(index)?,
                    target: l.get(2).and_then(index)?,
                    target_slot: l.get(3).and_then(index)?,
                })
            })
            .collect();
        let external = def
            .get("external")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| Some((e.get(0).and_then(index)?, e.get(1).and_then(index)?)))
            .collect();
        let group = Group {
            nodes: graph.nodes,
            links,
            external,
        };
        for prefix in PREFIXES {
            out.insert(format!("{prefix}{name}"), group.clone());
        }
    }
    Ok(out)
}

impl Group {
    /// Where inner node `j`'s input at `slot` comes from.
    pub(super) fn source(&self, j: usize, slot: usize, exposed: &HashMap<(usize, String), String>) -> Inner {
        let name = self.nodes[j].inputs.get(slot).map(|i| i.name.as_str()).unwrap_or("");
        match self.links.iter().find(|l| l.target == j && l.target_slot == slot) {
            Some(Link { origin: Some(o), origin_slot, .. }) => Inner::Node(*o, *origin_slot),
            _ => match exposed.get(&(j, name.to_string())) {
                Some(outer) => Inner::Outside(outer.clone()),
                None => Inner::Nothing,
            },
        }
    }

    fn linked_inside(&self, j: usize, input: &str) -> bool {
        self.links.iter().any(|l| {
            l.target == j
                && l.origin.is_some()
                && self.nodes[j].inputs.get(l.target_slot).is_some_and(|i| i.name == input)
        })
    }

    /// The group node's input names for the inner inputs that come from outside:
    /// `(inner index, input name) -> group input name`, named as the frontend names them.
    pub(super) fn exposed(&self, inv: &Inventory) -> HashMap<(usize, String), String> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut out = HashMap::new();
        for (j, node) in self.nodes.iter().enumerate() {
            let names: Vec<String> = match inv.node(&node.ty) {
                Some(def) => def.inputs.iter().map(|i| i.name.clone()).collect(),
                None => node.inputs.iter().map(|i| i.name.clone()).collect(),
            };
            for input in names.into_iter().filter(|n| !self.linked_inside(j, n)) {
                let mut key = input.clone();
                let mut name = input.clone();
                if seen.contains_key(&name) {
                    let prefix = format!("{} ", node.title.as_deref().unwrap_or(&node.ty));
                    key = format!("{prefix}{input}");
                    name = key.clone();
                    if let Some(n) = seen.get(&name) {
                        name = format!("{prefix}{n} {input}");
                    }
                }
                *seen.entry(key).or_insert(1) += 1;
                out.insert((j, input), name);
            }
        }
        out
    }

    /// Inner node `j`'s share of the group node's widget values (`None`: the
    /// group node saved none, so the inner node's own apply).
    pub(super) fn widget_values(&self, j: usize, instance: &Value, inv: &Inventory) -> Option<Value> {
        let all = instance.as_array()?;
        let mut start = 0;
        for (k, node) in self.nodes.iter().enumerate() {
            let count = inv
                .node(&node.ty)
                .map(|d| super::widgets::layout(d).len())
                .unwrap_or(0);
            if k == j {
                return Some(Value::Array(all.iter().skip(start).take(count).cloned().collect()));
            }
            start += count;
        }
        None
    }
}

/// Whether `ty` is a group node's type.
pub(super) fn is_group_type(ty: &str) -> bool {
    PREFIXES.iter().any(|p| ty.starts_with(p))
}
