//! `endpoint-harness init`: a user's own repository made ready in one
//! command: a starter scenario that needs no model (with its workflow), the
//! scenario JSON Schema for editors, a `.gitignore` for the reports, and a CI
//! workflow (lint and mock run on pull requests; nightly live run in shards,
//! merged, with the trend check and a cost cap). `endpoint-harness run` there
//! is green against the embedded mock at once. Nothing is overwritten unless
//! asked.

use std::path::{Path, PathBuf};

/// What `init` writes, relative to the folder.
const STARTER: &str = "scenarios/starter/composite.yaml";
const STARTER_WORKFLOW: &str = "scenarios/starter/workflows/composite_api.json";
const SCHEMA: &str = "schemas/scenario.schema.json";
const GITIGNORE: &str = ".gitignore";
const WORKFLOW: &str = ".github/workflows/endpoint-harness.yml";

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Files it would write exist already.
    #[error("{} already exist(s); nothing was written (--force overwrites; .gitignore is only ever appended to)", .0.join(", "))]
    Exists(Vec<String>),
    /// A file could not be written.
    #[error("cannot write {path}: {error}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

/// What `cargo install --locked` is given in the CI workflow: `install`, or
/// this package's repository when it names one; else a repository variable.
fn install_line(install: Option<&str>) -> (String, String) {
    let repo = env!("CARGO_PKG_REPOSITORY");
    match install {
        Some(i) => (i.to_string(), String::new()),
        None if !repo.is_empty() => (format!("--git {repo} endpoint-harness"), String::new()),
        None => (
            "${{ vars.ENDPOINT_HARNESS_INSTALL }}".to_string(),
            "\n#             ENDPOINT_HARNESS_INSTALL (what `cargo install --locked` installs\n\
             #             endpoint-harness from, e.g. `--git <its repository URL> endpoint-harness`)"
                .to_string(),
        ),
    }
}

/// The Action this release's workflow uses, `owner/name@vX.Y.Z`, when this
/// package's repository is on GitHub.
fn action_ref(repository: &str, version: &str) -> Option<String> {
    let path = repository.trim_end_matches('/').trim_end_matches(".git");
    let path = path.strip_prefix("https://github.com/")?;
    let mut parts = path.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(owner), Some(name), None) if !owner.is_empty() && !name.is_empty() => {
            Some(format!("{owner}/{name}@v{version}"))
        }
        _ => None,
    }
}

/// The CI workflow: by default one that uses the released Action (a wheel,
/// no compile); with `install` (or a repository off GitHub) one that builds
/// with `cargo install --locked`, for a fork or a checkout of one's own.
fn workflow(install: Option<&str>) -> String {
    let version = env!("CARGO_PKG_VERSION");
    match (install, action_ref(env!("CARGO_PKG_REPOSITORY"), version)) {
        (None, Some(action)) => include_str!("init/workflow-action.yml")
            .replace("{{action}}", &action)
            .replace("{{version}}", version),
        _ => {
            let (line, note) = install_line(install);
            include_str!("init/workflow.yml")
                .replace("{{install}}", &line)
                .replace("{{install_note}}", &note)
        }
    }
}

/// Writes the starter files into `dir`; the files written, relative to it.
pub fn init(dir: &Path, install: Option<&str>, force: bool) -> Result<Vec<PathBuf>, InitError> {
    let workflow = workflow(install);
    let schema = format!(
        "{}\n",
        serde_json::to_string_pretty(&crate::tools::schema::scenario()).expect("schema serialises")
    );
    let files: [(&str, &str); 4] = [
        (STARTER, include_str!("init/starter.yaml")),
        (STARTER_WORKFLOW, include_str!("init/composite_api.json")),
        (SCHEMA, &schema),
        (WORKFLOW, &workflow),
    ];
    if !force {
        let existing: Vec<String> = files
            .iter()
            .map(|(rel, _)| *rel)
            .filter(|rel| dir.join(rel).exists())
            .map(str::to_string)
            .collect();
        if !existing.is_empty() {
            return Err(InitError::Exists(existing));
        }
    }
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| InitError::Write {
                path: rel.to_string(),
                error,
            })?;
        }
        std::fs::write(&path, text).map_err(|error| InitError::Write {
            path: rel.to_string(),
            error,
        })
    };
    let mut written = Vec::new();
    for (rel, text) in files {
        write(rel, text)?;
        written.push(PathBuf::from(rel));
    }
    // A .gitignore of the user's own is kept; ours is appended once.
    let ours = include_str!("init/gitignore");
    let existing = std::fs::read_to_string(dir.join(GITIGNORE)).unwrap_or_default();
    if !existing.contains("/reports/") {
        let sep = if existing.is_empty() || existing.ends_with('\n') { "" } else { "\n" };
        write(GITIGNORE, &format!("{existing}{sep}{ours}"))?;
        written.push(PathBuf::from(GITIGNORE));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_is_named_by_the_github_repository_and_version() {
        assert_eq!(
            action_ref("https://github.com/o/n", "1.2.3").as_deref(),
            Some("o/n@v1.2.3")
        );
        assert_eq!(action_ref("https://github.com/o/n.git/", "1.0.0").as_deref(), Some("o/n@v1.0.0"));
        assert_eq!(action_ref("https://gitlab.com/o/n", "1.0.0"), None);
        assert_eq!(action_ref("https://github.com/o", "1.0.0"), None);
        assert_eq!(action_ref("", "1.0.0"), None);
    }

    #[test]
    fn writes_once_keeps_a_gitignore_and_refuses_to_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(".gitignore"), "target/").unwrap();
        let files = init(tmp.path(), Some("--path ../eh"), false).unwrap();
        assert_eq!(files.len(), 5, "{files:?}");
        let ignore = std::fs::read_to_string(tmp.path().join(".gitignore")).unwrap();
        assert!(ignore.starts_with("target/\n/reports/") || ignore.starts_with("target/\n#"), "{ignore}");
        let wf = std::fs::read_to_string(tmp.path().join(WORKFLOW)).unwrap();
        assert!(wf.contains("ENDPOINT_HARNESS_INSTALL: \"--path ../eh\""), "{wf}");
        assert!(!wf.contains("{{install"), "every placeholder is filled");
        let e = init(tmp.path(), None, false).unwrap_err();
        assert!(e.to_string().contains(STARTER), "{e}");
        init(tmp.path(), None, true).unwrap();
        let wf = std::fs::read_to_string(tmp.path().join(WORKFLOW)).unwrap();
        let action = action_ref(env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_VERSION")).unwrap();
        assert!(wf.contains(&format!("uses: {action}")), "{wf}");
        assert!(!wf.contains("cargo install") && !wf.contains("{{action") && !wf.contains("{{version"), "{wf}");
        let ignore2 = std::fs::read_to_string(tmp.path().join(".gitignore")).unwrap();
        assert_eq!(ignore, ignore2, "appended once");
    }
}
