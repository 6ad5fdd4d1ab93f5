//! The fingerprint of a job: the hardware and software that made its pixels
//! (GPU model, worker release, ComfyUI, PyTorch and CUDA, attention backend,
//! UNet and VAE dtypes, vram state), and the reference class a subset of it
//! names. Pure data: where each field is read from lives in
//! `comfyui::stack` (ComfyUI's start-up lines, `/system_stats`) and the
//! trial's fingerprint cache (the endpoint's workers list).

use serde::{Deserialize, Serialize};

/// What a field holds when nobody said.
pub const UNKNOWN: &str = "unknown";

fn unknown() -> String {
    UNKNOWN.to_string()
}

/// The hardware and software a job ran on; `unknown` where not said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Fingerprint {
    /// The GPU model (`NVIDIA H100 80GB HBM3`): the workers list's `gpuTypeId`,
    /// else ComfyUI's `Device:` line; `cpu` on a CPU.
    #[serde(default = "unknown")]
    pub gpu: String,
    /// The worker's release (the workers list's `version`).
    #[serde(default = "unknown")]
    pub release: String,
    /// ComfyUI's version (`ComfyUI version: 0.3.64`).
    #[serde(default = "unknown")]
    pub comfyui: String,
    /// PyTorch's version (`pytorch version: 2.11.0+cu130`).
    #[serde(default = "unknown")]
    pub torch: String,
    /// The CUDA (or ROCm) version PyTorch was built for, from its version suffix.
    #[serde(default = "unknown")]
    pub cuda: String,
    /// The attention backend (`pytorch`, `xformers`, `split`, `sub quadratic`, ...).
    #[serde(default = "unknown")]
    pub attention: String,
    /// The UNet's weight dtype (`model weight dtype torch.float16`).
    #[serde(default = "unknown")]
    pub unet_dtype: String,
    /// The VAE's dtype (`VAE load device: ..., dtype: torch.bfloat16`).
    #[serde(default = "unknown")]
    pub vae_dtype: String,
    /// ComfyUI's vram state (`Set vram state to: NORMAL_VRAM`).
    #[serde(default = "unknown")]
    pub vram: String,
    /// Why some fields are unknown (a log the key may not read, a worker gone):
    /// notes, never failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint {
            gpu: unknown(),
            release: unknown(),
            comfyui: unknown(),
            torch: unknown(),
            cuda: unknown(),
            attention: unknown(),
            unet_dtype: unknown(),
            vae_dtype: unknown(),
            vram: unknown(),
            notes: Vec::new(),
        }
    }
}

/// One field of a fingerprint, as `snapshot.class` names it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ClassField {
    /// The GPU model.
    Gpu,
    /// The worker's release.
    Release,
    /// ComfyUI's version.
    Comfyui,
    /// PyTorch's version.
    Torch,
    /// The CUDA version PyTorch was built for.
    Cuda,
    /// The attention backend.
    Attention,
    /// The UNet's dtype.
    UnetDtype,
    /// The VAE's dtype.
    VaeDtype,
    /// ComfyUI's vram state.
    Vram,
}

impl ClassField {
    /// Every field, in the order classes are written.
    pub const ALL: [ClassField; 9] = [
        ClassField::Gpu,
        ClassField::Release,
        ClassField::Comfyui,
        ClassField::Torch,
        ClassField::Cuda,
        ClassField::Attention,
        ClassField::UnetDtype,
        ClassField::VaeDtype,
        ClassField::Vram,
    ];

    /// The default class: GPU model, ComfyUI version, PyTorch version.
    pub const DEFAULT: [ClassField; 3] = [ClassField::Gpu, ClassField::Comfyui, ClassField::Torch];

    /// The name in YAML, env values and class keys.
    pub fn name(self) -> &'static str {
        match self {
            ClassField::Gpu => "gpu",
            ClassField::Release => "release",
            ClassField::Comfyui => "comfyui",
            ClassField::Torch => "torch",
            ClassField::Cuda => "cuda",
            ClassField::Attention => "attention",
            ClassField::UnetDtype => "unet_dtype",
            ClassField::VaeDtype => "vae_dtype",
            ClassField::Vram => "vram",
        }
    }

    /// The field named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name.trim())
    }
}

impl Fingerprint {
    /// The value of one field.
    pub fn get(&self, f: ClassField) -> &str {
        match f {
            ClassField::Gpu => &self.gpu,
            ClassField::Release => &self.release,
            ClassField::Comfyui => &self.comfyui,
            ClassField::Torch => &self.torch,
            ClassField::Cuda => &self.cuda,
            ClassField::Attention => &self.attention,
            ClassField::UnetDtype => &self.unet_dtype,
            ClassField::VaeDtype => &self.vae_dtype,
            ClassField::Vram => &self.vram,
        }
    }

    fn slot(&mut self, f: ClassField) -> &mut String {
        match f {
            ClassField::Gpu => &mut self.gpu,
            ClassField::Release => &mut self.release,
            ClassField::Comfyui => &mut self.comfyui,
            ClassField::Torch => &mut self.torch,
            ClassField::Cuda => &mut self.cuda,
            ClassField::Attention => &mut self.attention,
            ClassField::UnetDtype => &mut self.unet_dtype,
            ClassField::VaeDtype => &mut self.vae_dtype,
            ClassField::Vram => &mut self.vram,
        }
    }

    /// Sets a field to `value` (trimmed, one line, at most 80 characters);
    /// an empty value leaves it as it was.
    pub fn set(&mut self, f: ClassField, value: &str) {
        let v: String = value
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect();
        if !v.is_empty() {
            *self.slot(f) = v;
        }
    }

    /// Fills every field still unknown from `other`.
    pub fn fill_from(&mut self, other: &Fingerprint) {
        for f in ClassField::ALL {
            if self.get(f) == UNKNOWN && other.get(f) != UNKNOWN {
                let v = other.get(f).to_string();
                *self.slot(f) = v;
            }
        }
        for n in &other.notes {
            if !self.notes.contains(n) {
                self.notes.push(n.clone());
            }
        }
    }

    /// Whether nothing at all is known.
    pub fn is_unknown(&self) -> bool {
        ClassField::ALL.iter().all(|f| self.get(*f) == UNKNOWN)
    }

    /// The class this fingerprint falls in, by the fields named.
    pub fn class(&self, fields: &[ClassField]) -> ClassKey {
        let mut fields: Vec<ClassField> = fields.to_vec();
        fields.sort();
        fields.dedup();
        ClassKey(
            fields
                .iter()
                .map(|f| (*f, self.get(*f).to_string()))
                .collect(),
        )
    }

    /// One line for people: `NVIDIA H100, release 3, ComfyUI 0.3.64, torch 2.11.0+cu130 (CUDA 13.0), pytorch attention, unet fp16, vae bf16, NORMAL_VRAM`.
    pub fn summary(&self) -> String {
        let known = |v: &str| (v != UNKNOWN).then(|| v.to_string());
        let mut parts = vec![format!("GPU {}", self.gpu)];
        parts.extend(known(&self.release).map(|v| format!("release {v}")));
        parts.push(format!("ComfyUI {}", self.comfyui));
        parts.push(format!("torch {}", self.torch));
        parts.extend(known(&self.cuda).map(|v| format!("CUDA {v}")));
        parts.extend(known(&self.attention).map(|v| format!("{v} attention")));
        parts.extend(known(&self.unet_dtype).map(|v| format!("UNet {v}")));
        parts.extend(known(&self.vae_dtype).map(|v| format!("VAE {v}")));
        parts.extend(known(&self.vram).map(|v| format!("vram {v}")));
        parts.join(", ")
    }
}

/// A reference class: the named fingerprint fields and their values, in a
/// fixed order. Two jobs of one class should make the same pixels.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassKey(pub Vec<(ClassField, String)>);

impl ClassKey {
    /// A class named by hand (`HARNESS_SNAPSHOT_VARIANT`, a legacy variant folder).
    pub fn variant(name: &str) -> Self {
        ClassKey(vec![(ClassField::Release, format!("variant {name}"))])
    }

    /// Written form, as in a `.snap` record: `gpu=NVIDIA A40; comfyui=0.3.64; torch=2.11.0`.
    pub fn text(&self) -> String {
        if self.0.is_empty() {
            return "any".into();
        }
        self.0
            .iter()
            .map(|(f, v)| format!("{}={v}", f.name()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Reads [`ClassKey::text`] back; an unknown field name makes it `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text == "any" || text.is_empty() {
            return Some(ClassKey(Vec::new()));
        }
        let mut out = Vec::new();
        for part in text.split("; ") {
            let (k, v) = part.split_once('=')?;
            out.push((ClassField::parse(k)?, v.trim().to_string()));
        }
        out.sort();
        Some(ClassKey(out))
    }

    /// A folder name for the class: each value, lowercased, anything but
    /// letters, digits and `.` made `-`, joined by `_`.
    pub fn slug(&self) -> String {
        if self.0.is_empty() {
            return "any".into();
        }
        let part = |v: &str| {
            let s: String = v
                .to_ascii_lowercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            let s = s.trim_matches(|c| c == '-' || c == '.').to_string();
            let mut collapsed = String::new();
            for c in s.chars() {
                if !(c == '-' && collapsed.ends_with('-')) {
                    collapsed.push(c);
                }
            }
            if collapsed.is_empty() {
                "x".to_string()
            } else {
                collapsed
            }
        };
        self.0
            .iter()
            .map(|(_, v)| part(v))
            .collect::<Vec<_>>()
            .join("_")
    }

    /// Whether no named field is known: a reference written before classes, or
    /// a target that says nothing of itself.
    pub fn is_unknown(&self) -> bool {
        self.0.iter().all(|(_, v)| v == UNKNOWN)
    }

    /// The fields whose values differ from `other`'s (`gpu NVIDIA A40 -> NVIDIA H100`).
    pub fn differences(&self, other: &ClassKey) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|(f, v)| {
                let theirs = other
                    .0
                    .iter()
                    .find(|(g, _)| g == f)
                    .map(|(_, w)| w.as_str())
                    .unwrap_or(UNKNOWN);
                (theirs != v).then(|| format!("{} {theirs} -> {v}", f.name()))
            })
            .collect()
    }
}

impl std::fmt::Display for ClassKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_reads_back_and_names_a_folder() {
        let mut fp = Fingerprint::default();
        fp.set(ClassField::Gpu, "NVIDIA H100 80GB HBM3");
        fp.set(ClassField::Torch, "2.11.0+cu130");
        let k = fp.class(&ClassField::DEFAULT);
        assert_eq!(
            k.text(),
            "gpu=NVIDIA H100 80GB HBM3; comfyui=unknown; torch=2.11.0+cu130"
        );
        assert_eq!(ClassKey::parse(&k.text()), Some(k.clone()));
        assert_eq!(k.slug(), "nvidia-h100-80gb-hbm3_unknown_2.11.0-cu130");
        assert!(!k.is_unknown());
        assert!(Fingerprint::default()
            .class(&ClassField::DEFAULT)
            .is_unknown());
        let other = Fingerprint::default().class(&ClassField::DEFAULT);
        assert_eq!(
            k.differences(&other),
            vec![
                "gpu unknown -> NVIDIA H100 80GB HBM3",
                "torch unknown -> 2.11.0+cu130"
            ]
        );
    }

    #[test]
    fn unknown_fields_serialise_as_unknown() {
        let v = serde_json::to_value(Fingerprint::default()).unwrap();
        assert_eq!(v["gpu"], "unknown");
        assert_eq!(v["vae_dtype"], "unknown");
        let back: Fingerprint = serde_json::from_str("{}").unwrap();
        assert_eq!(back, Fingerprint::default());
    }
}
