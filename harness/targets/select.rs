//! Which endpoint a run talks to, chosen from the environment (contract in
//! DESIGN.md): the embedded mock by default, the live RunPod endpoint when
//! `RUNPOD_API_KEY` and `RUNPOD_ENDPOINT_ID` (or `RUNPOD_ENDPOINT_URL`) are set.
//! Missing live variables never fail the suite: the mock runs and the run says so.

use std::fmt;

use crate::setup::SetupError;

/// The default live API base.
pub const RUNPOD_API: &str = "https://api.runpod.ai/v2";

pub use crate::model::TargetKind as Kind;

/// The chosen target. `Debug`/`Display` never show the key.
#[derive(Clone)]
pub struct TargetConfig {
    /// Which kind.
    pub kind: Kind,
    /// Endpoint URL including the id (live and local); the mock's is known once it starts.
    pub url: Option<String>,
    /// The API key (never shown).
    pub api_key: Option<String>,
    /// Capabilities from `HARNESS_CAPABILITIES`; None when unset.
    pub capabilities: Option<Vec<String>>,
    /// Remarks to print before the run (e.g. why the mock runs instead of live).
    pub notes: Vec<String>,
}

impl fmt::Debug for TargetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TargetConfig({self})")
    }
}

impl fmt::Display for TargetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, &self.url) {
            (Kind::Mock, _) => write!(f, "embedded mock"),
            (Kind::Live, Some(u)) => {
                write!(f, "live endpoint {}", crate::redact::url_for_display(u))
            }
            (Kind::Local, Some(u)) => {
                write!(f, "local worker {}", crate::redact::url_for_display(u))
            }
            (Kind::Comfyui, Some(u)) => {
                write!(f, "ComfyUI {}", crate::redact::url_for_display(u))
            }
            (k, None) => write!(f, "{k:?}"),
        }
    }
}

/// Reads the target from environment variables through `var`.
pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<TargetConfig, SetupError> {
    let get = |k: &str| {
        var(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let env = Env {
        key: get("RUNPOD_API_KEY"),
        id: get("RUNPOD_ENDPOINT_ID"),
        url: get("RUNPOD_ENDPOINT_URL"),
        capabilities: get("HARNESS_CAPABILITIES").map(|c| {
            c.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        }),
    };
    match get("HARNESS_TARGET").as_deref() {
        // Both live variables set: the live endpoint; otherwise the mock, silently.
        None if env.key.is_some() && (env.id.is_some() || env.url.is_some()) => Ok(env.live()),
        None | Some("mock") => Ok(env.mock(vec![])),
        Some("live") => Ok(env.live_or_mock()),
        Some("local") => Ok(TargetConfig {
            kind: Kind::Local,
            url: Some(env.url.unwrap_or_else(|| "http://localhost:8000".into())),
            api_key: env.key,
            capabilities: env.capabilities,
            notes: vec![],
        }),
        Some(other) => Err(SetupError::bad_value(
            "HARNESS_TARGET",
            "mock, live or local",
            other,
        )),
    }
}

/// The target variables as read.
struct Env {
    key: Option<String>,
    id: Option<String>,
    url: Option<String>,
    capabilities: Option<Vec<String>>,
}

impl Env {
    fn live_url(&self) -> Option<String> {
        self.url
            .clone()
            .or_else(|| self.id.as_ref().map(|id| format!("{RUNPOD_API}/{id}")))
    }

    fn mock(&self, notes: Vec<String>) -> TargetConfig {
        TargetConfig {
            kind: Kind::Mock,
            url: None,
            api_key: None,
            capabilities: self.capabilities.clone(),
            notes,
        }
    }

    fn live(&self) -> TargetConfig {
        TargetConfig {
            kind: Kind::Live,
            url: self.live_url(),
            api_key: self.key.clone(),
            capabilities: self.capabilities.clone(),
            notes: vec![],
        }
    }

    /// `HARNESS_TARGET=live` without its variables runs the mock and says why.
    fn live_or_mock(&self) -> TargetConfig {
        if self.key.is_some() && self.live_url().is_some() {
            return self.live();
        }
        let missing: Vec<&str> = [
            ("RUNPOD_API_KEY", self.key.is_none()),
            (
                "RUNPOD_ENDPOINT_ID (or RUNPOD_ENDPOINT_URL)",
                self.live_url().is_none(),
            ),
        ]
        .iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| *n)
        .collect();
        self.mock(vec![format!(
            "HARNESS_TARGET=live but {} not set: running against the embedded mock instead",
            missing.join(" and ")
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn target(vars: &[(&str, &str)]) -> Result<TargetConfig, SetupError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_env(|k| map.get(k).cloned())
    }

    #[test]
    fn chooses_live_only_with_both_variables() {
        let t = target(&[
            ("RUNPOD_API_KEY", "k-secret"),
            ("RUNPOD_ENDPOINT_ID", "abc"),
        ])
        .unwrap();
        assert_eq!(t.kind, Kind::Live);
        assert_eq!(t.url.as_deref(), Some("https://api.runpod.ai/v2/abc"));
        assert!(!format!("{t} {t:?}").contains("k-secret"));
        assert_eq!(
            target(&[("RUNPOD_ENDPOINT_ID", "abc")]).unwrap().kind,
            Kind::Mock
        );
        let t = target(&[("HARNESS_TARGET", "live"), ("RUNPOD_ENDPOINT_ID", "abc")]).unwrap();
        assert_eq!(t.kind, Kind::Mock);
        assert_eq!(t.notes, vec!["HARNESS_TARGET=live but RUNPOD_API_KEY not set: running against the embedded mock instead".to_string()]);
        let t = target(&[
            ("HARNESS_TARGET", "live"),
            ("RUNPOD_API_KEY", "k"),
            ("RUNPOD_ENDPOINT_URL", "http://127.0.0.1:9/v2/x"),
        ])
        .unwrap();
        assert_eq!(t.url.as_deref(), Some("http://127.0.0.1:9/v2/x"));
        assert!(target(&[("HARNESS_TARGET", "prod")]).is_err());
    }
}
