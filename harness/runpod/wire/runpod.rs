//! RunPod serverless API v2, as both sides speak it: job states with their
//! wire names, the status answer, the submission body, `/health`, and the
//! documented limits and retention. The client parses these, the mock writes
//! them, the recorder stores them: one definition, so the two sides cannot drift.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Largest request body RunPod accepts on `/run` (decimal MB; the exact live
/// limit is unconfirmed, so the smaller reading is used).
pub const RUN_LIMIT: usize = 10_000_000;
/// Largest request body on `/runsync`.
pub const RUNSYNC_LIMIT: usize = 20_000_000;
/// RunPod keeps a job's result this long after `/run` ...
pub const RETENTION_RUN: Duration = Duration::from_secs(30 * 60);
/// ... and this long after `/runsync`.
pub const RETENTION_SYNC: Duration = Duration::from_secs(60);
/// `?wait=` bounds RunPod accepts on `/runsync` (ms).
pub const WAIT_RANGE_MS: (u64, u64) = (1000, 300_000);
/// RunPod's default `?wait=` (ms).
#[cfg(any(test, feature = "internals"))]
pub const DEFAULT_WAIT_MS: u64 = 90_000;

/// A job state as RunPod reports it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for a worker.
    InQueue,
    /// A worker is running it.
    InProgress,
    /// Documented by RunPod but not seen from its SDKs; not terminal.
    Running,
    /// Finished; `output` holds the result.
    Completed,
    /// The handler reported an error.
    Failed,
    /// Cancelled through `/cancel`.
    Cancelled,
    /// Expired in the queue or ran past its execution timeout.
    TimedOut,
    /// Anything else: treated as not terminal.
    Other(String),
}

impl JobState {
    /// The state for a wire name; unknown names are kept.
    pub fn parse(s: &str) -> Self {
        match s {
            "IN_QUEUE" => JobState::InQueue,
            "IN_PROGRESS" => JobState::InProgress,
            "RUNNING" => JobState::Running,
            "COMPLETED" => JobState::Completed,
            "FAILED" => JobState::Failed,
            "CANCELLED" => JobState::Cancelled,
            "TIMED_OUT" => JobState::TimedOut,
            other => JobState::Other(other.to_string()),
        }
    }

    /// COMPLETED, FAILED, CANCELLED and TIMED_OUT end a job; nothing else does.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Failed | JobState::Cancelled | JobState::TimedOut
        )
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            JobState::InQueue => "IN_QUEUE",
            JobState::InProgress => "IN_PROGRESS",
            JobState::Running => "RUNNING",
            JobState::Completed => "COMPLETED",
            JobState::Failed => "FAILED",
            JobState::Cancelled => "CANCELLED",
            JobState::TimedOut => "TIMED_OUT",
            JobState::Other(s) => s,
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JobState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(JobState::parse(&String::deserialize(d)?))
    }
}

/// One `/run`, `/runsync`, `/status`, `/status-sync` or `/cancel` answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusAnswer {
    /// The job id (opaque).
    pub id: String,
    /// The job's state.
    pub status: JobState,
    /// Queue plus cold start, ms.
    #[serde(rename = "delayTime", skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Execution, ms.
    #[serde(rename = "executionTime", skip_serializing_if = "Option::is_none")]
    pub execution_ms: Option<u64>,
    /// `None` when the key is absent (distinct from `Some(Value::Null)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The handler's error, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The worker that ran it.
    #[serde(rename = "workerId", skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    /// Figures the answer gave that cannot be true (`delayTime: 1e30`), said
    /// as such; the figure itself is left out.
    #[serde(skip)]
    pub absurd: Vec<String>,
}

/// The largest time an answer may report, in ms: a week. RunPod's execution
/// timeout is at most days, and results are kept 30 minutes; anything above is
/// a broken endpoint, and a figure this size can never overflow a sum.
pub const MAX_FIGURE_MS: u64 = 7 * 24 * 3600 * 1000;

/// Why an answer could not be read as a status answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

impl StatusAnswer {
    /// An answer with only an id and a state.
    pub fn new(id: impl Into<String>, status: JobState) -> Self {
        StatusAnswer {
            id: id.into(),
            status,
            delay_ms: None,
            execution_ms: None,
            output: None,
            error: None,
            worker_id: None,
            absurd: Vec::new(),
        }
    }

    /// Reads an answer leniently: unknown keys are ignored, an unknown state is
    /// kept, numbers may be floats, an `error` that is not a string is shown as
    /// JSON. Takes the value so `output` (often megabytes of base64) moves
    /// instead of being copied.
    pub fn from_value(mut v: Value) -> Result<Self, Malformed> {
        let output = v.as_object_mut().and_then(|o| o.remove("output"));
        let obj = v.as_object().ok_or_else(|| {
            Malformed(format!(
                "expected a JSON object, found {}",
                crate::text::truncate(&crate::text::one_line(&v.to_string()), 120)
            ))
        })?;
        let id = match obj.get("id") {
            // `.` and `..` would be dot segments in a URL path, whatever the escaping.
            Some(Value::String(s)) if !s.is_empty() && s != "." && s != ".." => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(Malformed(format!(
                    "no job `id` in {}",
                    crate::text::truncate(&crate::text::one_line(&v.to_string()), 120)
                )))
            }
        };
        let status = match obj.get("status") {
            Some(Value::String(s)) => JobState::parse(s),
            _ => return Err(Malformed(format!("no `status` for job {id}"))),
        };
        let mut absurd = Vec::new();
        let mut ms = |k: &str| {
            let v = obj.get(k).filter(|v| !v.is_null())?;
            let n = v.as_u64().or_else(|| v.as_f64().filter(|f| f.is_finite() && *f >= 0.0 && *f <= MAX_FIGURE_MS as f64).map(|f| f as u64));
            match n.filter(|n| *n <= MAX_FIGURE_MS) {
                Some(n) => Some(n),
                None => {
                    let shown: String = v.to_string().chars().take(40).collect();
                    absurd.push(format!("{k} {shown} is not a time in milliseconds of at most a week"));
                    None
                }
            }
        };
        let (delay_ms, execution_ms) = (ms("delayTime"), ms("executionTime"));
        let error = obj.get("error").filter(|e| !e.is_null()).map(|e| match e {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        Ok(StatusAnswer {
            id,
            status,
            delay_ms,
            execution_ms,
            absurd,
            output,
            error,
            worker_id: obj
                .get("workerId")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }
}

/// The body of `/run` and `/runsync`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRequest<I> {
    /// What the handler receives as `job["input"]`.
    pub input: I,
    /// Called with the final status when the job ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// Per-job limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
}

/// `policy` of a submission (all in ms).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Policy {
    /// Longest time the job may run once a worker has it.
    #[serde(
        rename = "executionTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub execution_timeout: Option<u64>,
    /// Total life of the job from submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// The job does not trigger worker scaling.
    #[serde(
        rename = "lowPriority",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub low_priority: Option<bool>,
}

/// `/health`: both maps are open (RunPod adds keys over time).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `completed`, `failed`, `inProgress`, `inQueue`, `retried`, ...
    #[serde(default)]
    pub jobs: BTreeMap<String, i64>,
    /// `idle`, `running`, `initializing`, `ready`, `throttled`, `unhealthy`, ...
    #[serde(default)]
    pub workers: BTreeMap<String, i64>,
}

impl Health {
    /// Reads a `/health` answer, ignoring entries that are not integers.
    pub fn from_value(v: &Value) -> Self {
        let map = |k: &str| -> BTreeMap<String, i64> {
            v.get(k)
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_i64()?)))
                        .collect()
                })
                .unwrap_or_default()
        };
        Health {
            jobs: map("jobs"),
            workers: map("workers"),
        }
    }

    /// A worker count (0 when absent).
    pub fn worker(&self, key: &str) -> i64 {
        self.workers.get(key).copied().unwrap_or(0)
    }

    /// A job count (0 when absent).
    pub fn job(&self, key: &str) -> i64 {
        self.jobs.get(key).copied().unwrap_or(0)
    }

    /// True when no worker exists or can start while jobs wait.
    pub fn no_worker_can_start(&self) -> bool {
        ["idle", "running", "initializing", "ready"]
            .iter()
            .map(|k| self.worker(k))
            .sum::<i64>()
            == 0
    }

    /// `jobs: completed=1 ...; workers: idle=0 ...`
    pub fn describe(&self) -> String {
        let fmt = |m: &BTreeMap<String, i64>| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!("jobs: {}; workers: {}", fmt(&self.jobs), fmt(&self.workers))
    }
}

/// `/purge-queue`'s answer (note the lower-case `completed`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PurgeAnswer {
    /// Queued jobs removed.
    pub removed: u64,
    /// `completed`.
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Figures no job can have are said as absurd and left out: nothing
    /// downstream adds or scales them (a report once panicked on the sum).
    #[test]
    fn absurd_figures_are_reported_and_left_out() {
        let s = StatusAnswer::from_value(serde_json::from_str(r#"{"id": "j", "status": "COMPLETED", "delayTime": 1e30, "executionTime": 18446744073709551615}"#).unwrap()).unwrap();
        assert_eq!((s.delay_ms, s.execution_ms), (None, None));
        assert_eq!(s.absurd.len(), 2, "{:?}", s.absurd);
        assert!(s.absurd[0].starts_with("delayTime 1e+30 is not a time"), "{:?}", s.absurd);
        let s = StatusAnswer::from_value(json!({"id": "j", "status": "COMPLETED", "delayTime": -5, "executionTime": 1200.7})).unwrap();
        assert_eq!((s.delay_ms, s.execution_ms, s.absurd.len()), (None, Some(1200), 1));
        let s = StatusAnswer::from_value(json!({"id": "j", "status": "IN_QUEUE", "delayTime": null})).unwrap();
        assert!(s.absurd.is_empty() && s.delay_ms.is_none());
    }

    #[test]
    fn parses_status_leniently() {
        let s = StatusAnswer::from_value(
            json!({"id": "a-u1", "status": "RUNNING", "delayTime": 12.0, "extra": 1}),
        )
        .unwrap();
        assert_eq!(s.status, JobState::Running);
        assert!(!s.status.is_terminal());
        assert_eq!(s.delay_ms, Some(12));
        assert!(s.output.is_none());
        let s = StatusAnswer::from_value(json!({"id": "b", "status": "SOMETHING_NEW"})).unwrap();
        assert_eq!(s.status, JobState::Other("SOMETHING_NEW".into()));
        assert!(StatusAnswer::from_value(json!({"status": "COMPLETED"}))
            .unwrap_err()
            .0
            .contains("no job `id`"));
        let s = StatusAnswer::from_value(json!({"id": "c", "status": "COMPLETED", "output": null}))
            .unwrap();
        assert_eq!(s.output, Some(Value::Null));
    }

    #[test]
    fn what_the_mock_writes_the_client_reads_back() {
        let mut a = StatusAnswer::new("j-u1", JobState::Completed);
        a.delay_ms = Some(800);
        a.execution_ms = Some(3000);
        a.worker_id = Some("w1".into());
        a.output = Some(json!({"images": []}));
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(
            v,
            json!({"id": "j-u1", "status": "COMPLETED", "delayTime": 800, "executionTime": 3000, "workerId": "w1", "output": {"images": []}})
        );
        assert_eq!(StatusAnswer::from_value(v).unwrap(), a);
        let h: Health =
            serde_json::from_value(json!({"jobs": {"inQueue": 2}, "workers": {"idle": 0}}))
                .unwrap();
        assert!(h.no_worker_can_start());
        assert_eq!(h.job("inQueue"), 2);
    }
}
