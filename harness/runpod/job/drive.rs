//! Driving one RunPod job to a terminal state: submit once, take ownership of
//! the job ([`InFlight`]), poll against the scenario deadline (long poll where
//! the endpoint has `/status-sync`, else a growing interval), back off on
//! transient errors and 429 (`Retry-After`), and cancel the job when the
//! deadline passes or polling has to give up.
//!
//! The rule that protects the user's GPU money: a submission is sent exactly
//! once. A failed status call is retried (it is idempotent); it never causes a
//! new `/run`. A `/run` whose answer was lost is reported, not repeated.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use super::error::DriveError;
use super::guard::{interrupted, Canceller, InFlight};
use crate::runpod::Client;
use crate::http::EndpointError;
use crate::http::ErrorKind;
use crate::runpod::Submit;
use crate::clock;
use crate::model::{NodeTiming, ProgressSeen, Seen, PROGRESS_KEPT};
use crate::runpod::wire::{Health, JobProgress, JobState, StatusAnswer, RETENTION_RUN, RETENTION_SYNC};

/// Polling interval bounds (without long-poll): never faster than the floor, never
/// slower than the ceiling; far inside RunPod's 2000 status calls per 10 s.
const FIRST_INTERVAL: Duration = Duration::from_millis(25);
const MAX_INTERVAL: Duration = Duration::from_millis(1000);

/// Without long-poll, how long to wait before the next status request,
/// `elapsed` after submission, for a job `expected` to take about that long
/// (its scenario's history).
///
/// With an expectation, requests gather where the answer is likely: doubling
/// pauses until just before the expected end (so a job much faster than its
/// history is still seen within its own running time), then one every 5% of
/// the expectation (a 0.8 s job: about 8 requests, seen within 40 ms). Without
/// one, or once a job runs 1.5x past it, a pause of 10% of the time so far (at
/// least 100 ms): the end of a job longer than a second is seen within 10% of
/// its running time and never more than 1 s late.
pub(crate) fn interval_pause(elapsed: Duration, expected: Option<Duration>) -> Duration {
    let floor = FIRST_INTERVAL;
    if let Some(e) = expected.filter(|e| *e >= floor) {
        let window = e.mul_f64(0.9).saturating_sub(Duration::from_millis(50));
        if elapsed < window {
            let next = elapsed.max(Duration::from_millis(100));
            return next.min(window - elapsed).max(floor);
        }
        if elapsed < e.mul_f64(1.5) {
            return (e / 20).clamp(floor, MAX_INTERVAL);
        }
    }
    // 100 ms at least here: without history the first second would otherwise
    // cost a request every 25 ms per job in flight.
    (elapsed / 10).clamp(NO_HISTORY_FLOOR, MAX_INTERVAL)
}

/// The shortest pause without an expectation.
const NO_HISTORY_FLOOR: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Long polls wait at most this long per request (RunPod accepts 1-90 s), and are not
/// used when less than a second is left.
const LONG_POLL_MAX: Duration = Duration::from_secs(30);
const LONG_POLL_MIN: Duration = Duration::from_secs(1);
/// How long a 404 right after submission is retried before it counts.
const NEW_JOB_GRACE: Duration = Duration::from_secs(5);
/// `/runsync` waits at most this long per call (RunPod's default).
const RUNSYNC_WAIT: Duration = Duration::from_secs(90);

impl Canceller for Client {
    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), EndpointError>> {
        Box::pin(Client::cancel(self, id))
    }
}

/// Reports every state a job is seen in (progress output).
pub type Observer = Arc<dyn Fn(&str, &JobState, Option<&JobProgress>) + Send + Sync>;

/// Options for driving a job.
#[derive(Clone, Default)]
pub struct Watch {
    /// When a job stays IN_QUEUE this long, `/health` is read; if no worker can start
    /// the job is cancelled and fails with that diagnosis instead of waiting out its timeout.
    pub queue_grace: Option<Duration>,
    /// Called with every state seen.
    pub observer: Option<Observer>,
    /// When raised, the job is cancelled at its next poll (after its submission).
    pub abort: Option<super::abort::Abort>,
    /// How long this job is expected to take from submission to answer (the
    /// scenario's history): without long-poll, polls gather around it.
    pub expected: Option<Duration>,
}

/// What the harness observed of one finished job.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The terminal status answer.
    pub status: StatusAnswer,
    /// Submission to terminal status observed.
    pub wall: Duration,
    /// The states seen, with when.
    pub timeline: Vec<Seen>,
    /// Status requests made.
    pub status_calls: u32,
    /// Per-node timings, where the target reports them (`comfyui`).
    pub nodes: Vec<NodeTiming>,
    /// Progress updates seen in `output` while the job ran.
    pub progress: Vec<ProgressSeen>,
}

/// Submits `body` and polls until a terminal state or `deadline` (a duration from now).
#[cfg(any(test, feature = "internals"))]
pub async fn drive(
    client: &Client,
    how: Submit,
    body: Vec<u8>,
    deadline: Duration,
) -> Result<Finished, DriveError> {
    drive_with(client, how, body, deadline, &Watch::default()).await
}

/// [`drive`] with a queue grace period and a state observer.
pub async fn drive_with(
    client: &Client,
    how: Submit,
    body: Vec<u8>,
    deadline: Duration,
    watch: &Watch,
) -> Result<Finished, DriveError> {
    if interrupted() {
        return Err(DriveError::Interrupted);
    }
    let start = clock::now();
    let how = match how {
        Submit::RunSync(_) => Submit::RunSync(deadline.min(RUNSYNC_WAIT)),
        other => other,
    };
    let first = submit(client, how, body, deadline).await?;
    // From here the job is ours: whatever ends this future, it is settled or cancelled.
    let job = InFlight::new(&first.id, Arc::new(client.clone()));
    let mut timeline = vec![Seen {
        at_ms: ms(clock::since(start)),
        state: first.status.to_string(),
    }];
    if let Some(o) = &watch.observer {
        o(&first.id, &first.status, None);
    }
    if first.status.is_terminal() {
        job.settle();
        return Ok(Finished {
            status: first,
            wall: clock::since(start),
            timeline,
            status_calls: 0,
            nodes: Vec::new(),
            progress: Vec::new(),
        });
    }
    let mut poller = Poller {
        client,
        job: first.id.clone(),
        start,
        end: start + deadline,
        retention: if matches!(how, Submit::RunSync(_)) {
            RETENTION_SYNC
        } else {
            RETENTION_RUN
        },
        last: first.status.clone(),
        calls: 0,
        watch,
        seen_status: false,
        running_seen: false,
        progress: Vec::new(),
        worker: None,
    };
    let result = match watch.abort.clone() {
        Some(abort) => tokio::select! {
            r = poller.poll(&mut timeline) => r,
            _ = abort.raised() => Err(PollStop::Aborted),
        },
        None => poller.poll(&mut timeline).await,
    };
    poller.conclude(result, job, timeline, deadline).await
}

/// The one submission. The local test server runs a `/runsync` job inside the
/// request, so the call is bounded by the deadline too.
async fn submit(
    client: &Client,
    how: Submit,
    body: Vec<u8>,
    deadline: Duration,
) -> Result<StatusAnswer, DriveError> {
    let bound = deadline + Duration::from_secs(30);
    match tokio::time::timeout(bound, client.submit(how, body)).await {
        Ok(r) => r.map_err(DriveError::Submit),
        Err(_) => Err(DriveError::Submit(EndpointError {
            op: "POST /runsync".into(),
            job: None,
            kind: ErrorKind::Timeout(bound),
        })),
    }
}

enum PollStop {
    Deadline,
    Error(EndpointError),
    Stuck(String),
    Aborted,
}

/// What the loop does next after an answer or an error.
enum Next {
    Done(StatusAnswer),
    Stop(PollStop),
    Wait(Duration),
}

struct Poller<'a> {
    client: &'a Client,
    job: String,
    start: Instant,
    end: Instant,
    retention: Duration,
    last: JobState,
    calls: u32,
    watch: &'a Watch,
    /// Whether any status answer has been read (a later 404 is then final).
    seen_status: bool,
    /// Whether the job was seen running (a later 404 is then a TTL expiry).
    running_seen: bool,
    /// Progress updates seen in `output` while the job ran.
    progress: Vec<ProgressSeen>,
    /// The worker the status answers named (for the endpoint's evidence).
    worker: Option<String>,
}

/// Per-loop state of the schedule.
struct Schedule {
    interval: Duration,
    failures: u32,
    next_queue_check: Option<Instant>,
}

impl Poller<'_> {
    async fn poll(&mut self, timeline: &mut Vec<Seen>) -> Result<StatusAnswer, PollStop> {
        let mut sched = Schedule {
            interval: FIRST_INTERVAL,
            failures: 0,
            next_queue_check: self.watch.queue_grace.map(|g| clock::now() + g),
        };
        // Long-poll where the endpoint has /status-sync: the answer comes as the job ends,
        // with one request per wait instead of many. Otherwise poll on a growing interval.
        // On a virtual clock every answer is immediate: plain polls on the schedule.
        let long_poll = self.client.long_poll() && !clock::is_virtual();
        let mut pause = if long_poll {
            Duration::ZERO
        } else {
            interval_pause(clock::since(self.start), self.watch.expected)
        };
        loop {
            self.sleep(pause).await?;
            self.calls += 1;
            let left = self.end.saturating_duration_since(clock::now());
            let long = long_poll && self.client.long_poll() && left >= LONG_POLL_MIN;
            let asked = clock::now();
            // Bounded by the deadline: a local POST /status blocks while the job runs.
            let Ok(answer) =
                tokio::time::timeout(left + Duration::from_secs(2), self.ask(long, left)).await
            else {
                return Err(PollStop::Deadline);
            };
            // A long poll that came back early without news: the server ignores `wait`.
            let waited = long && clock::since(asked) >= LONG_POLL_MIN / 2;
            let next = match answer {
                Ok(s) => self.on_answer(s, &mut sched, timeline, waited).await,
                Err(e) => self.on_error(e, &mut sched),
            };
            match next {
                Next::Done(s) => return Ok(s),
                Next::Stop(stop) => return Err(stop),
                Next::Wait(d) => pause = d,
            }
        }
    }

    /// One status request: a long poll where it works, else `/status`.
    async fn ask(&self, long: bool, left: Duration) -> Result<StatusAnswer, EndpointError> {
        if !long {
            return self.client.status(&self.job).await;
        }
        // While queued, wake at least every grace period to check the workers.
        let cap = match (&self.last, self.watch.queue_grace) {
            (JobState::InQueue, Some(g)) => g.clamp(LONG_POLL_MIN, LONG_POLL_MAX),
            _ => LONG_POLL_MAX,
        };
        match self.client.status_sync(&self.job, left.min(cap)).await {
            // Any trouble with the long poll (a missing route answers 404, 405, 400,
            // 501, a 500 or an HTML page on some servers; a proxy may cut a long
            // request): ask /status once; if that works, the route is the problem, so
            // poll /status from now on. A 429 is left to the backoff, since /status
            // shares its rate limit.
            Err(e) if !matches!(e.kind, ErrorKind::RateLimited(_) | ErrorKind::Unauthorized) => {
                let plain = self.client.status(&self.job).await;
                if plain.is_ok() {
                    self.client.disable_long_poll();
                }
                plain
            }
            other => other,
        }
    }

    async fn on_answer(
        &mut self,
        s: StatusAnswer,
        sched: &mut Schedule,
        timeline: &mut Vec<Seen>,
        waited: bool,
    ) -> Next {
        sched.failures = 0;
        self.seen_status = true;
        if let Some(w) = &s.worker_id {
            self.worker = Some(w.clone());
        }
        if s.status != self.last {
            timeline.push(Seen {
                at_ms: ms(clock::since(self.start)),
                state: s.status.to_string(),
            });
            self.last = s.status.clone();
            sched.next_queue_check = self.watch.queue_grace.map(|g| clock::now() + g);
        }
        if s.status.is_terminal() {
            if let Some(o) = &self.watch.observer {
                o(&self.job, &s.status, None);
            }
            return Next::Done(s);
        }
        if matches!(s.status, JobState::InProgress | JobState::Running) {
            self.running_seen = true;
        }
        // A worker may report progress in `output` while it runs: shown and
        // kept as progress, never read as the result.
        let progress = s.output.as_ref().and_then(JobProgress::from_output);
        if let Some(p) = &progress {
            self.keep_progress(p);
        }
        if let Some(o) = &self.watch.observer {
            o(&self.job, &s.status, progress.as_ref());
        }
        if s.status == JobState::InQueue
            && sched.next_queue_check.is_some_and(|t| clock::now() >= t)
        {
            if let Some(diagnosis) = self.stuck_diagnosis().await {
                return Next::Stop(PollStop::Stuck(diagnosis));
            }
            sched.next_queue_check = self.watch.queue_grace.map(|g| clock::now() + g);
        }
        sched.interval = interval_pause(clock::since(self.start), self.watch.expected);
        Next::Wait(if waited {
            Duration::ZERO
        } else {
            sched.interval
        })
    }

    fn on_error(&self, mut e: EndpointError, sched: &mut Schedule) -> Next {
        if e.kind.is_transient() {
            sched.failures += 1;
            // Capped exponential backoff with jitter; Retry-After wins when given.
            let backoff = e.kind.retry_after().unwrap_or_else(|| {
                jitter(Duration::from_millis(100) * 2u32.saturating_pow(sched.failures.min(8)))
                    .min(MAX_BACKOFF)
            });
            if clock::now() + backoff >= self.end {
                e.op = format!("{} (after {} failed attempts)", e.op, sched.failures);
                return Next::Stop(PollStop::Error(e));
            }
            sched.interval = backoff;
            return Next::Wait(backoff);
        }
        // A job unknown right after submission may not have reached the status
        // store yet (a guess, not documented by RunPod): retry for a few seconds.
        if matches!(e.kind, ErrorKind::NotFound(_))
            && clock::since(self.start) < NEW_JOB_GRACE
            && !self.seen_status
        {
            sched.failures += 1;
            sched.interval = jitter(Duration::from_millis(200) * sched.failures.min(10));
            return Next::Wait(sched.interval);
        }
        if let ErrorKind::NotFound(_) = e.kind {
            e.kind = ErrorKind::NotFound(self.explain_404());
        }
        Next::Stop(PollStop::Error(e))
    }

    /// Turns the loop's outcome into the result, settling or cancelling the job.
    async fn conclude(
        self,
        result: Result<StatusAnswer, PollStop>,
        job: InFlight,
        timeline: Vec<Seen>,
        deadline: Duration,
    ) -> Result<Finished, DriveError> {
        match result {
            Ok(status) => {
                job.settle();
                Ok(Finished {
                    status,
                    wall: clock::since(self.start),
                    timeline,
                    status_calls: self.calls,
                    nodes: Vec::new(),
                    progress: self.progress,
                })
            }
            Err(PollStop::Deadline) => {
                let diagnosis = if self.last == JobState::InQueue {
                    self.queue_diagnosis().await
                } else {
                    None
                };
                Err(DriveError::Deadline {
                    job: self.job,
                    last_state: self.last.to_string(),
                    deadline,
                    diagnosis,
                    cancelled: Some(job.cancel().await),
                    timeline,
                    worker: self.worker,
                })
            }
            Err(PollStop::Aborted) => Err(DriveError::Abandoned {
                job: self.job,
                last_state: self.last.to_string(),
                cancelled: Some(job.cancel().await),
            }),
            Err(PollStop::Stuck(diagnosis)) => Err(DriveError::Stuck {
                job: self.job,
                waited: clock::since(self.start),
                diagnosis,
                cancelled: Some(job.cancel().await),
            }),
            Err(PollStop::Error(error)) => {
                // A job the endpoint does not know, or a key it refuses, cannot be cancelled.
                let cancelled =
                    if matches!(error.kind, ErrorKind::NotFound(_) | ErrorKind::Unauthorized) {
                        job.settle();
                        None
                    } else {
                        Some(job.cancel().await)
                    };
                Err(DriveError::Status {
                    error,
                    job: self.job,
                    worker: self.worker,
                    cancelled,
                })
            }
        }
    }

    /// Sleeps up to the deadline; past it, stops. The poll right after reaching the
    /// deadline still happens, so a job that finished just in time counts.
    async fn sleep(&self, d: Duration) -> Result<(), PollStop> {
        let now = clock::now();
        if now >= self.end {
            return Err(PollStop::Deadline);
        }
        clock::sleep(d.min(self.end - now)).await;
        Ok(())
    }

    /// Keeps a changed progress update: the first [`PROGRESS_KEPT`] - 1, then
    /// the latest in the last place.
    fn keep_progress(&mut self, p: &JobProgress) {
        if self.progress.last().is_some_and(|l| l.progress == *p) {
            return;
        }
        let seen = ProgressSeen {
            at_ms: ms(clock::since(self.start)),
            progress: p.clone(),
        };
        if self.progress.len() >= PROGRESS_KEPT {
            self.progress.pop();
        }
        self.progress.push(seen);
    }

    fn explain_404(&self) -> String {
        let waited = clock::since(self.start);
        // RunPod removes a job whose TTL (counted from submission) runs out
        // even while it runs; `/status` then answers 404 (runpod/docs, 2026-02).
        if self.running_seen {
            return format!(
                ": the job was running and is now gone after {}: its TTL ran out while it ran (RunPod counts a job's TTL from submission and removes the job when it passes, running or not; raise `policy.ttl` in the request, or the endpoint's default, above the job's queue plus execution time)",
                humantime::format_duration(Duration::from_secs(waited.as_secs()))
            );
        }
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
        } else if self.seen_status {
            format!(
                ": the job was seen {} and is now gone after {}: its TTL most likely ran out (RunPod counts it from submission and removes the job when it passes; raise `policy.ttl`), or its queue was purged",
                self.last,
                humantime::format_duration(Duration::from_secs(waited.as_secs()))
            )
        } else {
            ": the endpoint does not know this job (an expired TTL (`policy.ttl`), a purged queue, or another endpoint id)".into()
        }
    }

    async fn health(&self) -> Option<Health> {
        tokio::time::timeout(Duration::from_secs(10), self.client.health())
            .await
            .ok()?
            .ok()
    }

    /// Some(diagnosis) when `/health` says no worker can start while our job waits.
    async fn stuck_diagnosis(&self) -> Option<String> {
        let health = self.health().await?;
        health.no_worker_can_start().then(|| no_worker(&health))
    }

    /// Explains a job stuck in IN_QUEUE from what `/health` reports.
    async fn queue_diagnosis(&self) -> Option<String> {
        let health = self.health().await?;
        Some(if health.no_worker_can_start() {
            no_worker(&health)
        } else {
            format!("the endpoint reports {}", health.describe())
        })
    }
}

fn no_worker(health: &Health) -> String {
    format!(
        "no worker is running or can start ({}){}: check the endpoint's max workers, GPU type availability and balance",
        health.describe(),
        if health.worker("throttled") > 0 {
            ", workers are throttled"
        } else {
            ""
        }
    )
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
