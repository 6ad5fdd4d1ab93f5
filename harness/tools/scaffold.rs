//! `endpoint-harness new`: a scenario file from an exported (API-format)
//! workflow, with `expect` filled from what the graph will produce and `set:`
//! entries for its seeds and prompts, so adding a case takes one command.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::paths::FileError;

/// Why a scenario could not be scaffolded.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not a path under the scenario folder.
    #[error("`{0}` is not a scenario name like `sdxl/portrait`")]
    BadName(String),
    /// The scenario file exists and `--force` was not given.
    #[error("{} exists (use --force to overwrite)", crate::paths::display_path(.0).display())]
    Exists(PathBuf),
    /// Reading the workflow or writing a file failed, or the workflow is unusable.
    #[error("{0}")]
    File(#[from] FileError),
}

/// Writes `<dir>/<name>.yaml` (and copies the workflow beside it); returns the files written.
pub fn new_scenario(
    dir: &Path,
    name: &str,
    workflow_file: &Path,
    force: bool,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    if name.is_empty()
        || name
            .split('/')
            .any(|seg| seg.is_empty() || seg == ".." || seg.starts_with('.'))
    {
        return Err(ScaffoldError::BadName(name.to_string()));
    }
    let text =
        std::fs::read_to_string(workflow_file).map_err(FileError::read(workflow_file))?;
    let graph = crate::scenario::workflow::from_json_text(&text, None).map_err(|p| {
        let message = match p.help {
            Some(h) => format!("{} ({h})", p.message),
            None => p.message,
        };
        FileError::invalid(workflow_file, message)
    })?;
    let file = dir.join(format!("{name}.yaml"));
    if file.exists() && !force {
        return Err(ScaffoldError::Exists(file));
    }
    let scen_dir = file.parent().unwrap_or(dir).to_path_buf();
    let stem = workflow_file
        .file_stem()
        .and_then(|s| s.to_str())
        .map(crate::paths::sanitize)
        .unwrap_or_else(|| "workflow".into());
    let wf_rel = format!("workflows/{stem}.json");
    crate::paths::create_dir(&scen_dir.join("workflows"))?;
    let wf_path = scen_dir.join(&wf_rel);
    if !wf_path.exists() || force {
        // The graph itself (a worker request or /prompt body is unwrapped), as exported.
        let json = serde_json::to_string_pretty(&graph).expect("a JSON map serialises");
        crate::paths::write(&wf_path, json + "\n")?;
    }
    let (inputs, mut written) = input_images(&graph, &scen_dir)?;
    let depth = name.matches('/').count() + dir.components().count();
    let yaml = render(name, workflow_file, &wf_rel, &graph, &inputs, depth);
    crate::paths::write(&file, yaml)?;
    written.splice(0..0, [file, wf_path]);
    Ok(written)
}

/// Side of the placeholder written for each image the workflow loads: SD1.5's
/// native size, and a multiple of 64 that every latent model accepts.
const PLACEHOLDER_SIDE: u32 = 512;

/// An image the workflow loads (`LoadImage`, `LoadImageMask`) and the fixture that supplies it.
struct InputImage {
    /// The name the workflow loads it by.
    name: String,
    /// The plain file name it is uploaded as (worker-comfyui uploads into
    /// ComfyUI's input folder, so a subfolder like `pasted/` cannot be kept).
    upload: String,
    /// Nodes whose `image` input is set to `upload` because it differs from `name`.
    nodes: Vec<String>,
    /// The fixture, relative to the scenario file.
    path: String,
    /// Its size in pixels (None: a file of the user's that does not decode).
    size: Option<(u64, u64)>,
    /// Whether `new` wrote it just now (a placeholder) rather than found it.
    placeholder: bool,
}

/// The images the workflow loads, each with a fixture under `fixtures/` beside
/// the scenario: an existing file is kept (and its size read, so a real input
/// tells `new` the output size), a missing one becomes a placeholder gradient,
/// so the scenario runs at once against the mock and a real endpoint alike
/// (both refuse a workflow whose input image was not uploaded).
fn input_images(
    graph: &crate::scenario::workflow::Graph,
    scen_dir: &Path,
) -> Result<(Vec<InputImage>, Vec<PathBuf>), FileError> {
    let ids = crate::comfyui::graph::sorted_ids(graph);
    let mut names: Vec<(String, Vec<String>)> = Vec::new();
    for id in ids {
        let node = &graph[id];
        if matches!(crate::comfyui::graph::class_type(node), "LoadImage" | "LoadImageMask") {
            if let Some(n) = node.pointer("/inputs/image").and_then(serde_json::Value::as_str) {
                match names.iter_mut().find(|(x, _)| x == n) {
                    Some((_, nodes)) => nodes.push(id.clone()),
                    None => names.push((n.to_string(), vec![id.clone()])),
                }
            }
        }
    }
    let (mut inputs, mut written) = (Vec::new(), Vec::new());
    for (name, nodes) in names {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(&name);
        let upload = if base.is_empty() || base.starts_with('.') { crate::paths::sanitize(base) } else { base.to_string() };
        let nodes = if upload == name { Vec::new() } else { nodes };
        let rel = format!("fixtures/{}", crate::paths::sanitize(&upload));
        let file = scen_dir.join(&rel);
        // A file already there is the user's: never overwritten, its size read
        // when it decodes (a format by its content, not its name).
        let (size, placeholder) = if file.exists() {
            let size = image::ImageReader::open(&file)
                .ok()
                .and_then(|r| r.with_guessed_format().ok())
                .and_then(|r| r.into_dimensions().ok())
                .map(|(w, h)| (u64::from(w), u64::from(h)));
            (size, false)
        } else {
            crate::paths::create_dir(&scen_dir.join("fixtures"))?;
            crate::paths::write(&file, placeholder_png())?;
            written.push(file);
            let side = u64::from(PLACEHOLDER_SIDE);
            (Some((side, side)), true)
        };
        inputs.push(InputImage { name, upload, nodes, path: rel, size, placeholder });
    }
    Ok((inputs, written))
}

/// A smooth two-axis gradient: neither blank nor noise, so the default checks
/// pass on a workflow that saves its input, and it encodes to a few kilobytes.
fn placeholder_png() -> Vec<u8> {
    let side = PLACEHOLDER_SIDE;
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        let (x, y) = ((x * 255 / side) as u8, (y * 255 / side) as u8);
        image::Rgb([x, y, 255 - x / 2 - y / 2])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encoding a PNG into memory cannot fail");
    out
}

fn quote(v: &str) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn render(
    name: &str,
    source: &Path,
    wf_rel: &str,
    graph: &crate::scenario::workflow::Graph,
    inputs: &[InputImage],
    depth: usize,
) -> String {
    let size_of = |n: &str| inputs.iter().find(|i| i.name == n).and_then(|i| i.size);
    let s = crate::scenario::workflow::summary_with_inputs(graph, &size_of);
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# yaml-language-server: $schema={}schemas/scenario.schema.json",
        "../".repeat(depth)
    );
    let _ = writeln!(
        y,
        "# Scaffolded by `endpoint-harness new` from {}. Edit freely.",
        source.display()
    );
    let videos = crate::comfyui::shape::videos(graph, &size_of);
    let what = match (s.savers, videos.len()) {
        (_, 0) => format!("renders {} image(s)", s.images()),
        (0, v) => format!("saves {v} video(s)"),
        (_, v) => format!("renders {} image(s) and saves {v} video(s)", s.images()),
    };
    let _ = writeln!(y, "description: {}", quote(&format!("{name}: {what}")));
    let _ = writeln!(y, "tags: []\nworkflow: {wf_rel}");
    if videos.is_empty() {
        let _ = writeln!(
            y,
            "mock: any-model   # the embedded mock: renders what the graph asks, whatever its checkpoints"
        );
    } else {
        // The mock renders stills from the graph and replays recorded videos
        // only: a scaffold it cannot answer is left to the endpoints that can.
        let _ = writeln!(
            y,
            "targets: [live, local, comfyui]   # the embedded mock does not render videos from a graph: a mock run ignores this"
        );
    }
    let renamed: Vec<(&String, &InputImage)> = inputs.iter().flat_map(|i| i.nodes.iter().map(move |n| (n, i))).collect();
    if !s.seeds.is_empty() || !s.prompts.is_empty() || !renamed.is_empty() {
        let _ = writeln!(y, "set:");
        for (node, i) in &renamed {
            let _ = writeln!(
                y,
                "  {}: {}   # was {}: uploads go to ComfyUI's input folder itself",
                quote(&format!("{node}.image")),
                quote(&i.upload),
                quote(&i.name)
            );
        }
        for (key, value, class) in &s.seeds {
            let _ = writeln!(
                y,
                "  {}: {value}   # {class}: a pinned seed keeps reference snapshots meaningful",
                quote(key)
            );
        }
        for (key, text) in &s.prompts {
            let _ = writeln!(y, "  {}: {}", quote(key), quote(text));
        }
    }
    if !inputs.is_empty() {
        let _ = writeln!(y, "# The images the workflow loads (LoadImage), uploaded with each job:");
        let _ = writeln!(y, "images:");
        for i in inputs {
            let note = if i.placeholder {
                format!("   # a {PLACEHOLDER_SIDE}x{PLACEHOLDER_SIDE} placeholder `new` wrote: replace it with a real input")
            } else {
                String::new()
            };
            let _ = writeln!(y, "  - name: {}\n    path: {}{note}", quote(&i.upload), quote(&i.path));
        }
    }
    let _ = writeln!(y, "timeout: 10m\nexpect:\n  status: COMPLETED");
    if !videos.is_empty() {
        video_expect(&mut y, &videos);
    }
    if s.savers == 0 && !videos.is_empty() {
        return tail(y);
    }
    let _ = writeln!(y, "  images:");
    let batches: Vec<String> = s.saved.iter().map(|b| b.unwrap_or(s.batch.max(1)).to_string()).collect();
    let _ = writeln!(
        y,
        "    count: {}   # {} saving node(s), batch {}",
        s.images(),
        s.savers,
        batches.join(" + ")
    );
    let _ = writeln!(y, "    format: png");
    match s.size {
        Some((w, h)) => {
            let _ = writeln!(y, "    width: {w}   # what the saving node receives, after resizes and crops\n    height: {h}");
        }
        None if s.savers > 0 => {
            let _ = writeln!(y, "    # width/height: not known from the graph (an upscale model, a custom node, savers of different sizes)");
        }
        None => {}
    }
    let _ = writeln!(y, "    not_blank: true");
    tail(y)
}

/// The snapshot and budget blocks every scaffold ends with.
fn tail(mut y: String) -> String {
    let _ = writeln!(y, "snapshot:\n  compare: off   # `perceptual` after recording references with HARNESS_SNAPSHOTS=update");
    let _ = writeln!(
        y,
        "budget:\n  total: 5m      # adjust to your endpoint; queue: and execution: too"
    );
    y
}

/// `expect.videos`: the count, and each fact every video saver agrees on
/// (container, codec, frame size, frames, fps); blank and frozen frames fail by default.
fn video_expect(y: &mut String, videos: &[(String, crate::comfyui::shape::VideoOut)]) {
    fn same<T: PartialEq + Copy>(all: impl Iterator<Item = Option<T>>) -> Option<T> {
        let v: Vec<Option<T>> = all.collect();
        v.first().copied().flatten().filter(|f| v.iter().all(|x| *x == Some(*f)))
    }
    let _ = writeln!(y, "  videos:\n    count: {}   # {} saving node(s)", videos.len(), videos.len());
    if let Some(c) = same(videos.iter().map(|(_, v)| v.container)) {
        let _ = writeln!(y, "    container: {c}");
    }
    if let Some(c) = same(videos.iter().map(|(_, v)| v.codec)) {
        let _ = writeln!(y, "    codec: {c}");
    }
    if let Some(sh) = same(videos.iter().map(|(_, v)| v.shape)) {
        let _ = writeln!(
            y,
            "    width: {}   # the frames each saving node receives\n    height: {}\n    frames: {}",
            sh.width, sh.height, sh.batch
        );
    }
    if let Some(fps) = same(videos.iter().map(|(_, v)| v.fps)) {
        let _ = writeln!(y, "    fps: {fps}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaffolds_a_loadable_scenario_with_expectations_and_overrides() {
        let tmp = tempfile::tempdir().unwrap();
        let wf = tmp.path().join("exported_api.json");
        std::fs::write(
            &wf,
            serde_json::json!({"input": {"workflow": {
                "3": {"class_type": "KSampler", "inputs": {"seed": 42, "latent_image": ["5", 0]}},
                "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 768, "height": 512, "batch_size": 2}},
                "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a \"quoted\" fox"}, "_meta": {"title": "Positive Prompt"}},
                "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}},
                "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["8", 0]}},
                "10": {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
            }}})
            .to_string(),
        )
        .unwrap();
        let root = tmp.path().join("scenarios");
        let files = new_scenario(&root, "sdxl/portrait", &wf, false).unwrap();
        let yaml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(yaml.contains("\"3.seed\": 42"), "{yaml}");
        assert!(
            yaml.contains("\"Positive Prompt.text\": \"a \\\"quoted\\\" fox\""),
            "{yaml}"
        );
        assert!(
            yaml.contains("count: 2   # 1 saving node(s), batch 2"),
            "{yaml}"
        );
        assert!(yaml.contains("width: 768   #"), "{yaml}");
        assert!(yaml.contains("height: 512"), "{yaml}");
        let s = crate::scenario::parse::load(&files[0], &root).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(s.name, "sdxl/portrait");
        assert_eq!(s.expect.images.count.max, Some(2));
        assert!(new_scenario(&root, "sdxl/portrait", &wf, false)
            .unwrap_err()
            .to_string()
            .contains("exists"));
        assert!(new_scenario(&root, "../x", &wf, false).is_err());
    }

    #[test]
    fn an_img2img_workflow_gets_a_placeholder_input_and_its_output_size() {
        let tmp = tempfile::tempdir().unwrap();
        let wf = tmp.path().join("img2img_api.json");
        std::fs::write(
            &wf,
            serde_json::json!({
                "1": {"class_type": "LoadImage", "inputs": {"image": "pasted/my photo.png"}},
                "2": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["4", 2]}},
                "3": {"class_type": "KSampler", "inputs": {"seed": 7, "latent_image": ["2", 0], "denoise": 0.6}},
                "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "x.safetensors"}},
                "5": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
                "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "x"}}
            })
            .to_string(),
        )
        .unwrap();
        let root = tmp.path().join("scenarios");
        let files = new_scenario(&root, "img2img", &wf, false).unwrap();
        let fixture = root.join("fixtures/my_photo.png");
        assert!(files.contains(&fixture), "{files:?}");
        assert_eq!(image::image_dimensions(&fixture).unwrap(), (512, 512));
        let yaml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(yaml.contains("- name: \"my photo.png\"\n    path: \"fixtures/my_photo.png\""), "{yaml}");
        assert!(yaml.contains("\"1.image\": \"my photo.png\""), "{yaml}");
        assert!(yaml.contains("width: 512"), "{yaml}");
        let s = crate::scenario::parse::load(&files[0], &root).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(s.expect.images.width, Some(512));

        // The user's own input is kept, never overwritten, and tells the output size.
        image::RgbImage::from_pixel(320, 192, image::Rgb([9, 9, 9])).save(&fixture).unwrap();
        let files = new_scenario(&root, "img2img", &wf, true).unwrap();
        assert!(!files.contains(&fixture), "{files:?}");
        assert_eq!(image::image_dimensions(&fixture).unwrap(), (320, 192));
        let yaml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(yaml.contains("width: 320"), "{yaml}");
        assert!(yaml.contains("height: 192"), "{yaml}");
        assert!(!yaml.contains("placeholder"), "{yaml}");
    }

    #[test]
    fn a_video_workflow_expects_its_video_and_leaves_the_mock_out() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("scenarios");
        let wf = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/video/workflows/h264_mp4.json");
        let files = new_scenario(&root, "clip", &wf, false).unwrap();
        let yaml = std::fs::read_to_string(&files[0]).unwrap();
        for want in ["saves 1 video(s)", "targets: [live, local, comfyui]", "videos:\n    count: 1", "container: mp4", "codec: h264", "width: 64", "height: 48", "frames: 12", "fps: 8"] {
            assert!(yaml.contains(want), "{want}: {yaml}");
        }
        assert!(!yaml.contains("images:") && !yaml.contains("mock:"), "{yaml}");
        let s = crate::scenario::parse::load(&files[0], &root).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(s.targets.len(), 3);
    }
}
