//! A worker's progress, as reported while a job runs: worker-comfyui's
//! progress object in `output` (PR #221) and ComfyUI's own `progress`
//! messages share this shape.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A progress update a worker puts in `output` while the job runs
/// (worker-comfyui PR #221: `{"type": "progress", "value": 12, "max": 25,
/// "percent": 48.0, "node": "3"}`). It is never the job's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JobProgress {
    /// Steps done.
    pub value: u64,
    /// Steps in all.
    pub max: u64,
    /// `value / max` in percent, as the worker computed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// The node that reports it (the sampler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl JobProgress {
    /// Reads a progress update from `output`, if that is what it is.
    pub fn from_output(output: &Value) -> Option<Self> {
        Self::from_map(output.as_object()?)
    }

    /// [`JobProgress::from_output`] of an object.
    pub fn from_map(o: &Map<String, Value>) -> Option<Self> {
        if o.get("type").and_then(Value::as_str) != Some("progress") {
            return None;
        }
        let num = |k: &str| {
            o.get(k)
                .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64)))
        };
        Some(JobProgress {
            value: num("value")?,
            max: num("max").unwrap_or(0),
            percent: o.get("percent").and_then(Value::as_f64),
            node: o
                .get("node")
                .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_string)),
        })
    }

    /// The share done, 0..=100.
    pub fn percent(&self) -> f64 {
        self.percent
            .unwrap_or_else(|| {
                if self.max == 0 {
                    0.0
                } else {
                    self.value as f64 * 100.0 / self.max as f64
                }
            })
            .clamp(0.0, 100.0)
    }
}

impl std::fmt::Display for JobProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0}% ({}/{}", self.percent(), self.value, self.max)?;
        if let Some(n) = &self.node {
            write!(
                f,
                ", node {}",
                crate::text::truncate(&crate::text::one_line(n), 24)
            )?;
        }
        write!(f, ")")
    }
}
