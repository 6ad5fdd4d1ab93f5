//! HTTP clients for the APIs the harness speaks: RunPod serverless v2 (and the
//! runpod-python local server) in [`Client`], ComfyUI's own API and progress
//! websocket in [`ComfyClient`], over shared plumbing (capped
//! bodies, redacted errors, escaped ids, credential-free downloads). Every
//! failed request is an [`EndpointError`] naming the request and the job.

mod body;
mod comfyui;
mod error;
pub(crate) mod http;
mod runpod;

pub use comfyui::{ComfyClient, ComfyWs, Queued};
pub use error::{ClientError, EndpointError, ErrorKind};
pub use runpod::{Client, Flavour, Submit, DEFAULT_RUNSYNC_WAIT};
