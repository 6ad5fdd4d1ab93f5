//! One file as an endpoint returned it, before anything is read from it: its
//! name, how it came (base64, a presigned URL, the legacy message), the MIME
//! type a data URI declared, and its bytes or why they could not be had. The
//! RunPod and ComfyUI clients make these; [`super::inspect`] and
//! [`super::video`] read them.

/// How a file was delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `type: base64`.
    Base64,
    /// `type: s3_url`, downloaded.
    S3Url,
    /// The pre-5.0 `message`.
    Message,
}

/// Why one returned file's bytes could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ItemProblem {
    /// The item is not `{filename, type, data}`.
    #[error("{list}[{index}] is not an output item ({detail})")]
    Shape {
        /// `images` or `videos`.
        list: &'static str,
        /// Position in the list.
        index: usize,
        /// What serde said.
        detail: String,
    },
    /// `data` is not base64.
    #[error("invalid base64 ({detail}; {chars} characters)")]
    Base64 {
        /// What the decoder said.
        detail: String,
        /// Length of the payload.
        chars: usize,
    },
    /// A `data:` URI that is not base64 or has no payload.
    #[error("data URI {0}")]
    DataUri(String),
    /// An `s3_url` item whose `data` is not a URL (the worker's bucket settings are incomplete).
    #[error("{list}[{index}] is type s3_url but `data` is not a URL ({shown}): the worker's BUCKET_* settings are incomplete")]
    NotAUrl {
        /// `images` or `videos`.
        list: &'static str,
        /// Position in the list.
        index: usize,
        /// The start of `data`, redacted.
        shown: String,
    },
    /// The download failed.
    #[error("{0}")]
    Download(String),
    /// Not fetched or kept: past the item or byte cap of one job, or past
    /// what `expect` allows (the count fails without it).
    #[error("not fetched: {0}")]
    NotFetched(String),
}

/// One file as the worker returned it.
#[derive(Clone, Debug)]
pub struct Returned {
    /// The worker's file name.
    pub filename: String,
    /// How it came.
    pub transport: Transport,
    /// The MIME type a data URI declared (`data:image/png;base64,`), if any.
    pub declared_mime: Option<String>,
    /// The bytes, or why they could not be obtained.
    pub bytes: Result<Vec<u8>, ItemProblem>,
}

