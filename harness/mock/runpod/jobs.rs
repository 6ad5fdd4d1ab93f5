//! The mock's job store and life cycle: IN_QUEUE -> IN_PROGRESS -> terminal on a
//! simulated clock. Declared delays are reported as declared in `delayTime` /
//! `executionTime`; the real wait is the declared one divided by `speed`.
//! Results expire after retention (30 min after `/run`, 1 min after `/runsync`,
//! or `policy.ttl`), scaled the same way but never below `min_retention`. A
//! behaviour's own `ttl` (the endpoint's default) is not floored: it exists to
//! make a job vanish mid-run, as RunPod removes a job whose TTL passes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::mock::behaviour::Behaviour;
use crate::mock::runpod::cluster::{self, Cluster};
use crate::mock::runpod::worker::{Accepted, Refusal};
use crate::runpod::wire::{JobState, Policy, RETENTION_RUN, RETENTION_SYNC};
/// A job that fails validation ends this long after it starts running.
const VALIDATION_TIME: Duration = Duration::from_millis(150);

/// What a job looks like at one instant.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Phase {
    Queued,
    Running,
    /// Terminal, at this real instant.
    Done(Instant),
    Expired,
}

/// The terminal result, computed once (rendering is the expensive part).
pub(crate) struct Outcome {
    pub status: JobState,
    pub error: Option<String>,
    pub output: Option<Value>,
    pub execution_ms: u64,
}

pub(crate) struct Job {
    pub id: String,
    pub endpoint: String,
    pub behaviour: Arc<Behaviour>,
    pub worker_id: String,
    pub accepted: Result<Arc<Accepted>, Refusal>,
    pub sync: bool,
    pub webhook: Option<String>,
    pub ttl: Option<Duration>,
    /// The TTL came from the behaviour (the endpoint's default), not the request.
    pub ttl_is_default: bool,
    pub execution_timeout: Option<Duration>,
    pub nonce: u64,
    /// The endpoint's worker pool, when its behaviour scales like RunPod.
    pub cluster: Option<Arc<Cluster>>,
    /// The virtual load run the job belongs to (see `mock::clock`), if any.
    pub run: Option<String>,
    pub m: Mutex<JobMut>,
}

pub(crate) struct JobMut {
    pub created: Instant,
    pub cancelled: Option<Instant>,
    pub outcome: Option<Arc<Outcome>>,
    pub retries: u32,
    /// Requests seen per route name, for `nth` faults.
    pub seen: HashMap<&'static str, u32>,
}

/// Every job of a mock server.
pub(crate) struct Store {
    pub speed: f64,
    pub min_retention: Duration,
    jobs: Mutex<HashMap<String, Arc<Job>>>,
    created: Mutex<HashMap<String, usize>>,
    /// Files served for `s3_url` outputs: key -> (the job they belong to, bytes).
    files: Mutex<HashMap<String, (String, Vec<u8>)>>,
    counter: AtomicU64,
    seed: u64,
    /// When eviction last ran, in ms since `born`.
    evicted_at: AtomicU64,
    born: Instant,
    /// Worker pools of the behaviours that scale, by endpoint.
    clusters: Mutex<HashMap<String, Arc<Cluster>>>,
}

impl Store {
    pub fn new(speed: f64, min_retention: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        Store {
            speed: speed.max(1e-6),
            min_retention,
            jobs: Mutex::default(),
            created: Mutex::default(),
            files: Mutex::default(),
            counter: AtomicU64::new(1),
            seed,
            evicted_at: AtomicU64::new(0),
            born: Instant::now(),
            clusters: Mutex::default(),
        }
    }

    fn next_u64(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut z = self
            .seed
            .wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A RunPod-looking job id (`sync-` prefixed for `/runsync`).
    fn new_id(&self, sync: bool) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        let uuid = format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        );
        if sync {
            format!("sync-{uuid}-u1")
        } else {
            format!("{uuid}-u1")
        }
    }

    /// Real time for a declared (simulated) duration.
    pub fn real(&self, declared: Duration) -> Duration {
        declared.div_f64(self.speed)
    }

    /// A new job on `endpoint` whose input the worker `accepted` (or refused).
    pub fn create(
        &self,
        endpoint: &str,
        behaviour: Arc<Behaviour>,
        accepted: Result<Arc<Accepted>, Refusal>,
        sync: bool,
        webhook: Option<String>,
        policy: &Policy,
    ) -> Arc<Job> {
        let ms = |v: Option<u64>| v.map(Duration::from_millis);
        let pool = pool_key(endpoint);
        let cluster = behaviour.scaling.as_ref().map(|sc| {
            self.clusters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(pool)
                .or_insert_with(|| Arc::new(Cluster::new(sc, self.speed)))
                .clone()
        });
        let nonce = self.next_u64();
        let default_ttl = behaviour.ttl_d;
        let job = Arc::new(Job {
            id: self.new_id(sync),
            endpoint: endpoint.to_string(),
            worker_id: format!("mock{:010x}", fnv(endpoint) & 0xff_ffff_ffff),
            behaviour,
            accepted,
            sync,
            webhook,
            ttl: ms(policy.ttl).or(default_ttl),
            ttl_is_default: policy.ttl.is_none() && default_ttl.is_some(),
            execution_timeout: ms(policy.execution_timeout),
            nonce,
            cluster,
            run: crate::mock::runpod::clock::run(),
            m: Mutex::new(JobMut {
                created: crate::mock::runpod::clock::now(),
                cancelled: None,
                outcome: None,
                retries: 0,
                seen: HashMap::new(),
            }),
        });
        if let (Some(c), Some(sc)) = (&job.cluster, &job.behaviour.scaling) {
            let (_, exec) = self.declared_fixed(&job);
            // The jitter follows the job's place in its endpoint's sequence, not
            // the random nonce, so a run of the same requests runs the same.
            let unit = c.unit();
            c.submit(&job.id, self.real(cluster::jittered(exec, sc.jitter, unit)));
        }
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(job.id.clone(), job.clone());
        *self
            .created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(endpoint.to_string())
            .or_insert(0) += 1;
        job
    }

    /// Jobs ever created on an endpoint.
    pub fn created(&self, endpoint: &str) -> usize {
        let created = self.created.lock().unwrap_or_else(|e| e.into_inner());
        created.get(endpoint).copied().unwrap_or(0)
    }

    pub fn get(&self, endpoint: &str, id: &str) -> Option<Arc<Job>> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.get(id).filter(|j| j.endpoint == endpoint).cloned()
    }

    pub fn jobs_of(&self, endpoint: &str) -> Vec<Arc<Job>> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        // A virtual run sees its own jobs only, on its own timeline.
        let run = crate::mock::runpod::clock::run();
        jobs.values()
            .filter(|j| j.endpoint == endpoint && j.run == run)
            .cloned()
            .collect()
    }

    pub fn remove(&self, id: &str) {
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    pub fn store_file(&self, key: String, job: &str, bytes: Vec<u8>) {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (job.to_string(), bytes));
    }

    pub fn file(&self, key: &str) -> Option<Vec<u8>> {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .map(|(_, b)| b.clone())
    }

    /// Runs [`Store::evict`] when it has not run for a while (a quarter of the
    /// retention floor, between 250 ms and 10 s), so callers can ask on every request.
    /// How often eviction runs: a quarter of the retention floor, within 250 ms..10 s.
    pub fn eviction_interval(&self) -> Duration {
        (self.min_retention / 4).clamp(Duration::from_millis(250), Duration::from_secs(10))
    }

    pub fn maybe_evict(&self) {
        // Eviction judges every job at the machine's now; a virtual run's
        // instant belongs to its own timeline only.
        if crate::mock::runpod::clock::is_virtual() {
            return;
        }
        let every = self.eviction_interval().as_millis() as u64;
        let now = self.born.elapsed().as_millis() as u64;
        let last = self.evicted_at.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= every
            && self
                .evicted_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.evict();
        }
    }

    /// Forgets jobs past retention (or their `policy.ttl`) and the files they
    /// returned, so a long-running mock's memory stays flat; returns jobs removed.
    pub fn evict(&self) -> usize {
        let all: Vec<Arc<Job>> = self
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let expired: Vec<String> = all
            .iter()
            .filter(|j| self.phase(j) == Phase::Expired)
            .map(|j| j.id.clone())
            .collect();
        if expired.is_empty() {
            return 0;
        }
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        for id in &expired {
            jobs.remove(id);
        }
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (job, _)| jobs.contains_key(job));
        expired.len()
    }

    /// Jobs held (for `/_mock/stats`).
    pub fn held(&self) -> (usize, usize) {
        (
            self.jobs.lock().unwrap_or_else(|e| e.into_inner()).len(),
            self.files.lock().unwrap_or_else(|e| e.into_inner()).len(),
        )
    }

    /// Declared queue and execution durations of a job, after validation and
    /// policy; for a scaling endpoint, as its pool ran it (simulated time).
    pub fn declared(&self, job: &Job) -> (Duration, Duration) {
        if let Some(a) = job.cluster.as_ref().and_then(|c| c.assignment(&job.id)) {
            let created = job.m.lock().unwrap_or_else(|e| e.into_inner()).created;
            let sim = |d: Duration| d.mul_f64(self.speed);
            return (
                sim(a.start.saturating_duration_since(created)),
                sim(a.end.saturating_duration_since(a.start)),
            );
        }
        self.declared_fixed(job)
    }

    /// The behaviour's own durations (a scaling endpoint's queue time emerges instead).
    fn declared_fixed(&self, job: &Job) -> (Duration, Duration) {
        let b = &job.behaviour;
        let exec = match &job.accepted {
            Err(_) => VALIDATION_TIME.min(b.execution_d),
            Ok(_) => b.execution_d,
        };
        let exec = job.execution_timeout.map_or(exec, |t| exec.min(t));
        (b.queue_d, exec)
    }

    /// When the job is scheduled to end (None: stuck, not yet on a worker, or already cancelled).
    pub fn ends_at(&self, job: &Job) -> Option<Instant> {
        if job.behaviour.stuck {
            return None;
        }
        if let Some(c) = &job.cluster {
            return c.assignment(&job.id).map(|a| a.end);
        }
        let m = job.m.lock().unwrap_or_else(|e| e.into_inner());
        if m.cancelled.is_some() {
            return None;
        }
        let (q, e) = self.declared(job);
        Some(m.created + self.real(q) + self.real(e))
    }

    /// How long the mock has been up (real time).
    pub fn age(&self) -> Duration {
        self.born.elapsed()
    }

    /// When the job starts running and when it ends (None: not scheduled to).
    pub fn span(&self, job: &Job) -> (Instant, Option<Instant>) {
        if let Some(a) = job.cluster.as_ref().and_then(|c| c.assignment(&job.id)) {
            return (a.start, Some(a.end));
        }
        let created = job.m.lock().unwrap_or_else(|e| e.into_inner()).created;
        let (q, _) = self.declared(job);
        (created + self.real(q), self.ends_at(job))
    }

    /// The job's phase now.
    pub fn phase(&self, job: &Job) -> Phase {
        let m = job.m.lock().unwrap_or_else(|e| e.into_inner());
        let now = crate::mock::runpod::clock::now();
        if let Some(ttl) = job.ttl {
            let floor = if job.ttl_is_default {
                Duration::ZERO
            } else {
                self.min_retention
            };
            if now >= m.created + self.real(ttl).max(floor) {
                return Phase::Expired;
            }
        }
        let done_at = if let Some(c) = m.cancelled {
            Some(c)
        } else if job.behaviour.stuck {
            None
        } else if let Some(cluster) = &job.cluster {
            match cluster.assignment(&job.id) {
                None => return Phase::Queued,
                Some(a) if now < a.start => return Phase::Queued,
                Some(a) if now < a.end => return Phase::Running,
                Some(a) => Some(a.end),
            }
        } else {
            let (q, e) = self.declared(job);
            let (rq, re) = (self.real(q), self.real(e));
            if now < m.created + rq {
                return Phase::Queued;
            }
            if now < m.created + rq + re {
                return Phase::Running;
            }
            Some(m.created + rq + re)
        };
        let Some(done) = done_at else {
            return Phase::Queued;
        };
        let retention = if job.sync {
            RETENTION_SYNC
        } else {
            RETENTION_RUN
        };
        if now >= done + self.real(retention).max(self.min_retention) {
            return Phase::Expired;
        }
        Phase::Done(done)
    }

    /// Marks a job cancelled if it has not finished; returns false when it already had.
    pub fn cancel(&self, job: &Job) -> bool {
        if matches!(self.phase(job), Phase::Done(_) | Phase::Expired) {
            return false;
        }
        if let Some(c) = &job.cluster {
            c.cancel(&job.id);
        }
        let mut m = job.m.lock().unwrap_or_else(|e| e.into_inner());
        m.cancelled = Some(crate::mock::runpod::clock::now());
        true
    }

    /// The worker pool of a scaling endpoint, once a job has created it.
    pub fn cluster(&self, endpoint: &str) -> Option<Arc<Cluster>> {
        self.clusters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&pool_key(endpoint))
            .cloned()
    }

    /// The worker that runs (or ran) the job.
    pub fn worker_of(&self, job: &Job) -> String {
        match job.cluster.as_ref().and_then(|c| c.assignment(&job.id)) {
            Some(a) => format!("{}-w{}", job.worker_id, a.worker),
            None => job.worker_id.clone(),
        }
    }

    /// Re-queues a FAILED or TIMED_OUT job (`/retry`); the id is kept.
    pub fn retry(&self, job: &Job) -> bool {
        let outcome = job
            .m
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outcome
            .clone();
        let retryable =
            outcome.is_some_and(|o| matches!(o.status, JobState::Failed | JobState::TimedOut));
        if retryable {
            let mut m = job.m.lock().unwrap_or_else(|e| e.into_inner());
            m.created = crate::mock::runpod::clock::now();
            m.outcome = None;
            m.cancelled = None;
            m.retries += 1;
        }
        retryable
    }
}

/// The worker pool a request on `endpoint` sees: a virtual load run gets a
/// pool of its own, fresh at its first request.
fn pool_key(endpoint: &str) -> String {
    match crate::mock::runpod::clock::run() {
        Some(run) => format!("{endpoint}@{run}"),
        None => endpoint.to_string(),
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
