//! worker-comfyui output shapes -> returned file bytes.
//!
//! Knows every shape a client meets: `output.images[]` items of `type: base64`
//! (raw or data URI) or `type: s3_url` (downloaded), `output.videos[]` read the
//! same way (worker-comfyui issue #232), the pre-5.0 `output.message`
//! (base64, data URI or URL), `output.errors[]` warnings, and
//! `{status: success_no_images, images: []}`. Items are read through the same
//! [`OutputItem`] the mock writes. A problem with one file is kept with that
//! file, so the checks can report every problem at once.

use serde::Deserialize;
use serde_json::Value;

use crate::http::EndpointError;
pub use crate::model::OutputShape as Shape;
use crate::media::{ItemProblem, Returned, Transport};
use crate::runpod::wire::{ItemType, OutputItem, SUCCESS_NO_IMAGES};

impl From<EndpointError> for ItemProblem {
    fn from(e: EndpointError) -> Self {
        ItemProblem::Download(e.to_string())
    }
}

/// The decoded `output`.
#[derive(Clone, Debug)]
pub struct Output {
    /// Which shape the worker used.
    pub shape: Shape,
    /// Every returned file, in order.
    pub images: Vec<Returned>,
    /// `output.errors[]`: non-fatal problems the worker reported.
    pub warnings: Vec<String>,
}

/// Why `output` could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// COMPLETED without `output`.
    #[error("the job is COMPLETED but has no `output`: the worker could not upload its result (RunPod limits results to about 20 MB: return large images via S3 `BUCKET_ENDPOINT_URL`; the worker log shows \"Failed to return job results\")")]
    Missing,
    /// An `output` of no shape the worker writes.
    #[error("unrecognised output shape: {0}")]
    Unrecognised(String),
}

/// What fetches the files an answer points to (`s3_url`, a legacy URL): the
/// target the job ran on, never with its credentials.
pub trait Download: Send + Sync {
    /// Downloads `url`.
    fn download<'a>(&'a self, url: &'a str) -> futures_util::future::BoxFuture<'a, Result<Vec<u8>, EndpointError>>;
}

/// How much of one job's output is fetched and kept: a hostile or broken
/// endpoint (hundreds of large presigned URLs) must not exhaust memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Items fetched at most (`HARNESS_MAX_OUTPUT_ITEMS`).
    pub items: usize,
    /// Bytes fetched at most, all items together (`HARNESS_MAX_OUTPUT_BYTES`).
    pub bytes: u64,
    /// Items the scenario can accept at most (`expect` counts): one more is
    /// fetched to show what came, the rest are counted, not fetched.
    pub expected: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { items: DEFAULT_MAX_ITEMS, bytes: DEFAULT_MAX_BYTES, expected: None }
    }
}

/// Items of one job fetched at most, by default.
pub const DEFAULT_MAX_ITEMS: usize = crate::settings::DEFAULT_MAX_OUTPUT_ITEMS;
/// Bytes of one job fetched at most, by default (512 MiB).
pub const DEFAULT_MAX_BYTES: u64 = crate::settings::DEFAULT_MAX_OUTPUT_BYTES;

/// Reads `output` from a COMPLETED job; URLs are fetched through `target`.
/// Takes the value so each base64 text becomes its file's bytes in place.
pub async fn decode(output: Option<Value>, target: &dyn Download) -> Result<Output, OutputError> {
    decode_within(output, target, &Limits::default()).await
}

/// [`decode`] within `limits`, every file collected (a recording keeps them
/// all); a check reads them one at a time with [`Stream`] instead.
pub async fn decode_within(output: Option<Value>, target: &dyn Download, limits: &Limits) -> Result<Output, OutputError> {
    let mut stream = Stream::open(output, target, limits).await?;
    let mut images = Vec::new();
    while let Some(r) = stream.next(target).await {
        images.push(r);
    }
    Ok(Output {
        shape: stream.shape(),
        images,
        warnings: stream.warnings,
    })
}

/// One job's `output`, its files fetched one at a time: the caller inspects
/// and drops each before the next is fetched, so a job of hundreds of large
/// files needs the memory of one. Items past the item cap, the byte cap or
/// what `expect` allows are counted but neither fetched nor kept (their
/// base64 is dropped at once), each marked [`ItemProblem::NotFetched`].
pub struct Stream {
    /// `output.errors[]`: non-fatal problems the worker reported.
    pub warnings: Vec<String>,
    shape: Shape,
    /// The lists still to read, in order (`images` before `videos`).
    lists: std::collections::VecDeque<(&'static str, std::iter::Enumerate<std::vec::IntoIter<Value>>)>,
    /// The pre-5.0 `message`'s file, read when the stream opened.
    legacy: Option<Returned>,
    limits: Limits,
    fetch_at_most: usize,
    /// Items given so far.
    given: usize,
    /// Bytes fetched or decoded so far, all items together.
    fetched: u64,
}

impl Stream {
    /// Reads the shape of `output` (every list is checked to be a list before
    /// any file is read); the pre-5.0 `message` is read at once.
    pub async fn open(output: Option<Value>, target: &dyn Download, limits: &Limits) -> Result<Stream, OutputError> {
        let mut obj = match output {
            None | Some(Value::Null) => return Err(OutputError::Missing),
            Some(Value::Object(o)) => o,
            Some(other) => {
                return Err(OutputError::Unrecognised(format!(
                    "`output` is {} rather than an object",
                    short(&other)
                )))
            }
        };
        let warnings = warnings(obj.get("errors"));
        if let Some(p) = crate::runpod::wire::JobProgress::from_map(&obj) {
            return Err(OutputError::Unrecognised(format!(
                "`output` is a progress update ({p}), not a result: the worker reported the job finished while its output still held progress"
            )));
        }
        let mut stream = Stream {
            warnings,
            shape: Shape::Images,
            lists: Default::default(),
            legacy: None,
            limits: *limits,
            fetch_at_most: limits.expected.map_or(limits.items, |e| e.saturating_add(1).min(limits.items)),
            given: 0,
            fetched: 0,
        };
        let mut any_list = false;
        for list in ["images", "videos"] {
            let Some(items) = obj.get_mut(list).map(Value::take) else { continue };
            any_list = true;
            match items {
                Value::Array(items) => stream.lists.push_back((list, items.into_iter().enumerate())),
                // A worker that has no videos may write `videos: null`.
                Value::Null if list == "videos" => {}
                other => {
                    return Err(OutputError::Unrecognised(format!(
                        "`output.{list}` is {} rather than a list",
                        short(&other)
                    )))
                }
            }
        }
        if any_list {
            let no_images = obj.get("status").and_then(Value::as_str) == Some(SUCCESS_NO_IMAGES);
            if no_images && stream.lists.iter().all(|(_, items)| items.len() == 0) {
                stream.shape = Shape::NoImages;
            }
            return Ok(stream);
        }
        if let Some(message) = obj.get_mut("message").map(Value::take) {
            stream.legacy = Some(legacy(&obj, message, target).await?);
            stream.shape = Shape::LegacyMessage;
            return Ok(stream);
        }
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        Err(OutputError::Unrecognised(format!(
            "`output` has neither `images`, `videos` nor `message` (keys: {})",
            keys.join(", ")
        )))
    }

    /// Which shape the worker used.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The next file, fetched now; None after the last.
    pub async fn next(&mut self, target: &dyn Download) -> Option<Returned> {
        if let Some(r) = self.legacy.take() {
            self.given += 1;
            return Some(r);
        }
        let (list, i, item) = loop {
            let (list, items) = self.lists.front_mut()?;
            match items.next() {
                Some((i, item)) => break (*list, i, item),
                None => {
                    self.lists.pop_front();
                }
            }
        };
        let filename = item.get("filename").and_then(Value::as_str).map_or_else(|| format!("image-{i}"), str::to_string);
        let limits = &self.limits;
        let why = if self.given >= self.fetch_at_most {
            Some(if self.fetch_at_most < limits.items {
                format!("past the {} item(s) `expect` allows", limits.expected.unwrap_or(0))
            } else {
                format!("past the cap of {} items a job (HARNESS_MAX_OUTPUT_ITEMS)", limits.items)
            })
        } else if self.fetched >= limits.bytes {
            Some(format!("past the cap of {} bytes a job (HARNESS_MAX_OUTPUT_BYTES)", limits.bytes))
        } else {
            None
        };
        self.given += 1;
        if let Some(why) = why {
            drop(item);
            return Some(Returned { filename, transport: Transport::Base64, declared_mime: None, bytes: Err(ItemProblem::NotFetched(why)) });
        }
        let mut r = image_item(list, i, item, target).await;
        if let Ok(b) = &r.bytes {
            self.fetched = self.fetched.saturating_add(b.len() as u64);
            if self.fetched > limits.bytes {
                r.bytes = Err(ItemProblem::NotFetched(format!(
                    "{} bytes take the job past the cap of {} bytes (HARNESS_MAX_OUTPUT_BYTES)",
                    b.len(),
                    limits.bytes
                )));
            }
        }
        Some(r)
    }
}

fn warnings(errors: Option<&Value>) -> Vec<String> {
    match errors {
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
    }
}

/// The pre-5.0 shape: `{message: <base64 | data URI | URL>, status: success}`.
async fn legacy(obj: &serde_json::Map<String, Value>, message: Value, target: &dyn Download) -> Result<Returned, OutputError> {
    let Value::String(text) = message else {
        return Err(OutputError::Unrecognised(format!(
            "`output.message` is {}",
            short(&message)
        )));
    };
    // Pre-5.0 workers answered `status: success`, or `error` with the reason in `message`.
    if obj.get("status").and_then(Value::as_str) == Some("error") {
        return Err(OutputError::Unrecognised(format!(
            "legacy worker reported an error: {}",
            crate::redact::redact(&text)
        )));
    }
    let (declared_mime, bytes) = if is_url(&text) {
        (None, fetch(&text, target).await)
    } else {
        decode_base64_owned(text)
    };
    Ok(Returned {
        filename: "message".into(),
        transport: Transport::Message,
        declared_mime,
        bytes,
    })
}

async fn image_item(list: &'static str, i: usize, mut item: Value, target: &dyn Download) -> Returned {
    // The file name labels every problem, so it is read leniently first.
    let filename = item
        .get("filename")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("image-{i}"));
    let fail = |transport, p: ItemProblem| Returned {
        filename: filename.clone(),
        transport,
        declared_mime: None,
        bytes: Err(p),
    };
    let parsed = match OutputItem::<&str>::deserialize(&item) {
        Ok(p) => (p.kind, is_url(p.data)),
        Err(e) => {
            let detail = e.to_string();
            return fail(Transport::Base64, ItemProblem::Shape { list, index: i, detail });
        }
    };
    // `data` is a string: the item read as an OutputItem.
    let data = match item.get_mut("data").map(Value::take) {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    match parsed {
        (ItemType::Base64, _) => {
            let (declared_mime, bytes) = decode_base64_owned(data);
            Returned {
                filename,
                transport: Transport::Base64,
                declared_mime,
                bytes,
            }
        }
        (ItemType::S3Url, true) => Returned {
            filename,
            transport: Transport::S3Url,
            declared_mime: None,
            bytes: fetch(&data, target).await,
        },
        // The worker falls back to a local path when its bucket keys are missing.
        (ItemType::S3Url, false) => fail(
            Transport::S3Url,
            ItemProblem::NotAUrl {
                list,
                index: i,
                shown: short_str(&data),
            },
        ),
    }
}

async fn fetch(url: &str, target: &dyn Download) -> Result<Vec<u8>, ItemProblem> {
    target.download(url).await.map_err(ItemProblem::from)
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Strips an optional data-URI prefix and decodes standard base64 (padding optional,
/// whitespace ignored). Returns the declared MIME type and the bytes or the problem.
pub fn decode_base64(data: &str) -> (Option<String>, Result<Vec<u8>, ItemProblem>) {
    decode_base64_owned(data.to_owned())
}

/// [`decode_base64`] of a text the caller gives up: the bytes are decoded into
/// the text's own buffer (a returned image needs no second buffer its size).
pub fn decode_base64_owned(data: String) -> (Option<String>, Result<Vec<u8>, ItemProblem>) {
    let (mime, start) = match data.strip_prefix("data:") {
        Some(rest) => match rest.split_once(',') {
            Some((meta, payload)) => {
                let Some(mime) = meta.strip_suffix(";base64") else {
                    let shown = crate::text::truncate(meta, 40);
                    return (
                        None,
                        Err(ItemProblem::DataUri(format!(
                            "`data:{shown},…` is not base64-encoded"
                        ))),
                    );
                };
                (Some(mime.to_string()), data.len() - payload.len())
            }
            None => {
                return (
                    None,
                    Err(ItemProblem::DataUri("has no `,` before its payload".into())),
                )
            }
        },
        None => (None, 0),
    };
    let chars = data.len() - start;
    let mut buf = data.into_bytes();
    let bytes = match crate::media::base64::decode_in_place(&mut buf, start) {
        Ok(()) => {
            // Gives back the text's tail (a quarter of it) without moving the bytes.
            buf.shrink_to_fit();
            Ok(buf)
        }
        Err(e) => Err(ItemProblem::Base64 {
            detail: e.to_string(),
            chars,
        }),
    };
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
    // Redacted first, cut after: a cut through a secret would leave its start.
    format!("{:?}", crate::text::truncate(&crate::redact::redact(s), 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::json;

    /// Downloads through the RunPod client, to a port nothing listens on.
    struct Nowhere(crate::runpod::Client);

    impl Download for Nowhere {
        fn download<'a>(&'a self, url: &'a str) -> futures_util::future::BoxFuture<'a, Result<Vec<u8>, EndpointError>> {
            Box::pin(self.0.download(url))
        }
    }

    fn target() -> Nowhere {
        Nowhere(crate::runpod::Client::new("http://127.0.0.1:9/v2/x", None).unwrap())
    }

    /// Serves every URL as `size` bytes and counts the downloads.
    struct Counting {
        size: usize,
        n: std::sync::atomic::AtomicUsize,
    }

    impl Download for Counting {
        fn download<'a>(&'a self, _url: &'a str) -> futures_util::future::BoxFuture<'a, Result<Vec<u8>, EndpointError>> {
            self.n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Box::pin(async move { Ok(vec![0u8; self.size]) })
        }
    }

    /// 120 presigned URLs of 1 MB each: at most the item cap is fetched, only
    /// one past what `expect` allows, and the byte cap stops the rest; every
    /// item is still counted.
    #[test]
    fn hundreds_of_urls_are_fetched_only_within_the_caps() {
        let items: Vec<Value> = (0..120).map(|i| json!({"filename": format!("{i}.png"), "type": "s3_url", "data": format!("https://b.s3/{i}.png?X-Amz-Signature=s")})).collect();
        let out = json!({"images": items, "status": "success"});
        let go = |limits: Limits| {
            let t = Counting { size: 1 << 20, n: Default::default() };
            let o = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(decode_within(Some(out.clone()), &t, &limits)).unwrap();
            let kept: usize = o.images.iter().filter_map(|r| r.bytes.as_ref().ok()).map(Vec::len).sum();
            (o.images.len(), t.n.into_inner(), kept)
        };
        assert_eq!(go(Limits::default()), (120, 64, 64 << 20));
        assert_eq!(go(Limits { expected: Some(1), ..Limits::default() }), (120, 2, 2 << 20));
        let (n, fetched, kept) = go(Limits { bytes: 5 << 20, ..Limits::default() });
        assert_eq!((n, fetched), (120, 5), "full after five: the rest are not fetched");
        assert_eq!(kept, 5 << 20);
    }

    /// A stream fetches each file only when asked for it, so its caller holds
    /// one file at a time; the shape and warnings are known before any fetch.
    #[test]
    fn a_stream_fetches_each_file_only_when_asked() {
        let items: Vec<Value> = (0..3).map(|i| json!({"filename": format!("{i}.png"), "type": "s3_url", "data": format!("https://b.s3/{i}.png")})).collect();
        let t = Counting { size: 10, n: Default::default() };
        let fetched = || t.n.load(std::sync::atomic::Ordering::Relaxed);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let limits = Limits { bytes: 25, ..Limits::default() };
            let mut s = Stream::open(Some(json!({"images": items, "errors": ["w"]})), &t, &limits).await.unwrap();
            assert_eq!((fetched(), s.shape(), s.warnings.clone()), (0, Shape::Images, vec!["w".to_string()]));
            assert_eq!(s.next(&t).await.unwrap().bytes.unwrap().len(), 10);
            assert_eq!(fetched(), 1);
            assert!(s.next(&t).await.unwrap().bytes.is_ok());
            let third = s.next(&t).await.unwrap();
            assert!(matches!(third.bytes, Err(ItemProblem::NotFetched(_))), "30 bytes pass the cap of 25");
            assert!(s.next(&t).await.is_none());
            assert_eq!(fetched(), 3);
        });
    }

    fn run(v: Value) -> Result<Output, OutputError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { decode(Some(v), &target()).await })
    }

    #[test]
    fn videos_are_read_after_images_and_name_their_list() {
        let png = base64::engine::general_purpose::STANDARD.encode(crate::png::declaring(4, 4));
        let o = run(json!({
            "images": [{"filename": "a.png", "type": "base64", "data": png}],
            "videos": [{"filename": "b.mp4", "type": "base64", "data": "AAAA"}, {"filename": "c.mp4"}],
        }))
        .unwrap();
        let names: Vec<&str> = o.images.iter().map(|r| r.filename.as_str()).collect();
        assert_eq!(names, ["a.png", "b.mp4", "c.mp4"]);
        let e = o.images[2].bytes.as_ref().unwrap_err().to_string();
        assert!(e.starts_with("videos[1] is not an output item"), "{e}");
        // `videos: null` is no videos; a video list alone is read too.
        assert_eq!(run(json!({"images": [], "videos": null})).unwrap().images.len(), 0);
        assert_eq!(run(json!({"videos": [{"filename": "b.mp4", "type": "base64", "data": "AAAA"}]})).unwrap().images.len(), 1);
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
            {"filename": "c.png", "type": "gif", "data": "x"},
            {"filename": "狐.png", "type": "base64"}
        ]}))
        .unwrap();
        let problem = |i: usize| o.images[i].bytes.as_ref().unwrap_err().to_string();
        assert!(problem(0).starts_with("invalid base64"), "{}", problem(0));
        assert!(problem(1).contains("not a URL"), "{}", problem(1));
        assert!(problem(2).contains("unknown variant `gif`"), "{}", problem(2));
        assert!(problem(3).contains("missing field `data`"), "{}", problem(3));
        assert_eq!(o.images[3].filename, "狐.png");
    }

    #[test]
    fn missing_and_unrecognised_output() {
        assert!(matches!(
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(decode(None, &target())),
            Err(OutputError::Missing)
        ));
        let e = run(json!({"foo": 1})).unwrap_err().to_string();
        assert_eq!(
            e,
            "unrecognised output shape: `output` has neither `images`, `videos` nor `message` (keys: foo)"
        );
        assert!(run(json!("a string")).is_err());
        // A progress update is never read as a result.
        let e = run(json!({"type": "progress", "value": 12, "max": 25, "percent": 48.0, "node": "3"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a progress update (48% (12/25, node 3)), not a result"), "{e}");
    }
}
