//! One throwaway endpoint's life: created under a unique name (a lost create
//! answer is recovered by looking the name up, never by a blind second
//! create), waited for until a worker is ready (failing fast on unhealthy or
//! long-throttled workers, with what the workers list and `/health` said),
//! then torn down exactly once: deleted, and verified gone by a GET that
//! answers 404. The state file is written before anything exists and removed
//! only after that verification.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::api::{ApiError, Manager, WorkerSummary};
use super::spec::Spec;
use super::state::{State, StateFile};
use crate::model::ProvisionReport;

/// Why the endpoint could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// A management call failed.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// No worker became ready in time.
    #[error("no worker ready after {}s (ready_timeout): {said}", .waited.as_secs())]
    NotReady {
        /// How long it waited.
        waited: Duration,
        /// The last workers summary and /health.
        said: String,
    },
    /// A worker is failing its health checks (a handler that crashes at start, a bad image).
    #[error("a worker is UNHEALTHY: {said}")]
    Unhealthy {
        /// The workers summary and /health.
        said: String,
    },
    /// Every worker waited on GPU capacity for too long.
    #[error("workers THROTTLED for {}s (throttled_limit): no capacity in the pools {pools}: {said}", .waited.as_secs())]
    Throttled {
        /// How long they were throttled.
        waited: Duration,
        /// The pools asked for.
        pools: String,
        /// The workers summary and /health.
        said: String,
    },
    /// Workers still ran an older release when `ready_timeout` ran out.
    #[error("{0}")]
    Rollout(crate::runpod::rollout::RolloutError),
    /// The state file cannot be written: nothing is created without it.
    #[error("cannot write the provision state file {path}: {error}")]
    State {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

/// A throwaway endpoint, from before its create call to its verified deletion.
pub struct Session {
    api: Manager,
    spec: Spec,
    name: String,
    state: StateFile,
    base: State,
    id: Mutex<Option<String>>,
    endpoint: Mutex<Option<Value>>,
    created_at: SystemTime,
    created: Instant,
    ready_after: Mutex<Option<Duration>>,
    peak: AtomicU32,
    price: Option<(f64, String)>,
    done: tokio::sync::Mutex<Option<ProvisionReport>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn say(msg: &str) {
    eprintln!("endpoint-harness: provision: {msg}");
}

impl Session {
    /// A session for endpoint `<prefix>-<run id>`, its state file under
    /// `reports`; `price` is the per-second price of one GPU of the first pool.
    pub fn new(
        api: Manager,
        spec: Spec,
        reports: &std::path::Path,
        run_id: &str,
        price: Option<(f64, String)>,
    ) -> Arc<Self> {
        let run = crate::paths::sanitize(run_id).replace('_', "-");
        let name = crate::text::truncate(&format!("{}-{run}", spec.name_prefix), 180).to_string();
        let created_at = SystemTime::now();
        let base = State {
            name: name.clone(),
            endpoint_id: None,
            management_url: api.base(),
            created_unix: created_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            image: spec.image.clone(),
        };
        Arc::new(Session {
            state: StateFile::new(reports, &name),
            api,
            spec,
            name,
            base,
            id: Mutex::new(None),
            endpoint: Mutex::new(None),
            created_at,
            created: Instant::now(),
            ready_after: Mutex::new(None),
            peak: AtomicU32::new(0),
            price,
            done: tokio::sync::Mutex::new(None),
        })
    }

    /// The endpoint's unique name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The endpoint id, once known.
    pub fn id(&self) -> Option<String> {
        lock(&self.id).clone()
    }

    /// The runtime URL of the endpoint (`.../v2/{id}`): from the create
    /// answer's `requestUrls.health` when given (so a mock or proxy that
    /// answers its own URLs works), else RunPod's runtime API.
    pub fn endpoint_url(&self) -> Option<String> {
        let id = self.id()?;
        let from_answer = lock(&self.endpoint).as_ref().and_then(|e| {
            e.pointer("/requestUrls/health")
                .and_then(Value::as_str)
                .and_then(|h| h.strip_suffix("/health"))
                .map(String::from)
        });
        Some(from_answer.unwrap_or_else(|| format!("{}/{id}", crate::targets::RUNPOD_API)))
    }

    fn adopt(&self, endpoint: Value) -> Result<(), ProvisionError> {
        let id = endpoint
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        *lock(&self.id) = Some(id.clone());
        *lock(&self.endpoint) = Some(endpoint);
        let mut s = self.base.clone();
        s.endpoint_id = Some(id);
        self.write_state(&s)
    }

    fn write_state(&self, s: &State) -> Result<(), ProvisionError> {
        self.state.write(s).map_err(|error| ProvisionError::State {
            path: self.state.path().display().to_string(),
            error,
        })
    }

    /// Creates the endpoint: the state file first, then one create call; a
    /// lost answer is looked up by name before anything is sent again.
    pub async fn create(&self) -> Result<(), ProvisionError> {
        self.write_state(&self.base)?;
        let body = self.spec.create_body(&self.name);
        say(&format!(
            "creating endpoint {} from {} on {} through {}",
            self.name,
            self.spec.image,
            self.spec.gpu.pools.join(","),
            self.api.base()
        ));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let err = match self.api.create(&body).await {
                Ok(e) => return self.adopt(e),
                Err(e) => e,
            };
            match &err {
                ApiError::Refused { .. } => return Err(err.into()),
                ApiError::RateLimited { after, .. } if attempt < 5 => {
                    say(&format!("{err}; waiting"));
                    tokio::time::sleep(*after).await;
                }
                ApiError::Unknown { .. } if attempt < 3 => {
                    say(&format!("{err}; looking for {} by name", self.name));
                    if let Some(found) = self.look_up().await {
                        say(&format!("found it: the create went through ({})", id_of(&found)));
                        return self.adopt(found);
                    }
                    say("not there: the create did not go through; sending it again");
                }
                _ => return Err(err.into()),
            }
        }
    }

    /// The endpoint named `self.name`, asked a few times (a just-created one
    /// may take a moment to be listed).
    async fn look_up(&self) -> Option<Value> {
        let mut wait = Duration::from_millis(250);
        for _ in 0..4 {
            if let Ok(mut found) = self.api.find_by_name(&self.name).await {
                if !found.is_empty() {
                    return Some(found.remove(0));
                }
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        None
    }

    /// Waits until a worker is IDLE or RUNNING. With `workers.min: 0` no
    /// worker starts before a job, so it does not wait.
    pub async fn wait_ready(&self) -> Result<(), ProvisionError> {
        let Some(id) = self.id() else { return Ok(()) };
        if self.spec.workers_min == 0 {
            say("workers.min is 0: not waiting for a worker; the first job starts one");
            return Ok(());
        }
        let start = Instant::now();
        let mut throttled_since: Option<Instant> = None;
        let mut every = Duration::from_millis(250);
        let mut last = WorkerSummary::default();
        loop {
            let (s, _) = self.api.workers(&id).await?;
            self.peak.fetch_max(s.total, Ordering::Relaxed);
            if s != last {
                say(&format!("{s} after {:.1}s", start.elapsed().as_secs_f64()));
            }
            if s.idle + s.running > 0 {
                *lock(&self.ready_after) = Some(self.created.elapsed());
                return Ok(());
            }
            if s.unhealthy > 0 {
                return Err(ProvisionError::Unhealthy {
                    said: self.said(&s).await,
                });
            }
            if s.throttled > 0 && s.throttled == s.total {
                let since = *throttled_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= self.spec.throttled_limit {
                    return Err(ProvisionError::Throttled {
                        waited: since.elapsed(),
                        pools: self.spec.gpu.pools.join(","),
                        said: self.said(&s).await,
                    });
                }
            } else {
                throttled_since = None;
            }
            if start.elapsed() >= self.spec.ready_timeout {
                return Err(ProvisionError::NotReady {
                    waited: start.elapsed(),
                    said: self.said(&s).await,
                });
            }
            last = s;
            let left = self.spec.ready_timeout.saturating_sub(start.elapsed());
            tokio::time::sleep(every.min(left)).await;
            every = (every * 2).min(Duration::from_secs(5));
        }
    }

    /// Waits, within what is left of `ready_timeout`, until every worker runs
    /// the endpoint's newest release. A releases route that cannot be read is
    /// said and not waited on: the endpoint was created with one release.
    pub async fn wait_rollout(&self) -> Result<(), ProvisionError> {
        let Some(id) = self.id() else { return Ok(()) };
        let Some(api) = self.api.endpoint_api(&id) else { return Ok(()) };
        let left = self.spec.ready_timeout.saturating_sub(self.created.elapsed());
        match crate::runpod::rollout::wait(&api, left, &say).await {
            Ok(_) => Ok(()),
            Err(crate::runpod::rollout::RolloutError::Read(e)) => {
                say(&format!("not waiting for a rolling release: {e}"));
                Ok(())
            }
            Err(e) => Err(ProvisionError::Rollout(e)),
        }
    }

    /// The workers summary and what `/health` answered, for an error.
    async fn said(&self, s: &WorkerSummary) -> String {
        let health = match self.endpoint_url() {
            Some(u) => self.api.health(&u).await,
            None => "no endpoint".into(),
        };
        format!("workers list: {s}; /health: {health}")
    }

    /// Samples the workers list now and then for the cost estimate, until the
    /// session is torn down or dropped.
    pub fn sample_workers(self: &Arc<Self>, handle: &tokio::runtime::Handle) {
        let weak = Arc::downgrade(self);
        handle.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(30)).await;
                let Some(s) = weak.upgrade() else { return };
                if s.done.try_lock().map(|d| d.is_some()).unwrap_or(true) {
                    return;
                }
                if let Some(id) = s.id() {
                    if let Ok((w, _)) = s.api.workers(&id).await {
                        s.peak.fetch_max(w.total, Ordering::Relaxed);
                    }
                }
            }
        });
    }

    /// Deletes the endpoint (and any other of the same unique name a lost
    /// create may have left), verifies each is gone, removes the state file.
    /// Runs once; later calls return the first result.
    pub async fn teardown(&self) -> ProvisionReport {
        let mut done = self.done.lock().await;
        if let Some(r) = done.as_ref() {
            return r.clone();
        }
        let mut ids: Vec<String> = self.id().into_iter().collect();
        let mut problems = Vec::new();
        match self.api.find_by_name(&self.name).await {
            Ok(found) => {
                for e in found {
                    let id = id_of(&e);
                    if !id.is_empty() && !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
            Err(e) => problems.push(format!("cannot list endpoints to find strays: {e}")),
        }
        if let Some(id) = self.id() {
            if let Ok((w, _)) = self.api.workers(&id).await {
                self.peak.fetch_max(w.total, Ordering::Relaxed);
            }
        }
        for id in &ids {
            if let Err(e) = delete_verified(&self.api, id).await {
                problems.push(e.to_string());
            }
        }
        let deleted = problems.is_empty();
        let teardown = if deleted {
            if let Err(e) = self.state.remove() {
                say(&format!("could not remove {}: {e}", self.state.path().display()));
            }
            if ids.is_empty() {
                "nothing was created".to_string()
            } else {
                format!("deleted {} (GET answered 404)", ids.join(", "))
            }
        } else {
            let msg = format!(
                "NOT verified deleted: {}; state kept in {}: run `endpoint-harness provision cleanup`",
                problems.join("; "),
                self.state.path().display()
            );
            say(&msg);
            msg
        };
        if deleted && !ids.is_empty() {
            say(&format!("{} {teardown}", self.name));
        }
        let r = self.report(deleted, teardown);
        *done = Some(r.clone());
        r
    }

    fn report(&self, deleted: bool, teardown: String) -> ProvisionReport {
        let lifetime = self.created.elapsed().as_secs_f64();
        let workers = self
            .peak
            .load(Ordering::Relaxed)
            .max(self.spec.workers_min)
            .max(1);
        let gpus = f64::from(self.spec.gpu.count.unwrap_or(1));
        ProvisionReport {
            name: self.name.clone(),
            endpoint_id: self.id(),
            image: self.spec.image.clone(),
            gpu_pools: self.spec.gpu.pools.clone(),
            created_at: humantime::format_rfc3339_seconds(self.created_at).to_string(),
            ready_after_s: lock(&self.ready_after).map(|d| d.as_secs_f64()),
            lifetime_s: lifetime,
            peak_workers: self.peak.load(Ordering::Relaxed),
            estimated_cost: self
                .price
                .as_ref()
                .map(|(p, _)| lifetime * f64::from(workers) * gpus * p),
            currency: self.price.as_ref().map(|(_, c)| c.clone()),
            teardown,
            deleted,
        }
    }
}

/// An endpoint answer's `id` (empty when missing).
pub(crate) fn id_of(e: &Value) -> String {
    e.get("id").and_then(Value::as_str).unwrap_or("").to_string()
}

/// DELETE, then GET until it answers 404 (a few tries with backoff).
pub(crate) async fn delete_verified(api: &Manager, id: &str) -> Result<(), DeleteError> {
    api.delete(id).await.map_err(|e| DeleteError::Delete { id: id.to_string(), error: e })?;
    let mut wait = Duration::from_millis(200);
    for _ in 0..6 {
        match api.get(id).await {
            Ok(None) => return Ok(()),
            Ok(Some(_)) => {}
            Err(e) => return Err(DeleteError::Verify { id: id.to_string(), error: e }),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(5));
    }
    Err(DeleteError::StillThere { id: id.to_string() })
}

/// Why an endpoint could not be verified deleted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeleteError {
    /// The DELETE failed.
    #[error("delete {id}: {error}")]
    Delete { id: String, error: ApiError },
    /// The GET that should answer 404 failed.
    #[error("verify {id} is gone: {error}")]
    Verify { id: String, error: ApiError },
    /// It still answers after the delete.
    #[error("{id} still answers GET after its delete")]
    StillThere { id: String },
}
