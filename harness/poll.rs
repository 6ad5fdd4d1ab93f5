//! Driving one job to a terminal state: submit once, poll against the scenario
//! deadline, back off on transient errors and 429 (`Retry-After`), cancel the job
//! when the deadline passes or polling has to give up.
//!
//! The rule that protects the user's GPU money: a submission is sent exactly
//! once. A failed status call is retried (it is idempotent); it never causes a
//! new `/run`. A `/run` whose answer was lost is reported, not repeated.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::endpoint::{Endpoint, EndpointError, ErrorKind, Submit};
use crate::model::Seen;
use crate::wire::{Health, JobState, StatusAnswer, RETENTION_RUN, RETENTION_SYNC};

/// Polling interval schedule: start fast (short jobs), grow to a ceiling (long jobs)
/// far inside RunPod's 2000 status calls per 10 s.
const FIRST_INTERVAL: Duration = Duration::from_millis(25);
const MAX_INTERVAL: Duration = Duration::from_millis(1000);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Long polls wait at most this long per request (RunPod accepts 1-90 s), and are not
/// used when less than a second is left.
const LONG_POLL_MAX: Duration = Duration::from_secs(30);
const LONG_POLL_MIN: Duration = Duration::from_secs(1);
/// How long a 404 right after submission is retried before it counts.
const NEW_JOB_GRACE: Duration = Duration::from_secs(5);

/// Jobs submitted and not yet terminal, so an interrupted run can cancel them.
static IN_FLIGHT: Mutex<Option<HashMap<String, Endpoint>>> = Mutex::new(None);
/// Set once the run is interrupted: no new job is submitted after that.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn in_flight() -> std::sync::MutexGuard<'static, Option<HashMap<String, Endpoint>>> {
    IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stops new submissions and cancels every job in flight, each cancel bounded by
/// `per_job`; returns (cancelled, failed).
pub async fn interrupt(per_job: Duration) -> (usize, usize) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let jobs: Vec<(String, Endpoint)> =
        in_flight().take().unwrap_or_default().into_iter().collect();
    let cancels = jobs.iter().map(|(id, ep)| async move {
        tokio::time::timeout(per_job, ep.cancel(id))
            .await
            .is_ok_and(|r| r.is_ok())
    });
    let results = futures_util::future::join_all(cancels).await;
    let ok = results.iter().filter(|r| **r).count();
    (ok, results.len() - ok)
}

/// Whether the run was interrupted.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Reports every state a job is seen in (progress output).
pub type Observer = Arc<dyn Fn(&str, &JobState) + Send + Sync>;

/// Options for driving a job.
#[derive(Clone, Default)]
pub struct Watch {
    /// When a job stays IN_QUEUE this long, `/health` is read; if no worker can start
    /// the job is cancelled and fails with that diagnosis instead of waiting out its timeout.
    pub queue_grace: Option<Duration>,
    pub observer: Option<Observer>,
}

/// What the harness observed of one job.
#[derive(Clone, Debug)]
pub struct JobRun {
    pub status: StatusAnswer,
    /// Submission to terminal status observed.
    pub wall: Duration,
    pub timeline: Vec<Seen>,
    pub status_calls: u32,
}

/// Why a job did not reach a terminal state the harness could read.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    #[error("submission failed: {0}")]
    Submit(EndpointError),
    #[error("{error}{}", cancel_note(.cancelled))]
    Status {
        error: EndpointError,
        job: String,
        cancelled: Option<Result<(), String>>,
    },
    #[error("job {job} was still {last_state} when the {} deadline passed{}{}", humantime::format_duration(*.deadline), diagnosis.as_ref().map(|d| format!("; {d}")).unwrap_or_default(), cancel_note(.cancelled))]
    Deadline {
        job: String,
        last_state: String,
        deadline: Duration,
        diagnosis: Option<String>,
        cancelled: Option<Result<(), String>>,
        timeline: Vec<Seen>,
    },
    #[error("job {job} stayed IN_QUEUE for {}: {diagnosis}{}", humantime::format_duration(Duration::from_secs(.waited.as_secs())), cancel_note(.cancelled))]
    Stuck {
        job: String,
        waited: Duration,
        diagnosis: String,
        cancelled: Option<Result<(), String>>,
    },
    #[error("the run was interrupted before this job was submitted")]
    Interrupted,
}

fn cancel_note(c: &Option<Result<(), String>>) -> String {
    match c {
        Some(Ok(())) => "; the job was cancelled".into(),
        Some(Err(e)) => format!("; cancelling the job failed: {e}"),
        None => String::new(),
    }
}

/// Submits `body` and polls until a terminal state or `deadline` (a duration from now).
pub async fn drive(
    endpoint: &Endpoint,
    how: Submit,
    body: Vec<u8>,
    deadline: Duration,
) -> Result<JobRun, DriveError> {
    drive_with(endpoint, how, body, deadline, &Watch::default()).await
}

/// [`drive`] with a queue grace period and a state observer.
pub async fn drive_with(
    endpoint: &Endpoint,
    how: Submit,
    body: Vec<u8>,
    deadline: Duration,
    watch: &Watch,
) -> Result<JobRun, DriveError> {
    if interrupted() {
        return Err(DriveError::Interrupted);
    }
    let start = Instant::now();
    let end = start + deadline;
    let how = match how {
        Submit::RunSync(_) => Submit::RunSync(deadline.min(Duration::from_secs(90))),
        other => other,
    };
    // The local test server runs a /runsync job inside the request: bound it by the deadline.
    let first = match tokio::time::timeout(
        deadline + Duration::from_secs(30),
        endpoint.submit(how, body),
    )
    .await
    {
        Ok(r) => r.map_err(DriveError::Submit)?,
        Err(_) => {
            return Err(DriveError::Submit(EndpointError {
                op: "POST /runsync".into(),
                job: None,
                kind: ErrorKind::Timeout(deadline + Duration::from_secs(30)),
            }))
        }
    };
    let mut timeline = vec![Seen {
        at_ms: ms(start.elapsed()),
        state: first.status.to_string(),
    }];
    if let Some(o) = &watch.observer {
        o(&first.id, &first.status);
    }
    if first.status.is_terminal() {
        return Ok(JobRun {
            status: first,
            wall: start.elapsed(),
            timeline,
            status_calls: 0,
        });
    }
    let retention = if matches!(how, Submit::RunSync(_)) {
        RETENTION_SYNC
    } else {
        RETENTION_RUN
    };
    let mut poller = Poller {
        endpoint,
        job: first.id.clone(),
        start,
        end,
        retention,
        last: first.status.clone(),
        calls: 0,
        watch,
        seen_status: false,
    };
    in_flight()
        .get_or_insert_with(HashMap::new)
        .insert(first.id.clone(), endpoint.clone());
    let result = poller.poll(&mut timeline).await;
    let abandon = |job: &str| {
        if let Some(m) = in_flight().as_mut() {
            m.remove(job);
        }
    };
    if result.is_ok() {
        abandon(&poller.job);
    }
    match result {
        Ok(status) => Ok(JobRun {
            status,
            wall: start.elapsed(),
            timeline,
            status_calls: poller.calls,
        }),
        Err(PollStop::Deadline) => {
            let diagnosis = if poller.last == JobState::InQueue {
                poller.queue_diagnosis().await
            } else {
                None
            };
            let cancelled = Some(cancel(endpoint, &poller.job).await);
            abandon(&poller.job);
            Err(DriveError::Deadline {
                job: poller.job,
                last_state: poller.last.to_string(),
                deadline,
                diagnosis,
                cancelled,
                timeline,
            })
        }
        Err(PollStop::Stuck(diagnosis)) => {
            let cancelled = Some(cancel(endpoint, &poller.job).await);
            abandon(&poller.job);
            Err(DriveError::Stuck {
                job: poller.job,
                waited: start.elapsed(),
                diagnosis,
                cancelled,
            })
        }
        Err(PollStop::Error(error)) => {
            let cancelled =
                if matches!(error.kind, ErrorKind::NotFound(_) | ErrorKind::Unauthorized) {
                    None
                } else {
                    Some(cancel(endpoint, &poller.job).await)
                };
            abandon(&poller.job);
            Err(DriveError::Status {
                error,
                job: poller.job,
                cancelled,
            })
        }
    }
}

/// Best-effort cancel of an abandoned job, with its own short deadline.
pub async fn cancel(endpoint: &Endpoint, job: &str) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_secs(10), endpoint.cancel(job)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 10s".into()),
    }
}

enum PollStop {
    Deadline,
    Error(EndpointError),
    Stuck(String),
}

struct Poller<'a> {
    endpoint: &'a Endpoint,
    job: String,
    start: Instant,
    end: Instant,
    retention: Duration,
    last: JobState,
    calls: u32,
    watch: &'a Watch,
    /// Whether any status answer has been read (a later 404 is then final).
    seen_status: bool,
}

impl Poller<'_> {
    async fn poll(&mut self, timeline: &mut Vec<Seen>) -> Result<StatusAnswer, PollStop> {
        let mut interval = FIRST_INTERVAL;
        let mut failures = 0u32;
        let mut queued_since = Instant::now();
        let mut next_queue_check = self.watch.queue_grace.map(|g| queued_since + g);
        // Long-poll where the endpoint has /status-sync: the answer comes as the job ends,
        // with one request per wait instead of many. Otherwise poll on a growing interval.
        let mut pause = if self.endpoint.long_poll() {
            Duration::ZERO
        } else {
            interval
        };
        loop {
            self.sleep(pause).await?;
            self.calls += 1;
            let left = self.end.saturating_duration_since(Instant::now());
            let long = self.endpoint.long_poll() && left >= LONG_POLL_MIN;
            let asked = Instant::now();
            let call = async {
                if !long {
                    return self.endpoint.status(&self.job).await;
                }
                // While queued, wake at least every grace period to check the workers.
                let cap = match (&self.last, self.watch.queue_grace) {
                    (JobState::InQueue, Some(g)) => g.clamp(LONG_POLL_MIN, LONG_POLL_MAX),
                    _ => LONG_POLL_MAX,
                };
                match self.endpoint.status_sync(&self.job, left.min(cap)).await {
                    // Any trouble with the long poll (a missing route answers 404, 405, 400,
                    // 501, a 500 or an HTML page on some servers; a proxy may cut a long
                    // request): ask /status once; if that works, the route is the problem, so
                    // poll /status from now on. A 429 is left to the backoff below, since
                    // /status shares its rate limit.
                    Err(e)
                        if !matches!(
                            e.kind,
                            ErrorKind::RateLimited(_) | ErrorKind::Unauthorized
                        ) =>
                    {
                        let plain = self.endpoint.status(&self.job).await;
                        if plain.is_ok() {
                            self.endpoint.disable_long_poll();
                        }
                        plain
                    }
                    other => other,
                }
            };
            // Bounded by the deadline: a local POST /status blocks while the job runs.
            let Ok(answer) = tokio::time::timeout(left + Duration::from_secs(2), call).await else {
                return Err(PollStop::Deadline);
            };
            // A long poll that came back early without news: the server ignores `wait`.
            let waited = long && asked.elapsed() >= LONG_POLL_MIN / 2;
            match answer {
                Ok(s) => {
                    failures = 0;
                    self.seen_status = true;
                    if s.status != self.last {
                        timeline.push(Seen {
                            at_ms: ms(self.start.elapsed()),
                            state: s.status.to_string(),
                        });
                        self.last = s.status.clone();
                        queued_since = Instant::now();
                        next_queue_check = self.watch.queue_grace.map(|g| queued_since + g);
                    }
                    if let Some(o) = &self.watch.observer {
                        o(&self.job, &s.status);
                    }
                    if s.status.is_terminal() {
                        return Ok(s);
                    }
                    if s.status == JobState::InQueue
                        && next_queue_check.is_some_and(|t| Instant::now() >= t)
                    {
                        if let Some(diagnosis) = self.stuck_diagnosis().await {
                            return Err(PollStop::Stuck(diagnosis));
                        }
                        next_queue_check = self.watch.queue_grace.map(|g| Instant::now() + g);
                    }
                    interval = (interval.mul_f32(1.5)).min(MAX_INTERVAL);
                    pause = if waited { Duration::ZERO } else { interval };
                }
                Err(mut e) if e.kind.is_transient() => {
                    failures += 1;
                    // Capped exponential backoff with jitter; Retry-After wins when given.
                    let backoff = e.kind.retry_after().unwrap_or_else(|| {
                        jitter(Duration::from_millis(100) * 2u32.saturating_pow(failures.min(8)))
                            .min(MAX_BACKOFF)
                    });
                    if Instant::now() + backoff >= self.end {
                        e.op = format!("{} (after {failures} failed attempts)", e.op);
                        return Err(PollStop::Error(e));
                    }
                    interval = backoff;
                    pause = backoff;
                }
                // A job unknown right after submission may not have reached the status
                // store yet (a guess, not documented by RunPod): retry for a few seconds.
                Err(e)
                    if matches!(e.kind, ErrorKind::NotFound(_))
                        && self.start.elapsed() < NEW_JOB_GRACE
                        && !self.seen_status =>
                {
                    failures += 1;
                    interval = jitter(Duration::from_millis(200) * failures.min(10));
                    pause = interval;
                }
                Err(mut e) => {
                    if let ErrorKind::NotFound(_) = e.kind {
                        e.kind = ErrorKind::NotFound(self.explain_404());
                    }
                    return Err(PollStop::Error(e));
                }
            }
        }
    }

    /// Sleeps up to the deadline; past it, stops. The poll right after reaching the
    /// deadline still happens, so a job that finished just in time counts.
    async fn sleep(&self, d: Duration) -> Result<(), PollStop> {
        let now = Instant::now();
        if now >= self.end {
            return Err(PollStop::Deadline);
        }
        tokio::time::sleep(d.min(self.end - now)).await;
        Ok(())
    }

    fn explain_404(&self) -> String {
        let waited = self.start.elapsed();
        if waited >= self.retention {
            format!(
                ": the job's result is gone; RunPod keeps results {} after {}, and {} passed",
                humantime::format_duration(self.retention),
                if self.retention == RETENTION_SYNC {
                    "/runsync"
                } else {
                    "/run"
                },
                humantime::format_duration(Duration::from_secs(waited.as_secs()))
            )
        } else {
            ": the endpoint does not know this job (expired `policy.ttl`, purged queue, or another endpoint id)".into()
        }
    }

    /// Some(diagnosis) when `/health` says no worker can start while our job waits.
    async fn stuck_diagnosis(&self) -> Option<String> {
        let health = tokio::time::timeout(Duration::from_secs(10), self.endpoint.health())
            .await
            .ok()?
            .ok()?;
        let throttled = health.workers.get("throttled").copied().unwrap_or(0);
        (health.no_worker_can_start()).then(|| {
            format!(
                "no worker is running or can start ({}){}: check the endpoint's max workers, GPU type availability and balance",
                health.describe(),
                if throttled > 0 { ", workers are throttled" } else { "" }
            )
        })
    }

    /// Explains a job stuck in IN_QUEUE from what `/health` reports.
    async fn queue_diagnosis(&self) -> Option<String> {
        let health: Health = tokio::time::timeout(Duration::from_secs(10), self.endpoint.health())
            .await
            .ok()?
            .ok()?;
        let throttled = health.workers.get("throttled").copied().unwrap_or(0);
        Some(if health.no_worker_can_start() {
            format!(
                "no worker is running or can start ({}){}: check the endpoint's max workers, GPU type availability and balance",
                health.describe(),
                if throttled > 0 { ", workers are throttled" } else { "" }
            )
        } else {
            format!("the endpoint reports {}", health.describe())
        })
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Up to +25% random jitter, so many trials do not retry in lockstep.
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    d + d.mul_f64(f64::from(nanos % 1000) / 4000.0)
}
