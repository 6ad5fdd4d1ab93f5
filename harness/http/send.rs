//! HTTP plumbing shared by every client: one pooled reqwest client carrying the
//! key (a sensitive header, redacted everywhere), one without any credentials
//! for presigned downloads, capped body reads, status codes mapped to
//! [`ErrorKind`], `Retry-After`, and path segments escaped so an id from an
//! answer can never change the route.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::error::{ClientError, EndpointError, ErrorKind, MAX_BODY};
use crate::redact::redact;

/// How a client authenticates.
#[derive(Clone, Debug)]
pub(crate) enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer <key>`; the key is registered for redaction.
    Bearer(String),
    /// `Authorization: Basic base64(user:password)` (a pod proxy); both the
    /// pair and its encoding are registered for redaction.
    Basic(String),
}

impl Auth {
    /// The `Authorization` header value, marked sensitive; registers the secret.
    pub(crate) fn header(&self) -> Result<Option<HeaderValue>, ClientError> {
        let value = match self {
            Auth::None => return Ok(None),
            Auth::Bearer(key) => {
                crate::redact::register_secret(key);
                format!("Bearer {key}")
            }
            Auth::Basic(pair) => {
                use base64::Engine;
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                crate::redact::register_secret(pair);
                crate::redact::register_secret(&encoded);
                // The password alone is as secret as the pair.
                if let Some((_, password)) = pair.split_once(':') {
                    crate::redact::register_secret(password);
                }
                format!("Basic {encoded}")
            }
        };
        let mut h = HeaderValue::from_str(&value).map_err(|_| ClientError::BadKey)?;
        h.set_sensitive(true);
        Ok(Some(h))
    }
}

/// A pooled HTTP client for one API base, and a credential-free one for downloads.
#[derive(Clone)]
pub(crate) struct Http {
    authed: reqwest::Client,
    /// Built on the first download: most runs never download (base64 outputs),
    /// and a client's TLS set-up is a visible part of a one-trial process.
    plain: Arc<OnceLock<reqwest::Client>>,
}

impl Http {
    pub(crate) fn new(auth: &Auth) -> Result<Self, ClientError> {
        let mut headers = HeaderMap::new();
        if let Some(h) = auth.header()? {
            headers.insert(AUTHORIZATION, h);
        }
        Ok(Http {
            authed: build(headers)?,
            plain: Arc::new(OnceLock::new()),
        })
    }

    /// Sends a request and reads a JSON answer; `op` and `job` name it in errors.
    pub(crate) async fn json(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
        op: &str,
        job: Option<&str>,
    ) -> Result<Value, EndpointError> {
        let bytes = self.bytes(method, url, body, timeout, op, job).await?;
        // The snippet of a bad answer needs its bytes after the parse has taken them.
        let head = bytes[..bytes.len().min(1024)].to_vec();
        crate::http::body::parse(bytes).map_err(|e| EndpointError {
            op: op.to_string(),
            job: job.map(str::to_string),
            kind: ErrorKind::Malformed(format!("not JSON ({e}): {}", snippet(&head))),
        })
    }

    /// Sends a request and reads the body of a 2xx answer.
    pub(crate) async fn bytes(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
        op: &str,
        job: Option<&str>,
    ) -> Result<Vec<u8>, EndpointError> {
        let body = body.map_or(RawBody::None, RawBody::Json);
        let (status, retry_after, bytes) = self.send(method, url, body, timeout, op, job).await?;
        check_status(status, retry_after, &bytes).map_err(|kind| EndpointError {
            op: op.to_string(),
            job: job.map(str::to_string),
            kind,
        })?;
        Ok(bytes)
    }

    /// Sends a request (a JSON or multipart body) and returns the status and
    /// the capped body whatever the status, for APIs whose error bodies carry
    /// the answer (ComfyUI's `/prompt` 400); only transport failures are errors.
    pub(crate) async fn raw(
        &self,
        method: Method,
        url: &str,
        body: RawBody,
        timeout: Duration,
        op: &str,
        job: Option<&str>,
    ) -> Result<(StatusCode, Vec<u8>), EndpointError> {
        let (status, _, bytes) = self.send(method, url, body, timeout, op, job).await?;
        Ok((status, bytes))
    }

    /// One request, whatever its status: the status, `Retry-After` and the
    /// capped body (the management API reads its own problem bodies).
    pub(crate) async fn exchange(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
        op: &str,
    ) -> Result<(StatusCode, Option<Duration>, Vec<u8>), EndpointError> {
        self.send(method, url, body.map_or(RawBody::None, RawBody::Json), timeout, op, None).await
    }

    /// One request: status, `Retry-After` and the capped body.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: RawBody,
        timeout: Duration,
        op: &str,
        job: Option<&str>,
    ) -> Result<(StatusCode, Option<Duration>, Vec<u8>), EndpointError> {
        let err = |kind| EndpointError {
            op: op.to_string(),
            job: job.map(str::to_string),
            kind,
        };
        let mut req = self.authed.request(method, url).timeout(timeout);
        // A load run on a virtual clock tells the mock its instant.
        if let Some(at) = crate::clock::sim_header() {
            req = req.header(crate::clock::SIM_HEADER, at);
        }
        let req = match body {
            RawBody::None => req,
            RawBody::Json(b) => req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b),
            RawBody::Multipart(form) => req.multipart(form),
        };
        let resp = req.send().await.map_err(|e| {
            err(if e.is_timeout() {
                ErrorKind::Timeout(timeout)
            } else {
                transport(e)
            })
        })?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = read_capped(resp).await.map_err(err)?;
        Ok((status, retry_after, bytes))
    }

    /// Opens a streamed GET (a log stream): the answer once its status is
    /// 2xx, for the caller to read chunk by chunk within its own bounds.
    pub(crate) async fn stream(&self, url: &str, accept: &str, timeout: Duration, op: &str) -> Result<reqwest::Response, EndpointError> {
        let err = |kind| EndpointError { op: op.to_string(), job: None, kind };
        let resp = tokio::time::timeout(timeout, self.authed.get(url).header(reqwest::header::ACCEPT, accept).send())
            .await
            .map_err(|_| err(ErrorKind::Timeout(timeout)))?
            .map_err(|e| err(transport(e)))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        let body = read_capped(resp).await.unwrap_or_default();
        Err(err(check_status(status, retry_after, &body).err().unwrap_or(ErrorKind::Status { status: status.as_u16(), body: String::new() })))
    }

    /// Downloads a URL without any credentials (presigned URLs carry their own).
    pub(crate) async fn download(&self, url: &str) -> Result<Vec<u8>, EndpointError> {
        let op = format!("GET {}", crate::redact::url_for_display(url));
        let err = |kind| EndpointError {
            op: op.clone(),
            job: None,
            kind,
        };
        let plain = match self.plain.get() {
            Some(c) => c,
            None => {
                let c = build(HeaderMap::new())
                    .map_err(|e| err(ErrorKind::Transport(e.to_string())))?;
                self.plain.get_or_init(|| c)
            }
        };
        let resp = plain
            .get(url)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .map_err(|e| err(transport(e)))?;
        let status = resp.status();
        let body = read_capped(resp).await.map_err(err)?;
        if !status.is_success() {
            return Err(err(ErrorKind::Status {
                status: status.as_u16(),
                body: snippet(&body),
            }));
        }
        Ok(body)
    }
}

/// The body of a [`Http::raw`] request.
pub(crate) enum RawBody {
    None,
    Json(Vec<u8>),
    Multipart(reqwest::multipart::Form),
}

/// The error a non-2xx status maps to (for [`Http::raw`] callers).
pub(crate) fn status_error(status: StatusCode, body: &[u8]) -> Option<ErrorKind> {
    check_status(status, None, body).err()
}

fn build(headers: HeaderMap) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .default_headers(headers)
        .user_agent(concat!("endpoint-harness/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(64)
        .build()
        .map_err(|e| ClientError::Build(e.to_string()))
}

/// Maps a non-2xx status to its kind.
fn check_status(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<(), ErrorKind> {
    match status {
        s if s.is_success() => Ok(()),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(ErrorKind::Unauthorized),
        StatusCode::NOT_FOUND => {
            let b = snippet(body);
            Err(ErrorKind::NotFound(if b.is_empty() {
                String::new()
            } else {
                format!(": {b}")
            }))
        }
        StatusCode::TOO_MANY_REQUESTS => Err(ErrorKind::RateLimited(retry_after)),
        s => Err(ErrorKind::Status {
            status: s.as_u16(),
            body: snippet(body),
        }),
    }
}

pub(crate) fn transport(e: reqwest::Error) -> ErrorKind {
    // reqwest's Display includes the URL; keep the cause chain, redacted.
    let mut causes = String::new();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        causes.push_str(": ");
        causes.push_str(&s.to_string());
        src = s.source();
    }
    let msg = format!("{}{causes}", e.without_url());
    ErrorKind::Transport(redact(&msg).into_owned())
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, ErrorKind> {
    if resp.content_length().is_some_and(|n| n as usize > MAX_BODY) {
        return Err(ErrorKind::BodyTooLarge);
    }
    let mut out = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(ErrorKind::BodyTooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// `Retry-After` in seconds; an HTTP date is rare for APIs and treated as "unspecified".
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

/// The first 300 characters of a body, redacted, on one line.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let one = crate::text::one_line(&text);
    // Redacted first, cut after: a cut through a secret would leave its start.
    crate::text::truncate(redact(one.trim()).as_ref(), 300)
}

/// An id escaped for use as one path segment: `/`, `?`, `#`, `%` and anything
/// outside unreserved characters are percent-encoded.
pub(crate) fn segment(id: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(id, KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn ids_cannot_change_the_route() {
        assert_eq!(segment("abc-123-u1"), "abc-123-u1");
        assert_eq!(segment("../cancel/x?y#z"), "..%2Fcancel%2Fx%3Fy%23z");
        assert_eq!(segment("狐"), "%E7%8B%90");
    }

    #[test]
    fn a_key_at_any_offset_never_survives_the_cut() {
        crate::redact::register_secret("rpa_SNIPPETKEY_0123456789");
        for at in [0, 1, 250, 290, 295, 299, 300, 301, 2000] {
            let text = format!("{}rpa_SNIPPETKEY_0123456789 tail", "x".repeat(at));
            let shown = snippet(text.as_bytes());
            assert!(!shown.contains("rpa_SNIP") && !shown.contains("SNIPPETKEY"), "at {at}: {shown}");
        }
    }

    #[test]
    fn snippets_are_short_single_lines() {
        let long = "狐\n".repeat(400);
        let s = snippet(long.as_bytes());
        assert!(!s.contains('\n'));
        assert!(s.chars().count() <= 301);
    }
}
