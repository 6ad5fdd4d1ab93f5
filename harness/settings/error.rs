//! What can be wrong with how a run is set up (a leaf, used by every module
//! that reads settings): a bad environment variable, an unreadable or invalid
//! file it names, a folder with no scenarios. Each names the variable or file.

use std::fmt;

/// A setup problem, naming the variable or file it concerns.
#[derive(Debug)]
pub struct SetupError {
    /// The environment variable or file (`HARNESS_MAX_IN_FLIGHT`, `costs.yaml`).
    pub what: String,
    /// What is wrong with it.
    pub kind: SetupKind,
}

/// What is wrong with a setting.
#[derive(Debug)]
pub enum SetupKind {
    /// A value outside what the setting accepts.
    BadValue {
        /// What it accepts (`a positive integer`).
        expected: String,
        /// What it was.
        found: String,
    },
    /// A file that cannot be read.
    Unreadable(std::io::Error),
    /// Anything else, said in words.
    Invalid(String),
}

impl SetupError {
    /// `what` must be `expected`, but is `found`.
    pub(crate) fn bad_value(what: &str, expected: &str, found: &str) -> Self {
        SetupError {
            what: what.into(),
            kind: SetupKind::BadValue {
                expected: expected.into(),
                found: found.into(),
            },
        }
    }

    /// `what` is wrong as `message` says.
    pub(crate) fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        SetupError {
            what: what.into(),
            kind: SetupKind::Invalid(message.into()),
        }
    }

    /// The file `what` cannot be read.
    pub(crate) fn unreadable(what: impl Into<String>, e: std::io::Error) -> Self {
        SetupError {
            what: what.into(),
            kind: SetupKind::Unreadable(e),
        }
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SetupKind::BadValue { expected, found } => {
                write!(f, "{} must be {expected}, not `{found}`", self.what)
            }
            SetupKind::Unreadable(e) => write!(f, "{} cannot be read: {e}", self.what),
            SetupKind::Invalid(m) => write!(f, "{}: {m}", self.what),
        }
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SetupKind::Unreadable(e) => Some(e),
            _ => None,
        }
    }
}
