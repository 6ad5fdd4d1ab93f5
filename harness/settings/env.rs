//! The process environment, read once: [`Env::process`] captures every
//! variable of the [`super::vars::VARS`] table at first use, and every
//! reader of a setting asks it (never `std::env` itself), so a run cannot see
//! two values of one variable and nothing reads a variable the docs do not
//! list.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use super::vars::{lookup, VARS};

static PROCESS: OnceLock<Env> = OnceLock::new();

/// The harness's environment variables, as captured.
#[derive(Clone, Debug, Default)]
pub struct Env {
    values: BTreeMap<&'static str, String>,
}

impl Env {
    /// The process environment, captured on first use.
    pub fn process() -> &'static Env {
        PROCESS.get_or_init(|| Env::from_fn(|k| std::env::var(k).ok()))
    }

    /// Captures the process environment with `overrides` on top (the
    /// command-line flags that mirror variables: `run --reports DIR` is
    /// `HARNESS_REPORTS=DIR`). Called first thing, before anything reads a
    /// setting; false when the environment was already captured.
    pub fn capture_with(overrides: &[(&'static str, String)]) -> bool {
        let mut env = Env::from_fn(|k| std::env::var(k).ok());
        for (k, v) in overrides {
            assert!(lookup(k).is_some(), "{k} is not in settings::vars::VARS");
            env.values.insert(k, v.clone());
        }
        PROCESS.set(env).is_ok()
    }

    /// The variables `read` gives (tests, and callers with their own source).
    pub fn from_fn(read: impl Fn(&str) -> Option<String>) -> Env {
        let values = VARS
            .iter()
            .filter_map(|v| read(v.name).map(|value| (v.name, value)))
            .collect();
        Env { values }
    }

    /// The value of `name`, trimmed; None when unset or blank.
    ///
    /// # Panics
    /// When `name` is not in the table: every variable read is documented.
    pub fn get(&self, name: &str) -> Option<String> {
        assert!(
            lookup(name).is_some(),
            "{name} is read but not in settings::vars::VARS (and so not in the docs)"
        );
        self.values
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// Whether `name` is set at all (even blank), as cargo-nextest's `NEXTEST`.
    pub fn is_set(&self, name: &str) -> bool {
        assert!(lookup(name).is_some(), "{name} is not in settings::vars::VARS");
        self.values.contains_key(name)
    }

    /// Set and not `0` or `false`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
    }

    /// A folder or file, `default` when unset.
    pub fn path(&self, name: &str, default: &str) -> PathBuf {
        PathBuf::from(self.get(name).unwrap_or_else(|| default.to_string()))
    }

    /// The lookup function older readers take (`targets::from_env`).
    pub fn reader(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |k| self.get(k)
    }

    /// `CI` is set (GitHub Actions, GitLab and most CI systems set it).
    pub fn ci(&self) -> bool {
        self.flag("CI")
    }

    /// Under cargo-nextest (one process per trial).
    pub fn nextest(&self) -> bool {
        self.is_set("NEXTEST")
    }

    /// cargo-nextest's run id: trials of one run share a report.
    pub fn nextest_run(&self) -> Option<String> {
        self.get("NEXTEST_RUN_ID")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_trimmed_values_and_flags() {
        let env = Env::from_fn(|k| match k {
            "HARNESS_REPORTS" => Some(" out ".into()),
            "HARNESS_LOAD" => Some("false".into()),
            "HARNESS_RECORD" => Some("1".into()),
            "NEXTEST" => Some(String::new()),
            _ => None,
        });
        assert_eq!(env.path("HARNESS_REPORTS", "reports"), PathBuf::from("out"));
        assert_eq!(env.path("HARNESS_SCENARIOS", "scenarios"), PathBuf::from("scenarios"));
        assert!(!env.flag("HARNESS_LOAD") && env.flag("HARNESS_RECORD"));
        assert!(env.nextest() && env.nextest_run().is_none());
    }

    #[test]
    #[should_panic(expected = "not in settings::vars::VARS")]
    fn an_undocumented_variable_cannot_be_read() {
        Env::default().get("HARNESS_NOT_A_THING");
    }
}
