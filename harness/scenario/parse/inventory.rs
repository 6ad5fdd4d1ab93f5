//! Preflight while loading: the graph checked against the target's node
//! inventory as ComfyUI would check it, each finding reported at the `set:`
//! key that put the value there, else at `workflow:`, naming the node.

use super::super::InputImage;
use super::Cx;
use crate::comfyui::inventory;
use crate::scenario::workflow::Graph;

impl Cx<'_> {
    pub(super) fn preflight(
        &mut self,
        graph: &Graph,
        images: &[InputImage],
        set_by: &[((String, String), String)],
    ) {
        let Some(inv) = self.opts.inventory else {
            return;
        };
        let uploaded: Vec<String> = images.iter().map(|i| i.name.clone()).collect();
        for f in inventory::preflight(graph, inv, &uploaded) {
            let key = match (&f.node, &f.input) {
                (Some(n), Some(i)) => set_by
                    .iter()
                    .rev()
                    .find(|((node, input), _)| node == n && input == i)
                    .map(|(_, key)| key.clone()),
                _ => None,
            };
            let message = format!("preflight: {f}");
            match key {
                Some(key) => self.val_err(&key, message, f.help),
                None => self.val_err("workflow", message, f.help),
            }
        }
    }
}
