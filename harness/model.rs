//! The result model: verdicts and run/scenario/job records, pure data.
//!
//! Everything that reads results (the report writers, history, trends, the
//! merge and compare commands) reads these types and nothing else; building
//! them takes the run's identity ([`RunInfo`]) as input, so the model has no
//! clock, no environment and no I/O. `report.json` is a [`RunReport`]
//! serialised (`schemas/report.schema.json`).

mod check;
mod fingerprint;
mod job;
mod load;
mod media;
mod progress;
mod provision;
mod run;
mod snapshot;
mod timing;
mod verdict;
mod worker;

pub use check::{collapse, CheckFailure, ImageFormat, ImageInfo};
pub use fingerprint::{ClassField, ClassKey, Fingerprint, UNKNOWN as UNKNOWN_FIELD};
pub use job::{ImageRecord, OutputShape, ProgressSeen, RunRecord, Seen, PROGRESS_KEPT};
pub use load::{ColdStart, HealthPoint, LoadPoint, LoadReport, LoadSpread};
pub use media::{VideoInfo, VideoRecord};
pub use progress::JobProgress;
pub use provision::ProvisionReport;
pub use run::{
    CostSummary, RunInfo, RunReport, ScenarioHead, ScenarioReport, TargetKind, SCHEMA_VERSION,
};
pub use snapshot::{Calibration, Metrics, SnapshotRecord};
pub use timing::{BudgetMiss, BudgetReport, NodeTiming, Spread, Timing};
pub use verdict::{Counts, Verdict};
pub use worker::{LogLine, WorkerFacts, WorkerLogs, LOG_LINES_KEPT};

/// Reading figures back that a report wrote: a float that was not finite
/// (NaN, infinite) is written by serde_json as `null`, and is read back as NaN
/// instead of making the whole report unreadable.
pub(crate) mod lenient {
    use serde::{Deserialize, Deserializer};

    /// A number, or `null` as NaN.
    pub(crate) fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}
