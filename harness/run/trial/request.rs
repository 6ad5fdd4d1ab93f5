//! The request a scenario sends: worker-comfyui's `{"input": {"workflow",
//! "images"}}`, refused before sending when it is over RunPod's size limit.

use base64::Engine;

use crate::scenario::{Mode, Scenario};
use crate::runpod::wire::{InputImage, RunRequest, WorkerInput, RUNSYNC_LIMIT, RUN_LIMIT};

/// Why a scenario's request could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// An input image file could not be read.
    #[error("cannot read input image `{name}` ({path}): {source}")]
    Image {
        /// The name the workflow uses.
        name: String,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The body is larger than RunPod accepts on that route.
    #[error("the request is {:.1} MB, over RunPod's {} MB limit for {route}: shrink the input images (or use mode: sync, limited to 20 MB)", *.bytes as f64 / 1e6, .limit / 1_000_000)]
    TooLarge {
        /// Body size.
        bytes: usize,
        /// The route's limit.
        limit: usize,
        /// `/run` or `/runsync`.
        route: &'static str,
    },
    /// Serialisation failed (not seen in practice).
    #[error("cannot serialise the request: {0}")]
    Serialise(String),
}

/// The request body worker-comfyui expects, serialised.
pub fn request_body(s: &Scenario) -> Result<Vec<u8>, RequestError> {
    let mut images = Vec::with_capacity(s.images.len());
    for img in &s.images {
        let image = match &img.inline {
            Some(data) => data.clone(),
            None => {
                let bytes = std::fs::read(&img.path).map_err(|source| RequestError::Image {
                    name: img.name.clone(),
                    path: crate::paths::display_path(&img.path).display().to_string(),
                    source,
                })?;
                base64::engine::general_purpose::STANDARD.encode(bytes)
            }
        };
        images.push(InputImage {
            name: img.name.clone(),
            image,
        });
    }
    let request = RunRequest {
        input: WorkerInput {
            workflow: s.workflow.clone(),
            images,
        },
        webhook: None,
        policy: None,
    };
    let body =
        serde_json::to_vec(&request).map_err(|e| RequestError::Serialise(e.to_string()))?;
    let (limit, route) = if s.mode == Mode::Sync {
        (RUNSYNC_LIMIT, "/runsync")
    } else {
        (RUN_LIMIT, "/run")
    };
    if body.len() > limit {
        return Err(RequestError::TooLarge {
            bytes: body.len(),
            limit,
            route,
        });
    }
    Ok(body)
}
