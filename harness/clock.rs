//! The clock a job driver reads: the machine's, or a load run's virtual clock.
//!
//! Against the embedded mock, a load run does not wait in real time. Its jobs
//! run as cooperative tasks on one [`SimClock`]: one task at a time holds the
//! clock (the "baton"), does its requests, and gives the clock back when it
//! sleeps; when every task sleeps, the clock jumps to the earliest wake-up.
//! Each request carries the virtual instant (`X-Harness-Sim`), and the mock
//! runs its worker pool, cold starts and idle timeouts at that instant. So the
//! figures depend only on the sequence of requests and the behaviour file,
//! never on how fast this machine answers (issue: a load scenario gave
//! another verdict on a busy machine when a few milliseconds of scheduling
//! jitter became simulated seconds).
//!
//! Outside a virtual run, [`now`] is [`Instant::now`] and [`sleep`] is tokio's.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// The request header that carries a virtual instant: `<run id>@<ms>`.
pub const SIM_HEADER: &str = "x-harness-sim";

tokio::task_local! {
    static TASK: Participant;
}

/// A task's membership of a virtual run.
#[derive(Clone)]
struct Participant {
    clock: Arc<SimClock>,
    /// Whether this task holds the baton now.
    holding: Arc<AtomicBool>,
}

/// A virtual clock shared by the tasks of one load run.
pub struct SimClock {
    run: String,
    base: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    now: Duration,
    seq: u64,
    held: bool,
    /// Tasks waiting to start, in the order they were spawned.
    ready: VecDeque<oneshot::Sender<()>>,
    /// Sleeping tasks by (wake-up, registration order).
    timers: BTreeMap<(Duration, u64), oneshot::Sender<()>>,
}

impl SimClock {
    /// A new virtual clock at 0 for the run `run` (a fresh id per load run, so
    /// the mock starts a fresh worker pool for it).
    pub fn new(run: impl Into<String>) -> Arc<Self> {
        Arc::new(SimClock {
            run: run.into(),
            base: Instant::now(),
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Virtual time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.lock().now
    }

    /// Runs `fut` as a participant holding the baton whenever it is not asleep
    /// on this clock. The task's turn is booked now, in call order, so tasks
    /// spawned in one order start in that order whatever the runtime does.
    pub fn participate<F: Future>(self: &Arc<Self>, fut: F) -> impl Future<Output = F::Output> {
        let (tx, rx) = oneshot::channel();
        {
            let mut s = self.lock();
            if s.held {
                s.ready.push_back(tx);
            } else {
                s.held = true;
                let _ = tx.send(());
            }
        }
        let me = Participant {
            clock: self.clone(),
            holding: Arc::new(AtomicBool::new(false)),
        };
        async move {
            let _ = rx.await;
            me.holding.store(true, Ordering::SeqCst);
            let guard = Release(me.clone());
            let out = TASK.scope(me, fut).await;
            drop(guard);
            out
        }
    }

    /// Hands the baton on: to the next task waiting to start, else to the
    /// earliest sleeper (moving the clock to its wake-up); else nobody holds it.
    fn release(&self) {
        let mut s = self.lock();
        loop {
            if let Some(tx) = s.ready.pop_front() {
                if tx.send(()).is_ok() {
                    return;
                }
                continue;
            }
            let Some(((at, _), tx)) = s.timers.pop_first() else {
                s.held = false;
                return;
            };
            s.now = s.now.max(at);
            if tx.send(()).is_ok() {
                return;
            }
        }
    }

    /// The header value for a request made now.
    fn header(&self) -> String {
        format!("{}@{}", self.run, self.elapsed().as_millis())
    }
}

/// Gives the baton back when a participant ends (or is dropped holding it).
struct Release(Participant);

impl Drop for Release {
    fn drop(&mut self) {
        if self.0.holding.swap(false, Ordering::SeqCst) {
            self.0.clock.release();
        }
    }
}

fn current() -> Option<Participant> {
    TASK.try_with(Clone::clone).ok()
}

/// Whether this task runs on a virtual clock.
pub fn is_virtual() -> bool {
    current().is_some()
}

/// Now: virtual in a load run on the mock, else the machine's.
pub fn now() -> Instant {
    match current() {
        Some(p) => p.clock.base + p.clock.elapsed(),
        None => Instant::now(),
    }
}

/// Time since `start` (an instant from [`now`]).
pub fn since(start: Instant) -> Duration {
    now().saturating_duration_since(start)
}

/// The `X-Harness-Sim` value for a request made now, in a virtual run.
pub fn sim_header() -> Option<String> {
    current().map(|p| p.clock.header())
}

/// Sleeps `d`: on the virtual clock (giving the baton to others meanwhile),
/// or for real.
pub async fn sleep(d: Duration) {
    let Some(p) = current() else {
        tokio::time::sleep(d).await;
        return;
    };
    let (tx, rx) = oneshot::channel();
    {
        let mut s = p.clock.lock();
        s.seq += 1;
        let key = (s.now + d, s.seq);
        s.timers.insert(key, tx);
    }
    p.holding.store(false, Ordering::SeqCst);
    p.clock.release();
    let woke = Woken { rx, p: p.clone(), done: false };
    woke.await;
}

/// A sleeper's wake-up. Dropped after the baton reached it but before it ran
/// (a `select!` took another branch), it passes the baton on, so the run
/// never stalls.
struct Woken {
    rx: oneshot::Receiver<()>,
    p: Participant,
    done: bool,
}

impl Future for Woken {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        match std::pin::Pin::new(&mut self.rx).poll(cx) {
            std::task::Poll::Ready(_) => {
                self.done = true;
                self.p.holding.store(true, Ordering::SeqCst);
                std::task::Poll::Ready(())
            }
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

impl Drop for Woken {
    fn drop(&mut self) {
        if !self.done && self.rx.try_recv().is_ok() {
            self.p.clock.release();
        }
    }
}

/// Runs blocking work (a full decode, snapshot reads, a file lock, a child
/// process) without holding up the other tasks of an async worker: on a
/// multi-thread runtime the worker hands its other tasks to another thread
/// while this runs (`block_in_place`), so an in-flight job's polls are not
/// delayed by another job's decode; on a current-thread runtime, or outside
/// one, it runs as is.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Runs a short helper process the harness starts for itself (`ffmpeg
/// -version`, `git rev-parse`) with its stdout captured, killed past `limit`
/// (a stuck or hostile executable must not hang a run): its exit status and
/// stdout, or None when it could not start or ran out of time.
pub(crate) fn output_within(cmd: &mut std::process::Command, limit: Duration) -> Option<(std::process::ExitStatus, Vec<u8>)> {
    use std::io::Read;
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let out = reader.join().unwrap_or_default();
    Some((status?, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A helper that hangs is killed at its limit; one that answers is read.
    #[test]
    fn a_helper_process_is_killed_at_its_limit() {
        let started = Instant::now();
        let hung = output_within(std::process::Command::new("sleep").arg("30"), std::time::Duration::from_millis(200));
        assert!(hung.is_none());
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "killed, not waited for");
        let (status, out) = output_within(std::process::Command::new("echo").arg("hi"), std::time::Duration::from_secs(10)).unwrap();
        assert!(status.success());
        assert_eq!(out, b"hi\n");
    }

    /// Three tasks sleeping different virtual amounts wake in virtual-time
    /// order, and no real time passes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tasks_wake_in_virtual_order_without_waiting() {
        let clock = SimClock::new("t");
        let order = Arc::new(Mutex::new(Vec::new()));
        let real = Instant::now();
        let mut handles = Vec::new();
        for (name, secs) in [("c", 30u64), ("a", 10), ("b", 20)] {
            let order = order.clone();
            handles.push(tokio::spawn(clock.participate(async move {
                sleep(Duration::from_secs(secs)).await;
                order.lock().unwrap().push((name, since(now() - Duration::from_secs(secs)).as_secs()));
                sleep(Duration::from_secs(100)).await;
                assert!(is_virtual());
            })));
        }
        for h in handles {
            h.await.unwrap();
        }
        let got: Vec<&str> = order.lock().unwrap().iter().map(|(n, _)| *n).collect();
        assert_eq!(got, ["a", "b", "c"]);
        assert_eq!(clock.elapsed(), Duration::from_secs(130));
        assert!(real.elapsed() < Duration::from_secs(5));
        assert!(!is_virtual());
    }

    /// A sleeper dropped by a `select!` after the baton reached it passes the
    /// baton on: the other task still finishes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_sleeper_does_not_stall_the_run() {
        let clock = SimClock::new("t");
        let quick = tokio::spawn(clock.participate(async {
            tokio::select! {
                _ = sleep(Duration::from_secs(5)) => {}
                _ = tokio::time::sleep(Duration::from_millis(1)) => {}
            }
        }));
        let slow = tokio::spawn(clock.participate(async {
            sleep(Duration::from_secs(50)).await;
            since(now() - Duration::from_secs(1)).as_secs()
        }));
        quick.await.unwrap();
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(5), slow).await.unwrap().unwrap(),
            1
        );
    }
}

