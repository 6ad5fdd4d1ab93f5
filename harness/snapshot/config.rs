//! Snapshot settings of a run (mode, folders, CI, variant) and the shape of a
//! returned image as the comparison needs it.

use std::path::{Path, PathBuf};

use image::{DynamicImage, RgbImage};
use serde::Serialize;

/// What to do with references.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Verify,
    Update,
}

/// Snapshot settings of a run.
#[derive(Clone, Debug)]
pub struct Config {
    pub root: PathBuf,
    pub mode: Mode,
    /// On CI nothing is written and a missing reference is a failure.
    pub ci: bool,
    pub variant: Option<String>,
    pub reports: PathBuf,
}

impl Config {
    /// From `HARNESS_SNAPSHOTS`, `HARNESS_SNAPSHOT_DIR`, `HARNESS_SNAPSHOT_VARIANT` and `CI`.
    pub fn from_env(
        var: &dyn Fn(&str) -> Option<String>,
        reports: &Path,
    ) -> Result<(Self, Option<String>), crate::setup::SetupError> {
        let ci = var("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        let requested = match var("HARNESS_SNAPSHOTS").as_deref().map(str::trim) {
            None | Some("") | Some("verify") => Mode::Verify,
            Some("update") => Mode::Update,
            Some(other) => {
                return Err(crate::setup::SetupError::bad_value(
                    "HARNESS_SNAPSHOTS",
                    "verify or update",
                    other,
                ))
            }
        };
        let note = (ci && requested == Mode::Update).then(|| {
            "HARNESS_SNAPSHOTS=update is ignored on CI: references are only verified there"
                .to_string()
        });
        let variant = var("HARNESS_SNAPSHOT_VARIANT").filter(|v| !v.trim().is_empty());
        if let Some(v) = &variant {
            if !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                || v.starts_with('.')
            {
                return Err(crate::setup::SetupError::bad_value(
                    "HARNESS_SNAPSHOT_VARIANT",
                    "a plain name of letters, digits, `-`, `_`, `.`",
                    v,
                ));
            }
        }
        let root = PathBuf::from(
            var("HARNESS_SNAPSHOT_DIR")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "snapshots".into()),
        );
        let mode = if ci { Mode::Verify } else { requested };
        Ok((
            Config {
                root,
                mode,
                ci,
                variant,
                reports: reports.to_path_buf(),
            },
            note,
        ))
    }
}

/// A returned image as the comparison needs it.
#[derive(Clone, Copy)]
pub struct Candidate<'a> {
    pub pixels: &'a DynamicImage,
    /// Its sampled thumbnail ([`crate::sample`]).
    pub thumb: &'a RgbImage,
}
