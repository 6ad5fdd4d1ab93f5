//! What a RunPod endpoint says about itself through the REST v2 management
//! API (base `https://api.runpod.io`, or `RUNPOD_MANAGEMENT_URL`): its workers
//! (GPU type, the release each runs), its releases and how far a rolling
//! release has come, and a worker's log stream
//! (`GET /v2/serverless/{id}/workers/{workerId}/logs`, Server-Sent Events of
//! `{"source", "line", "ts"}`). Fetching never holds a verdict up for more
//! than a few seconds, and a key without the permission, a worker already
//! gone or a stream cut halfway becomes a one-line note, never a failure.
//!
//! The field names of the releases answer's rollout summary are a guess from
//! secondary sources (`inProgress`, `workersOnLatest`, `workersTotal`,
//! `percentOnLatest`); they are read leniently.

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::model::{LogLine, WorkerFacts, WorkerLogs, LOG_LINES_KEPT};

/// Bounds of one log fetch: it stops at whichever comes first.
#[derive(Clone, Copy, Debug)]
pub struct LogBounds {
    /// Wall time spent reading at most.
    pub time: Duration,
    /// Quiet time after which the history is taken to be over (the stream
    /// then only waits for new lines).
    pub idle: Duration,
    /// Bytes read at most.
    pub bytes: usize,
    /// Lines asked for as history (`tail`, RunPod's maximum is 5000).
    pub tail: usize,
}

impl Default for LogBounds {
    fn default() -> Self {
        LogBounds {
            time: Duration::from_secs(5),
            idle: Duration::from_millis(800),
            bytes: 512 * 1024,
            tail: 1000,
        }
    }
}

/// Why a management read failed.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// 401/403: the key lacks the permission.
    #[error("the API key may not read {what} ({status})")]
    Forbidden {
        /// What was asked for.
        what: &'static str,
        /// The status.
        status: u16,
    },
    /// 404: the endpoint or worker is gone (or never existed).
    #[error("{what} not found (404): the worker may be gone")]
    NotFound {
        /// What was asked for.
        what: &'static str,
    },
    /// Any other status.
    #[error("{what}: HTTP {status}")]
    Status {
        /// What was asked for.
        what: &'static str,
        /// The status.
        status: u16,
    },
    /// No answer (connection, timeout) or one that does not parse.
    #[error("{what}: {detail}")]
    Transport {
        /// What was asked for.
        what: &'static str,
        /// What happened, redacted.
        detail: String,
    },
}

/// How far a rolling release has come.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rollout {
    /// The newest release's version, when the answer names it.
    pub latest: Option<String>,
    /// A rollout is still replacing workers.
    pub in_progress: bool,
    /// Workers on the newest release, of all.
    pub on_latest: Option<(u64, u64)>,
    /// The same as a percentage.
    pub percent: Option<f64>,
}

impl Rollout {
    /// Every worker runs the newest release.
    pub fn complete(&self) -> bool {
        !self.in_progress && self.percent.is_none_or(|p| p >= 100.0)
    }
}

/// The management API of one endpoint, through the one HTTP stack every
/// RunPod call uses (`http::send`): its key registered for redaction and sent
/// as a sensitive header, answers capped in size, errors redacted.
#[derive(Clone)]
pub struct EndpointApi {
    http: crate::http::send::Http,
    base: String,
    endpoint: String,
}

/// Never the key: a `{:?}` in a log or a panic message must not leak it.
impl std::fmt::Debug for EndpointApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointApi").field("base", &self.base).field("endpoint", &self.endpoint).field("key", &"[REDACTED]").finish()
    }
}

impl EndpointApi {
    /// The endpoint `endpoint` under `base` (`https://api.runpod.io`), with `key`.
    pub fn new(base: &str, endpoint: &str, key: &str) -> Option<Self> {
        crate::redact::register_secret(key);
        let http = crate::http::send::Http::new(&crate::http::send::Auth::Bearer(key.to_string())).ok()?;
        Some(EndpointApi {
            http,
            base: base.trim_end_matches('/').to_string(),
            endpoint: endpoint.to_string(),
        })
    }

    fn url(&self, tail: &str) -> String {
        format!(
            "{}/v2/serverless/{}{tail}",
            self.base,
            crate::http::send::segment(&self.endpoint)
        )
    }

    async fn get_json(&self, what: &'static str, url: String) -> Result<Value, EvidenceError> {
        self.http
            .json(reqwest::Method::GET, &url, None, Duration::from_secs(10), what, None)
            .await
            .map_err(|e| evidence_error(what, e))
    }

    /// Every worker the endpoint lists, with what it says of each.
    pub async fn workers(&self) -> Result<Vec<(String, WorkerFacts)>, EvidenceError> {
        let v = self.get_json("the workers list", self.url("/workers")).await?;
        let list = v.get("workers").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(list
            .iter()
            .filter_map(|w| {
                let id = w.get("id")?.as_str()?.to_string();
                let text = |k: &str| {
                    w.get(k).and_then(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                };
                Some((
                    id,
                    WorkerFacts {
                        gpu_type: text("gpuTypeId").or_else(|| text("gpuType")),
                        version: text("version").or_else(|| text("releaseVersion")),
                        stale: w.get("isStale").and_then(Value::as_bool),
                    },
                ))
            })
            .collect())
    }

    /// The release history's rollout summary.
    pub async fn rollout(&self) -> Result<Rollout, EvidenceError> {
        let v = self.get_json("the releases", self.url("/releases")).await?;
        let summary = v.get("rollout").or_else(|| v.get("summary")).unwrap_or(&Value::Null);
        let num = |k: &str| summary.get(k).and_then(Value::as_f64);
        let on_latest = match (num("workersOnLatest"), num("workersTotal")) {
            (Some(a), Some(b)) => Some((a as u64, b as u64)),
            _ => None,
        };
        let percent = num("percentOnLatest").or_else(|| {
            on_latest.map(|(a, b)| if b == 0 { 100.0 } else { a as f64 * 100.0 / b as f64 })
        });
        let releases = v.get("releases").and_then(Value::as_array).or_else(|| v.as_array());
        let latest = releases
            .and_then(|r| r.first())
            .and_then(|r| r.get("version"))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
        Ok(Rollout {
            latest,
            in_progress: summary.get("inProgress").and_then(Value::as_bool).unwrap_or(false),
            on_latest,
            percent,
        })
    }

    /// The log lines `worker` printed from `since` to `until` (plus a margin),
    /// within `bounds`; what went wrong is a note on the result.
    pub async fn logs(&self, worker: &str, since: SystemTime, until: SystemTime, bounds: LogBounds) -> WorkerLogs {
        let since_s = humantime::format_rfc3339_millis(since).to_string();
        let mut out = WorkerLogs {
            worker_id: worker.to_string(),
            since: since_s.clone(),
            ..WorkerLogs::default()
        };
        let until = until + Duration::from_secs(10);
        let mut lines = Vec::new();
        let mut truncated = false;
        let note = self
            .stream(worker, &since_s, bounds, |line| {
                if humantime::parse_rfc3339_weak(&line.ts).is_ok_and(|t| t > until) {
                    return false;
                }
                lines.push(line);
                if lines.len() > LOG_LINES_KEPT {
                    lines.remove(0);
                    truncated = true;
                }
                true
            })
            .await;
        out.lines = lines;
        out.truncated = truncated || note.as_ref().is_some_and(|n| n.bytes_capped);
        out.note = note.and_then(|n| n.text);
        if out.lines.is_empty() && out.note.is_none() {
            out.note = Some("the worker printed nothing in the job's window".into());
        }
        out
    }

    /// The software stack `worker` runs, read from the lines ComfyUI printed
    /// when the worker started and first loaded a model (from the start of its
    /// log, until every field is known or the bounds are reached). The log may
    /// have lost its start (more than `tail` lines since, a guess at how
    /// RunPod's history is cut): the fields are then `unknown`, with a note.
    pub async fn stack(&self, worker: &str, bounds: LogBounds) -> crate::model::Fingerprint {
        let mut fp = crate::model::Fingerprint::default();
        let mut any = false;
        let note = self
            .stream(worker, "1970-01-01T00:00:00.000Z", bounds, |line| {
                any |= crate::comfyui::stack::read_line(&mut fp, &line.line);
                !crate::comfyui::stack::complete(&fp)
            })
            .await;
        if let Some(text) = note.and_then(|n| n.text) {
            fp.notes.push(format!("the worker's stack is not known: {text}"));
        } else if !any {
            fp.notes.push(format!(
                "worker {worker}'s log holds none of ComfyUI's start-up lines (pytorch version, Device, ComfyUI version): the stack is unknown"
            ));
        }
        fp
    }

    /// Reads `worker`'s log stream from `since`, line by line, until `each`
    /// says stop or `bounds` are reached; what went wrong is the note.
    async fn stream(
        &self,
        worker: &str,
        since: &str,
        bounds: LogBounds,
        mut each: impl FnMut(LogLine) -> bool,
    ) -> Option<StreamNote> {
        let url = format!(
            "{}?since={}&tail={}",
            self.url(&format!("/workers/{}/logs", crate::http::send::segment(worker))),
            percent_encoding::utf8_percent_encode(since, percent_encoding::NON_ALPHANUMERIC),
            bounds.tail
        );
        let started = Instant::now();
        let resp = match self.http.stream(&url, "text/event-stream", bounds.time, "the worker's log stream").await {
            Ok(r) => r,
            Err(e) => {
                let e = evidence_error("the worker's log stream", e);
                return Some(StreamNote::text(format!("worker logs not read: {e}")));
            }
        };
        let mut reader = SseReader::default();
        let mut resp = resp;
        let mut read = 0usize;
        let mut seen = 0usize;
        loop {
            let left = bounds.time.saturating_sub(started.elapsed());
            if left.is_zero() {
                return None;
            }
            match tokio::time::timeout(bounds.idle.min(left), resp.chunk()).await {
                // Quiet: the history is over; what follows would be live lines.
                Err(_) | Ok(Ok(None)) => return None,
                Ok(Err(e)) => {
                    return Some(StreamNote::text(format!(
                        "the log stream was cut after {seen} lines: {}",
                        transport("the log stream", e)
                    )))
                }
                Ok(Ok(Some(chunk))) => {
                    read += chunk.len();
                    for line in reader.feed(&chunk) {
                        seen += 1;
                        if !each(line) {
                            return None;
                        }
                    }
                    if read >= bounds.bytes {
                        return Some(StreamNote { text: None, bytes_capped: true });
                    }
                }
            }
        }
    }
}

/// What ended a log stream early.
struct StreamNote {
    /// Said to people (a refusal, a cut stream).
    text: Option<String>,
    /// The byte bound was reached: older or later lines were left out.
    bytes_capped: bool,
}

impl StreamNote {
    fn text(text: String) -> Self {
        StreamNote { text: Some(text), bytes_capped: false }
    }
}

/// The shared stack's error as what a management read says of it.
fn evidence_error(what: &'static str, e: crate::http::EndpointError) -> EvidenceError {
    use crate::http::ErrorKind;
    match e.kind {
        ErrorKind::Unauthorized => EvidenceError::Forbidden { what, status: 403 },
        ErrorKind::NotFound(_) => EvidenceError::NotFound { what },
        ErrorKind::RateLimited(_) => EvidenceError::Status { what, status: 429 },
        ErrorKind::Status { status, .. } => EvidenceError::Status { what, status },
        ErrorKind::Timeout(d) => EvidenceError::Transport { what, detail: format!("no answer within {}", humantime::format_duration(d)) },
        other => EvidenceError::Transport { what, detail: crate::redact::redact(&other.to_string()).into_owned() },
    }
}

fn transport(what: &'static str, e: reqwest::Error) -> EvidenceError {
    EvidenceError::Transport {
        what,
        detail: crate::redact::redact(&crate::http::send::transport(e).to_string()).into_owned(),
    }
}

/// Server-Sent Events, fed chunk by chunk: each complete event's `data` read
/// as a log line (redacted); comments, keep-alives and other events skipped.
#[derive(Default)]
struct SseReader {
    pending: String,
}

impl SseReader {
    fn feed(&mut self, chunk: &[u8]) -> Vec<LogLine> {
        self.pending.push_str(&String::from_utf8_lossy(chunk));
        let normalised = self.pending.replace("\r\n", "\n");
        let mut events: Vec<&str> = normalised.split("\n\n").collect();
        let rest = events.pop().unwrap_or_default().to_string();
        let lines = events.iter().filter_map(|e| event_line(e)).collect();
        self.pending = rest;
        lines
    }
}

fn event_line(event: &str) -> Option<LogLine> {
    let data: Vec<&str> = event
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| d.strip_prefix(' ').unwrap_or(d))
        .collect();
    if data.is_empty() {
        return None;
    }
    let v: Value = serde_json::from_str(&data.join("\n")).ok()?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
    Some(LogLine {
        ts: text("ts").to_string(),
        source: text("source").to_string(),
        line: crate::redact::redact(text("line")).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_are_read_whole() {
        let mut r = SseReader::default();
        let a = r.feed(b": keep-alive\n\nid: 1\ndata: {\"source\":\"container\",\"line\":\"one\",\"ts\":\"2026-12-07T04:00:00.000Z\"}\n\nid: 2\nda");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].line, "one");
        let b = r.feed(b"ta: {\"source\":\"system\",\"line\":\"two\",\"ts\":\"2026-12-07T04:00:01.000Z\"}\r\n\r\n");
        assert_eq!((b[0].source.as_str(), b[0].line.as_str()), ("system", "two"));
        assert!(r.feed(b"event: ping\n\n").is_empty());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let api = EndpointApi::new("https://api.runpod.io", "abc", "rpa_DEBUGKEY_0123456789").unwrap();
        let shown = format!("{api:?}");
        assert!(!shown.contains("DEBUGKEY") && shown.contains("[REDACTED]"), "{shown}");
    }

    #[test]
    fn a_rollout_is_complete_when_nothing_is_left_to_replace() {
        let r = Rollout { in_progress: true, percent: Some(60.0), ..Rollout::default() };
        assert!(!r.complete());
        assert!(Rollout { percent: Some(100.0), ..Rollout::default() }.complete());
        assert!(Rollout::default().complete());
    }
}
