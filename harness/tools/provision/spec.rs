//! `provision.yaml`: what throwaway endpoint to create (image, GPU pools,
//! workers, timeouts, env), optionally seeded from a RunPod Hub `hub.json` or
//! `tests.json` `config`, and the RunPod REST v2 create body it becomes.
//! Every error names the file (and the line, for YAML).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

/// `provision.yaml` as written.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// The worker image (`ghcr.io/acme/worker:sha-1234`); `--image` or
    /// `HARNESS_PROVISION_IMAGE` override it.
    #[serde(default)]
    pub image: Option<String>,
    /// A RunPod Hub `hub.json` or `.runpod/tests.json` whose `config` (GPU
    /// pools or count, env, CUDA versions, disk) seeds the fields not set here.
    #[serde(default)]
    pub hub: Option<PathBuf>,
    /// The endpoint is named `<name_prefix>-<run id>` (default `eh`); cleanup
    /// finds leftovers by this prefix.
    #[serde(default)]
    pub name_prefix: Option<String>,
    /// Container registry credential id, for a private image.
    #[serde(default)]
    pub registry_auth_id: Option<String>,
    /// Environment variables of the workers.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// GPU selection.
    #[serde(default)]
    pub gpu: Option<GpuSpec>,
    /// Worker counts (default min 1, max 1: one warm worker, waited for).
    #[serde(default)]
    pub workers: Option<WorkersSpec>,
    /// Seconds before an idle worker stops (default 5s).
    #[serde(default)]
    pub idle_timeout: Option<String>,
    /// FlashBoot: `off` (default), `flashboot`, `priority`.
    #[serde(default)]
    pub flashboot: Option<String>,
    /// Per-job execution timeout (default 10m).
    #[serde(default)]
    pub execution_timeout: Option<String>,
    /// Container disk in GB.
    #[serde(default)]
    pub disk: Option<u32>,
    /// Preferred data centers (default: any).
    #[serde(default)]
    pub data_centers: Vec<String>,
    /// How long to wait for a ready worker (default 20m: image pull and cold start).
    #[serde(default)]
    pub ready_timeout: Option<String>,
    /// Fail when workers stay THROTTLED this long (default 5m).
    #[serde(default)]
    pub throttled_limit: Option<String>,
}

/// `gpu:` of `provision.yaml`.
#[derive(Debug, Default, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuSpec {
    /// Serverless GPU pool ids, in order of preference (`ADA_24`, `AMPERE_48`).
    #[serde(default)]
    pub pools: Vec<String>,
    /// GPU type ids to leave out of those pools.
    #[serde(default)]
    pub excluded_types: Vec<String>,
    /// GPUs per worker (default 1).
    #[serde(default)]
    pub count: Option<u32>,
    /// Exact CUDA versions allowed (`["12.8", "12.6"]`).
    #[serde(default)]
    pub allowed_cuda_versions: Vec<String>,
    /// Or a floor (`"12.4"`); not both.
    #[serde(default)]
    pub min_cuda_version: Option<String>,
}

/// `workers:` of `provision.yaml`.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkersSpec {
    /// Workers kept running (billed while the endpoint lives).
    pub min: u32,
    /// Most workers at once.
    pub max: u32,
}

/// A checked provision spec.
#[derive(Clone, Debug)]
pub struct Spec {
    pub(crate) image: String,
    pub(crate) name_prefix: String,
    pub(crate) registry_auth_id: Option<String>,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) gpu: GpuSpec,
    pub(crate) workers_min: u32,
    pub(crate) workers_max: u32,
    pub(crate) idle_timeout: Duration,
    pub(crate) flashboot: &'static str,
    pub(crate) execution_timeout: Duration,
    pub(crate) disk: Option<u32>,
    pub(crate) data_centers: Vec<String>,
    pub(crate) ready_timeout: Duration,
    pub(crate) throttled_limit: Duration,
}

/// A provision file that cannot be used: the file, and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct SpecError {
    /// The file (with `:line:column` for a YAML error).
    pub file: String,
    /// What is wrong.
    pub reason: String,
}

fn err(file: &Path, reason: impl Into<String>) -> SpecError {
    SpecError {
        file: file.display().to_string(),
        reason: reason.into(),
    }
}

/// Reads and checks `path`; `image` overrides the file's `image:`.
pub fn load(path: &Path, image: Option<String>) -> Result<Spec, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    let file: SpecFile = crate::text::yaml::from_str(&text).map_err(|e| {
        let at = e
            .at
            .map(|(line, col)| format!(":{line}:{col}"))
            .unwrap_or_default();
        SpecError {
            file: format!("{}{at}", path.display()),
            reason: e.message,
        }
    })?;
    let hub = match &file.hub {
        Some(h) => {
            let h = path.parent().unwrap_or(Path::new(".")).join(h);
            Some(hub_config(&h)?)
        }
        None => None,
    };
    let spec = resolve(path, file, hub.unwrap_or_default(), image)?;
    // The endpoint's env holds bucket keys and tokens, and a worker may log
    // its env: those values are registered as secrets.
    for (k, v) in &spec.env {
        if secret_env(k, v) {
            crate::redact::register_secret(v.trim());
        }
    }
    Ok(spec)
}

/// Whether an env value is treated as secret: any value of a key named like a
/// credential (`*KEY*`, `*TOKEN*`, `*SECRET*`, `*PASS*`, `*AUTH*`,
/// `*CREDENTIAL*`, `*PRIVATE*`), and any long value that is not a plain word,
/// number or boolean (`COMFY_LOG_LEVEL: DEBUG` is not; redacting `false`
/// everywhere would break the reports' JSON).
fn secret_env(key: &str, value: &str) -> bool {
    let v = value.trim();
    let literal = v.parse::<f64>().is_ok() || ["true", "false", "null", "yes", "no", "on", "off"].contains(&v.to_ascii_lowercase().as_str());
    if v.is_empty() || literal {
        return false;
    }
    let k = key.to_ascii_uppercase();
    let named = ["KEY", "TOKEN", "SECRET", "PASS", "AUTH", "CREDENTIAL", "PRIVATE"].iter().any(|w| k.contains(w));
    named || (v.len() >= 12 && !v.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
}

/// What a Hub file's `config` contributes.
#[derive(Debug, Default)]
struct HubConfig {
    gpu: GpuSpec,
    env: BTreeMap<String, String>,
    disk: Option<u32>,
}

/// `hub.json`'s `config` (`gpuIds: "ADA_24,-NVIDIA GeForce RTX 4090"`,
/// `gpuCount`, `containerDiskInGb`, `allowedCudaVersions`, `env`) or
/// `tests.json`'s (`gpuTypeId`, `gpuCount`, `env: [{key, value}]`,
/// `allowedCudaVersions`).
fn hub_config(path: &Path) -> Result<HubConfig, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        err(
            path,
            format!("line {}: not JSON: {e}", e.line()),
        )
    })?;
    let Some(c) = v.get("config") else {
        return Err(err(path, "no `config` object to take the endpoint settings from"));
    };
    let mut out = HubConfig::default();
    if let Some(ids) = c.get("gpuIds").and_then(Value::as_str) {
        for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match id.strip_prefix('-') {
                Some(t) => out.gpu.excluded_types.push(t.trim().to_string()),
                None => out.gpu.pools.push(id.to_string()),
            }
        }
    }
    if let Some(t) = c.get("gpuTypeId").and_then(Value::as_str) {
        if out.gpu.pools.is_empty() {
            return Err(err(
                path,
                format!(
                    "config.gpuTypeId `{t}` names a GPU type, but REST v2 selects GPUs by pool: \
                     set gpu.pools (e.g. [ADA_24]) in the provision file"
                ),
            ));
        }
    }
    out.gpu.count = c.get("gpuCount").and_then(Value::as_u64).map(|n| n as u32);
    out.gpu.allowed_cuda_versions = c
        .get("allowedCudaVersions")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    out.disk = c.get("containerDiskInGb").and_then(Value::as_u64).map(|n| n as u32);
    match c.get("env") {
        Some(Value::Array(items)) => {
            for item in items {
                let key = item.get("key").and_then(Value::as_str);
                let value = item
                    .get("value")
                    .or_else(|| item.get("default"))
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                if let (Some(k), Some(v)) = (key, value) {
                    out.env.insert(k.to_string(), v);
                }
            }
        }
        Some(Value::Object(m)) => {
            for (k, v) in m {
                out.env.insert(
                    k.clone(),
                    v.as_str().map(String::from).unwrap_or_else(|| v.to_string()),
                );
            }
        }
        _ => {}
    }
    Ok(out)
}

fn resolve(
    path: &Path,
    f: SpecFile,
    hub: HubConfig,
    image: Option<String>,
) -> Result<Spec, SpecError> {
    let dur = |field: &str, v: &Option<String>, d: Duration| match v {
        None => Ok(d),
        Some(t) => humantime::parse_duration(t)
            .map_err(|_| err(path, format!("{field}: `{t}` is not a duration (e.g. 30s, 10m)"))),
    };
    let image = image
        .or(f.image)
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| {
            err(
                path,
                "no image: set `image:`, HARNESS_PROVISION_IMAGE or --image",
            )
        })?;
    let gpu = gpu(path, f.gpu.unwrap_or_default(), hub.gpu)?;
    let w = f.workers.unwrap_or(WorkersSpec { min: 1, max: 1 });
    if w.max == 0 || w.min > w.max {
        return Err(err(
            path,
            format!("workers: need 1 <= max and min <= max (min {}, max {})", w.min, w.max),
        ));
    }
    let idle_timeout = dur("idle_timeout", &f.idle_timeout, Duration::from_secs(5))?;
    if !(1..=3600).contains(&idle_timeout.as_secs()) {
        return Err(err(path, "idle_timeout: between 1s and 1h"));
    }
    let flashboot = flashboot(path, f.flashboot.as_deref())?;
    let prefix = f.name_prefix.unwrap_or_else(|| "eh".into());
    if prefix.is_empty()
        || prefix.len() > 40
        || !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(err(
            path,
            format!("name_prefix: `{prefix}` must be 1-40 letters, digits, - or _"),
        ));
    }
    let mut env = hub.env;
    env.extend(f.env);
    Ok(Spec {
        image,
        name_prefix: prefix,
        registry_auth_id: f.registry_auth_id,
        env,
        gpu,
        workers_min: w.min,
        workers_max: w.max,
        idle_timeout,
        flashboot,
        execution_timeout: dur(
            "execution_timeout",
            &f.execution_timeout,
            Duration::from_secs(600),
        )?,
        disk: f.disk.or(hub.disk),
        data_centers: f.data_centers,
        ready_timeout: dur("ready_timeout", &f.ready_timeout, Duration::from_secs(1200))?,
        throttled_limit: dur("throttled_limit", &f.throttled_limit, Duration::from_secs(300))?,
    })
}

/// `gpu:` completed from the Hub config where the file leaves a part out, and checked.
fn gpu(path: &Path, mut gpu: GpuSpec, hub: GpuSpec) -> Result<GpuSpec, SpecError> {
    if gpu.pools.is_empty() {
        gpu.pools = hub.pools;
        if gpu.excluded_types.is_empty() {
            gpu.excluded_types = hub.excluded_types;
        }
    }
    gpu.count = gpu.count.or(hub.count);
    if gpu.allowed_cuda_versions.is_empty() && gpu.min_cuda_version.is_none() {
        gpu.allowed_cuda_versions = hub.allowed_cuda_versions;
    }
    if gpu.pools.is_empty() {
        return Err(err(path, "gpu.pools: name at least one GPU pool (e.g. [ADA_24])"));
    }
    if !gpu.allowed_cuda_versions.is_empty() && gpu.min_cuda_version.is_some() {
        return Err(err(
            path,
            "gpu: allowed_cuda_versions and min_cuda_version exclude each other; keep one",
        ));
    }
    if gpu.count == Some(0) {
        return Err(err(path, "gpu.count: at least 1"));
    }
    Ok(gpu)
}

/// `flashboot:` as the management API spells it.
fn flashboot(path: &Path, v: Option<&str>) -> Result<&'static str, SpecError> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("off") | Some("false") => Ok("OFF"),
        Some("flashboot") | Some("on") | Some("true") => Ok("FLASHBOOT"),
        Some("priority") | Some("priority_flashboot") => Ok("PRIORITY_FLASHBOOT"),
        Some(other) => Err(err(
            path,
            format!("flashboot: `{other}` is not off, flashboot or priority"),
        )),
    }
}

impl Spec {
    /// The `POST /v2/serverless` body for an endpoint named `name`.
    pub(crate) fn create_body(&self, name: &str) -> Value {
        let mut gpu = json!({"pools": self.gpu.pools, "count": self.gpu.count.unwrap_or(1)});
        if !self.gpu.excluded_types.is_empty() {
            gpu["excludedTypes"] = json!(self.gpu.excluded_types);
        }
        if !self.gpu.allowed_cuda_versions.is_empty() {
            gpu["allowedCudaVersions"] = json!(self.gpu.allowed_cuda_versions);
        }
        if let Some(m) = &self.gpu.min_cuda_version {
            gpu["minCudaVersion"] = json!(m);
        }
        let mut body = json!({
            "name": name,
            "type": "QUEUE",
            "image": self.image,
            "gpu": gpu,
            // Explicit zeros: an omitted min would be the server's default.
            "workers": {"min": self.workers_min, "max": self.workers_max,
                        "idleTimeout": self.idle_timeout.as_secs()},
            "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4},
            "timeout": self.execution_timeout.as_millis() as u64,
            "flashboot": self.flashboot,
        });
        if !self.env.is_empty() {
            body["env"] = json!(self.env);
        }
        if let Some(d) = self.disk {
            body["disk"] = json!(d);
        }
        if let Some(r) = &self.registry_auth_id {
            body["registry"] = json!(r);
        }
        if !self.data_centers.is_empty() {
            body["dataCenterIds"] = json!(self.data_centers);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> Result<Spec, SpecError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("provision.yaml");
        std::fs::write(&p, yaml).unwrap();
        load(&p, None)
    }

    #[test]
    fn a_minimal_file_becomes_a_v2_create_body_with_explicit_workers() {
        let s = spec("image: ghcr.io/acme/worker:1\ngpu:\n  pools: [ADA_24]\n").unwrap();
        let b = s.create_body("eh-run1");
        assert_eq!(b["type"], "QUEUE");
        assert_eq!(b["image"], "ghcr.io/acme/worker:1");
        assert_eq!(b["workers"], json!({"min": 1, "max": 1, "idleTimeout": 5}));
        assert_eq!(b["gpu"], json!({"pools": ["ADA_24"], "count": 1}));
        assert_eq!(b["flashboot"], "OFF");
        assert_eq!(b["timeout"], 600000);
        assert!(b.get("env").is_none());
    }

    #[test]
    fn bad_files_name_the_file_line_and_field() {
        let e = spec("image: x\ngpu:\n  pools: [ADA_24]\nworkrs: {min: 0, max: 1}\n").unwrap_err();
        assert!(e.to_string().contains("provision.yaml:4:1"), "{e}");
        assert!(e.to_string().contains("workrs"), "{e}");
        let e = spec("gpu: {pools: [ADA_24]}\n").unwrap_err();
        assert!(e.to_string().contains("no image"), "{e}");
        let e = spec("image: x\n").unwrap_err();
        assert!(e.to_string().contains("gpu.pools"), "{e}");
        let e = spec("image: x\ngpu: {pools: [A], allowed_cuda_versions: ['12.8'], min_cuda_version: '12.4'}\n")
            .unwrap_err();
        assert!(e.to_string().contains("exclude each other"), "{e}");
        let e = spec("image: x\ngpu: {pools: [A]}\nworkers: {min: 2, max: 1}\n").unwrap_err();
        assert!(e.to_string().contains("min <= max"), "{e}");
        let e = spec("image: x\ngpu: {pools: [A]}\nready_timeout: soon\n").unwrap_err();
        assert!(e.to_string().contains("ready_timeout"), "{e}");
    }

    #[test]
    fn a_hub_config_seeds_what_the_file_leaves_out() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("hub.json"),
            r#"{"config": {"gpuIds": "ADA_24,AMPERE_48,-NVIDIA GeForce RTX 4090", "gpuCount": 1,
                "containerDiskInGb": 40, "allowedCudaVersions": ["12.8"],
                "env": [{"key": "COMFY_LOG_LEVEL", "value": "DEBUG"}, {"key": "REFRESH_WORKER", "value": "false"}]}}"#,
        )
        .unwrap();
        let p = dir.path().join("provision.yaml");
        std::fs::write(&p, "hub: hub.json\nenv:\n  REFRESH_WORKER: \"true\"\n").unwrap();
        let s = load(&p, Some("img:2".into())).unwrap();
        let b = s.create_body("n");
        assert_eq!(b["image"], "img:2");
        assert_eq!(b["gpu"]["pools"], json!(["ADA_24", "AMPERE_48"]));
        assert_eq!(b["gpu"]["excludedTypes"], json!(["NVIDIA GeForce RTX 4090"]));
        assert_eq!(b["gpu"]["allowedCudaVersions"], json!(["12.8"]));
        assert_eq!(b["disk"], 40);
        assert_eq!(b["env"], json!({"COMFY_LOG_LEVEL": "DEBUG", "REFRESH_WORKER": "true"}));
        std::fs::write(
            dir.path().join("tests.json"),
            r#"{"tests": [], "config": {"gpuTypeId": "NVIDIA GeForce RTX 4090", "gpuCount": 1}}"#,
        )
        .unwrap();
        std::fs::write(&p, "image: x\nhub: tests.json\n").unwrap();
        let e = load(&p, None).unwrap_err();
        assert!(e.to_string().contains("selects GPUs by pool"), "{e}");
    }
}

#[cfg(test)]
mod secret_env_tests {
    #[test]
    fn credentials_are_secret_and_plain_settings_are_not() {
        use super::secret_env;
        assert!(secret_env("BUCKET_SECRET_ACCESS_KEY", "abc"));
        assert!(secret_env("HF_TOKEN", "hf_x1"));
        assert!(secret_env("WEBHOOK", "https://hooks.example/abc123"));
        assert!(!secret_env("COMFY_LOG_LEVEL", "DEBUG"));
        assert!(!secret_env("REFRESH_WORKER", "false"));
        assert!(!secret_env("API_KEY_COUNT", "3"));
    }
}
