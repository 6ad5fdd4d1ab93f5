//! worker-comfyui output shapes -> returned image bytes.
//!
//! Knows every shape a client meets: `output.images[]` items of `type: base64`
//! (raw or data URI) or `type: s3_url` (downloaded), the pre-5.0 `output.message`
//! (base64, data URI or URL), `output.errors[]` warnings, and
//! `{status: success_no_images, images: []}`. A problem with one image is kept
//! with that image, so the checks can report every problem at once.

use base64::Engine;
use serde_json::Value;

use crate::endpoint::Endpoint;
pub use crate::model::OutputShape as Shape;

/// How an image was delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Base64,
    S3Url,
    Message,
}

/// One image as the worker returned it.
#[derive(Clone, Debug)]
pub struct Returned {
    pub filename: String,
    pub transport: Transport,
    /// The MIME type a data URI declared (`data:image/png;base64,`), if any.
    pub declared_mime: Option<String>,
    /// The bytes, or why they could not be obtained.
    pub bytes: Result<Vec<u8>, String>,
}

/// The decoded `output`.
#[derive(Clone, Debug)]
pub struct Output {
    pub shape: Shape,
    pub images: Vec<Returned>,
    /// `output.errors[]`: non-fatal problems the worker reported.
    pub warnings: Vec<String>,
}

/// Why `output` could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("the job is COMPLETED but has no `output`: the worker could not upload its result (RunPod limits results to about 20 MB: return large images via S3 `BUCKET_ENDPOINT_URL`; the worker log shows \"Failed to return job results\")")]
    Missing,
    #[error("unrecognised output shape: {0}")]
    Unrecognised(String),
}

/// Reads `output` from a COMPLETED job; s3 URLs are fetched through `endpoint`.
pub async fn decode(output: Option<&Value>, endpoint: &Endpoint) -> Result<Output, OutputError> {
    let obj = match output {
        None | Some(Value::Null) => return Err(OutputError::Missing),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(OutputError::Unrecognised(format!(
                "`output` is {} rather than an object",
                short(other)
            )))
        }
    };
    let warnings = match obj.get("errors") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|e| {
                e.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string())
            })
            .collect(),
        Some(other) => vec![other.to_string()],
    };
    if let Some(images) = obj.get("images") {
        let Value::Array(items) = images else {
            return Err(OutputError::Unrecognised(format!(
                "`output.images` is {} rather than a list",
                short(images)
            )));
        };
        let no_images = obj.get("status").and_then(Value::as_str) == Some("success_no_images");
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(image_item(i, item, endpoint).await);
        }
        let shape = if no_images && out.is_empty() {
            Shape::NoImages
        } else {
            Shape::Images
        };
        return Ok(Output {
            shape,
            images: out,
            warnings,
        });
    }
    if let Some(message) = obj.get("message") {
        let Some(text) = message.as_str() else {
            return Err(OutputError::Unrecognised(format!(
                "`output.message` is {}",
                short(message)
            )));
        };
        if obj.get("status").and_then(Value::as_str) == Some("error") {
            return Err(OutputError::Unrecognised(format!(
                "legacy worker reported an error: {}",
                crate::redact::redact(text)
            )));
        }
        let img = if is_url(text) {
            Returned {
                filename: "message".into(),
                transport: Transport::Message,
                declared_mime: None,
                bytes: fetch(text, endpoint).await,
            }
        } else {
            let (mime, bytes) = decode_base64(text);
            Returned {
                filename: "message".into(),
                transport: Transport::Message,
                declared_mime: mime,
                bytes,
            }
        };
        return Ok(Output {
            shape: Shape::LegacyMessage,
            images: vec![img],
            warnings,
        });
    }
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    Err(OutputError::Unrecognised(format!(
        "`output` has neither `images` nor `message` (keys: {})",
        keys.join(", ")
    )))
}

async fn image_item(i: usize, item: &Value, endpoint: &Endpoint) -> Returned {
    let filename = item
        .get("filename")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("image-{i}"));
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
    let data = item.get("data").and_then(Value::as_str);
    let fail = |transport, msg: String| Returned {
        filename: filename.clone(),
        transport,
        declared_mime: None,
        bytes: Err(msg),
    };
    let Some(data) = data else {
        return fail(
            Transport::Base64,
            format!("images[{i}] has no string `data`"),
        );
    };
    match kind {
        "base64" => {
            let (mime, bytes) = decode_base64(data);
            Returned { filename, transport: Transport::Base64, declared_mime: mime, bytes }
        }
        "s3_url" if is_url(data) => Returned { filename, transport: Transport::S3Url, declared_mime: None, bytes: fetch(data, endpoint).await },
        // The worker falls back to a local path when its bucket keys are missing.
        "s3_url" => fail(Transport::S3Url, format!("images[{i}] is type s3_url but `data` is not a URL ({}): the worker's BUCKET_* settings are incomplete", short_str(data))),
        other => fail(Transport::Base64, format!("images[{i}] has unknown type `{other}` (expected base64 or s3_url)")),
    }
}

async fn fetch(url: &str, endpoint: &Endpoint) -> Result<Vec<u8>, String> {
    endpoint.download(url).await.map_err(|e| e.to_string())
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Strips an optional data-URI prefix and decodes standard base64 (padding optional,
/// whitespace ignored). Returns the declared MIME type and the bytes or an error.
pub fn decode_base64(data: &str) -> (Option<String>, Result<Vec<u8>, String>) {
    let (mime, payload) = match data.strip_prefix("data:") {
        Some(rest) => match rest.split_once(',') {
            Some((meta, payload)) => {
                if !meta.ends_with(";base64") {
                    return (
                        None,
                        Err(format!("data URI `data:{meta},…` is not base64-encoded")),
                    );
                }
                (Some(meta.trim_end_matches(";base64").to_string()), payload)
            }
            None => return (None, Err("data URI has no `,` before its payload".into())),
        },
        None => (None, data),
    };
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    // Decode first; only a payload that fails is scanned for line breaks and retried
    // (one pass over megabytes saved on the common path).
    let bytes = engine.decode(payload).or_else(|first| {
        if !payload.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(first);
        }
        let cleaned: String = payload
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        engine.decode(cleaned.as_bytes())
    });
    let bytes = bytes.map_err(|e| format!("invalid base64 ({e}; {} characters)", payload.len()));
    (mime, bytes)
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {}", short_str(s)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

fn short_str(s: &str) -> String {
    let cut: String = s.chars().take(60).collect();
    let cut = crate::redact::redact(&cut).into_owned();
    if s.chars().count() > 60 {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ep() -> Endpoint {
        Endpoint::new("http://127.0.0.1:9/v2/x", None).unwrap()
    }

    fn run(v: Value) -> Result<Output, OutputError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { decode(Some(&v), &ep()).await })
    }

    #[test]
    fn current_shape_with_data_uri_and_warnings() {
        let o = run(json!({"images": [
            {"filename": "a.png", "type": "base64", "data": "aGVsbG8="},
            {"filename": "b.png", "type": "base64", "data": "data:image/png;base64,aGVsbG8"}
        ], "errors": ["S3 upload failed"]}))
        .unwrap();
        assert_eq!(o.shape, Shape::Images);
        assert_eq!(o.images[0].bytes.as_deref().unwrap(), b"hello");
        assert_eq!(o.images[1].declared_mime.as_deref(), Some("image/png"));
        assert_eq!(o.images[1].bytes.as_deref().unwrap(), b"hello");
        assert_eq!(o.warnings, vec!["S3 upload failed".to_string()]);
    }

    #[test]
    fn legacy_message_and_no_images() {
        let o = run(json!({"message": "aGVsbG8=", "status": "success"})).unwrap();
        assert_eq!(o.shape, Shape::LegacyMessage);
        assert_eq!(o.images.len(), 1);
        let o = run(json!({"status": "success_no_images", "images": []})).unwrap();
        assert_eq!(o.shape, Shape::NoImages);
        assert!(o.images.is_empty());
    }

    #[test]
    fn bad_items_are_kept_with_their_problem() {
        let o = run(json!({"images": [
            {"filename": "a.png", "type": "base64", "data": "@@@not base64"},
            {"filename": "b.png", "type": "s3_url", "data": "simulated_uploaded/abc.png"},
            {"filename": "c.png", "type": "gif", "data": "x"}
        ]}))
        .unwrap();
        assert!(o.images[0]
            .bytes
            .as_ref()
            .unwrap_err()
            .starts_with("invalid base64"));
        assert!(o.images[1]
            .bytes
            .as_ref()
            .unwrap_err()
            .contains("not a URL"));
        assert!(o.images[2]
            .bytes
            .as_ref()
            .unwrap_err()
            .contains("unknown type `gif`"));
    }

    #[test]
    fn missing_and_unrecognised_output() {
        assert!(matches!(
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(decode(None, &ep())),
            Err(OutputError::Missing)
        ));
        let e = run(json!({"foo": 1})).unwrap_err().to_string();
        assert_eq!(
            e,
            "unrecognised output shape: `output` has neither `images` nor `message` (keys: foo)"
        );
        assert!(run(json!("a string")).is_err());
    }
}
