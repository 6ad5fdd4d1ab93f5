//! The run's identity, decided once per process: the run id (nextest's under
//! nextest, so its processes share it), the clock reading and the git commit.

use crate::model::{RunInfo, TargetKind};

/// The identity of this run against `target`. Under nextest a process that
/// starts after the run's first fragment was written takes the start time and
/// commit from it (one identity for the run, and no `git` call per trial).
pub(crate) fn run_info(target: &str, kind: TargetKind, reports: &std::path::Path) -> RunInfo {
    if let Some(run) = crate::settings::Env::process().nextest_run() {
        if let Some(mut info) = crate::results::shards::run_of(reports, &run) {
            info.target = target.to_string();
            info.target_kind = kind;
            return info;
        }
    }
    RunInfo {
        run_id: run_id(),
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        target: target.to_string(),
        target_kind: kind,
        git_commit: git_commit(),
    }
}

/// nextest's run id when under nextest (shared by its processes), else a new random one.
fn run_id() -> String {
    crate::settings::Env::process()
        .nextest_run()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// `GITHUB_SHA` on GitHub Actions, else `git rev-parse --short=12 HEAD`.
fn git_commit() -> Option<String> {
    if let Some(sha) = crate::settings::Env::process().get("GITHUB_SHA") {
        return Some(sha);
    }
    let mut git = std::process::Command::new("git");
    git.args(["rev-parse", "--short=12", "HEAD"])
        .stderr(std::process::Stdio::null());
    let (status, out) = crate::clock::output_within(&mut git, std::time::Duration::from_secs(10))?;
    status
        .success()
        .then(|| String::from_utf8_lossy(&out).trim().to_string())
        .filter(|s| !s.is_empty())
}
