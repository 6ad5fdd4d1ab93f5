//! An in-flight job is owned until it is settled: [`InFlight`] holds the job
//! from the moment its id is known. Seeing a terminal state settles it; being
//! dropped unsettled (a deadline, the trial's hard deadline dropping the
//! future mid-poll, a panic anywhere above it) cancels the job on the endpoint
//! in the background, on the runtime it was submitted from. The runner awaits
//! those cancels ([`drain`]) before the process exits.
//!
//! Ctrl-C and SIGTERM end the process without unwinding, so live guards are also
//! listed in a registry that [`interrupt`] cancels; a guard leaves the list when
//! it is settled or dropped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::http::EndpointError;

/// How long one cancel may take before it is given up.
pub(crate) const CANCEL_TIMEOUT: Duration = Duration::from_secs(10);

/// What can cancel a job by id: the RunPod client (`/cancel`), the ComfyUI
/// client (interrupt and dequeue).
pub(crate) trait Canceller: Send + Sync + 'static {
    /// Cancels the job `id`.
    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), EndpointError>>;
}

/// Why a cancel did not go through.
#[derive(Debug, thiserror::Error)]
pub enum CancelFailure {
    /// The endpoint answered with an error.
    #[error("{0}")]
    Refused(EndpointError),
    /// No answer in time.
    #[error("no answer within {}s", .0.as_secs())]
    NoAnswer(Duration),
}

type Live = BTreeMap<u64, (String, Arc<dyn Canceller>)>;

static LIVE: Mutex<Live> = Mutex::new(BTreeMap::new());
static NEXT: AtomicU64 = AtomicU64::new(1);
static PENDING: Mutex<Vec<tokio::task::JoinHandle<()>>> = Mutex::new(Vec::new());
/// Set once the run is interrupted: no new job is submitted after that.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn live() -> std::sync::MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A submitted job that is not known to be finished.
pub(crate) struct InFlight {
    id: String,
    key: u64,
    canceller: Arc<dyn Canceller>,
    handle: Option<tokio::runtime::Handle>,
    settled: bool,
}

impl InFlight {
    /// Takes ownership of job `id`, submitted through `canceller`.
    pub(crate) fn new(id: &str, canceller: Arc<dyn Canceller>) -> Self {
        let key = NEXT.fetch_add(1, Ordering::Relaxed);
        live().insert(key, (id.to_string(), canceller.clone()));
        InFlight {
            id: id.to_string(),
            key,
            canceller,
            handle: tokio::runtime::Handle::try_current().ok(),
            settled: false,
        }
    }

    /// The job reached a terminal state (or the endpoint forgot it): nothing to cancel.
    pub(crate) fn settle(mut self) {
        self.settled = true;
        live().remove(&self.key);
    }

    /// Gives the job up now and waits for the cancel's answer.
    pub(crate) async fn cancel(mut self) -> Result<(), CancelFailure> {
        self.settled = true;
        live().remove(&self.key);
        cancel_one(self.canceller.as_ref(), &self.id).await
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        live().remove(&self.key);
        let (id, canceller) = (std::mem::take(&mut self.id), self.canceller.clone());
        let task = async move {
            let _ = cancel_one(canceller.as_ref(), &id).await;
        };
        match self.handle.take() {
            Some(h) => {
                let join = h.spawn(task);
                PENDING.lock().unwrap_or_else(|e| e.into_inner()).push(join);
            }
            // Not submitted from a runtime (never the case in the harness): cancel
            // on a thread of its own rather than leave the job running.
            None => {
                let _ = std::thread::Builder::new()
                    .name("cancel".into())
                    .spawn(move || {
                        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                        {
                            rt.block_on(task);
                        }
                    });
            }
        }
    }
}

async fn cancel_one(c: &dyn Canceller, id: &str) -> Result<(), CancelFailure> {
    match tokio::time::timeout(CANCEL_TIMEOUT, c.cancel(id)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(CancelFailure::Refused(e)),
        Err(_) => Err(CancelFailure::NoAnswer(CANCEL_TIMEOUT)),
    }
}

/// Waits (up to `timeout`) for the cancels that dropped guards started.
pub(crate) async fn drain(timeout: Duration) {
    let pending: Vec<_> = std::mem::take(&mut *PENDING.lock().unwrap_or_else(|e| e.into_inner()));
    let _ = tokio::time::timeout(timeout, futures_util::future::join_all(pending)).await;
}

/// Stops new submissions and cancels every job in flight, each cancel bounded by
/// `per_job`; returns (cancelled, failed).
pub(crate) async fn interrupt(per_job: Duration) -> (usize, usize) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let jobs: Vec<(String, Arc<dyn Canceller>)> =
        std::mem::take(&mut *live()).into_values().collect();
    let cancels = jobs.iter().map(|(id, c)| async move {
        tokio::time::timeout(per_job, c.cancel(id))
            .await
            .is_ok_and(|r| r.is_ok())
    });
    let results = futures_util::future::join_all(cancels).await;
    drain(per_job).await;
    let ok = results.iter().filter(|r| **r).count();
    (ok, results.len() - ok)
}

/// Whether the run was interrupted.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
