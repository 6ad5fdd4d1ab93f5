//! Which scenario files a run loads: all of them, or under nextest's
//! process-per-test with an exact name only the one asked for, so start-up
//! stays cheap.

use std::path::{Path, PathBuf};

use libtest_mimic::Arguments;

use crate::settings::SetupError;

/// The scenario files to load for `args`.
pub(crate) fn select_files(root: &Path, args: &Arguments) -> Result<Vec<PathBuf>, SetupError> {
    if args.exact && !args.list {
        if let Some(name) = &args.filter {
            for ext in ["yaml", "yml"] {
                let f = root.join(format!("{name}.{ext}"));
                if f.is_file() {
                    return Ok(vec![f]);
                }
            }
        }
    }
    let files = discover(root)?;
    if files.is_empty() {
        return Err(SetupError::invalid(
            "HARNESS_SCENARIOS",
            format!(
                "no scenario files (*.yaml) found under {} (set HARNESS_SCENARIOS or add a scenario there)",
                crate::paths::display_path(root).display()
            ),
        ));
    }
    Ok(files)
}

/// Every `*.yaml` / `*.yml` under `root`, sorted; a missing folder is an error.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>, SetupError> {
    if !root.is_dir() {
        return Err(SetupError::invalid(
            "HARNESS_SCENARIOS",
            format!(
                "scenario folder {} does not exist: `endpoint-harness init` makes one with a starter scenario, or set HARNESS_SCENARIOS (`--scenarios`) to yours",
                crate::paths::display_path(root).display()
            ),
        ));
    }
    Ok(crate::paths::yaml_files(root))
}

#[cfg(test)]
mod tests {
    /// An empty folder points a newcomer at `init`.
    #[test]
    fn a_missing_scenario_folder_points_at_init() {
        let e = super::discover(std::path::Path::new("no-such-folder-here"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("does not exist") && e.contains("endpoint-harness init"),
            "{e}"
        );
    }
}
