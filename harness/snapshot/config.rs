//! Snapshot settings of a run (mode, folders, CI, variant) and the shape of a
//! returned image as the comparison needs it.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use image::{DynamicImage, GenericImageView, RgbImage};
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
    /// `HARNESS_STRICT=1`: an image in the review band fails its scenario.
    pub strict: bool,
    /// `HARNESS_SNAPSHOT_CLASS`: the fingerprint fields that make a reference
    /// class, for every scenario (else each scenario's `snapshot.class`).
    pub class: Option<Vec<crate::model::ClassField>>,
}

impl Config {
    /// From `HARNESS_SNAPSHOTS`, `HARNESS_SNAPSHOT_DIR`, `HARNESS_SNAPSHOT_VARIANT`,
    /// `HARNESS_STRICT` and `CI`.
    pub fn from_env(
        env: &crate::settings::Env,
        reports: &Path,
    ) -> Result<(Self, Option<String>), crate::settings::SetupError> {
        let ci = env.ci();
        let requested = match env.get("HARNESS_SNAPSHOTS").as_deref() {
            None | Some("") | Some("verify") => Mode::Verify,
            Some("update") => Mode::Update,
            Some(other) => {
                return Err(crate::settings::SetupError::bad_value(
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
        let variant = env.get("HARNESS_SNAPSHOT_VARIANT");
        if let Some(v) = &variant {
            if !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                || v.starts_with('.')
            {
                return Err(crate::settings::SetupError::bad_value(
                    "HARNESS_SNAPSHOT_VARIANT",
                    "a plain name of letters, digits, `-`, `_`, `.`",
                    v,
                ));
            }
        }
        let class = match env.get("HARNESS_SNAPSHOT_CLASS") {
            None => None,
            Some(v) => Some(parse_class(&v).ok_or_else(|| {
                crate::settings::SetupError::bad_value(
                    "HARNESS_SNAPSHOT_CLASS",
                    &format!(
                        "a comma list of {} (or `any`: one class for every job)",
                        crate::model::ClassField::ALL.map(|f| f.name()).join(", ")
                    ),
                    &v,
                )
            })?),
        };
        let root = env.path("HARNESS_SNAPSHOT_DIR", "snapshots");
        let mode = if ci { Mode::Verify } else { requested };
        let strict = env.flag("HARNESS_STRICT");
        Ok((
            Config {
                root,
                mode,
                ci,
                variant,
                reports: reports.to_path_buf(),
                strict,
                class,
            },
            note,
        ))
    }
}

/// A class list as `HARNESS_SNAPSHOT_CLASS` writes it (`gpu,torch`; `any`: no field).
pub fn parse_class(v: &str) -> Option<Vec<crate::model::ClassField>> {
    let v = v.trim();
    if v == "any" {
        return Some(Vec::new());
    }
    v.split(',').map(crate::model::ClassField::parse).collect()
}

/// A returned image as the comparison needs it.
#[derive(Clone, Copy)]
pub struct Candidate<'a> {
    pub pixels: &'a Pixels<'a>,
    /// Its sampled thumbnail ([`crate::media::sample`]).
    pub thumb: &'a RgbImage,
}

/// A returned still's pixels as a comparison needs them: its size at once, the
/// decoded image only when more than the thumbnail is needed (a mismatch to
/// explain, a reference to write, an `exact` digest). A still that was sampled
/// while it streamed (no pixel buffer kept) is decoded from its bytes on first
/// use, then kept: a perceptual match, the common case, never decodes it twice.
pub struct Pixels<'a> {
    size: (u32, u32),
    source: Source<'a>,
}

enum Source<'a> {
    Borrowed(&'a DynamicImage),
    Owned(DynamicImage),
    Bytes(&'a [u8], OnceCell<Result<DynamicImage, crate::media::limits::DecodeError>>),
}

impl<'a> From<&'a DynamicImage> for Pixels<'a> {
    fn from(img: &'a DynamicImage) -> Self {
        Pixels {
            size: img.dimensions(),
            source: Source::Borrowed(img),
        }
    }
}

impl From<DynamicImage> for Pixels<'_> {
    fn from(img: DynamicImage) -> Self {
        Pixels {
            size: img.dimensions(),
            source: Source::Owned(img),
        }
    }
}

impl<'a> Pixels<'a> {
    /// The still in `bytes` (already inspected: `size` is what its header says),
    /// decoded only if asked for.
    pub fn lazy(size: (u32, u32), bytes: &'a [u8]) -> Self {
        Pixels {
            size,
            source: Source::Bytes(bytes, OnceCell::new()),
        }
    }

    /// Width and height.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// The decoded image (decoding the bytes on first use), or why it would not decode.
    pub fn get(&self) -> Result<&DynamicImage, &crate::media::limits::DecodeError> {
        match &self.source {
            Source::Borrowed(img) => Ok(img),
            Source::Owned(img) => Ok(img),
            Source::Bytes(bytes, cell) => cell.get_or_init(|| crate::media::decode(bytes)).as_ref(),
        }
    }

    /// Whether the pixels are at hand (given decoded, or decoded since).
    #[cfg(any(test, feature = "internals"))]
    pub fn is_decoded(&self) -> bool {
        match &self.source {
            Source::Bytes(_, cell) => cell.get().is_some(),
            _ => true,
        }
    }

    /// The decoded image, owned (calibration across repeats keeps them).
    pub fn into_image(self) -> Option<DynamicImage> {
        match self.source {
            Source::Borrowed(img) => Some(img.clone()),
            Source::Owned(img) => Some(img),
            Source::Bytes(bytes, cell) => match cell.into_inner() {
                Some(decoded) => decoded.ok(),
                None => crate::media::decode(bytes).ok(),
            },
        }
    }
}
