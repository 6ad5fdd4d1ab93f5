//! File names built from outside text (a leaf: it imports nothing of the crate).
//! Scenario names, endpoint file names and run ids become file names under
//! `reports/` and `snapshots/`; none may leave its folder, and two different
//! names must not become the same file.

use std::path::{Path, PathBuf};

/// Longest sanitised name, in bytes (file systems allow 255; room is left for suffixes).
const MAX_NAME_BYTES: usize = 100;

/// A file-name-safe form of `name`: letters and digits of any script, `-`, `_`
/// and `.` are kept, everything else (separators, control characters, `:*?"<>|`)
/// becomes `_`; no leading dot, at most 100 bytes. Two names may sanitise alike:
/// use [`unique`] where that matters.
pub(crate) fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.');
    let mut out = String::new();
    for c in s.chars() {
        if out.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        out.push(c);
    }
    if out.is_empty() {
        "_".into()
    } else {
        out
    }
}

/// Like [`sanitize`], but distinct names stay distinct: when sanitising changed
/// anything, a short digest of the original is appended (`a_b~1f2e3d4c`).
pub(crate) fn unique(name: &str) -> String {
    let s = sanitize(name);
    if s == name {
        s
    } else {
        format!(
            "{s}~{:08x}",
            xxhash_rust::xxh3::xxh3_64(name.as_bytes()) as u32
        )
    }
}

/// A scenario name (`sdxl/txt2img`) as a relative path of sanitised segments.
pub(crate) fn scenario_path(scenario: &str) -> PathBuf {
    scenario.split('/').map(sanitize).collect()
}

/// The path of `file` under `root` without its extension, `/`-separated on
/// every OS: a scenario's trial name, a mock behaviour's name.
pub(crate) fn name_under(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file).with_extension("");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// `*.yaml` / `*.yml` under `dir`, sorted, skipping hidden entries.
pub(crate) fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Shows a path relative to the current directory when it lies under it.
pub(crate) fn display_path(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// A path written with `/` on every OS (report fields, links in HTML).
pub(crate) fn slashed(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// A file that could not be read or written, or whose content is unusable,
/// naming the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading failed.
    #[error("cannot read {}: {source}", display_path(path).display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing failed.
    #[error("cannot write {}: {source}", display_path(path).display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The content is not what it should be.
    #[error("{}: {message}", display_path(path).display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl FileError {
    /// A read error for `path`.
    pub(crate) fn read(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| FileError::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A write error for `path`.
    pub(crate) fn write(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| FileError::Write {
            path: path.to_path_buf(),
            source,
        }
    }

    /// `path` holds something unusable.
    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> Self {
        FileError::Invalid {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Creates `dir` (and parents), naming it on failure.
pub(crate) fn create_dir(dir: &Path) -> Result<(), FileError> {
    std::fs::create_dir_all(dir).map_err(FileError::write(dir))
}

/// Writes `bytes` to `path`, naming it on failure.
pub(crate) fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), FileError> {
    std::fs::write(path, bytes).map_err(FileError::write(path))
}

/// Writes `bytes` to `path` all at once: into a temporary file beside it (a
/// unique name, removed if anything fails), then renamed over it, so a reader
/// never sees half a report, and two processes writing the same file (nextest
/// trials, shards) never share a temporary file.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    // A temporary file is created 0600; a report is a file like any other, so
    // it is created 0666 and the umask decides (0644 under umask 022), as
    // `std::fs::write` does: a web server or a shared CI folder can read it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Atomic writes honour the umask, as every other file does (a report
    /// written 0600 could not be served or read by another user).
    #[cfg(unix)]
    #[test]
    fn atomic_writes_are_readable_as_the_umask_allows() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let (atomic, plain) = (tmp.path().join("report.json"), tmp.path().join("plain.json"));
        atomic_write(&atomic, b"{}").unwrap();
        std::fs::write(&plain, b"{}").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&atomic), mode(&plain), "the same mode as std::fs::write gives");
        atomic_write(&atomic, b"{\"again\": 1}").unwrap();
        assert_eq!(mode(&atomic), mode(&plain), "and again when it replaces a file");
    }

    #[test]
    fn sanitize_neutralises_paths_and_keeps_scripts() {
        assert_eq!(sanitize("../../x.png"), "_.._x.png");
        assert_eq!(sanitize("..\\evil"), "_evil");
        assert!(!sanitize("/etc/passwd").contains('/'));
        assert_eq!(sanitize("雪の狐"), "雪の狐");
        assert_eq!(sanitize("fox 🦊"), "fox__");
        assert_eq!(scenario_path("sdxl/txt2img"), PathBuf::from("sdxl/txt2img"));
        assert_eq!(scenario_path("../x"), PathBuf::from("_/x"));
        let long = "狐".repeat(80);
        assert!(sanitize(&long).len() <= MAX_NAME_BYTES);
    }

    #[test]
    fn unique_names_do_not_collide() {
        assert_eq!(unique("a_b"), "a_b");
        assert_ne!(unique("a/b"), unique("a_b"));
        assert_ne!(unique("a/b"), unique("a:b"));
        assert!(unique("a/b").starts_with("a_b~"));
    }
}
