//! worker-comfyui's side of the contract (5.x, and the pre-5.0 message shape):
//! the job input (`workflow` + `images`), the output (`images[]` of base64 or
//! `s3_url`, `errors[]`, `success_no_images`, legacy `message`). The mock
//! writes these shapes and the client reads them through the same field names.

use serde::{Deserialize, Serialize};

pub use crate::model::JobProgress;
use serde_json::{Map, Value};

/// `input` of a worker-comfyui job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerInput {
    /// The API-format graph.
    pub workflow: Map<String, Value>,
    /// Files uploaded to ComfyUI before the graph runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<InputImage>,
}

/// One input image: uploaded as `name`, the bytes base64 (or a data URI).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InputImage {
    /// The file name a LoadImage node refers to.
    pub name: String,
    /// Base64 or a `data:` URI.
    pub image: String,
}

/// How an output item carries its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// `data` is the file, base64.
    Base64,
    /// `data` is a presigned URL.
    S3Url,
}

/// One item of `output.images[]`. The mock writes `OutputItem<String>`; the
/// client reads `OutputItem<&str>`, borrowing the (often megabytes of) base64
/// from the parsed answer instead of copying it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutputItem<S = String> {
    /// ComfyUI's file name (`ComfyUI_00001_.png`).
    pub filename: S,
    /// How `data` carries the file.
    #[serde(rename = "type")]
    pub kind: ItemType,
    /// Base64 or a URL.
    pub data: S,
}

/// `output.status` when the workflow saved nothing and nothing failed.
pub const SUCCESS_NO_IMAGES: &str = "success_no_images";
/// `output.status` of the pre-5.0 message shape.
pub const LEGACY_SUCCESS: &str = "success";

/// `output` of a COMPLETED worker-comfyui job, as the worker writes it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WorkerOutput {
    /// Returned files (5.0 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<OutputItem>>,
    /// Returned animations and videos, where the worker separates them from
    /// stills (proposed in worker-comfyui issue #232; items as in `images`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub videos: Option<Vec<OutputItem>>,
    /// Non-fatal problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// [`SUCCESS_NO_IMAGES`], or [`LEGACY_SUCCESS`] with `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Pre-5.0: the one image, base64 or a URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
