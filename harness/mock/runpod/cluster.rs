//! A behaviour's worker pool, scaled as RunPod scales a serverless endpoint
//! (the model README spells out, with what is assumed): jobs wait in one FIFO
//! queue; an idle worker takes the oldest; the scaler starts workers (the
//! queue-delay scaler when a job has waited its threshold, the request-count
//! scaler to keep `ceil(jobs / request_count)` workers), each initialising
//! for `cold_start` (or `flashboot` when a worker stopped recently); a worker
//! idle for `idle_timeout` stops, down to `workers_min`. The simulation is
//! advanced lazily to the instant of each request, event by event, so its
//! results do not depend on when anyone looks.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::mock::behaviour::{ScalerKind, Scaling};

/// When and where a job ran.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Assignment {
    pub start: Instant,
    pub end: Instant,
    pub worker: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Initializing { ready: Instant },
    Idle { since: Instant },
    Running { until: Instant },
    Stopped,
}

struct Worker {
    id: u32,
    state: State,
}

struct Queued {
    job: String,
    at: Instant,
    exec: Duration,
}

struct Pool {
    clock: Instant,
    queue: VecDeque<Queued>,
    workers: Vec<Worker>,
    assigned: HashMap<String, Assignment>,
    /// Running job per worker id.
    running: HashMap<u32, String>,
    /// When workers stopped (for FlashBoot).
    stopped_at: Vec<Instant>,
    /// The last worker id given: a restarted worker is a new worker, as on RunPod.
    ids: u32,
    /// Jobs submitted so far (the jitter of each follows its place).
    submitted: u64,
}

/// Counts for `/health`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub idle: i64,
    pub running: i64,
    pub initializing: i64,
    pub in_queue: i64,
}

/// One endpoint's simulated workers.
pub(crate) struct Cluster {
    cfg: Real,
    pool: Mutex<Pool>,
    /// The virtual run this pool belongs to: only that run's requests move
    /// its clock (see `mock::clock`).
    run: Option<String>,
}

/// The scaling settings in real time (declared durations divided by the speed).
struct Real {
    min: u32,
    max: u32,
    idle_timeout: Duration,
    cold_start: Duration,
    flashboot: Option<Duration>,
    flashboot_window: Duration,
    scaler: ScalerKind,
    queue_delay: Duration,
    request_count: u32,
}

impl Cluster {
    /// A pool with `workers_min` warm workers.
    pub(crate) fn new(s: &Scaling, speed: f64) -> Self {
        let real = |d: Duration| d.div_f64(speed.max(1e-6));
        let now = crate::mock::runpod::clock::now();
        let cfg = Real {
            min: s.workers_min.min(s.workers_max),
            max: s.workers_max,
            idle_timeout: real(s.idle_timeout_d),
            cold_start: real(s.cold_start_d),
            flashboot: s.flashboot_d.map(real),
            flashboot_window: real(s.flashboot_window_d),
            scaler: s.scaler,
            queue_delay: real(s.queue_delay_d),
            request_count: s.request_count.max(1),
        };
        let cfg_min = cfg.min;
        let workers = (0..cfg.min)
            .map(|i| Worker {
                id: i + 1,
                state: State::Idle { since: now },
            })
            .collect();
        Cluster {
            cfg,
            pool: Mutex::new(Pool {
                clock: now,
                queue: VecDeque::new(),
                workers,
                assigned: HashMap::new(),
                running: HashMap::new(),
                stopped_at: Vec::new(),
                ids: cfg_min,
                submitted: 0,
            }),
            run: crate::mock::runpod::clock::run(),
        }
    }

    /// Now, for this pool: None when the request being served belongs to
    /// another timeline (then the pool is read, not advanced).
    fn now(&self) -> Option<Instant> {
        (crate::mock::runpod::clock::run() == self.run).then(crate::mock::runpod::clock::now)
    }

    /// A number in 0..1 for the next job's jitter, from its place in the sequence.
    pub(crate) fn unit(&self) -> f64 {
        let mut p = self.lock();
        p.submitted += 1;
        let mut z = p.submitted.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A job arrives now and will run for `exec` (real time) once a worker takes it.
    pub(crate) fn submit(&self, job: &str, exec: Duration) {
        let now = crate::mock::runpod::clock::now();
        let mut p = self.lock();
        let now = now.max(p.clock);
        self.advance(&mut p, now);
        p.queue.push_back(Queued {
            job: job.to_string(),
            at: now,
            exec,
        });
        self.step(&mut p, now);
    }

    /// Where and when the job runs, once a worker has taken it.
    pub(crate) fn assignment(&self, job: &str) -> Option<Assignment> {
        let mut p = self.lock();
        if let Some(now) = self.now() {
            self.advance(&mut p, now);
        }
        p.assigned.get(job).copied()
    }

    /// A cancelled job leaves the queue, or frees its worker now.
    pub(crate) fn cancel(&self, job: &str) {
        let mut p = self.lock();
        let now = crate::mock::runpod::clock::now().max(p.clock);
        self.advance(&mut p, now);
        p.queue.retain(|q| q.job != job);
        if let Some(a) = p.assigned.get(job).copied().filter(|a| a.end > now) {
            p.assigned
                .insert(job.to_string(), Assignment { end: now, ..a });
            if let Some(w) = p.workers.iter_mut().find(|w| w.id == a.worker) {
                w.state = State::Idle { since: now };
            }
            p.running.remove(&a.worker);
        }
        self.step(&mut p, now);
    }

    /// Worker and queue counts now.
    pub(crate) fn counts(&self) -> Counts {
        let mut p = self.lock();
        if let Some(now) = self.now() {
            self.advance(&mut p, now);
        }
        let mut c = Counts {
            in_queue: p.queue.len() as i64,
            ..Counts::default()
        };
        for w in &p.workers {
            match w.state {
                State::Initializing { .. } => c.initializing += 1,
                State::Idle { .. } => c.idle += 1,
                State::Running { .. } => c.running += 1,
                State::Stopped => {}
            }
        }
        c
    }

    /// Runs the simulation event by event up to `now`.
    fn advance(&self, p: &mut Pool, now: Instant) {
        loop {
            self.step(p, p.clock);
            match self.next_event(p) {
                Some(t) if t <= now => p.clock = t,
                _ => break,
            }
        }
        p.clock = p.clock.max(now);
        self.step(p, p.clock);
    }

    /// Everything that happens at instant `t`.
    fn step(&self, p: &mut Pool, t: Instant) {
        for w in &mut p.workers {
            match w.state {
                State::Initializing { ready } if ready <= t => {
                    w.state = State::Idle { since: ready }
                }
                State::Running { until } if until <= t => {
                    w.state = State::Idle { since: until };
                    p.running.remove(&w.id);
                }
                _ => {}
            }
        }
        // Idle workers take the oldest jobs.
        while !p.queue.is_empty() {
            let Some(w) = p
                .workers
                .iter_mut()
                .filter(|w| matches!(w.state, State::Idle { .. }))
                .min_by_key(|w| w.id)
            else {
                break;
            };
            let q = p.queue.pop_front().expect("not empty");
            let start = t.max(q.at);
            let end = start + q.exec;
            w.state = State::Running { until: end };
            let worker = w.id;
            p.running.insert(worker, q.job.clone());
            p.assigned.insert(q.job, Assignment { start, end, worker });
        }
        self.scale(p, t);
        // Idle past the timeout: stop, down to the minimum.
        let alive = p
            .workers
            .iter()
            .filter(|w| w.state != State::Stopped)
            .count() as u32;
        let mut surplus = alive.saturating_sub(self.cfg.min);
        for w in &mut p.workers {
            if surplus == 0 {
                break;
            }
            if let State::Idle { since } = w.state {
                if since + self.cfg.idle_timeout <= t {
                    w.state = State::Stopped;
                    p.stopped_at.push(t);
                    surplus -= 1;
                }
            }
        }
        p.workers.retain(|w| w.state != State::Stopped);
    }

    /// The scaler's decision at `t`: how many workers to start.
    fn scale(&self, p: &mut Pool, t: Instant) {
        let alive = p.workers.len() as u32;
        let starting = p
            .workers
            .iter()
            .filter(|w| matches!(w.state, State::Initializing { .. }))
            .count() as u32;
        let wanted = match self.cfg.scaler {
            // A job that has waited the threshold, and no worker on its way for it.
            ScalerKind::QueueDelay => {
                let waited = p
                    .queue
                    .iter()
                    .filter(|q| q.at + self.cfg.queue_delay <= t)
                    .count() as u32;
                alive + waited.saturating_sub(starting)
            }
            ScalerKind::RequestCount => {
                let jobs = p.queue.len() as u32 + p.running.len() as u32;
                jobs.div_ceil(self.cfg.request_count)
            }
        };
        let target = wanted.clamp(self.cfg.min, self.cfg.max);
        for _ in alive..target {
            // FlashBoot: a worker that stopped recently comes back faster.
            let recent = p
                .stopped_at
                .iter()
                .position(|s| *s + self.cfg.flashboot_window >= t);
            let boot = match (self.cfg.flashboot, recent) {
                (Some(fast), Some(i)) => {
                    p.stopped_at.remove(i);
                    fast
                }
                _ => self.cfg.cold_start,
            };
            p.ids += 1;
            let id = p.ids;
            p.workers.push(Worker {
                id,
                state: State::Initializing { ready: t + boot },
            });
        }
    }

    /// The next instant something happens on its own.
    fn next_event(&self, p: &Pool) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut at = |t: Instant| {
            if t > p.clock {
                next = Some(next.map_or(t, |n: Instant| n.min(t)));
            }
        };
        for w in &p.workers {
            match w.state {
                State::Initializing { ready } => at(ready),
                State::Running { until } => at(until),
                State::Idle { since } => at(since + self.cfg.idle_timeout),
                State::Stopped => {}
            }
        }
        if self.cfg.scaler == ScalerKind::QueueDelay {
            for q in &p.queue {
                at(q.at + self.cfg.queue_delay);
            }
        }
        next
    }
}

/// A job's run time with `jitter` (a fraction) spread by a per-job number in 0..1.
pub(crate) fn jittered(exec: Duration, jitter: f64, unit: f64) -> Duration {
    let f = 1.0 + jitter.clamp(0.0, 1.0) * (2.0 * unit - 1.0);
    exec.mul_f64(f.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(yaml: &str) -> Cluster {
        let b = crate::mock::behaviour::Behaviour::parse(yaml).unwrap();
        Cluster::new(b.scaling.as_ref().unwrap(), 1000.0)
    }

    #[test]
    fn a_burst_waits_the_threshold_then_the_cold_start() {
        // At 1000x: 4 s threshold = 4 ms, 20 s cold start = 20 ms, 4 s jobs = 4 ms.
        let c = cluster("scaling: {workers_max: 3, cold_start: 20s}\nexecution: 4s\n");
        let exec = Duration::from_millis(4);
        for i in 0..5 {
            c.submit(&format!("j{i}"), exec);
        }
        assert_eq!(
            c.counts(),
            Counts {
                in_queue: 5,
                ..Counts::default()
            }
        );
        std::thread::sleep(Duration::from_millis(10));
        let n = c.counts();
        assert_eq!(
            (n.initializing, n.in_queue),
            (3, 5),
            "three workers start after 4 s: {n:?}"
        );
        std::thread::sleep(Duration::from_millis(30));
        let a = c.assignment("j0").unwrap();
        let b = c.assignment("j3").unwrap();
        // j0 started when the workers were ready (~24 s), j3 after one job on a worker.
        assert!(b.start >= a.end - Duration::from_micros(10), "{a:?} {b:?}");
        let workers: std::collections::BTreeSet<u32> = (0..5)
            .filter_map(|i| c.assignment(&format!("j{i}")))
            .map(|a| a.worker)
            .collect();
        assert_eq!(workers.len(), 3);
    }

    #[test]
    fn idle_workers_stop_down_to_the_minimum() {
        let c = cluster("scaling: {workers_min: 1, workers_max: 2, idle_timeout: 5s, cold_start: 1s, scaler: request_count, request_count: 1}\nexecution: 1s\n");
        c.submit("a", Duration::from_millis(1));
        c.submit("b", Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(4));
        assert!(c.assignment("b").is_some());
        std::thread::sleep(Duration::from_millis(10));
        let n = c.counts();
        assert_eq!(n.idle + n.running + n.initializing, 1, "{n:?}");
    }
}
