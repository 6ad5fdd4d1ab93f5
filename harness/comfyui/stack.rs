//! The software stack ComfyUI says it runs on, read from what it prints at
//! start-up and on its first model load, and from `/system_stats`. The
//! wording is ComfyUI's own (`comfy/model_management.py`, `main.py`,
//! `comfy/ldm/modules/attention.py`, `comfy/model_base.py`, `comfy/sd.py`):
//!
//! ```text
//! pytorch version: 2.9.1+cu130
//! Set vram state to: NORMAL_VRAM
//! Device: cuda:0 NVIDIA L40 : cudaMallocAsync
//! Using pytorch attention                      (xformers, split optimization, sub quadratic optimization, sage, Flash)
//! ComfyUI version: 0.3.64
//! model weight dtype torch.float16, manual cast: None
//! VAE load device: cuda:0, offload device: cpu, dtype: torch.bfloat16
//! ```
//!
//! A logging prefix (`[INFO] `, a timestamp) before a line is allowed.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use crate::model::{ClassField, Fingerprint};

/// The patterns, each with the field it fills (group 1 is the value).
fn patterns() -> &'static [(ClassField, Regex)] {
    static P: OnceLock<Vec<(ClassField, Regex)>> = OnceLock::new();
    P.get_or_init(|| {
        let r = |s: &str| Regex::new(s).expect("a valid pattern");
        vec![
            (ClassField::Torch, r(r"pytorch version: (\S+)")),
            (ClassField::Vram, r(r"Set vram state to: (\w+)")),
            (ClassField::Comfyui, r(r"ComfyUI version: (\S+)")),
            (ClassField::UnetDtype, r(r"model weight dtype (?:torch\.)?(\w+), manual cast")),
            (ClassField::VaeDtype, r(r"VAE load device: .*dtype: (?:torch\.)?(\w+)")),
            (
                ClassField::Attention,
                r(r"Using (pytorch|xformers|split|sub quadratic|sage|[Ff]lash)(?: optimization for)? [Aa]ttention"),
            ),
        ]
    })
}

fn device_line() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"Device: (\S+)(?: (.+?))?(?: : \S+)?\s*$").expect("a valid pattern"))
}

/// The GPU name in a ComfyUI device string (`cuda:0 NVIDIA L40 : cudaMallocAsync`
/// -> `NVIDIA L40`; `cpu` -> `cpu`).
pub fn device_name(device: &str) -> Option<String> {
    let line = format!("Device: {}", device.trim());
    let caps = device_line().captures(&line)?;
    match caps.get(2) {
        Some(name) => Some(name.as_str().trim().to_string()),
        None => Some(caps.get(1)?.as_str().to_string()),
    }
}

/// The CUDA (or ROCm) version in a PyTorch version's suffix (`2.11.0+cu130` -> `13.0`).
pub fn cuda_of(torch: &str) -> Option<String> {
    let suffix = torch.split_once('+')?.1;
    if let Some(digits) = suffix.strip_prefix("cu") {
        let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() >= 3 {
            let (major, minor) = digits.split_at(digits.len() - 1);
            return Some(format!("{major}.{minor}"));
        }
    }
    if suffix.starts_with("rocm") {
        return Some(suffix.split(".git").next().unwrap_or(suffix).to_string());
    }
    (suffix == "cpu").then(|| "none".to_string())
}

/// Reads one printed line into `fp`; returns whether it said anything.
pub fn read_line(fp: &mut Fingerprint, line: &str) -> bool {
    let mut said = false;
    for (field, re) in patterns() {
        if let Some(v) = re.captures(line).and_then(|c| c.get(1)) {
            let value = match field {
                ClassField::Attention => v.as_str().to_ascii_lowercase(),
                _ => v.as_str().to_string(),
            };
            fp.set(*field, &value);
            if *field == ClassField::Torch {
                if let Some(c) = cuda_of(v.as_str()) {
                    fp.set(ClassField::Cuda, &c);
                }
            }
            said = true;
        }
    }
    if let Some(at) = line.find("Device: ") {
        if let Some(name) = device_name(&line[at + "Device: ".len()..]) {
            // The workers list's GPU type, where known, is the one kept.
            if fp.gpu == crate::model::UNKNOWN_FIELD {
                fp.set(ClassField::Gpu, &name);
            }
            said = true;
        }
    }
    said
}

/// Whether the stack has every start-up field and both dtypes: reading may stop.
pub fn complete(fp: &Fingerprint) -> bool {
    [
        ClassField::Torch,
        ClassField::Comfyui,
        ClassField::Attention,
        ClassField::Vram,
        ClassField::UnetDtype,
        ClassField::VaeDtype,
    ]
    .iter()
    .all(|f| fp.get(*f) != crate::model::UNKNOWN_FIELD)
}

/// The stack in a `/system_stats` answer: versions, the first device, and
/// what the command line (`system.argv`) chose for attention, dtypes and vram.
pub fn from_system_stats(stats: &Value) -> Fingerprint {
    let mut fp = Fingerprint::default();
    let text = |p: &str| stats.pointer(p).and_then(Value::as_str).map(str::to_string);
    if let Some(v) = text("/system/comfyui_version") {
        fp.set(ClassField::Comfyui, &v);
    }
    if let Some(t) = text("/system/pytorch_version") {
        fp.set(ClassField::Torch, &t);
        if let Some(c) = cuda_of(&t) {
            fp.set(ClassField::Cuda, &c);
        }
    }
    if let Some(name) = text("/devices/0/name").and_then(|d| device_name(&d)) {
        fp.set(ClassField::Gpu, &name);
    }
    let argv: Vec<String> = stats
        .pointer("/system/argv")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    for a in &argv {
        let flag = a.as_str();
        let attention = match flag {
            "--use-split-cross-attention" => Some("split"),
            "--use-quad-cross-attention" => Some("sub quadratic"),
            "--use-pytorch-cross-attention" => Some("pytorch"),
            "--use-sage-attention" => Some("sage"),
            "--use-flash-attention" => Some("flash"),
            _ => None,
        };
        if let Some(v) = attention {
            fp.set(ClassField::Attention, v);
        }
        let dtype = |prefix: &str, suffix: &str| {
            flag.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix)).map(|d| match d {
                "bf16" => "bfloat16".to_string(),
                "fp16" => "float16".to_string(),
                "fp32" => "float32".to_string(),
                other => other.to_string(),
            })
        };
        if let Some(d) = dtype("--", "-vae") {
            fp.set(ClassField::VaeDtype, &d);
        }
        if let Some(d) = dtype("--", "-unet") {
            fp.set(ClassField::UnetDtype, &d);
        }
        let vram = match flag {
            "--highvram" | "--gpu-only" => Some("HIGH_VRAM"),
            "--normalvram" => Some("NORMAL_VRAM"),
            "--lowvram" => Some("LOW_VRAM"),
            "--novram" => Some("NO_VRAM"),
            "--cpu" => Some("DISABLED"),
            _ => None,
        };
        if let Some(v) = vram {
            fp.set(ClassField::Vram, v);
        }
    }
    fp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_up_lines_as_comfyui_prints_them() {
        let log = "[INFO] Total VRAM 45458 MB, total RAM 65536 MB
[INFO] pytorch version: 2.9.1+cu130
[INFO] xformers version: 0.0.33.post2
[INFO] Set vram state to: NORMAL_VRAM
[INFO] Device: cuda:0 NVIDIA L40 : cudaMallocAsync
[INFO] Using xformers attention
[INFO] Python version: 3.12.13 (main, May 20 2026, 22:15:37) [GCC 13.3.0]
[INFO] ComfyUI version: 0.22.0
model weight dtype torch.float16, manual cast: None
VAE load device: cuda:0, offload device: cpu, dtype: torch.bfloat16";
        let mut fp = Fingerprint::default();
        for l in log.lines() {
            read_line(&mut fp, l);
        }
        assert_eq!(fp.gpu, "NVIDIA L40");
        assert_eq!(fp.torch, "2.9.1+cu130");
        assert_eq!(fp.cuda, "13.0");
        assert_eq!(fp.vram, "NORMAL_VRAM");
        assert_eq!(fp.attention, "xformers");
        assert_eq!(fp.comfyui, "0.22.0");
        assert_eq!(fp.unet_dtype, "float16");
        assert_eq!(fp.vae_dtype, "bfloat16");
        assert!(complete(&fp));
    }

    #[test]
    fn other_wordings_of_the_same_facts() {
        let mut fp = Fingerprint::default();
        read_line(&mut fp, "Using sub quadratic optimization for attention, if you have memory or speed issues try using: --use-split-cross-attention");
        assert_eq!(fp.attention, "sub quadratic");
        read_line(&mut fp, "Device: cpu");
        assert_eq!(fp.gpu, "cpu");
        read_line(&mut fp, "pytorch version: 2.10.0a0+rocm7.9.0rc20250923");
        assert_eq!(fp.cuda, "rocm7.9.0rc20250923");
        assert_eq!(device_name("cuda:0 AMD Radeon RX 7900 XTX : native").as_deref(), Some("AMD Radeon RX 7900 XTX"));
        let mut fp = Fingerprint::default();
        read_line(&mut fp, "Using split optimization for attention");
        assert_eq!(fp.attention, "split");
        assert!(!read_line(&mut fp, "got prompt"));
    }

    /// What a real ComfyUI 0.3.64 printed and answered on this kind of machine
    /// (CPU, torch 2.11.0+cu130, started with `--cpu --disable-metadata`).
    #[test]
    fn a_real_comfyui_on_cpu() {
        let log = "Checkpoint files will always be loaded safely.
Total VRAM 24105 MB, total RAM 24105 MB
pytorch version: 2.11.0+cu130
Set vram state to: DISABLED
Device: cpu
Using sub quadratic optimization for attention, if you have memory or speed issues try using: --use-split-cross-attention
Python version: 3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0]
ComfyUI version: 0.3.64
ComfyUI frontend version: 1.27.10
Starting server";
        let mut fp = Fingerprint::default();
        for l in log.lines() {
            read_line(&mut fp, l);
        }
        assert_eq!((fp.gpu.as_str(), fp.torch.as_str(), fp.cuda.as_str()), ("cpu", "2.11.0+cu130", "13.0"));
        assert_eq!((fp.vram.as_str(), fp.attention.as_str(), fp.comfyui.as_str()), ("DISABLED", "sub quadratic", "0.3.64"));
        let stats: Value = serde_json::from_str(r#"{"system": {"os": "posix", "ram_total": 25276182528, "ram_free": 23717957632, "comfyui_version": "0.3.64", "required_frontend_version": "1.27.10", "installed_templates_version": "0.1.95", "required_templates_version": "0.1.95", "python_version": "3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0]", "pytorch_version": "2.11.0+cu130", "embedded_python": false, "argv": ["main.py", "--cpu", "--disable-metadata", "--listen", "127.0.0.1", "--port", "8188"]}, "devices": [{"name": "cpu", "type": "cpu", "index": null, "vram_total": 25276182528, "vram_free": 23717957632, "torch_vram_total": 25276182528, "torch_vram_free": 23717957632}]}"#).unwrap();
        let fp = from_system_stats(&stats);
        assert_eq!((fp.gpu.as_str(), fp.comfyui.as_str(), fp.torch.as_str(), fp.vram.as_str()), ("cpu", "0.3.64", "2.11.0+cu130", "DISABLED"));
        // The attention backend is not in /system_stats unless a flag chose it.
        assert_eq!(fp.attention, "unknown");
    }

    #[test]
    fn system_stats_and_its_command_line() {
        let v = serde_json::json!({
            "system": {"comfyui_version": "0.3.64", "pytorch_version": "2.11.0+cu130",
                       "argv": ["main.py", "--use-split-cross-attention", "--bf16-vae", "--cpu"]},
            "devices": [{"name": "cpu", "type": "cpu"}]
        });
        let fp = from_system_stats(&v);
        assert_eq!((fp.gpu.as_str(), fp.comfyui.as_str(), fp.torch.as_str()), ("cpu", "0.3.64", "2.11.0+cu130"));
        assert_eq!((fp.attention.as_str(), fp.vae_dtype.as_str(), fp.vram.as_str()), ("split", "bfloat16", "DISABLED"));
        assert_eq!(fp.unet_dtype, "unknown");
    }
}
