//! Estimated GPU cost from RunPod's `executionTime`, with a per-GPU price table
//! (`costs.yaml`, or `$HARNESS_COSTS`), and the run's spending cap
//! (`HARNESS_MAX_COST`): once the estimate would pass it, no further job is
//! submitted and the scenarios say so.
//!
//! Under nextest every process of a run shares one ledger file (under
//! `reports/.trials/<run>/`), so the cap holds across processes, not per process.
//!
//! The estimate counts execution only: `delayTime` mixes unbilled queueing with
//! billed cold start and cannot be split, so the real bill can be higher.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::settings::SetupError;

/// A price table as written in `costs.yaml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    #[serde(default = "usd")]
    pub currency: String,
    /// The GPU class this endpoint runs on (`HARNESS_GPU` overrides it).
    pub gpu: Option<String>,
    /// Price per second of execution, by GPU class.
    pub per_second: BTreeMap<String, f64>,
}

fn usd() -> String {
    "USD".into()
}

/// Prices and the cap for one run.
#[derive(Debug)]
pub struct Costs {
    pub currency: String,
    pub gpu: String,
    pub per_second: f64,
    pub max: Option<f64>,
    store: Store,
}

/// Where the ledger lives: in this process, or in a file every process of a
/// nextest run shares (each change made under an exclusive lock on it).
#[derive(Debug)]
enum Store {
    Memory(Mutex<Ledger>),
    File(PathBuf),
}

/// What has been spent, what jobs in flight hold, and the dearest job seen.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Ledger {
    spent: f64,
    largest: f64,
    /// Reservations in flight by holder (`<pid>:<n>`), so a process that died
    /// holding some can be told apart and its holds given back.
    holds: BTreeMap<String, f64>,
}

impl Ledger {
    fn reserved(&self) -> f64 {
        // Folded from +0.0: an empty f64 sum is -0.0, which prints as "-0.0000".
        self.holds.values().fold(0.0, |a, b| a + b)
    }

    /// Gives back what processes that are no longer running held (Linux: `/proc`).
    fn drop_dead_holders(&mut self) {
        if !Path::new("/proc/self").exists() {
            return;
        }
        self.holds.retain(|k, _| {
            let pid = k.split(':').next().unwrap_or_default();
            Path::new("/proc").join(pid).exists()
        });
    }
}

/// Tells reservations of one process apart.
static NEXT_HOLD: AtomicU64 = AtomicU64::new(0);

/// The answer to one reservation attempt.
enum Attempt {
    Granted(Reservation),
    /// Fits once jobs in flight settle: ask again then.
    Wait,
    Refused(String),
}

/// A job's share of the cap, held from before it is submitted until it is
/// settled with its real cost (or released at 0 if it never ran).
#[derive(Debug)]
pub struct Reservation {
    costs: Arc<Costs>,
    hold: String,
    settled: bool,
}

impl Reservation {
    /// Replaces the reservation with the job's actual cost.
    pub fn settle(mut self, actual: f64) {
        self.settled = true;
        self.costs.settle(&self.hold, actual);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.settled {
            self.costs.settle(&self.hold, 0.0);
        }
    }
}

/// Sums of money are compared with this much slack, so ten jobs of a tenth
/// fit a cap of one despite binary fractions.
const EPSILON: f64 = 1e-9;

impl Costs {
    /// Reads the table at `path`; None when there is no table (costs are then not shown).
    pub fn load(
        path: &Path,
        gpu_override: Option<String>,
        max: Option<f64>,
    ) -> Result<Option<Self>, SetupError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(_) if max.is_none() => return Ok(None),
            Err(e) => {
                return Err(SetupError::unreadable(
                    format!("the price table HARNESS_MAX_COST needs ({shown})"),
                    e,
                ))
            }
        };
        let table: PriceTable = crate::text::yaml::from_str(&text)
            .map_err(|e| SetupError::invalid(&shown, e.to_string()))?;
        let gpu = gpu_override.or(table.gpu.clone()).ok_or_else(|| {
            SetupError::invalid(
                &shown,
                format!("set `gpu:` (or HARNESS_GPU) to one of {}", keys(&table)),
            )
        })?;
        let per_second = *table.per_second.get(&gpu).ok_or_else(|| {
            SetupError::invalid(
                &shown,
                format!("no price for GPU `{gpu}` (known: {})", keys(&table)),
            )
        })?;
        Self::new(table.currency, gpu, per_second, max)
            .map(Some)
            .map_err(|e| SetupError::invalid(&shown, e.to_string()))
    }

    /// Prices without a table file (benchmarks, tests, other front ends).
    pub fn new(
        currency: String,
        gpu: String,
        per_second: f64,
        max: Option<f64>,
    ) -> Result<Self, BadPrice> {
        if !(per_second >= 0.0 && per_second.is_finite()) {
            return Err(BadPrice { gpu });
        }
        Ok(Costs {
            currency,
            gpu,
            per_second,
            max,
            store: Store::Memory(Mutex::new(Ledger::default())),
        })
    }

    /// Keeps the ledger in `file`, shared with every process that names the
    /// same file (the processes of one nextest run), so one cap holds for all.
    pub fn shared(mut self, file: PathBuf) -> Self {
        self.store = Store::File(file);
        self
    }

    /// The estimated cost of `execution_ms`.
    pub fn of(&self, execution_ms: u64) -> f64 {
        execution_ms as f64 / 1000.0 * self.per_second
    }

    /// Runs `f` on the ledger, locked against other threads and processes.
    fn with_ledger<T>(&self, f: impl FnOnce(&mut Ledger) -> T) -> std::io::Result<T> {
        match &self.store {
            Store::Memory(m) => Ok(f(&mut m.lock().unwrap_or_else(|e| e.into_inner()))),
            Store::File(path) => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let mut file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)?;
                file.lock()?;
                let mut text = String::new();
                file.read_to_string(&mut text)?;
                // An empty file is a new ledger; an unreadable one is not trusted silently.
                let mut ledger: Ledger = if text.trim().is_empty() {
                    Ledger::default()
                } else {
                    serde_json::from_str(&text).map_err(|e| {
                        std::io::Error::other(format!("{}: {e}", path.display()))
                    })?
                };
                let out = f(&mut ledger);
                let json = serde_json::to_vec(&ledger).map_err(std::io::Error::other)?;
                file.set_len(0)?;
                file.seek(SeekFrom::Start(0))?;
                file.write_all(&json)?;
                file.unlock()?;
                Ok(out)
            }
        }
    }

    /// What finished jobs cost so far.
    #[cfg(test)]
    pub fn spent(&self) -> f64 {
        self.with_ledger(|l| l.spent).unwrap_or(f64::NAN)
    }

    /// Reserves the next job's cost before it is submitted: `expected`, or the
    /// dearest job seen so far if that is more, on top of what is spent and what
    /// the jobs in flight hold. When it would fit once jobs in flight settle, it
    /// waits for them; when it cannot fit, it is refused with the reason. A job
    /// whose cost nobody can guess yet (no budget, no job settled) waits until
    /// nothing else is in flight, so the first price is learnt before the cap is spent.
    pub async fn reserve(self: &Arc<Self>, expected: f64) -> Result<Reservation, CapRefused> {
        loop {
            // The ledger is shared between processes under a file lock: a
            // blocking wait, kept off the async worker.
            match crate::clock::blocking(|| self.attempt(expected)) {
                Attempt::Granted(r) => return Ok(r),
                Attempt::Refused(why) => return Err(CapRefused(why)),
                Attempt::Wait => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    /// One reservation attempt, without waiting.
    fn attempt(self: &Arc<Self>, expected: f64) -> Attempt {
        let hold = format!(
            "{}:{}",
            std::process::id(),
            NEXT_HOLD.fetch_add(1, Ordering::Relaxed)
        );
        let (currency, gpu) = (&self.currency, &self.gpu);
        let decided = self.with_ledger(|l| {
            l.drop_dead_holders();
            let amount = expected.max(l.largest);
            let reserved = l.reserved();
            if let Some(max) = self.max {
                let why = || {
                    format!(
                        "not submitted: HARNESS_MAX_COST {currency} {max:.4} would be passed (spent {:.4}, in flight {reserved:.4}, this job ~{amount:.4} on {gpu})",
                        l.spent
                    )
                };
                if l.spent + amount > max + EPSILON || l.spent >= max - EPSILON {
                    return Err(why());
                }
                let unknown = amount <= 0.0 && !l.holds.is_empty();
                if l.spent + reserved + amount > max + EPSILON || unknown {
                    return Ok(false);
                }
            }
            l.holds.insert(hold.clone(), amount);
            Ok(true)
        });
        match decided {
            Ok(Ok(true)) => Attempt::Granted(Reservation {
                costs: self.clone(),
                hold,
                settled: false,
            }),
            Ok(Ok(false)) => Attempt::Wait,
            Ok(Err(why)) => Attempt::Refused(why),
            Err(e) => Attempt::Refused(format!(
                "not submitted: the spending ledger could not be read: {e}"
            )),
        }
    }

    fn settle(&self, hold: &str, actual: f64) {
        let result = self.with_ledger(|l| {
            l.holds.remove(hold);
            l.spent += actual;
            l.largest = l.largest.max(actual);
        });
        if let Err(e) = result {
            eprintln!("endpoint-harness: warning: the spending ledger was not updated: {e}");
        }
    }
}

fn keys(t: &PriceTable) -> String {
    t.per_second.keys().cloned().collect::<Vec<_>>().join(", ")
}

/// A price that is not a non-negative number.
#[derive(Debug, thiserror::Error)]
#[error("the price for `{gpu}` must be a non-negative number")]
pub struct BadPrice {
    /// The GPU class it was given for.
    pub gpu: String,
}

/// The spending cap refuses the next job: why (what is spent, held and asked).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct CapRefused(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn prices_and_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("costs.yaml");
        std::fs::write(
            &f,
            "gpu: ADA_24\nper_second:\n  ADA_24: 0.0005\n  AMPERE_80: 0.001\n",
        )
        .unwrap();
        let c = Arc::new(Costs::load(&f, None, Some(0.01)).unwrap().unwrap());
        assert!((c.of(4000) - 0.002).abs() < 1e-12);
        // Jobs in flight hold their share: the cap counts them before they finish.
        let a = block_on(c.reserve(0.002)).unwrap();
        let b = block_on(c.reserve(0.002)).unwrap();
        a.settle(0.004);
        // The dearest job seen (0.004) is what the next one is expected to cost.
        let d = block_on(c.reserve(0.001)).unwrap();
        // Spent 0.004 + in flight 0.006 + 0.004: it would fit once those settle, so it waits.
        assert!(matches!(c.attempt(0.0), Attempt::Wait));
        // A job that never ran gives its share back.
        drop(b);
        drop(d);
        assert!(block_on(c.reserve(0.004)).is_ok());
        assert!((c.spent() - 0.004).abs() < 1e-12);
        // What can never fit is refused, with the figures.
        let e = block_on(c.reserve(0.007)).unwrap_err();
        assert!(
            e.0.starts_with("not submitted: HARNESS_MAX_COST USD 0.0100 would be passed (spent 0.0040, in flight 0.0000, this job ~0.0070"),
            "{e}"
        );
        let c = Costs::load(&f, Some("AMPERE_80".into()), None)
            .unwrap()
            .unwrap();
        assert_eq!(c.per_second, 0.001);
        assert!(Costs::load(&f, Some("H200".into()), None)
            .unwrap_err()
            .to_string()
            .contains("no price for GPU `H200`"));
        assert!(Costs::load(&dir.path().join("none.yaml"), None, None)
            .unwrap()
            .is_none());
    }

    /// 8 threads × 50 jobs, each job worth a tenth of the cap: exactly 10 are
    /// submitted. `each` gives every thread its ledger handle.
    fn eight_by_fifty(each: impl Fn() -> Arc<Costs> + Sync) -> (usize, f64) {
        let submitted = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                let costs = each();
                let submitted = &submitted;
                scope.spawn(move || {
                    block_on(async {
                        for _ in 0..50 {
                            let Ok(r) = costs.reserve(0.1).await else { continue };
                            submitted.fetch_add(1, Ordering::SeqCst);
                            // The job runs a while, then costs what was expected.
                            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
                            r.settle(0.1);
                        }
                    })
                });
            }
        });
        (submitted.into_inner() as usize, each().spent())
    }

    fn capped() -> Costs {
        Costs::new("USD".into(), "ADA_24".into(), 0.0005, Some(1.0)).unwrap()
    }

    #[test]
    fn the_cap_holds_across_threads_of_one_process() {
        let shared = Arc::new(capped());
        let (n, spent) = eight_by_fifty(|| shared.clone());
        assert_eq!(n, 10);
        assert!((spent - 1.0).abs() < 1e-9, "{spent}");
    }

    #[test]
    fn the_cap_holds_across_processes_sharing_a_ledger_file() {
        // Each thread has its own `Costs`, as each nextest process does: only the file is shared.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".trials/run/cost.ledger");
        let (n, spent) = eight_by_fifty(|| Arc::new(capped().shared(file.clone())));
        assert_eq!(n, 10);
        assert!((spent - 1.0).abs() < 1e-9, "{spent}");
        let ledger: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(ledger["holds"], serde_json::json!({}), "every hold was settled");
    }

    #[test]
    fn an_unknown_price_waits_for_the_first_job_to_settle() {
        let c = Arc::new(capped());
        let first = block_on(c.reserve(0.0)).unwrap();
        assert!(matches!(c.attempt(0.0), Attempt::Wait));
        first.settle(0.6);
        // Now the price is known: 0.6 more would pass the cap of 1.0.
        assert!(block_on(c.reserve(0.0)).is_err());
    }

    #[test]
    fn holds_of_a_process_that_died_are_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ledger.json");
        // No process has that pid (above pid_max), so its holds are stale.
        std::fs::write(&file, r#"{"spent":0.0,"largest":0.0,"holds":{"999999999:0":0.9}}"#).unwrap();
        let c = Arc::new(capped().shared(file));
        assert!(block_on(c.reserve(0.5)).is_ok());
    }
}
