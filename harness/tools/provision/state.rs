//! The provision state files: one per throwaway endpoint under
//! `<reports>/.provision/<name>.json`, written before the create call is sent
//! (the name), rewritten the moment its id is known, and removed only once a
//! GET answered 404 after the delete. What a killed run leaves there is what
//! `provision cleanup` deletes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What one state file records.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The endpoint's unique name (`<prefix>-<run id>`).
    pub name: String,
    /// Its id, once the create answered (or a lookup by name found it).
    pub endpoint_id: Option<String>,
    /// The management API it was created through (shown; never a key).
    pub management_url: String,
    /// Unix seconds when the create call was sent.
    pub created_unix: u64,
    /// The image it runs.
    pub image: String,
}

/// The folder of state files under a reports folder.
pub fn dir(reports: &Path) -> PathBuf {
    reports.join(".provision")
}

/// One state file.
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// The file for endpoint `name` under `reports`.
    pub fn new(reports: &Path, name: &str) -> Self {
        StateFile {
            path: dir(reports).join(format!("{}.json", crate::paths::sanitize(name))),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `state` (a temporary file renamed over the old one, so a kill
    /// mid-write leaves the previous state, never half of one).
    pub fn write(&self, state: &State) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?)?;
        std::fs::rename(&tmp, &self.path)
    }

    /// Removes the file (the endpoint is known to be gone).
    pub fn remove(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Why a state file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    /// It cannot be read.
    #[error("{0}")]
    Read(std::io::Error),
    /// It is not a state file.
    #[error("not a state file: {0}")]
    Json(serde_json::Error),
}

/// Every state file under `reports`, with its path; unreadable ones are
/// reported by path so cleanup can say which it could not use.
pub fn all(reports: &Path) -> Vec<(PathBuf, Result<State, Unreadable>)> {
    let Ok(entries) = std::fs::read_dir(dir(reports)) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let s = std::fs::read(&p)
                .map_err(Unreadable::Read)
                .and_then(|b| serde_json::from_slice(&b).map_err(Unreadable::Json));
            (p, s)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_file_is_written_whole_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        let f = StateFile::new(dir.path(), "eh-run/1");
        let mut s = State {
            name: "eh-run/1".into(),
            management_url: "http://127.0.0.1:1".into(),
            created_unix: 5,
            image: "img".into(),
            ..State::default()
        };
        f.write(&s).unwrap();
        s.endpoint_id = Some("abc".into());
        f.write(&s).unwrap();
        let found = all(dir.path());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.as_ref().unwrap(), &s);
        f.remove().unwrap();
        f.remove().unwrap();
        assert!(all(dir.path()).is_empty());
    }
}
