//! `provision cleanup`: delete what killed runs left behind, found two ways:
//! by the state files under the reports folder (the endpoint's id, or its
//! name when the create answer was never seen), and by the name prefix among
//! the account's endpoints (`--older-than` keeps those a run still in
//! progress may be using).

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::api::Manager;
use super::lifecycle::{delete_verified, id_of, say};
use super::state;

/// What a cleanup did.
#[derive(Debug, Default)]
pub struct Cleaned {
    /// Endpoint ids deleted and verified gone.
    pub deleted: Vec<String>,
    /// What could not be done, one line each.
    pub failed: Vec<String>,
    /// Endpoints with the prefix left alone because they are younger than the limit.
    pub kept: Vec<String>,
}

/// Deletes endpoints recorded under `reports` and (unless `prefix` is None:
/// state files only) endpoints named `<prefix>-...`, created more than
/// `older_than` ago.
pub async fn cleanup(
    api: &Manager,
    reports: &Path,
    prefix: Option<&str>,
    older_than: Duration,
) -> Cleaned {
    let mut out = Cleaned::default();
    let listed = match api.list().await {
        Ok(l) => Some(l),
        Err(e) => {
            out.failed.push(format!("cannot list endpoints: {e}"));
            None
        }
    };
    let now = SystemTime::now();
    // Names a state file already decided about (kept young, or deleted).
    let mut decided: Vec<String> = Vec::new();
    let old_enough = |unix: u64| {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(unix);
        now.duration_since(at).unwrap_or_default() >= older_than
    };
    // 1. State files: the run that wrote them is gone (or this is its always-step).
    for (path, st) in state::all(reports) {
        let st = match st {
            Ok(s) => s,
            Err(e) => {
                out.failed.push(format!("{}: unreadable state file: {e}", path.display()));
                continue;
            }
        };
        decided.push(st.name.clone());
        if !old_enough(st.created_unix) {
            out.kept.push(format!("{} (state file, younger than {})", st.name, humantime::format_duration(older_than)));
            continue;
        }
        let mut ids: Vec<String> = st.endpoint_id.clone().into_iter().collect();
        for e in listed.iter().flatten() {
            if e.get("name").and_then(Value::as_str) == Some(st.name.as_str()) {
                let id = id_of(e);
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        let mut ok = true;
        for id in ids {
            match delete_verified(api, &id).await {
                Ok(()) => out.deleted.push(id),
                Err(e) => {
                    ok = false;
                    out.failed.push(e);
                }
            }
        }
        if ok {
            let _ = std::fs::remove_file(&path);
        }
    }
    // 2. The prefix: what a run without a kept reports folder left.
    let Some(prefix) = prefix else {
        return report(out);
    };
    let want = format!("{prefix}-");
    for e in listed.iter().flatten() {
        let name = e.get("name").and_then(Value::as_str).unwrap_or("");
        let id = id_of(e);
        if !name.starts_with(&want)
            || id.is_empty()
            || out.deleted.contains(&id)
            || decided.iter().any(|d| d == name)
        {
            continue;
        }
        let created = e
            .get("createdAt")
            .and_then(Value::as_str)
            .and_then(|t| humantime::parse_rfc3339_weak(t).ok());
        let age = created.and_then(|c| now.duration_since(c).ok());
        match age {
            Some(a) if a >= older_than => match delete_verified(api, &id).await {
                Ok(()) => out.deleted.push(id),
                Err(err) => out.failed.push(err),
            },
            Some(a) => out.kept.push(format!("{name} ({id}, {} old)", humantime::format_duration(Duration::from_secs(a.as_secs())))),
            None if older_than.is_zero() => match delete_verified(api, &id).await {
                Ok(()) => out.deleted.push(id),
                Err(err) => out.failed.push(err),
            },
            None => out.kept.push(format!("{name} ({id}, age unknown: no createdAt)")),
        }
    }
    report(out)
}

fn report(out: Cleaned) -> Cleaned {
    for id in &out.deleted {
        say(&format!("cleanup: deleted {id} (GET answered 404)"));
    }
    out
}
