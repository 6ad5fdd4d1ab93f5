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
    /// The job's fingerprint: the class the reference is kept under.
    pub fingerprint: crate::model::Fingerprint,
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
        for f in crate::model::ClassField::ALL {
            line(&format!("fingerprint.{}", f.name()), Some(self.fingerprint.get(f)));
        }
        out
    }
}

/// The fingerprint a `.snap` record was written with: its `fingerprint.*`
/// lines, or for a record written before fingerprints, what its `gpu` and
/// `worker_image` lines said (`ComfyUI 0.3.64, torch 2.11.0+cu130`); `unknown`
/// where neither says.
pub fn fingerprint_of(snap: &str) -> crate::model::Fingerprint {
    use crate::model::{ClassField, Fingerprint};
    let mut fp = Fingerprint::default();
    let field = |k: &str| {
        snap.lines().find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix(": ")).map(str::trim))
    };
    let mut any = false;
    for f in ClassField::ALL {
        if let Some(v) = field(&format!("fingerprint.{}", f.name())) {
            fp.set(f, v);
            any = true;
        }
    }
    if any {
        return fp;
    }
    if let Some(g) = field("gpu").filter(|g| !g.starts_with("none")) {
        fp.set(ClassField::Gpu, g);
    }
    if let Some(w) = field("worker_image") {
        for part in w.split(", ") {
            if let Some(v) = part.strip_prefix("ComfyUI ") {
                fp.set(ClassField::Comfyui, v);
            }
            if let Some(v) = part.strip_prefix("torch ") {
                fp.set(ClassField::Torch, v);
            }
        }
    }
    fp
}

/// Now, RFC 3339 to the second: when a reference is accepted.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
