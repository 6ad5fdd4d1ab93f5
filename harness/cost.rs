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
    spent: Mutex<f64>,
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
            spent: Mutex::new(0.0),
        }))
    }

    /// The estimated cost of `execution_ms`.
    pub fn of(&self, execution_ms: u64) -> f64 {
        execution_ms as f64 / 1000.0 * self.per_second
    }

    /// Records a finished job's cost.
    pub fn add(&self, cost: f64) {
        *self.spent.lock().unwrap_or_else(|e| e.into_inner()) += cost;
    }

    pub fn spent(&self) -> f64 {
        *self.spent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why the next job (expected to cost `expected`) must not be submitted, if so.
    pub fn refuse(&self, expected: f64) -> Option<String> {
        let max = self.max?;
        let spent = self.spent();
        (spent + expected > max || spent >= max).then(|| {
            format!(
                "not submitted: HARNESS_MAX_COST {} {max:.4} would be passed (spent {spent:.4}, this job ~{expected:.4} on {})",
                self.currency, self.gpu
            )
        })
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
        let c = Costs::load(&f, None, Some(0.01)).unwrap().unwrap();
        assert!((c.of(4000) - 0.002).abs() < 1e-12);
        assert!(c.refuse(0.002).is_none());
        c.add(0.009);
        assert!(c
            .refuse(0.002)
            .unwrap()
            .starts_with("not submitted: HARNESS_MAX_COST USD 0.0100 would be passed"));
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
