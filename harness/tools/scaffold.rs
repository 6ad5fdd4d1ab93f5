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
    let depth = name.matches('/').count() + dir.components().count();
    let yaml = render(name, workflow_file, &wf_rel, &graph, depth);
    crate::paths::write(&file, yaml)?;
    Ok(vec![file, wf_path])
}

fn quote(v: &str) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn render(
    name: &str,
    source: &Path,
    wf_rel: &str,
    graph: &crate::scenario::workflow::Graph,
    depth: usize,
) -> String {
    let s = crate::scenario::workflow::summary(graph);
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
    let _ = writeln!(
        y,
        "description: {}",
        quote(&format!("{name}: renders {} image(s)", s.images()))
    );
    let _ = writeln!(y, "tags: []\nworkflow: {wf_rel}");
    let _ = writeln!(
        y,
        "mock: any-model   # the embedded mock: renders what the graph asks, whatever its checkpoints"
    );
    if !s.seeds.is_empty() || !s.prompts.is_empty() {
        let _ = writeln!(y, "set:");
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
    let loads: Vec<&str> = graph
        .values()
        .filter(|n| crate::comfyui::graph::class_type(n) == "LoadImage")
        .filter_map(|n| n.pointer("/inputs/image").and_then(serde_json::Value::as_str))
        .collect();
    if !loads.is_empty() {
        let _ = writeln!(y, "# The workflow loads these images (LoadImage): put each file under fixtures/ and upload it:");
        let _ = writeln!(y, "# images:");
        for name in loads {
            let _ = writeln!(y, "#   - name: {}\n#     path: fixtures/{name}", quote(name));
        }
    }
    let _ = writeln!(y, "timeout: 10m\nexpect:\n  status: COMPLETED\n  images:");
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
            let _ = writeln!(y, "    # width/height: not known from the graph (an uploaded image, an upscale model, savers of different sizes)");
        }
        None => {}
    }
    let _ = writeln!(y, "    not_blank: true");
    let _ = writeln!(y, "snapshot:\n  compare: off   # `perceptual` after recording references with HARNESS_SNAPSHOTS=update");
    let _ = writeln!(
        y,
        "budget:\n  total: 5m      # adjust to your endpoint; queue: and execution: too"
    );
    y
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
}
