//! ComfyUI's own API: the client (`/prompt`, `/history`, `/view`, `/upload`,
//! `/interrupt`, `/queue`, `/object_info` and the progress websocket), the
//! node inventory and the offline preflight against it ([`inventory`]), and
//! the conversion of UI-format saves to API graphs ([`ui`]).

mod client;
pub mod graph;
pub mod inventory;
pub mod shape;
pub mod stack;
pub mod ui;

pub use client::{ComfyClient, ComfyWs, Queued};
