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
        Ok(l) => l,
        Err(e) => {
            out.failed.push(format!("cannot list endpoints: {e}"));
            Vec::new()
        }
    };
    let age = Age { now: SystemTime::now(), older_than };
    let decided = by_state_files(api, reports, &listed, age, &mut out).await;
    if let Some(prefix) = prefix {
        by_prefix(api, prefix, &listed, &decided, age, &mut out).await;
    }
    report(out)
}

/// When an endpoint is old enough to delete.
#[derive(Clone, Copy)]
struct Age {
    now: SystemTime,
    older_than: Duration,
}

impl Age {
    fn old_enough(self, unix: u64) -> bool {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(unix);
        self.now.duration_since(at).unwrap_or_default() >= self.older_than
    }
}

/// First pass, the state files: the run that wrote them is gone (or this is its always-step).
/// Returns the names decided about (kept young, or deleted), which the prefix
/// pass leaves alone.
async fn by_state_files(
    api: &Manager,
    reports: &Path,
    listed: &[Value],
    age: Age,
    out: &mut Cleaned,
) -> Vec<String> {
    let mut decided = Vec::new();
    for (path, st) in state::all(reports) {
        let st = match st {
            Ok(s) => s,
            Err(e) => {
                out.failed.push(format!("{}: unreadable state file: {e}", path.display()));
                continue;
            }
        };
        decided.push(st.name.clone());
        if !age.old_enough(st.created_unix) {
            out.kept.push(format!("{} (state file, younger than {})", st.name, humantime::format_duration(age.older_than)));
            continue;
        }
        // The recorded id, and any endpoint listed under the recorded name (the
        // create answer may never have been seen).
        let mut ids: Vec<String> = st.endpoint_id.clone().into_iter().collect();
        for e in listed {
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
                    out.failed.push(e.to_string());
                }
            }
        }
        if ok {
            let _ = std::fs::remove_file(&path);
        }
    }
    decided
}

/// Second pass, the name prefix: what a run without a kept reports folder left.
async fn by_prefix(
    api: &Manager,
    prefix: &str,
    listed: &[Value],
    decided: &[String],
    age: Age,
    out: &mut Cleaned,
) {
    let want = format!("{prefix}-");
    for e in listed {
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
        match created.and_then(|c| age.now.duration_since(c).ok()) {
            Some(a) if a < age.older_than => {
                let old = humantime::format_duration(Duration::from_secs(a.as_secs()));
                out.kept.push(format!("{name} ({id}, {old} old)"));
            }
            None if !age.older_than.is_zero() => {
                out.kept.push(format!("{name} ({id}, age unknown: no createdAt)"));
            }
            // Old enough, or of unknown age with no age limit asked for.
            _ => match delete_verified(api, &id).await {
                Ok(()) => out.deleted.push(id),
                Err(err) => out.failed.push(err.to_string()),
            },
        }
    }
}

fn report(out: Cleaned) -> Cleaned {
    for id in &out.deleted {
        say(&format!("cleanup: deleted {id} (GET answered 404)"));
    }
    out
}
