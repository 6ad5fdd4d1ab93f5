//! What a trial needs from the run: the target, the in-flight cap, where
//! reports and references go, progress, prices and recording.

use std::path::PathBuf;
use std::sync::Arc;

use crate::runpod::job::Watch;
use crate::targets::Target;

/// Everything a trial needs from the run.
pub struct TrialEnv {
    /// What runs the jobs.
    pub target: Arc<dyn Target>,
    /// Caps jobs in flight per endpoint across trial threads.
    pub in_flight: Arc<tokio::sync::Semaphore>,
    /// The reports folder (returned images go under `images/`).
    pub reports_dir: PathBuf,
    /// Reference snapshot settings.
    pub snapshots: Arc<crate::snapshot::Config>,
    /// Queue grace and progress observer for this scenario's jobs.
    pub watch: Watch,
    /// Price table and spending cap, when configured.
    pub costs: Option<Arc<crate::results::cost::Costs>>,
    /// Mocks folder to record cassettes into (`HARNESS_RECORD=1`, live and local targets).
    pub record: Option<PathBuf>,
    /// Fetch the worker's log lines for a red trial (`HARNESS_WORKER_LOGS`).
    pub worker_logs: bool,
    /// The repository commit of the run (the provenance of references written).
    pub commit: Option<String>,
    /// Worker fingerprints read so far in the run.
    pub fingerprints: Arc<super::fingerprint::Fingerprints>,
    /// How much of one job's output is fetched and kept.
    pub output_limits: crate::runpod::output::Limits,
}

impl TrialEnv {
    /// Where a reference written now comes from.
    pub async fn provenance(&self, fingerprint: Option<&crate::model::Fingerprint>) -> crate::snapshot::Provenance {
        let facts = self.target.facts().await;
        crate::snapshot::Provenance {
            endpoint: Some(self.target.label().to_string()),
            gpu: facts.gpu,
            worker_image: facts.software,
            commit: self.commit.clone(),
            fingerprint: fingerprint.cloned().unwrap_or_default(),
        }
    }
}
