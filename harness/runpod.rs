//! The RunPod serverless protocol: its wire types ([`wire`], shared with
//! worker-comfyui's input and output), the client ([`Client`]: `/run`,
//! `/runsync`, `/status`, `/cancel`, `/health`, the local test server), the
//! job driver ([`job`]: submit once, poll to a terminal state, cancel what is
//! abandoned) and the output shapes a worker returns ([`output`]).

mod client;
pub mod job;
pub mod output;
pub mod wire;

pub use client::{Client, Submit};
#[cfg(any(test, feature = "internals"))]
pub use client::{Flavour, DEFAULT_RUNSYNC_WAIT};
