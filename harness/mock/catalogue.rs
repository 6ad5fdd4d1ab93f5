//! Every behaviour by name (`cold-start`, `faults/reset`, `recorded/x`): the
//! shipped ones built into the binary, then a mocks folder's own, which add to
//! them and override them by name; files that did not load are kept as errors
//! so a scenario naming one gets the reason.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::behaviour::{Behaviour, BehaviourError};
use super::files::Files;

/// All behaviours of a folder, by name, plus the files that failed to load.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    /// Valid behaviours by name (`cold-start`, `faults/reset`, `recorded/x`).
    pub behaviours: BTreeMap<String, Arc<Behaviour>>,
    /// Files that did not load, by name.
    pub errors: BTreeMap<String, BehaviourError>,
}

impl Catalogue {
    /// The shipped behaviours, then `dir/**/*.yaml` over them (a missing
    /// folder adds nothing); without a `default` anywhere the built-in default is used.
    pub fn load(dir: &Path) -> Self {
        let mut cat = Catalogue::default();
        for (name, rel, text) in super::files::builtin_behaviours() {
            let loaded = Behaviour::parse(text)
                .and_then(|b| b.with_replay_images(Files::Builtin))
                .and_then(|b| b.with_inventory(Files::Builtin));
            cat.add(name, format!("{rel} (built in)"), loaded);
        }
        for file in crate::paths::yaml_files(dir) {
            let name = crate::paths::name_under(dir, &file);
            let loaded = std::fs::read_to_string(&file)
                .map_err(|e| BehaviourError::Yaml(e.to_string()))
                .and_then(|t| Behaviour::parse(&t))
                .and_then(|b| b.with_replay_images(Files::Over(dir)))
                .and_then(|b| b.with_inventory(Files::Over(dir)));
            let shown = crate::paths::display_path(&file).display().to_string();
            cat.add(name, shown, loaded);
        }
        cat.behaviours
            .entry("default".into())
            .or_insert_with(|| Arc::new(Behaviour::default()));
        cat
    }

    /// Adds (or replaces) the behaviour `name` loaded from `file`.
    fn add(&mut self, name: String, file: String, loaded: Result<Behaviour, BehaviourError>) {
        match loaded {
            Ok(b) => {
                self.errors.remove(&name);
                self.behaviours.insert(name, Arc::new(b));
            }
            Err(e) => {
                self.behaviours.remove(&name);
                let invalid = BehaviourError::Invalid {
                    name: name.clone(),
                    file,
                    reason: e.to_string(),
                };
                self.errors.insert(name, invalid);
            }
        }
    }

    /// The behaviour for a scenario's `mock:` (None = `default`).
    pub fn get(&self, name: Option<&str>) -> Result<Arc<Behaviour>, BehaviourError> {
        let name = name.unwrap_or("default");
        if let Some(b) = self.behaviours.get(name) {
            return Ok(b.clone());
        }
        if let Some(e) = self.errors.get(name) {
            return Err(e.clone());
        }
        let names: Vec<&str> = self.behaviours.keys().map(String::as_str).collect();
        Err(BehaviourError::Unknown {
            name: name.to_string(),
            suggestion: crate::text::did_you_mean(name, names.iter().copied()).map(str::to_string),
            available: names.iter().map(|s| s.to_string()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::behaviour::{FaultKind, FinalStatus};
    use std::time::Duration;

    #[test]
    fn parses_a_full_behaviour() {
        let b = Behaviour::parse(
            "queue: 45s\nexecution: 2s\nstatus: FAILED\nerror: boom\noutput: message\nimage: black\nwarnings: [w]\nfaults:\n  - on: status\n    nth: [1, 2]\n    respond: http\n    status: 503\n  - on: run\n    respond: rate_limit\n",
        )
        .unwrap();
        assert_eq!(b.queue_d, Duration::from_secs(45));
        assert_eq!(b.status, FinalStatus::Failed);
        assert_eq!(
            b.faults[0].kind(),
            &FaultKind::Http {
                status: 503,
                body: None
            }
        );
        assert_eq!(b.faults[1].kind(), &FaultKind::RateLimit { retry_after: 1 });
        assert!(Behaviour::parse("queu: 1s")
            .unwrap_err()
            .to_string()
            .contains("unknown field `queu`"));
        assert_eq!(Behaviour::default().status, FinalStatus::Completed);
    }

    /// Inventories are parsed on first use, so a broken shipped one must fail here.
    #[test]
    fn every_shipped_behaviour_and_inventory_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mocks");
        let cat = Catalogue::load(&dir);
        assert!(cat.errors.is_empty(), "{:?}", cat.errors);
        let mut inventories = 0;
        for (name, b) in &cat.behaviours {
            if b.inventory.is_some() {
                b.read_inventory()
                    .unwrap_or_else(|e| panic!("{name}: {e}"))
                    .unwrap_or_else(|| panic!("{name}: no inventory"));
                inventories += 1;
            }
        }
        assert!(inventories >= 2, "{inventories}");
    }
}
