//! The endpoint's own evidence beside a trial: after the jobs, who ran each
//! (the workers list's GPU type and release), and for a red or slow trial
//! (failed, timed out, over budget, an endpoint error) the log lines of each
//! job's worker around the job's lifetime. Only targets with a management API
//! (a live RunPod endpoint, the harness's mock) have it; `HARNESS_WORKER_LOGS=off`
//! leaves the logs out. Nothing here changes a verdict.

use std::time::{Duration, SystemTime};

use crate::model::{RunRecord, Verdict};
use crate::runpod::evidence::{EndpointApi, LogBounds};

/// Jobs whose worker logs are fetched at most per trial (the last ones).
const LOGGED_RUNS: usize = 3;

/// Whether the verdict calls for the worker's side of the story.
pub(crate) fn red(verdict: Verdict) -> bool {
    matches!(verdict, Verdict::Failed | Verdict::TimedOut | Verdict::OverBudget | Verdict::Error)
}

/// Fills in each run's worker facts, and for a red trial its worker's logs.
pub(crate) async fn gather(api: &EndpointApi, runs: &mut [RunRecord], verdict: Verdict, logs_on: bool) {
    if !runs.iter().any(|r| r.worker_id.is_some()) {
        return;
    }
    if let Ok(Ok(workers)) = tokio::time::timeout(Duration::from_secs(5), api.workers()).await {
        for r in runs.iter_mut() {
            let Some(id) = &r.worker_id else { continue };
            if let Some((_, facts)) = workers.iter().find(|(w, _)| w == id) {
                r.worker = Some(facts.clone());
            }
        }
    }
    if !red(verdict) || !logs_on {
        return;
    }
    let n = runs.len();
    for r in runs.iter_mut().skip(n.saturating_sub(LOGGED_RUNS)) {
        let (Some(worker), Some(submitted)) = (r.worker_id.clone(), r.submitted_at.as_deref()) else {
            continue;
        };
        let Ok(submitted) = humantime::parse_rfc3339_weak(submitted) else { continue };
        let since = submitted.checked_sub(Duration::from_secs(5)).unwrap_or(submitted);
        let until = submitted + Duration::from_millis(r.total_ms) + Duration::from_secs(5);
        let until = until.min(SystemTime::now() + Duration::from_secs(5));
        let mut logs = api.logs(&worker, since, until, LogBounds::default()).await;
        if let Some(job) = &r.job_id {
            keep_own_lines(&mut logs, job);
        }
        r.worker_logs = Some(logs);
    }
}

/// Drops the lines that name another job: a worker that runs jobs side by
/// side (the mock, a worker with concurrency) interleaves their lines in the
/// job's window. Lines that name no job (ComfyUI's own, a traceback) stay.
pub(crate) fn keep_own_lines(logs: &mut crate::model::WorkerLogs, job: &str) {
    use std::sync::OnceLock;
    static ID: OnceLock<regex::Regex> = OnceLock::new();
    let id = ID.get_or_init(|| regex::Regex::new(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:-[a-z]+\d+)?\b").expect("a valid pattern"));
    let own = job.get(..36).unwrap_or(job);
    logs.lines.retain(|l| id.find_iter(&l.line).all(|m| m.as_str().starts_with(own)));
}

/// The message lines for a red trial: each logged job's last lines.
pub(crate) fn describe(runs: &[RunRecord], out: &mut String) {
    use std::fmt::Write;
    const SHOWN: usize = 12;
    for r in runs {
        let Some(logs) = &r.worker_logs else { continue };
        let who = match &r.worker {
            Some(f) => {
                let mut parts = Vec::new();
                parts.extend(f.gpu_type.clone());
                parts.extend(f.version.as_ref().map(|v| format!("release {v}")));
                if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
            }
            None => String::new(),
        };
        if let Some(note) = &logs.note {
            let _ = writeln!(out, "  · worker {}{who}: {note}", logs.worker_id);
        }
        if logs.lines.is_empty() {
            continue;
        }
        let shown = logs.lines.len().min(SHOWN);
        let _ = writeln!(
            out,
            "  · worker {}{who}, its last {shown} log line(s) around job {}:",
            logs.worker_id,
            r.job_id.as_deref().unwrap_or("?")
        );
        for l in &logs.lines[logs.lines.len() - shown..] {
            let _ = writeln!(out, "      {} [{}] {}", l.ts, l.source, crate::text::truncate(&crate::text::one_line(&l.line), 200));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{LogLine, WorkerLogs};

    /// Two jobs on one worker: each job's lines, and the lines of no job, stay;
    /// the other job's go.
    #[test]
    fn a_jobs_log_keeps_its_own_lines_and_drops_another_jobs() {
        let (mine, theirs) = ("13dd39fe-d221-4191-a7b2-0a7d1669d6e0-u1", "7b2c0a41-9d3e-4c55-8e1f-2a6b7c8d9e0f-u1");
        let line = |t: &str| LogLine { ts: "2026-12-07T00:00:00.000Z".into(), source: "container".into(), line: t.into() };
        let mut logs = WorkerLogs {
            lines: vec![
                line(&format!("worker-comfyui - Job received: {mine}")),
                line(&format!("worker-comfyui - Job received: {theirs}")),
                line("got prompt"),
                line(&format!("worker-comfyui - Job {theirs} completed")),
                line("torch.OutOfMemoryError: CUDA out of memory"),
                line(&format!("worker-comfyui - Job {mine} failed")),
            ],
            ..WorkerLogs::default()
        };
        super::keep_own_lines(&mut logs, mine);
        let kept: Vec<&str> = logs.lines.iter().map(|l| l.line.as_str()).collect();
        assert_eq!(kept.len(), 4, "{kept:?}");
        assert!(kept.iter().all(|l| !l.contains(theirs)), "{kept:?}");
    }
}

