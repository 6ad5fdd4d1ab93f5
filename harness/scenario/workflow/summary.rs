//! What a workflow will produce (size, batch, saving nodes) and which inputs a
//! scenario usually pins (seeds, prompts): for scaffolding and Hub imports.

use serde_json::Value;

use crate::comfyui::graph::{class_type, title, Graph};

/// What a workflow will produce and which inputs a scenario usually pins:
/// used to scaffold scenarios (`endpoint-harness new`) and to import Hub tests.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    /// The size every saving node receives, when the graph says and they agree
    /// (followed upstream through resizes and crops: `comfyui::shape`).
    pub size: Option<(u64, u64)>,
    /// The batch of the first latent/empty-image node (for a saver whose input cannot be followed).
    pub batch: u64,
    /// Nodes that save images (PreviewImage excluded: worker-comfyui skips temp images).
    pub savers: usize,
    /// Images each saving node receives, where known.
    pub saved: Vec<Option<u64>>,
    /// `(override key, value, class)` of seed inputs.
    pub seeds: Vec<(String, Value, String)>,
    /// `(override key, text)` of prompt inputs.
    pub prompts: Vec<(String, String)>,
}

impl Summary {
    /// The number of images the worker will return.
    pub fn images(&self) -> u64 {
        self.saved.iter().map(|b| b.unwrap_or(self.batch.max(1))).sum()
    }
}

/// The node's title when no other node shares it (so it can address the node).
fn unique_title<'a>(graph: &Graph, node: &'a Value) -> Option<&'a str> {
    title(node).filter(|t| graph.values().filter(|n| title(n) == Some(*t)).count() == 1)
}

/// Reads a `Summary`; override keys use the node's title when it is unique, else its id.
pub fn summary(graph: &Graph) -> Summary {
    summary_with_inputs(graph, &|_| None)
}

/// [`summary`], knowing the size of the images the workflow loads (by `LoadImage` name),
/// so an img2img graph's output size is known too.
pub fn summary_with_inputs(graph: &Graph, input_size: &dyn Fn(&str) -> Option<(u64, u64)>) -> Summary {
    let ids = crate::comfyui::graph::sorted_ids(graph);
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
        if crate::comfyui::shape::is_saver(class) {
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
    let saved = crate::comfyui::shape::saved(graph, input_size);
    s.saved = saved.iter().map(|(_, sh)| sh.map(|sh| sh.batch)).collect();
    let sizes: Vec<Option<(u64, u64)>> = saved.iter().map(|(_, sh)| sh.map(|sh| (sh.width, sh.height))).collect();
    s.size = match sizes.first() {
        // Every saver's size is known and the same.
        Some(Some(first)) if sizes.iter().all(|x| x == &Some(*first)) => Some(*first),
        // Nothing saves (or nothing could be followed): the source's size, as before.
        None => s.size,
        _ => None,
    };
    s
}
