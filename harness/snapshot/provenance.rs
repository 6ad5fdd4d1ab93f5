//! Where a reference came from, written into its `.snap` record: the endpoint
//! that returned it, the worker image and GPU where the target says, the
//! harness version, the repository commit, and when it was accepted. A
//! reference is only as good as the hardware class it was made on: these lines
//! let a reviewer tell an A100 reference from a CPU one.

/// The facts of the run a reference is written in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// The target as shown to people (credentials redacted).
    pub endpoint: Option<String>,
    /// The GPU (or CPU) the target ran on, where it says.
    pub gpu: Option<String>,
    /// The worker image or server software, where the target says.
    pub worker_image: Option<String>,
    /// The repository commit of the run.
    pub commit: Option<String>,
}

impl Provenance {
    /// The `.snap` lines (one per known fact, plus the harness version).
    pub fn lines(&self) -> String {
        let mut out = String::new();
        let mut line = |k: &str, v: Option<&str>| {
            if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
                // One line per fact, whatever the target answered.
                let v: String = crate::redact::redact(v).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
                out.push_str(&format!("{k}: {v}\n"));
            }
        };
        line("endpoint", self.endpoint.as_deref());
        line("gpu", self.gpu.as_deref());
        line("worker_image", self.worker_image.as_deref());
        line("harness", Some(concat!("endpoint-harness ", env!("CARGO_PKG_VERSION"))));
        line("commit", self.commit.as_deref());
        out
    }
}

/// Now, RFC 3339 to the second: when a reference is accepted.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
