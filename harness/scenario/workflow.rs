//! ComfyUI workflows: reading them in whatever wrapper they come (API graph,
//! worker request, `/prompt` body, or a UI-format save converted with the node
//! inventory), `set:` overrides addressed by node id or `_meta.title`, and a
//! summary of what a graph will produce.
//!
//! An API-format graph is a map `node id -> {class_type, inputs, _meta?}`; an
//! input is a literal or a link `[source node id, output index]`.

mod overrides;
pub(crate) mod parse;
mod summary;

pub use crate::comfyui::graph::{class_type, Graph, WorkflowProblem};
pub use overrides::apply_override;
pub use parse::{from_json_text, normalise};
pub use summary::{summary, summary_with_inputs};
