//! The node inventory (ComfyUI's `/object_info`) and what it makes possible
//! offline: validating a graph as ComfyUI's `/prompt` would ([`validate`]),
//! with ComfyUI's own error types and wording, and worker-comfyui's wording
//! of the same refusal ([`worker_error`]), and a preflight that says it for a
//! person ([`preflight`]).

mod defs;
mod preflight;
mod pyrepr;
mod validate;
mod worker_text;

pub use defs::{InputDef, InputType, Inventory, InventoryError, NodeDef};
pub use preflight::{preflight, Finding};
pub use pyrepr::{py_json, py_repr};
pub use validate::{validate, InputError, NodeErrors, Refusal, Strictness};
pub use worker_text::{worker_error, worker_text};

#[cfg(test)]
mod tests;
