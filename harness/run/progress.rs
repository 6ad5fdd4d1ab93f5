//! Progress for long runs: every interval, one line on stderr naming the
//! scenarios whose jobs are still waiting, their state and elapsed time. Stdout
//! stays libtest's, so `--format terse` and `--list` are untouched.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::runpod::job::Observer;
use crate::runpod::wire::{JobProgress, JobState};


#[derive(Default)]
pub struct Progress {
    /// Scenario -> (state, job submitted at).
    jobs: Mutex<BTreeMap<String, (String, Instant)>>,
}

impl Progress {
    /// An observer that records the states of one scenario's job.
    pub fn observer(self: &Arc<Self>, scenario: &str) -> Observer {
        let me = self.clone();
        let name = scenario.to_string();
        Arc::new(move |_job: &str, state: &JobState, progress: Option<&JobProgress>| {
            let mut jobs = me.jobs.lock().unwrap_or_else(|e| e.into_inner());
            if state.is_terminal() {
                jobs.remove(&name);
            } else {
                let since = jobs.get(&name).map_or_else(Instant::now, |(_, t)| *t);
                let shown = match progress {
                    Some(p) => format!("{state} {p}"),
                    None => state.to_string(),
                };
                jobs.insert(name.clone(), (shown, since));
            }
        })
    }

    /// The progress line for jobs waiting longer than `min_age`, if any.
    pub fn line(&self, min_age: Duration) -> Option<String> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let parts: Vec<String> = jobs
            .iter()
            .filter(|(_, (_, t))| t.elapsed() >= min_age)
            .map(|(name, (state, t))| {
                format!(
                    "{name} {state} {}",
                    humantime::format_duration(Duration::from_secs(t.elapsed().as_secs()))
                )
            })
            .collect();
        (!parts.is_empty()).then(|| {
            format!(
                "endpoint-harness: waiting ({}): {}",
                parts.len(),
                parts.join(", ")
            )
        })
    }

    /// Prints a line every `every` on a background thread while jobs wait.
    pub fn start(self: &Arc<Self>, every: Duration) {
        let me = self.clone();
        let _ = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || loop {
                std::thread::sleep(every);
                if let Some(line) = me.line(every) {
                    eprintln!("{line}");
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_waiting_jobs_and_forgets_finished_ones() {
        let p = Arc::new(Progress::default());
        let a = p.observer("sdxl/a");
        let b = p.observer("flux/b");
        a("j1", &JobState::InQueue, None);
        b("j2", &JobState::InProgress, None);
        assert_eq!(
            p.line(Duration::ZERO).unwrap(),
            "endpoint-harness: waiting (2): flux/b IN_PROGRESS 0s, sdxl/a IN_QUEUE 0s"
        );
        // worker-comfyui PR #221's progress object, shown with the state.
        let step = JobProgress::from_output(&serde_json::json!({"type": "progress", "value": 12, "max": 25, "percent": 48.0, "node": "3"})).unwrap();
        b("j2", &JobState::InProgress, Some(&step));
        assert_eq!(
            p.line(Duration::ZERO).unwrap(),
            "endpoint-harness: waiting (2): flux/b IN_PROGRESS 48% (12/25, node 3) 0s, sdxl/a IN_QUEUE 0s"
        );
        b("j2", &JobState::Completed, None);
        assert_eq!(
            p.line(Duration::ZERO).unwrap(),
            "endpoint-harness: waiting (1): sdxl/a IN_QUEUE 0s"
        );
        assert!(p.line(Duration::from_secs(60)).is_none());
    }
}
