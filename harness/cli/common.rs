//! What every subcommand shares: paths from environment variables with defaults.

use std::path::PathBuf;

/// `$var` as a path, or `default` when unset or empty.
pub(crate) fn env_path(var: &str, default: &str) -> PathBuf {
    crate::settings::Env::process().path(var, default)
}
