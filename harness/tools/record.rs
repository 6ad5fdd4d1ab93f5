//! Record and replay (`HARNESS_RECORD=1`): each job of a live or local run is
//! saved as a mock behaviour under `mocks/recorded/<scenario>.yaml` with its
//! images beside it, so `mock: recorded/<scenario>` replays the same timings,
//! status, output shape and images offline. Texts pass through the redaction
//! layer; presigned URLs are not kept (only the bytes they pointed to).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::OutputShape as Shape;
use crate::model::Seen;
use crate::paths::FileError;
use crate::media::Transport;
use crate::runpod::output::Output;
use crate::runpod::wire::{JobState, StatusAnswer};

#[derive(Serialize)]
struct Cassette<'a> {
    description: String,
    queue: String,
    execution: String,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    output: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    /// The stack that made the job, so a replay presents the same class.
    #[serde(skip_serializing_if = "Option::is_none")]
    worker: Option<CassetteWorker>,
    replay: crate::mock::behaviour::Replay,
}

/// The `worker:` block of a cassette: the recorded job's fingerprint, as the
/// mock's workers list and start-up lines will say it.
#[derive(serde::Serialize)]
struct CassetteWorker {
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comfyui: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    torch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attention: Option<String>,
}

impl CassetteWorker {
    fn of(fp: &crate::model::Fingerprint) -> Option<Self> {
        let known = |v: &str| (v != crate::model::UNKNOWN_FIELD).then(|| v.to_string());
        let w = CassetteWorker {
            gpu: known(&fp.gpu),
            comfyui: known(&fp.comfyui),
            torch: known(&fp.torch),
            attention: known(&fp.attention),
        };
        (w.gpu.is_some() || w.comfyui.is_some() || w.torch.is_some()).then_some(w)
    }
}

/// The behaviour name a scenario's recording is replayed with.
pub fn behaviour_name(scenario: &str) -> String {
    format!(
        "recorded/{}",
        scenario
            .split('/')
            .map(crate::paths::sanitize)
            .collect::<Vec<_>>()
            .join("/")
    )
}

/// What one job left to record.
pub struct Recording<'a> {
    /// The job's last status answer.
    pub status: &'a StatusAnswer,
    /// The states seen, with when.
    pub timeline: &'a [Seen],
    /// Per-node timings, where the target reports them.
    pub nodes: &'a [crate::model::NodeTiming],
    /// The decoded output.
    pub output: Option<&'a Output>,
    /// The target and job, as shown to people.
    pub source: &'a str,
    /// The stack that ran the job.
    pub fingerprint: Option<&'a crate::model::Fingerprint>,
}

/// Writes the cassette of one job; returns the behaviour file.
pub fn write(mocks: &Path, scenario: &str, job: &Recording) -> Result<PathBuf, FileError> {
    let Recording { status, timeline, nodes, output, source, fingerprint } = *job;
    let name = behaviour_name(scenario);
    let file = mocks.join(format!("{name}.yaml"));
    let images = match output {
        Some(out) => save_images(mocks, &name, out)?,
        None => Vec::new(),
    };
    let ms = |v: Option<u64>| format!("{}ms", v.unwrap_or(0));
    let cassette = Cassette {
        description: format!("Recorded job of scenario `{scenario}`"),
        queue: ms(status.delay_ms),
        execution: ms(status.execution_ms),
        status: match status.status {
            JobState::Completed | JobState::Failed | JobState::TimedOut | JobState::Cancelled => {
                status.status.as_str()
            }
            _ => "COMPLETED",
        },
        error: status
            .error
            .as_deref()
            .map(|e| crate::redact::redact(e).into_owned()),
        output: shape(status, output),
        warnings: output
            .map(|o| {
                o.warnings
                    .iter()
                    .map(|w| crate::redact::redact(w).into_owned())
                    .collect()
            })
            .unwrap_or_default(),
        worker: fingerprint.and_then(CassetteWorker::of),
        replay: crate::mock::behaviour::Replay {
            images,
            timeline: timeline.to_vec(),
            source: Some(crate::redact::redact(source).into_owned()),
            nodes: nodes.to_vec(),
        },
    };
    let yaml = crate::text::yaml::to_string(&cassette).expect("a cassette serialises");
    if let Some(parent) = file.parent() {
        crate::paths::create_dir(parent)?;
    }
    let header =
        format!("# Recorded by endpoint-harness (HARNESS_RECORD=1). Replay with `mock: {name}`.\n");
    crate::paths::write(&file, header + &crate::redact::redact(&yaml))?;
    Ok(file)
}

/// Saves the returned files as `<name>/<n>.img` under the mocks folder.
fn save_images(
    mocks: &Path,
    name: &str,
    out: &Output,
) -> Result<Vec<crate::mock::behaviour::ReplayImage>, FileError> {
    crate::paths::create_dir(&mocks.join(name))?;
    let mut images = Vec::new();
    for (i, img) in out.images.iter().enumerate() {
        if let Ok(bytes) = &img.bytes {
            let rel = format!("{name}/{i}.img");
            crate::paths::write(&mocks.join(&rel), bytes)?;
            images.push(crate::mock::behaviour::ReplayImage {
                filename: crate::redact::redact(&img.filename).into_owned(),
                file: rel,
            });
        }
    }
    Ok(images)
}

/// The behaviour's `output:` for what was returned.
fn shape(status: &StatusAnswer, output: Option<&Output>) -> &'static str {
    match (status.status == JobState::Completed, output) {
        (true, None) => "none",
        (_, Some(o)) if o.shape == Shape::LegacyMessage => "message",
        (_, Some(o)) if o.shape == Shape::NoImages => "success_no_images",
        (_, Some(o)) if o.images.iter().any(|i| i.transport == Transport::S3Url) => "s3_url",
        _ => "images",
    }
}
