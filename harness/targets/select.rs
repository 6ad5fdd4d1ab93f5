//! Which endpoint a run talks to, chosen from the environment (contract in
//! DESIGN.md): the embedded mock by default, the live RunPod endpoint when
//! `RUNPOD_API_KEY` and `RUNPOD_ENDPOINT_ID` (or `RUNPOD_ENDPOINT_URL`) are set.
//! Missing live variables never fail the suite: the mock runs and the run says so.

use std::fmt;

use crate::settings::SetupError;

/// The default live API base.
pub const RUNPOD_API: &str = "https://api.runpod.ai/v2";

/// The default `COMFYUI_URL`.
pub const COMFYUI_DEFAULT: &str = "http://127.0.0.1:8188";

/// `COMFYUI_URL=mock`: the embedded mock's ComfyUI face (what CI runs).
pub const COMFYUI_MOCK: &str = "mock";

pub use crate::model::TargetKind as Kind;

/// The chosen target. `Debug`/`Display` never show the key.
#[derive(Clone)]
pub struct TargetConfig {
    /// Which kind.
    pub kind: Kind,
    /// Endpoint URL including the id (live and local); the mock's is known once it starts.
    pub url: Option<String>,
    /// The API key, or ComfyUI's bearer token (never shown).
    pub api_key: Option<String>,
    /// ComfyUI's `user:password` for basic auth (never shown).
    pub basic_auth: Option<String>,
    /// Follow ComfyUI's progress websocket (`COMFYUI_WS`, default on); off, poll
    /// `/history` (for a proxy that does not pass websockets).
    pub websocket: bool,
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
            (Kind::Comfyui, Some(u)) if u == COMFYUI_MOCK => {
                write!(f, "embedded mock (ComfyUI API)")
            }
            (Kind::Comfyui, Some(u)) => {
                write!(f, "ComfyUI {}", crate::redact::url_for_display(u))
            }
            (k, None) => write!(f, "{k:?}"),
        }
    }
}

impl TargetConfig {
    /// Whether the run talks to the embedded mock (its RunPod or its ComfyUI face).
    pub fn uses_mock(&self) -> bool {
        self.kind == Kind::Mock
            || (self.kind == Kind::Comfyui && self.url.as_deref() == Some(COMFYUI_MOCK))
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
        Some("live") => {
            let flag = |k: &str| get(k).is_some_and(|v| !matches!(v.as_str(), "0" | "false" | "off" | "no"));
            env.live_or_mock(flag("CI"), flag("HARNESS_MOCK_FALLBACK"))
        }
        Some("local") => Ok(TargetConfig {
            kind: Kind::Local,
            url: Some(env.url.unwrap_or_else(|| "http://localhost:8000".into())),
            api_key: env.key,
            basic_auth: None,
            websocket: true,
            capabilities: env.capabilities,
            notes: vec![],
        }),
        Some("comfyui") => {
            let url = get("COMFYUI_URL").unwrap_or_else(|| COMFYUI_DEFAULT.into());
            if url != COMFYUI_MOCK && !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(SetupError::bad_value(
                    "COMFYUI_URL",
                    "an http(s) URL or `mock`",
                    &url,
                ));
            }
            let basic_auth = get("COMFYUI_BASIC_AUTH");
            if basic_auth.as_deref().is_some_and(|b| !b.contains(':')) {
                return Err(SetupError::bad_value(
                    "COMFYUI_BASIC_AUTH",
                    "user:password",
                    "a value without `:`",
                ));
            }
            let websocket = match get("COMFYUI_WS").as_deref() {
                None | Some("1" | "on" | "true") => true,
                Some("0" | "off" | "false") => false,
                Some(other) => return Err(SetupError::bad_value("COMFYUI_WS", "on or off", other)),
            };
            Ok(TargetConfig {
                kind: Kind::Comfyui,
                url: Some(url),
                api_key: get("COMFYUI_TOKEN"),
                basic_auth,
                websocket,
                capabilities: env.capabilities,
                notes: vec![],
            })
        }
        Some(other) => Err(SetupError::bad_value(
            "HARNESS_TARGET",
            "mock, live, local or comfyui",
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
            basic_auth: None,
            websocket: true,
            capabilities: self.capabilities.clone(),
            notes,
        }
    }

    fn live(&self) -> TargetConfig {
        TargetConfig {
            kind: Kind::Live,
            url: self.live_url(),
            api_key: self.key.clone(),
            basic_auth: None,
            websocket: true,
            capabilities: self.capabilities.clone(),
            notes: vec![],
        }
    }

    /// `HARNESS_TARGET=live` without its variables is an error: a nightly whose
    /// secrets were never set, or expired, must go red, not test the mock.
    /// Locally, `HARNESS_MOCK_FALLBACK=1` runs the mock instead and says why;
    /// on CI the fallback is never taken.
    fn live_or_mock(&self, ci: bool, fallback: bool) -> Result<TargetConfig, SetupError> {
        if self.key.is_some() && self.live_url().is_some() {
            return Ok(self.live());
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
        let missing = missing.join(" and ");
        if fallback && !ci {
            return Ok(self.mock(vec![format!(
                "HARNESS_TARGET=live but {missing} not set: running against the embedded mock instead (HARNESS_MOCK_FALLBACK)"
            )]));
        }
        let why = if ci {
            "on CI this fails: the repository's secrets were never set, or have expired (the mock is never run in their place here)"
        } else {
            "set them, or HARNESS_MOCK_FALLBACK=1 to run the embedded mock instead"
        };
        Err(SetupError::invalid(
            "HARNESS_TARGET=live",
            format!("the live endpoint was asked for, but {missing} is not set: {why}"),
        ))
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
        // An explicit live target without its secrets fails: always on CI,
        // locally unless the fallback is asked for.
        let e = target(&[("HARNESS_TARGET", "live"), ("RUNPOD_ENDPOINT_ID", "abc")]).unwrap_err().to_string();
        assert!(e.contains("RUNPOD_API_KEY is not set") && e.contains("HARNESS_MOCK_FALLBACK=1"), "{e}");
        let e = target(&[("HARNESS_TARGET", "live"), ("CI", "true"), ("HARNESS_MOCK_FALLBACK", "1"), ("RUNPOD_API_KEY", "")]).unwrap_err().to_string();
        assert!(e.contains("on CI this fails"), "{e}");
        let t = target(&[("HARNESS_TARGET", "live"), ("RUNPOD_ENDPOINT_ID", "abc"), ("HARNESS_MOCK_FALLBACK", "1")]).unwrap();
        assert_eq!(t.kind, Kind::Mock);
        assert_eq!(t.notes, vec!["HARNESS_TARGET=live but RUNPOD_API_KEY not set: running against the embedded mock instead (HARNESS_MOCK_FALLBACK)".to_string()]);
        let t = target(&[
            ("HARNESS_TARGET", "live"),
            ("RUNPOD_API_KEY", "k"),
            ("RUNPOD_ENDPOINT_URL", "http://127.0.0.1:9/v2/x"),
        ])
        .unwrap();
        assert_eq!(t.url.as_deref(), Some("http://127.0.0.1:9/v2/x"));
        assert!(target(&[("HARNESS_TARGET", "prod")]).is_err());
    }

    #[test]
    fn comfyui_defaults_to_loopback_and_never_shows_credentials() {
        let t = target(&[("HARNESS_TARGET", "comfyui")]).unwrap();
        assert_eq!(
            (t.kind, t.url.as_deref()),
            (Kind::Comfyui, Some(COMFYUI_DEFAULT))
        );
        let t = target(&[
            ("HARNESS_TARGET", "comfyui"),
            ("COMFYUI_URL", "https://pod-8188.proxy.example/"),
            ("COMFYUI_BASIC_AUTH", "me:s3cret-pw"),
        ])
        .unwrap();
        assert!(!format!("{t} {t:?}").contains("s3cret"));
        assert_eq!(t.to_string(), "ComfyUI https://pod-8188.proxy.example/");
        let t = target(&[("HARNESS_TARGET", "comfyui"), ("COMFYUI_URL", "mock")]).unwrap();
        assert_eq!(t.to_string(), "embedded mock (ComfyUI API)");
        assert!(target(&[("HARNESS_TARGET", "comfyui"), ("COMFYUI_URL", "8188")]).is_err());
        assert!(target(&[
            ("HARNESS_TARGET", "comfyui"),
            ("COMFYUI_BASIC_AUTH", "nocolon")
        ])
        .is_err());
    }
}
