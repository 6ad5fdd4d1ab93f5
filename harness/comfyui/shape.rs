//! What size and batch each saving node of an API graph receives, found by
//! following its `images` input upstream through the nodes that change them
//! (the latent or image source, upscales, crops, batch changes) as ComfyUI
//! computes them. `endpoint-harness new` writes its expectations from it and
//! the mock renders from it, so a scaffolded scenario passes its first run; a
//! node whose effect cannot be known from the graph (an upscale model, a
//! custom node) makes the size unknown rather than wrong.

use serde_json::Value;

use super::graph::{class_type, Graph};

/// An image batch: width and height in pixels, and how many images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Width in pixels.
    pub width: u64,
    /// Height in pixels.
    pub height: u64,
    /// Images in the batch.
    pub batch: u64,
}

/// Inputs that carry the image or latent a node works on, in order of preference
/// (a node passing its input through, or one this module does not know).
const CARRIERS: &[&str] = &[
    "images", "image", "samples", "latent_image", "latent", "pixels", "destination", "image1", "image_from",
];

/// How deep a graph is followed (ComfyUI graphs are acyclic; this bounds a malformed one).
const MAX_DEPTH: usize = 256;

fn number(node: &Value, key: &str) -> Option<f64> {
    node.get("inputs")?.get(key)?.as_f64()
}

fn int(node: &Value, key: &str) -> Option<u64> {
    number(node, key).filter(|n| *n >= 0.0).map(|n| n as u64)
}

fn text<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    node.get("inputs")?.get(key)?.as_str()
}

/// The node id a link input points at (`["4", 0]`).
fn link<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    node.get("inputs")?.get(key)?.as_array()?.first()?.as_str()
}

fn follow(graph: &Graph, id: &str, input_size: &dyn Fn(&str) -> Option<(u64, u64)>, depth: usize) -> Option<Shape> {
    if depth > MAX_DEPTH {
        return None;
    }
    let node = graph.get(id)?;
    let up = |key: &str| link(node, key).and_then(|l| follow(graph, l, input_size, depth + 1));
    let size = |w: u64, h: u64, from: Shape| Shape { width: w, height: h, ..from };
    match class_type(node) {
        "EmptyLatentImage" | "EmptySD3LatentImage" | "EmptyImage" | "EmptyHunyuanLatentVideo" | "EmptyMochiLatentVideo" => {
            Some(Shape {
                width: int(node, "width")?,
                height: int(node, "height")?,
                batch: int(node, "batch_size").unwrap_or(1).max(1),
            })
        }
        "LoadImage" => {
            let (width, height) = input_size(text(node, "image")?)?;
            Some(Shape { width, height, batch: 1 })
        }
        // width or height 0 keeps the aspect ratio (ComfyUI's common_upscale callers).
        "ImageScale" | "LatentUpscale" => {
            let from = up(if class_type(node) == "ImageScale" { "image" } else { "samples" })?;
            let (w, h) = (int(node, "width")?, int(node, "height")?);
            let (w, h) = match (w, h) {
                (0, 0) => (from.width, from.height),
                (0, h) => ((from.width as f64 * h as f64 / from.height as f64).round() as u64, h),
                (w, 0) => (w, (from.height as f64 * w as f64 / from.width as f64).round() as u64),
                (w, h) => (w, h),
            };
            // A latent holds an eighth of the pixels per side.
            let (w, h) = if class_type(node) == "LatentUpscale" { (w / 8 * 8, h / 8 * 8) } else { (w, h) };
            Some(size(w, h, from))
        }
        "ImageScaleBy" | "LatentUpscaleBy" => {
            let latent = class_type(node) == "LatentUpscaleBy";
            let from = up(if latent { "samples" } else { "image" })?;
            let f = number(node, "scale_by")?;
            let scale = |v: u64| {
                if latent {
                    ((v / 8) as f64 * f).round() as u64 * 8
                } else {
                    (v as f64 * f).round() as u64
                }
            };
            Some(size(scale(from.width), scale(from.height), from))
        }
        "ImageScaleToTotalPixels" => {
            let from = up("image")?;
            let total = (number(node, "megapixels")? * 1024.0 * 1024.0).floor();
            let s = (total / (from.width * from.height) as f64).sqrt();
            Some(size((from.width as f64 * s).round() as u64, (from.height as f64 * s).round() as u64, from))
        }
        "ImageCrop" => {
            let from = up("image")?;
            let x = int(node, "x").unwrap_or(0).min(from.width.saturating_sub(1));
            let y = int(node, "y").unwrap_or(0).min(from.height.saturating_sub(1));
            let w = int(node, "width")?.min(from.width - x);
            let h = int(node, "height")?.min(from.height - y);
            Some(size(w, h, from))
        }
        "RepeatImageBatch" | "RepeatLatentBatch" => {
            let key = if class_type(node) == "RepeatImageBatch" { "image" } else { "samples" };
            let from = up(key)?;
            Some(Shape { batch: from.batch * int(node, "amount")?.max(1), ..from })
        }
        "ImageFromBatch" | "LatentFromBatch" => {
            let key = if class_type(node) == "ImageFromBatch" { "image" } else { "samples" };
            let from = up(key)?;
            let start = int(node, "batch_index").unwrap_or(0).min(from.batch.saturating_sub(1));
            let length = int(node, "length").unwrap_or(1).min(from.batch - start);
            Some(Shape { batch: length.max(1), ..from })
        }
        // The second batch is resized to the first's size and appended.
        "ImageBatch" => {
            let (a, b) = (up("image1")?, up("image2")?);
            Some(Shape { batch: a.batch + b.batch, ..a })
        }
        // The VAE crops the pixels to a multiple of its downscale ratio (8 for
        // SD1.5, SDXL, SD3 and Flux) before encoding (comfy/sd.py,
        // vae_encode_crop_pixels; VAEEncodeForInpaint likewise): a 627x418
        // image comes back 624x416 from a real ComfyUI 0.3.64.
        "VAEEncode" | "VAEEncodeForInpaint" | "VAEEncodeTiled" => {
            let from = up("pixels")?;
            Some(size(from.width / 8 * 8, from.height / 8 * 8, from))
        }
        // Upscale models multiply by a factor only the model knows.
        "ImageUpscaleWithModel" => None,
        _ => CARRIERS.iter().find_map(|k| up(k)),
    }
}

/// What each saving node receives, in node-id order (None where unknown).
pub fn saved(graph: &Graph, input_size: &dyn Fn(&str) -> Option<(u64, u64)>) -> Vec<(String, Option<Shape>)> {
    let ids = super::graph::sorted_ids(graph);
    ids.into_iter()
        .filter(|id| is_saver(class_type(&graph[*id])))
        .map(|id| {
            let node = &graph[id];
            let shape = CARRIERS[..2]
                .iter()
                .find_map(|k| link(node, k))
                .and_then(|l| follow(graph, l, input_size, 0));
            (id.clone(), shape)
        })
        .collect()
}

/// What a node that saves a video or an animation writes, as far as the graph says.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoOut {
    /// `mp4`, `webm`, `gif`, `webp` or `png` (APNG), when known.
    pub container: Option<&'static str>,
    /// `h264`, `hevc`, `vp9` or `av1`, when known.
    pub codec: Option<&'static str>,
    /// Frame size, and the frame count as `batch`.
    pub shape: Option<Shape>,
    /// Frames per second.
    pub fps: Option<f64>,
}

/// The nodes that save videos or animations, in node-id order, with what each writes:
/// SaveVideo of CreateVideo (H.264 in MP4, comfy_api's VideoFromComponents),
/// SaveWEBM, SaveAnimatedWEBP, SaveAnimatedPNG and VideoHelperSuite's VHS_VideoCombine.
pub fn videos(graph: &Graph, input_size: &dyn Fn(&str) -> Option<(u64, u64)>) -> Vec<(String, VideoOut)> {
    let ids = super::graph::sorted_ids(graph);
    let frames = |node: &Value| link(node, "images").and_then(|l| follow(graph, l, input_size, 0));
    ids.into_iter()
        .filter_map(|id| {
            let node = &graph[id];
            let out = match class_type(node) {
                "SaveVideo" => {
                    let source = link(node, "video").and_then(|l| graph.get(l));
                    match source.filter(|n| class_type(n) == "CreateVideo") {
                        // VideoFromComponents writes H.264 in MP4 and refuses any other choice.
                        Some(create) => VideoOut {
                            container: Some("mp4"),
                            codec: Some("h264"),
                            shape: frames(create),
                            fps: number(create, "fps"),
                        },
                        None => VideoOut { container: None, codec: None, shape: None, fps: None },
                    }
                }
                "SaveWEBM" => VideoOut {
                    container: Some("webm"),
                    codec: match text(node, "codec") {
                        Some("vp9") => Some("vp9"),
                        Some("av1") => Some("av1"),
                        _ => None,
                    },
                    shape: frames(node),
                    fps: number(node, "fps"),
                },
                "SaveAnimatedWEBP" | "SaveAnimatedPNG" => VideoOut {
                    container: Some(if class_type(node) == "SaveAnimatedWEBP" { "webp" } else { "png" }),
                    codec: None,
                    shape: frames(node),
                    fps: number(node, "fps"),
                },
                "VHS_VideoCombine" => {
                    let (container, codec) = match text(node, "format") {
                        Some("video/h264-mp4") => (Some("mp4"), Some("h264")),
                        Some("video/h265-mp4") => (Some("mp4"), Some("hevc")),
                        Some("video/webm") => (Some("webm"), Some("vp9")),
                        Some("video/av1-webm") => (Some("webm"), Some("av1")),
                        Some("image/gif") => (Some("gif"), None),
                        Some("image/webp") => (Some("webp"), None),
                        _ => (None, None),
                    };
                    VideoOut { container, codec, shape: frames(node), fps: number(node, "frame_rate") }
                }
                _ => return None,
            };
            Some((id.clone(), out))
        })
        .collect()
}

/// A node that saves images the worker returns (PreviewImage's are temp files
/// worker-comfyui skips).
pub fn is_saver(class: &str) -> bool {
    class != "PreviewImage" && class.contains("Save") && class.contains("Image")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(v: Value) -> Graph {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn follows_sources_resizes_crops_and_batches_to_each_saver() {
        let g = graph(json!({
            "1": {"class_type": "EmptyImage", "inputs": {"width": 200, "height": 150, "batch_size": 1, "color": 0}},
            "2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "bilinear", "width": 320, "height": 240, "crop": "disabled"}},
            "3": {"class_type": "ImageCrop", "inputs": {"image": ["2", 0], "width": 512, "height": 100, "x": 20, "y": 0}},
            "4": {"class_type": "RepeatImageBatch", "inputs": {"image": ["3", 0], "amount": 3}},
            "5": {"class_type": "ImageInvert", "inputs": {"image": ["4", 0]}},
            "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "a"}},
            "7": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "b"}},
            "8": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
            "9": {"class_type": "ImageScaleBy", "inputs": {"image": ["1", 0], "scale_by": 0.5, "upscale_method": "area"}},
            "10": {"class_type": "ImageScale", "inputs": {"image": ["9", 0], "width": 0, "height": 150, "upscale_method": "area", "crop": "disabled"}},
            "11": {"class_type": "SaveImage", "inputs": {"images": ["10", 0], "filename_prefix": "c"}}
        }));
        let s = saved(&g, &|_| None);
        let shape = |w, h, batch| Some(Shape { width: w, height: h, batch });
        assert_eq!(
            s,
            vec![
                ("6".to_string(), shape(300, 100, 3)),
                ("7".to_string(), shape(320, 240, 1)),
                ("11".to_string(), shape(200, 150, 1)),
            ]
        );
    }

    #[test]
    fn a_latent_pipeline_and_an_unknown_factor() {
        let g = graph(json!({
            "3": {"class_type": "KSampler", "inputs": {"latent_image": ["5", 0], "model": ["4", 0], "seed": 1}},
            "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "x"}},
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 2}},
            "6": {"class_type": "LatentUpscaleBy", "inputs": {"samples": ["3", 0], "scale_by": 1.5, "upscale_method": "nearest-exact"}},
            "8": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["4", 2]}},
            "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "x"}},
            "10": {"class_type": "ImageUpscaleWithModel", "inputs": {"image": ["8", 0], "upscale_model": ["11", 0]}},
            "12": {"class_type": "SaveImage", "inputs": {"images": ["10", 0], "filename_prefix": "y"}},
            "13": {"class_type": "LoadImage", "inputs": {"image": "in.png"}},
            "14": {"class_type": "SaveImage", "inputs": {"images": ["13", 0], "filename_prefix": "z"}}
        }));
        let s = saved(&g, &|n| (n == "in.png").then_some((640, 480)));
        assert_eq!(s[0].1, Some(Shape { width: 768, height: 768, batch: 2 }));
        assert_eq!(s[1].1, None, "an upscale model's factor is unknown");
        assert_eq!(s[2].1, Some(Shape { width: 640, height: 480, batch: 1 }));
    }

    /// A chain run on a real ComfyUI 0.3.64 (CPU), whose saved PNGs were
    /// 152x138 (two) and 220x200 (two).
    #[test]
    fn agrees_with_what_a_real_comfyui_saved() {
        let g = graph(json!({
            "1": {"class_type": "EmptyImage", "inputs": {"width": 200, "height": 150, "batch_size": 2, "color": 0}},
            "2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "bilinear", "width": 320, "height": 240, "crop": "disabled"}},
            "3": {"class_type": "ImageCrop", "inputs": {"image": ["2", 0], "width": 300, "height": 200, "x": 100, "y": 0}},
            "5": {"class_type": "ImageScaleBy", "inputs": {"image": ["3", 0], "upscale_method": "area", "scale_by": 0.55}},
            "6": {"class_type": "ImageScale", "inputs": {"image": ["5", 0], "upscale_method": "area", "width": 0, "height": 90, "crop": "disabled"}},
            "7": {"class_type": "RepeatImageBatch", "inputs": {"image": ["6", 0], "amount": 2}},
            "8": {"class_type": "ImageFromBatch", "inputs": {"image": ["7", 0], "batch_index": 1, "length": 2}},
            "9": {"class_type": "ImageScaleToTotalPixels", "inputs": {"image": ["8", 0], "upscale_method": "area", "megapixels": 0.02}},
            "4": {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": "r"}},
            "10": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "c"}}
        }));
        let s = saved(&g, &|_| None);
        assert_eq!(s[0].1, Some(Shape { width: 152, height: 138, batch: 2 }));
        assert_eq!(s[1].1, Some(Shape { width: 220, height: 200, batch: 2 }));
    }

    #[test]
    fn a_vae_encode_crops_to_a_multiple_of_eight_as_a_real_comfyui_does() {
        // ComfyUI's image2image template with a 192x128 input on ComfyUI 0.3.64 (CPU):
        // ImageScaleToTotalPixels 0.25 MP gives 627x418, VAEEncode crops, SaveImage got 624x416.
        let g = graph(json!({
            "10": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
            "12": {"class_type": "VAEEncode", "inputs": {"pixels": ["20", 0], "vae": ["14", 2]}},
            "14": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "x"}},
            "20": {"class_type": "ImageScaleToTotalPixels", "inputs": {"image": ["10", 0], "upscale_method": "nearest-exact", "megapixels": 0.25}},
            "3": {"class_type": "KSampler", "inputs": {"latent_image": ["12", 0], "model": ["14", 0]}},
            "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["14", 2]}},
            "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}}
        }));
        let saved = saved(&g, &|n| (n == "example.png").then_some((192, 128)));
        assert_eq!(saved, vec![("9".to_string(), Some(Shape { width: 624, height: 416, batch: 1 }))]);
    }

    #[test]
    fn video_savers_say_container_codec_size_frames_and_fps() {
        let g = graph(json!({
            "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 48, "batch_size": 12, "color": 0}},
            "2": {"class_type": "ImageAddNoise", "inputs": {"image": ["1", 0], "seed": 7, "strength": 0.6}},
            "3": {"class_type": "CreateVideo", "inputs": {"images": ["2", 0], "fps": 8.0}},
            "4": {"class_type": "SaveVideo", "inputs": {"video": ["3", 0], "format": "auto", "codec": "auto"}},
            "5": {"class_type": "SaveWEBM", "inputs": {"images": ["1", 0], "codec": "av1", "fps": 6.0}},
            "6": {"class_type": "SaveAnimatedWEBP", "inputs": {"images": ["1", 0], "fps": 6.0}},
            "7": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}
        }));
        let v = videos(&g, &|_| None);
        let twelve = Some(Shape { width: 64, height: 48, batch: 12 });
        assert_eq!(v.len(), 3, "{v:?}");
        assert_eq!(v[0].1, VideoOut { container: Some("mp4"), codec: Some("h264"), shape: twelve, fps: Some(8.0) });
        assert_eq!((v[1].1.container, v[1].1.codec, v[1].1.shape), (Some("webm"), Some("av1"), twelve));
        assert_eq!((v[2].1.container, v[2].1.fps), (Some("webp"), Some(6.0)));
    }
}
