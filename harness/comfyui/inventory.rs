//! The node inventory (ComfyUI's `/object_info`) and what it makes possible
//! offline: validating a graph as ComfyUI's `/prompt` would (`validate`),
//! with ComfyUI's own error types and wording, and worker-comfyui's wording
//! of the same refusal ([`worker_error`]), and a preflight that says it for a
//! person (`preflight`).

mod defs;
mod preflight;
mod pyrepr;
mod pyvalue;
pub mod set_types;
mod validate;
mod worker_text;

pub use defs::{InputDef, InputType, Inventory, NodeDef};
pub use preflight::preflight;
pub use pyrepr::py_repr;
pub use validate::{validate, Strictness};
// Named by this repository's tests and fuzz targets only.
#[cfg(any(test, feature = "internals"))]
pub use defs::InventoryError;
#[cfg(any(test, feature = "internals"))]
pub use preflight::Finding;
#[cfg(any(test, feature = "internals"))]
pub use pyrepr::py_json;
#[cfg(any(test, feature = "internals"))]
pub use validate::{InputError, NodeErrors, Refusal};
pub use worker_text::{worker_error, worker_text};

#[cfg(test)]
mod tests;
