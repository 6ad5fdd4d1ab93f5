//! The RunPod serverless protocol: its wire types ([`wire`], shared with
//! worker-comfyui's input and output), the client ([`Client`]: `/run`,
//! `/runsync`, `/status`, `/cancel`, `/health`, the local test server), the
//! job driver ([`job`]: submit once, poll to a terminal state, cancel what is
//! abandoned), the output shapes a worker returns ([`output`]), and the
//! endpoint's own evidence from its management API ([`evidence`]: workers,
//! releases, worker logs; [`rollout`]: waiting for a rolling release).

mod client;
pub mod evidence;
pub mod job;
pub mod output;
pub mod rollout;
pub mod wire;

pub use client::{Client, Submit};
#[cfg(any(test, feature = "internals"))]
pub use client::{Flavour, DEFAULT_RUNSYNC_WAIT};
