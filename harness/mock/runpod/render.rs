//! Deterministic images from a workflow, so the mock's answers mean something:
//! size and batch are what the first saving node receives, followed upstream
//! (`comfyui::shape`: the latent or loaded image, resizes, crops, batch
//! changes), the pattern from the sampler seed and
//! the prompt text. One image per SaveImage-like node and batch item; PreviewImage
//! outputs are skipped, as worker-comfyui skips ComfyUI's `temp` images.

use image::RgbImage;
use serde_json::Value;

use crate::scenario::workflow::{class_type, Graph};

use crate::mock::behaviour::ImageKind;

/// Fallback size when nothing in the graph says otherwise (SD1.5's native size).
const DEFAULT_SIDE: u32 = 512;
/// The mock refuses to render more than this per side (ComfyUI allows 16384).
const MAX_SIDE: u32 = 8192;

/// What the workflow asks to be produced.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Plan {
    pub width: u32,
    pub height: u32,
    pub batch: u32,
    pub seed: u64,
    /// `filename_prefix` of each saving node, in node-id order.
    pub outputs: Vec<String>,
    /// The first sampler node (the one a worker's progress names).
    pub sampler: Option<String>,
}

fn literal_u64(v: Option<&Value>) -> Option<u64> {
    v.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    })
}

use crate::comfyui::graph::sorted_ids;
use crate::comfyui::shape::is_saver;

/// Reads size, batch, seed and outputs; `input_size` gives the size of an uploaded image by name.
pub fn plan(graph: &Graph, input_size: &dyn Fn(&str) -> Option<(u32, u32)>) -> Plan {
    let mut p = Plan {
        width: DEFAULT_SIDE,
        height: DEFAULT_SIDE,
        batch: 1,
        seed: 0,
        outputs: Vec::new(),
        sampler: None,
    };
    let mut sized = false;
    let mut seeded = false;
    let mut text = String::new();
    for id in sorted_ids(graph) {
        let node = &graph[id];
        let inputs = node.get("inputs");
        let get = |k: &str| inputs.and_then(|i| i.get(k));
        let class = class_type(node);
        if p.sampler.is_none() && class.contains("Sampler") {
            p.sampler = Some(id.clone());
        }
        match class {
            "EmptyLatentImage"
            | "EmptySD3LatentImage"
            | "EmptyImage"
            | "EmptyHunyuanLatentVideo"
                if !sized =>
            {
                p.width = literal_u64(get("width")).unwrap_or(u64::from(DEFAULT_SIDE)) as u32;
                p.height = literal_u64(get("height")).unwrap_or(u64::from(DEFAULT_SIDE)) as u32;
                p.batch = literal_u64(get("batch_size")).unwrap_or(1).max(1) as u32;
                sized = true;
            }
            "LoadImage" if !sized => {
                if let Some((w, h)) = get("image").and_then(Value::as_str).and_then(input_size) {
                    (p.width, p.height) = (w, h);
                    sized = true;
                }
            }
            _ => {}
        }
        // Resizing nodes decide the size of what comes out (their graph order is
        // close enough to the flow for the mock's purpose).
        if let ("ImageScale" | "LatentUpscale" | "ImageCrop", Some(w), Some(h)) = (
            class,
            literal_u64(get("width")).filter(|w| *w > 0),
            literal_u64(get("height")).filter(|h| *h > 0),
        ) {
            (p.width, p.height) = (w as u32, h as u32);
            sized = true;
        }
        if let ("ImageScaleBy" | "LatentUpscaleBy", Some(f)) =
            (class, get("scale_by").and_then(Value::as_f64))
        {
            p.width = (f64::from(p.width) * f).round().max(1.0) as u32;
            p.height = (f64::from(p.height) * f).round().max(1.0) as u32;
        }
        if !seeded {
            if let Some(seed) = literal_u64(get("seed")).or_else(|| literal_u64(get("noise_seed")))
            {
                p.seed = seed;
                seeded = true;
            }
        }
        if let Some(t) = get("text").and_then(Value::as_str) {
            text.push_str(t);
        }
        if is_saver(class) {
            let prefix = get("filename_prefix")
                .and_then(Value::as_str)
                .unwrap_or("ComfyUI");
            p.outputs
                .push(prefix.rsplit('/').next().unwrap_or("ComfyUI").to_string());
        }
    }
    // What the first saving node receives, followed through the graph as
    // ComfyUI computes it (`endpoint-harness new` expects the same); the
    // heuristic above stays for a graph that cannot be followed.
    let followed = crate::comfyui::shape::saved(graph, &|n| {
        input_size(n).map(|(w, h)| (u64::from(w), u64::from(h)))
    });
    if let Some((_, Some(s))) = followed.first() {
        p.width = s.width.min(u64::from(MAX_SIDE)) as u32;
        p.height = s.height.min(u64::from(MAX_SIDE)) as u32;
        p.batch = s.batch.clamp(1, 64) as u32;
    }
    p.width = p.width.clamp(8, MAX_SIDE);
    p.height = p.height.clamp(8, MAX_SIDE);
    p.batch = p.batch.min(64);
    p.seed ^= fnv(text.as_bytes()).rotate_left(17);
    p
}

/// Deterministic renders are cached (a few plans): a suite repeating one workflow
/// costs the mock one render, not one per job.
pub fn render_cached(plan: &Plan, kind: ImageKind, nonce: u64) -> Vec<(String, Vec<u8>)> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = Mutex<HashMap<Plan, Arc<Vec<(String, Vec<u8>)>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    if kind == ImageKind::Drift {
        return render(plan, kind, nonce);
    }
    let cache = CACHE.get_or_init(Cache::default);
    let key = Plan {
        seed: if kind == ImageKind::Black {
            u64::MAX
        } else {
            plan.seed
        },
        ..plan.clone()
    };
    if let Some(hit) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return hit.as_ref().clone();
    }
    let fresh = Arc::new(render(plan, kind, nonce));
    let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
    if c.len() >= 16 {
        c.clear();
    }
    c.insert(key, fresh.clone());
    fresh.as_ref().clone()
}

/// Renders every output image as `(filename, png bytes)`; `nonce` varies drift noise per job.
pub fn render(plan: &Plan, kind: ImageKind, nonce: u64) -> Vec<(String, Vec<u8>)> {
    let mut counters: Vec<(String, u32)> = Vec::new();
    let mut out = Vec::new();
    for prefix in &plan.outputs {
        for b in 0..plan.batch {
            let n = match counters.iter_mut().find(|(p, _)| p == prefix) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    counters.push((prefix.clone(), 1));
                    1
                }
            };
            let img = match kind {
                ImageKind::Black => RgbImage::new(plan.width, plan.height),
                ImageKind::Render => pattern(
                    plan.width,
                    plan.height,
                    plan.seed.wrapping_add(u64::from(b)),
                ),
                ImageKind::GpuDrift => {
                    let img = pattern(
                        plan.width,
                        plan.height,
                        plan.seed.wrapping_add(u64::from(b)),
                    );
                    crate::snapshot::drift_model::gpu_drift(&img, 0.8, plan.seed)
                }
                ImageKind::Drift => {
                    let mut img = pattern(
                        plan.width,
                        plan.height,
                        plan.seed.wrapping_add(u64::from(b)),
                    );
                    add_noise(&mut img, nonce ^ u64::from(b));
                    img
                }
            };
            out.push((
                format!("{prefix}_{n:05}_.png"),
                crate::png::encode_fast(&img),
            ));
        }
    }
    out
}

/// A gradient background with three soft discs, all placed and coloured by
/// the seed (computed in `endpoint-harness-pixels`, optimised in every profile).
fn pattern(w: u32, h: u32, seed: u64) -> RgbImage {
    RgbImage::from_raw(w, h, endpoint_harness_pixels::pattern(w, h, seed))
        .expect("the pattern is w * h * 3 bytes")
}

/// Small per-pixel noise (±2 levels): what two GPU runs of one seed differ by.
fn add_noise(img: &mut RgbImage, nonce: u64) {
    endpoint_harness_pixels::add_noise(img.as_mut(), nonce);
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(seed: u64) -> Graph {
        crate::scenario::workflow::normalise(json!({
            "3": {"class_type": "KSampler", "inputs": {"seed": seed}},
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 32, "batch_size": 2}},
            "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "sd/fox"}},
            "10": {"class_type": "PreviewImage", "inputs": {}}
        }), None)
        .unwrap()
    }

    #[test]
    fn plan_reads_size_batch_and_outputs() {
        let p = plan(&graph(1), &|_| None);
        assert_eq!((p.width, p.height, p.batch), (64, 32, 2));
        assert_eq!(p.outputs, vec!["fox".to_string()]);
        let files = render(&p, ImageKind::Render, 0);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["fox_00001_.png", "fox_00002_.png"]);
    }

    #[test]
    fn same_seed_same_pixels_other_seed_differs() {
        let a = render(&plan(&graph(1), &|_| None), ImageKind::Render, 0);
        let b = render(&plan(&graph(1), &|_| None), ImageKind::Render, 9);
        let c = render(&plan(&graph(2), &|_| None), ImageKind::Render, 0);
        assert_eq!(a[0].1, b[0].1);
        assert_ne!(a[0].1, c[0].1);
    }
}
