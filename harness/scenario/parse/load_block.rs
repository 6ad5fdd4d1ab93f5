//! Validation of `load:` and of the budgets only a load run has (`p99`,
//! `error_rate`, `cold_starts`, `throughput`), each problem at its key.

use serde_json::Value;

use super::Cx;
use crate::scenario::raw::RawLoad;
use crate::scenario::*;

/// The most jobs one load run may submit, and the most in flight.
const MAX_JOBS: u32 = 100_000;
const MAX_CONCURRENCY: u32 = 10_000;

impl Cx<'_> {
    pub(super) fn load(&mut self, raw: RawLoad, repeat: u32) -> Option<Load> {
        let rate = raw
            .rate
            .as_ref()
            .and_then(|v| self.per("load.rate", v, 1.0));
        if raw.concurrency.is_none() && rate.is_none() {
            self.key_err(
                "load",
                "`load` needs `concurrency` (jobs in flight) or `rate` (arrivals per second)",
                Some("e.g. `load: {concurrency: 8, jobs: 40}`".into()),
            );
        }
        let concurrency = raw
            .concurrency
            .unwrap_or(if rate.is_some() { 1000 } else { 1 });
        if concurrency == 0 || concurrency > MAX_CONCURRENCY {
            self.val_err(
                "load.concurrency",
                format!("`load.concurrency` must be 1..={MAX_CONCURRENCY}, found {concurrency}"),
                None,
            );
        }
        if raw.jobs.is_none() && raw.duration.is_none() {
            self.key_err(
                "load",
                "`load` needs `jobs` (how many) or `duration` (how long)",
                None,
            );
        }
        if let Some(j) = raw.jobs.filter(|j| *j == 0 || *j > MAX_JOBS) {
            self.val_err(
                "load.jobs",
                format!("`load.jobs` must be 1..={MAX_JOBS}, found {j}"),
                None,
            );
        }
        if repeat > 1 {
            self.key_err(
                "repeat",
                "`repeat` and `load` do not go together: `load.jobs` says how many",
                None,
            );
        }
        let vary_seed = match raw.vary.as_deref() {
            None => false,
            Some("seed") => true,
            Some(other) => {
                self.one_of("load.vary", other, &["seed"]);
                false
            }
        };
        let duration = raw
            .duration
            .as_deref()
            .and_then(|d| self.duration("load.duration", d));
        let ramp = raw
            .ramp
            .as_deref()
            .and_then(|d| self.duration("load.ramp", d));
        let cold_start_over = raw
            .cold_start_over
            .as_deref()
            .and_then(|d| self.duration("load.cold_start_over", d))
            .unwrap_or(Duration::from_secs(10));
        let sample_every = raw
            .sample_every
            .as_deref()
            .and_then(|d| self.duration("load.sample_every", d))
            .unwrap_or(Duration::from_secs(1));
        Some(Load {
            concurrency: concurrency.clamp(1, MAX_CONCURRENCY),
            rate,
            jobs: raw.jobs,
            duration,
            ramp,
            vary_seed,
            cold_start_over,
            sample_every,
        })
    }

    /// A rate: a number per `unit` seconds' worth of default unit, or `"N/s"`, `"N/m"`, `"N/h"`.
    /// Returns events per second when `per_second` is 1.0, per minute when 60.0.
    pub(super) fn per(&mut self, path: &str, v: &Value, default_unit_s: f64) -> Option<f64> {
        let (n, unit_s) = match v {
            Value::Number(n) => (n.as_f64(), default_unit_s),
            Value::String(s) => {
                let (n, u) = s.split_once('/').unwrap_or((s.as_str(), ""));
                let unit = match u.trim() {
                    "" => Some(default_unit_s),
                    "s" | "sec" => Some(1.0),
                    "m" | "min" => Some(60.0),
                    "h" => Some(3600.0),
                    _ => None,
                };
                match unit {
                    Some(u) => (n.trim().parse::<f64>().ok(), u),
                    None => (None, 1.0),
                }
            }
            _ => (None, 1.0),
        };
        match n.filter(|n| *n > 0.0 && n.is_finite()) {
            // Normalised to events per `default_unit_s`.
            Some(n) => Some(n / unit_s * default_unit_s),
            None => {
                self.val_err(
                    path,
                    format!("`{path}` must be a positive rate like 2, \"2/s\" or \"30/m\""),
                    None,
                );
                None
            }
        }
    }

    /// `"1%"`, `0.01`: a share of jobs.
    pub(super) fn share(&mut self, path: &str, v: &Value) -> Option<f64> {
        let n = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => match s.trim().strip_suffix('%') {
                Some(p) => p.trim().parse::<f64>().ok().map(|p| p / 100.0),
                None => s.trim().parse::<f64>().ok(),
            },
            _ => None,
        };
        match n.filter(|n| (0.0..=1.0).contains(n)) {
            Some(n) => Some(n),
            None => {
                self.val_err(
                    path,
                    format!("`{path}` must be a share like \"1%\" or 0.01 (0 to 100%)"),
                    None,
                );
                None
            }
        }
    }
}
