//! RunPod Hub tests (`.runpod/tests.json`): `{"tests": [{name, input, timeout}],
//! "config": {...}}` where `input` is the raw job input and `timeout` is in ms.
//! They can be run directly (`HARNESS_HUB_TESTS=.runpod/tests.json`, one trial
//! `hub/<name>` per test) or converted into scenario files
//! (`endpoint-harness import-hub`). The Hub's own run only checks that the
//! endpoint answered 200; a scenario also checks the job's status, images and timing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::paths::FileError;

use crate::scenario::{
    Budget, CountRange, Diagnostic, Diagnostics, Expect, ExpectedStatus, ImageExpect,
    InputImage, Mode, Scenario, SnapshotSpec, WarningPolicy,
};

#[derive(Debug, Deserialize)]
struct HubFile {
    tests: Vec<HubTest>,
    #[serde(default)]
    config: Option<Value>,
}

/// One Hub test.
#[derive(Clone, Debug, Deserialize)]
pub struct HubTest {
    pub name: String,
    pub input: Value,
    /// Milliseconds.
    #[serde(default)]
    pub timeout: Option<u64>,
}

/// The tests of a Hub file and its `config` (GPU, env), for comments.
pub fn read(path: &Path) -> Result<(Vec<HubTest>, Option<Value>), Diagnostics> {
    let diag = |line, col, msg: String| {
        Diagnostics(vec![Diagnostic::new(
            path,
            crate::scenario::positions::Pos { line, col },
            msg,
        )])
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| diag(1, 1, format!("cannot read Hub tests: {e}")))?;
    let file: HubFile = serde_json::from_str(&text).map_err(|e| {
        diag(
            e.line().max(1),
            e.column().max(1),
            format!("not a RunPod Hub tests.json: {e}"),
        )
    })?;
    Ok((file.tests, file.config))
}

fn safe_name(name: &str) -> String {
    crate::paths::sanitize(&name.replace(' ', "-"))
}

/// A Hub test as an in-memory scenario named `hub/<name>`.
pub fn to_scenario(t: &HubTest, file: &Path) -> Result<Scenario, Diagnostics> {
    let fail = |msg: String| {
        Diagnostics(vec![Diagnostic::new(
            file,
            crate::scenario::positions::Pos { line: 1, col: 1 },
            msg,
        )])
    };
    let workflow = t
        .input
        .get("workflow")
        .cloned()
        .ok_or_else(|| fail(format!("Hub test `{}` has no input.workflow", t.name)))?;
    let workflow = crate::scenario::workflow::normalise(workflow, None)
        .map_err(|p| fail(format!("Hub test `{}`: {}", t.name, p.message)))?;
    let sum = crate::scenario::workflow::summary(&workflow);
    let count = if sum.savers > 0 {
        CountRange {
            min: sum.images() as u32,
            max: Some(sum.images() as u32),
        }
    } else {
        CountRange { min: 1, max: None }
    };
    let (width, height) = sum
        .size
        .map_or((None, None), |(w, h)| (Some(w as u32), Some(h as u32)));
    let images = images(t)
        .map_err(|e| fail(e.to_string()))?
        .into_iter()
        .map(|(name, data)| InputImage {
            name,
            path: PathBuf::new(),
            inline: Some(data),
        })
        .collect();
    Ok(Scenario {
        allow_unchecked: Vec::new(),
        name: format!("hub/{}", safe_name(&t.name)),
        file: file.to_path_buf(),
        description: Some(format!("RunPod Hub test `{}`", t.name)),
        tags: vec!["hub".into()],
        requires: Vec::new(),
        workflow,
        workflow_source: format!("{}#{}", file.display(), t.name),
        images,
        mode: Mode::Async,
        timeout: t
            .timeout
            .map(Duration::from_millis)
            .unwrap_or(crate::scenario::DEFAULT_TIMEOUT),
        expect: Expect {
            status: ExpectedStatus::Completed,
            error: None,
            images: ImageExpect {
                color: None,
                alpha: None,
                max_bytes: None,
                count,
                format: None,
                width,
                height,
                not_blank: true,
                not_noise: true,
            },
            videos: None,
            warnings: WarningPolicy::Forbid,
        },
        snapshot: SnapshotSpec::off(),
        budget: Budget::default(),
        repeat: 1,
        mock: None,
        targets: Vec::new(),
        load: None,
        warnings: Vec::new(),
    })
}

/// Why Hub tests could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The file is not a Hub tests.json.
    #[error("{0}")]
    Read(Diagnostics),
    /// One test cannot become a scenario.
    #[error("Hub test `{test}`: {message}")]
    Test {
        /// The test's name.
        test: String,
        /// What is wrong with it.
        message: String,
    },
    /// Writing a file failed.
    #[error("{0}")]
    File(#[from] FileError),
}

fn test_error(t: &HubTest, message: impl Into<String>) -> HubError {
    HubError::Test {
        test: t.name.clone(),
        message: message.into(),
    }
}

/// `input.images` as (name, base64-or-data-URI) pairs.
fn images(t: &HubTest) -> Result<Vec<(String, String)>, HubError> {
    let Some(list) = t.input.get("images") else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| test_error(t, "input.images is not a list"))?;
    list.iter()
        .map(|i| {
            match (
                i.get("name").and_then(Value::as_str),
                i.get("image").and_then(Value::as_str),
            ) {
                (Some(n), Some(d)) => Ok((n.to_string(), d.to_string())),
                _ => Err(test_error(t, "input.images items need `name` and `image`")),
            }
        })
        .collect()
}

/// Writes one scenario per Hub test under `out` (workflows in `out/workflows/`,
/// images in `out/fixtures/<test>/`); returns the files written and remarks.
pub fn import(path: &Path, out: &Path) -> Result<(Vec<PathBuf>, Vec<String>), HubError> {
    let (tests, config) = read(path).map_err(HubError::Read)?;
    let mut written = Vec::new();
    let mut remarks = Vec::new();
    crate::paths::create_dir(&out.join("workflows"))?;
    for t in &tests {
        written.push(import_one(t, path, out, config.as_ref())?);
        remarks.extend(dropped_keys(t));
    }
    Ok((written, remarks))
}

/// One test as `out/<name>.yaml`, its workflow and its images beside it.
fn import_one(
    t: &HubTest,
    path: &Path,
    out: &Path,
    config: Option<&Value>,
) -> Result<PathBuf, HubError> {
    let name = safe_name(&t.name);
    let workflow = t
        .input
        .get("workflow")
        .ok_or_else(|| test_error(t, "it has no input.workflow"))?;
    let graph = crate::scenario::workflow::normalise(workflow.clone(), None)
        .map_err(|p| test_error(t, p.message))?;
    let wf_rel = format!("workflows/{name}.json");
    let json = serde_json::to_string_pretty(workflow).expect("JSON values serialise");
    crate::paths::write(&out.join(&wf_rel), json + "\n")?;
    let mut yaml =
        String::from("# yaml-language-server: $schema=../../schemas/scenario.schema.json\n");
    yaml.push_str(&format!(
        "# Imported from RunPod Hub test `{}` in {}.\n",
        t.name,
        path.display()
    ));
    if let Some(c) = config {
        yaml.push_str(&format!(
            "# Hub config: {}\n",
            serde_json::to_string(c).unwrap_or_default()
        ));
    }
    yaml.push_str(&format!(
        "description: {}\ntags: [hub]\nworkflow: {wf_rel}\n",
        serde_json::to_string(&format!("RunPod Hub test `{}`", t.name)).unwrap_or_default()
    ));
    yaml.push_str(&image_fixtures(t, out, &name)?);
    if let Some(ms) = t.timeout {
        yaml.push_str(&format!(
            "timeout: {}\n",
            humantime::format_duration(Duration::from_millis(ms))
        ));
    }
    yaml.push_str(&expect_block(&graph));
    let file = out.join(format!("{name}.yaml"));
    crate::paths::write(&file, yaml)?;
    Ok(file)
}

/// Decodes the test's input images into `out/fixtures/<name>/`; the `images:` block.
fn image_fixtures(t: &HubTest, out: &Path, name: &str) -> Result<String, HubError> {
    let imgs = images(t)?;
    if imgs.is_empty() {
        return Ok(String::new());
    }
    let dir = out.join("fixtures").join(name);
    crate::paths::create_dir(&dir)?;
    let mut yaml = String::from("images:\n");
    for (img, data) in imgs {
        let (_, bytes) = crate::runpod::output::decode_base64(&data);
        let bytes = bytes.map_err(|e| test_error(t, format!("image `{img}`: {e}")))?;
        let file = crate::paths::sanitize(&img);
        crate::paths::write(&dir.join(&file), bytes)?;
        yaml.push_str(&format!(
            "  - name: {}\n    path: fixtures/{name}/{file}\n",
            serde_json::to_string(&img).unwrap_or_default()
        ));
    }
    Ok(yaml)
}

/// `expect:` from what the graph saves: the count and size of the images.
fn expect_block(graph: &crate::scenario::workflow::Graph) -> String {
    let mut yaml = String::from("expect:\n  status: COMPLETED\n  images:\n");
    let sum = crate::scenario::workflow::summary(graph);
    if sum.savers > 0 {
        yaml.push_str(&format!(
            "    count: {}   # {} saving node(s) x batch {}\n",
            sum.images(),
            sum.savers,
            sum.batch
        ));
    } else {
        yaml.push_str("    count: {min: 1}\n");
    }
    if let Some((w, h)) = sum.size {
        yaml.push_str(&format!("    width: {w}\n    height: {h}\n"));
    }
    yaml.push_str("    not_blank: true\n");
    yaml
}

/// Remarks for the input keys a scenario does not carry over.
fn dropped_keys(t: &HubTest) -> Vec<String> {
    t.input
        .as_object()
        .map(|o| o.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|k| k != "workflow" && k != "images")
        .map(|key| {
            format!(
                "{}: input.{key} is not carried over (scenarios send only workflow and images)",
                t.name
            )
        })
        .collect()
}
