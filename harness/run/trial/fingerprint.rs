//! The fingerprint of each job, with no configuration: what the target says
//! of itself (ComfyUI's `/system_stats`), and where the target has a
//! management API (a live endpoint, the harness's mock) what it says of the
//! worker that ran the job: the workers list's GPU type and release, and the
//! stack ComfyUI printed into that worker's log when it started. Each worker
//! is read once per run, for passing trials too; a read that fails leaves
//! `unknown` fields and a note, never a failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::model::{ClassField, Fingerprint};
use crate::runpod::evidence::{EndpointApi, LogBounds};
use crate::targets::Target;

/// One worker's fingerprint, read once by whichever trial asks first.
type Once = Arc<OnceCell<Fingerprint>>;

/// Worker fingerprints read so far in this run, by target and worker.
#[derive(Default)]
pub struct Fingerprints {
    workers: Mutex<HashMap<(String, String), Once>>,
}

impl Fingerprints {
    /// The fingerprint of a job that `worker` ran on `target`.
    pub async fn of(&self, target: &dyn Target, worker: Option<&str>) -> Fingerprint {
        let own = target.facts().await.fingerprint;
        let (Some(api), Some(worker)) = (target.endpoint_api(), worker) else {
            return own;
        };
        let cell = {
            let mut map = self.workers.lock().unwrap_or_else(|e| e.into_inner());
            map.entry((target.label().to_string(), worker.to_string())).or_default().clone()
        };
        let mut fp = cell.get_or_init(|| read_worker(api, worker)).await.clone();
        fp.fill_from(&own);
        fp
    }
}

/// What the management API says of one worker: its GPU type and release,
/// then the stack from its log.
async fn read_worker(api: &EndpointApi, worker: &str) -> Fingerprint {
    let mut fp = Fingerprint::default();
    match tokio::time::timeout(Duration::from_secs(5), api.workers()).await {
        Ok(Ok(list)) => match list.iter().find(|(w, _)| w == worker) {
            Some((_, facts)) => {
                if let Some(g) = &facts.gpu_type {
                    fp.set(ClassField::Gpu, g);
                }
                if let Some(v) = &facts.version {
                    fp.set(ClassField::Release, v);
                }
            }
            None => fp.notes.push(format!("worker {worker} is not in the workers list (gone already?): its GPU type is not known")),
        },
        Ok(Err(e)) => fp.notes.push(format!("the workers list was not read: {e}")),
        Err(_) => fp.notes.push("the workers list did not answer within 5 s".into()),
    }
    let bounds = LogBounds {
        time: Duration::from_secs(5),
        idle: Duration::from_millis(800),
        bytes: 1024 * 1024,
        tail: 5000,
    };
    let stack = api.stack(worker, bounds).await;
    fp.fill_from(&stack);
    fp
}
