//! Estimated GPU cost from RunPod's `executionTime`, with a per-GPU price table
//! (`costs.yaml`, or `$HARNESS_COSTS`), and the run's spending cap
//! (`HARNESS_MAX_COST`): once the estimate would pass it, no further job is
//! submitted and the scenarios say so.
//!
//! The estimate counts execution only: `delayTime` mixes unbilled queueing with
//! billed cold start and cannot be split, so the real bill can be higher.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde::Deserialize;

use crate::setup::SetupError;

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
    ledger: Mutex<Ledger>,
}

/// What has been spent, what jobs in flight have reserved, and the dearest job seen.
#[derive(Debug, Default)]
struct Ledger {
    spent: f64,
    reserved: f64,
    largest: f64,
}

/// A job's share of the cap, held from before it is submitted until it is
/// settled with its real cost (or released at 0 if it never ran).
#[derive(Debug)]
pub struct Reservation {
    costs: std::sync::Arc<Costs>,
    amount: f64,
    settled: bool,
}

impl Reservation {
    /// Replaces the reservation with the job's actual cost.
    pub fn settle(mut self, actual: f64) {
        self.settled = true;
        self.costs.settle(self.amount, actual);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.settled {
            self.costs.settle(self.amount, 0.0);
        }
    }
}

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
        let table: PriceTable = serde_yaml_ng::from_str(&text)
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
        if !(per_second >= 0.0 && per_second.is_finite()) {
            return Err(SetupError::invalid(
                &shown,
                format!("the price for `{gpu}` must be a non-negative number"),
            ));
        }
        Ok(Some(Costs {
            currency: table.currency,
            gpu,
            per_second,
            max,
            ledger: Mutex::new(Ledger::default()),
        }))
    }

    /// The estimated cost of `execution_ms`.
    pub fn of(&self, execution_ms: u64) -> f64 {
        execution_ms as f64 / 1000.0 * self.per_second
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What finished jobs cost so far.
    #[cfg(test)]
    pub fn spent(&self) -> f64 {
        self.ledger().spent
    }

    /// Reserves the next job's cost before it is submitted: `expected`, or the
    /// dearest job seen so far if that is more, on top of what is spent and what
    /// the jobs in flight hold. Refused (with the reason) when the cap would be passed.
    pub fn reserve(self: &std::sync::Arc<Self>, expected: f64) -> Result<Reservation, String> {
        let mut l = self.ledger();
        let amount = expected.max(l.largest);
        if let Some(max) = self.max {
            let committed = l.spent + l.reserved;
            if committed + amount > max || committed >= max {
                return Err(format!(
                    "not submitted: HARNESS_MAX_COST {} {max:.4} would be passed (spent {:.4}, in flight {:.4}, this job ~{amount:.4} on {})",
                    self.currency, l.spent, l.reserved, self.gpu
                ));
            }
        }
        l.reserved += amount;
        Ok(Reservation {
            costs: self.clone(),
            amount,
            settled: false,
        })
    }

    fn settle(&self, reserved: f64, actual: f64) {
        let mut l = self.ledger();
        l.reserved = (l.reserved - reserved).max(0.0);
        l.spent += actual;
        l.largest = l.largest.max(actual);
    }
}

fn keys(t: &PriceTable) -> String {
    t.per_second.keys().cloned().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_and_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("costs.yaml");
        std::fs::write(
            &f,
            "gpu: ADA_24\nper_second:\n  ADA_24: 0.0005\n  AMPERE_80: 0.001\n",
        )
        .unwrap();
        let c = std::sync::Arc::new(Costs::load(&f, None, Some(0.01)).unwrap().unwrap());
        assert!((c.of(4000) - 0.002).abs() < 1e-12);
        // Jobs in flight hold their share: the cap counts them before they finish.
        let a = c.reserve(0.002).unwrap();
        let b = c.reserve(0.002).unwrap();
        a.settle(0.004);
        // The dearest job seen (0.004) is what the next one is expected to cost.
        let d = c.reserve(0.001).unwrap();
        assert!(c
            .reserve(0.0)
            .unwrap_err()
            .starts_with("not submitted: HARNESS_MAX_COST USD 0.0100 would be passed (spent 0.0040, in flight 0.0060"));
        // A job that never ran gives its share back.
        drop(b);
        drop(d);
        assert!(c.reserve(0.004).is_ok());
        assert!((c.spent() - 0.004).abs() < 1e-12);
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
}
