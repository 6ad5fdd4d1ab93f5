//! The HTTP both protocols share (RunPod's and ComfyUI's clients build on it):
//! one reqwest client per target, bodies read with a cap, `Retry-After`,
//! ids escaped into paths, credential-free downloads, and every failed
//! request an [`EndpointError`] naming the request and the job.

pub(crate) mod body;
mod error;
pub(crate) mod send;

pub use error::{ClientError, EndpointError, ErrorKind};
