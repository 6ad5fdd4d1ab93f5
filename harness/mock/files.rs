//! Where behaviour files, and the files they name (recorded images, videos,
//! node inventories), come from: the shipped `mocks/` built into the binary,
//! under a folder of the user's own that adds to them and overrides them by
//! name. So `mock: comfyui` works in any folder, and a team's own
//! `mocks/comfyui.yaml` replaces the shipped one.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

/// The shipped behaviours and their files.
static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/mocks");

/// A file a behaviour names, found on disk or built in.
#[derive(Clone, Debug)]
pub(crate) enum Stored {
    /// In the user's mocks folder.
    Disk(PathBuf),
    /// Shipped in the binary.
    Builtin(&'static [u8]),
}

impl Stored {
    /// The bytes.
    pub(crate) fn read(&self) -> std::io::Result<Cow<'static, [u8]>> {
        match self {
            Stored::Disk(p) => std::fs::read(p).map(Cow::Owned),
            Stored::Builtin(b) => Ok(Cow::Borrowed(b)),
        }
    }
}

/// Where the files a behaviour names are looked for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Files<'a> {
    /// Only the shipped files (for a shipped behaviour: it stays what shipped).
    Builtin,
    /// The folder first, then the shipped files.
    Over(&'a Path),
}

impl Files<'_> {
    /// The file at `rel` (a `/`-separated path under the mocks folder).
    pub(crate) fn find(&self, rel: &str) -> Option<Stored> {
        if let Files::Over(dir) = self {
            let p = dir.join(rel);
            if p.is_file() {
                return Some(Stored::Disk(p));
            }
        }
        BUILTIN.get_file(rel).map(|f| Stored::Builtin(f.contents()))
    }
}

/// Every shipped behaviour: (name, its path under `mocks/`, its YAML).
pub(crate) fn builtin_behaviours() -> Vec<(String, &'static str, &'static str)> {
    let mut out = Vec::new();
    let mut stack = vec![&BUILTIN];
    while let Some(d) = stack.pop() {
        stack.extend(d.dirs());
        for f in d.files() {
            let Some(rel) = f.path().to_str() else {
                continue;
            };
            let Some(name) = rel
                .strip_suffix(".yaml")
                .or_else(|| rel.strip_suffix(".yml"))
            else {
                continue;
            };
            if let Some(text) = f.contents_utf8() {
                out.push((name.replace('\\', "/"), rel, text));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_folder_is_built_in_and_a_folder_overrides_it() {
        let names: Vec<String> = builtin_behaviours().into_iter().map(|b| b.0).collect();
        assert!(names.contains(&"comfyui".to_string()), "{names:?}");
        assert!(names.contains(&"faults/reset".to_string()), "{names:?}");
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("media")).unwrap();
        std::fs::write(tmp.path().join("media/h264.mp4"), b"mine").unwrap();
        let over = Files::Over(tmp.path());
        assert!(matches!(over.find("media/h264.mp4"), Some(Stored::Disk(_))));
        let mp4 = Files::Builtin
            .find("media/h264.mp4")
            .unwrap()
            .read()
            .unwrap();
        assert_eq!(&mp4[4..8], b"ftyp");
        assert!(matches!(
            over.find("media/vp9.webm"),
            Some(Stored::Builtin(_))
        ));
        assert!(over.find("media/none.mp4").is_none());
    }
}
