//! What the mock answers about a job: the `/status` body of each phase (the
//! progress update a running job's `output` holds, for behaviours that report
//! progress), and the terminal outcome, rendered once and sent to the job's
//! webhook.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::jobs::{Job, Outcome, Phase, Store};
use super::worker;
use crate::mock::behaviour::FinalStatus;
use crate::runpod::wire::{JobState, StatusAnswer};

impl Store {
    /// The progress update a running job's `output` holds, for behaviours
    /// with `progress` steps: the share of its execution time passed.
    fn progress(&self, job: &Job) -> Option<Value> {
        let steps = job.behaviour.progress;
        if steps == 0 {
            return None;
        }
        let (start, end) = match job.cluster.as_ref().and_then(|c| c.assignment(&job.id)) {
            Some(a) => (a.start, a.end),
            None => {
                let created = job.m.lock().unwrap_or_else(|e| e.into_inner()).created;
                let (q, e) = self.declared(job);
                let start = created + self.real(q);
                (start, start + self.real(e))
            }
        };
        let span = end.saturating_duration_since(start).as_secs_f64();
        let done = crate::mock::runpod::clock::now()
            .saturating_duration_since(start)
            .as_secs_f64();
        let share = if span > 0.0 {
            (done / span).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let value = ((share * steps as f64).floor() as u64).min(steps);
        let node = job
            .accepted
            .as_ref()
            .ok()
            .and_then(|a| a.plan.sampler.clone())
            .unwrap_or_else(|| "3".into());
        Some(serde_json::json!({
            "type": "progress",
            "value": value,
            "max": steps,
            "percent": (value as f64 * 1000.0 / steps as f64).round() / 10.0,
            "node": node,
        }))
    }

    /// The terminal outcome, computed (and rendered) on first need.
    pub async fn outcome(self: &Arc<Self>, job: &Arc<Job>, base_url: &str) -> Arc<Outcome> {
        if let Some(o) = job
            .m
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outcome
            .clone()
        {
            return o;
        }
        let (store, j, base) = (self.clone(), job.clone(), base_url.to_string());
        let computed = tokio::task::spawn_blocking(crate::mock::runpod::clock::carry(move || {
            store.compute(&j, &base)
        }))
        .await
        .unwrap_or_else(|e| {
            Arc::new(Outcome {
                status: JobState::Failed,
                error: Some(format!("mock worker crashed: {e}")),
                output: None,
                execution_ms: 0,
            })
        });
        let (outcome, first) = {
            let mut m = job.m.lock().unwrap_or_else(|e| e.into_inner());
            let first = m.outcome.is_none();
            (m.outcome.get_or_insert(computed).clone(), first)
        };
        if first {
            if let Some(url) = job.webhook.clone() {
                self.notify(job.clone(), url, base_url.to_string());
            }
        }
        outcome
    }

    /// POSTs the final status to the job's webhook, as RunPod does: loopback URLs
    /// only (the mock never calls out), and up to 2 retries 10 s (scaled) apart.
    fn notify(self: &Arc<Self>, job: Arc<Job>, url: String, base_url: String) {
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| url.starts_with(p));
        if !loopback {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            let Some(body) = store.status_body(&job, &base_url).await else {
                return;
            };
            let client = reqwest::Client::new();
            for attempt in 0..3 {
                if attempt > 0 {
                    tokio::time::sleep(store.real(Duration::from_secs(10))).await;
                }
                let sent = client
                    .post(&url)
                    .json(&body)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                if sent.is_ok_and(|r| r.status().is_success()) {
                    return;
                }
            }
        });
    }

    fn compute(&self, job: &Job, base_url: &str) -> Arc<Outcome> {
        let (_, exec) = self.declared(job);
        let execution_ms = exec.as_millis() as u64;
        let cancelled = job
            .m
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .cancelled
            .is_some();
        let b = &job.behaviour;
        let o = |status: JobState, error: Option<String>, output| {
            Arc::new(Outcome {
                status,
                error,
                output,
                execution_ms,
            })
        };
        if cancelled {
            return o(JobState::Cancelled, None, None);
        }
        if job.execution_timeout.is_some_and(|t| b.execution_d > t) {
            return o(JobState::TimedOut, None, None);
        }
        let accepted = match &job.accepted {
            Ok(a) => a,
            Err(e) => return o(JobState::Failed, Some(e.0.clone()), None),
        };
        match b.status {
            FinalStatus::Failed => o(JobState::Failed, b.error.clone(), None),
            FinalStatus::TimedOut => o(JobState::TimedOut, None, None),
            FinalStatus::Cancelled => o(JobState::Cancelled, None, None),
            FinalStatus::Completed => {
                let (output, files) = worker::output(accepted, b, &job.id, job.nonce, base_url);
                for f in files {
                    self.store_file(f.key, &job.id, f.bytes);
                }
                o(JobState::Completed, None, output)
            }
        }
    }

    /// The `/status` body of a job, or None when it has expired (404).
    pub async fn status_body(
        self: &Arc<Self>,
        job: &Arc<Job>,
        base_url: &str,
    ) -> Option<StatusAnswer> {
        let (q, _) = self.declared(job);
        let mut answer = StatusAnswer::new(&job.id, JobState::InQueue);
        match self.phase(job) {
            Phase::Expired => return None,
            Phase::Queued => {}
            Phase::Running => {
                answer.status = JobState::parse(&job.behaviour.running_state);
                answer.delay_ms = Some(q.as_millis() as u64);
                answer.worker_id = Some(self.worker_of(job));
                answer.output = self.progress(job);
            }
            Phase::Done(_) => {
                let o = self.outcome(job, base_url).await;
                answer.status = o.status.clone();
                answer.delay_ms = Some(q.as_millis() as u64);
                answer.worker_id = Some(self.worker_of(job));
                answer.output = o.output.clone();
                answer.error = o.error.clone();
                if o.status != JobState::Cancelled {
                    answer.execution_ms = Some(o.execution_ms);
                }
            }
        }
        Some(answer)
    }
}
