//! What every subcommand shares: paths from environment variables with defaults.

use std::path::PathBuf;

/// `$var` as a path, or `default` when unset or empty.
pub(crate) fn env_path(var: &str, default: &str) -> PathBuf {
    PathBuf::from(
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.into()),
    )
}
