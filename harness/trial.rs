//! One scenario run end to end: build the request, submit and poll (within the
//! in-flight cap), decode and check the output, save the images, apply budgets,
//! and turn it all into a [`ScenarioReport`] and a libtest verdict.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::budget;
use crate::checks;
use crate::endpoint::{Endpoint, Submit};
use crate::model::{
    BudgetReport, CheckFailure, ImageFormat, ImageRecord, RunRecord, ScenarioHead, ScenarioReport,
    Timing, Verdict,
};
use crate::output;
use crate::poll::{self, DriveError};
use crate::scenario::{Diagnostics, ExpectedStatus, Mode, Scenario};
use crate::snapshot;
use crate::wire::{JobState, RUNSYNC_LIMIT, RUN_LIMIT};

/// Everything a trial needs from the run.
pub struct TrialEnv {
    pub endpoint: Endpoint,
    /// Caps jobs in flight per endpoint across trial threads.
    pub in_flight: Arc<tokio::sync::Semaphore>,
    pub reports_dir: std::path::PathBuf,
    pub target_label: String,
    pub snapshots: Arc<snapshot::Config>,
    /// Queue grace and progress observer for this scenario's jobs.
    pub watch: poll::Watch,
    /// Price table and spending cap, when configured.
    pub costs: Option<Arc<crate::cost::Costs>>,
    /// Mocks folder to record cassettes into (`HARNESS_RECORD=1`, live and local targets).
    pub record: Option<std::path::PathBuf>,
}

/// The outcome of one submitted job, before verdicts.
struct OneRun {
    record: RunRecord,
    failures: Vec<CheckFailure>,
    /// An endpoint or harness error that stopped this run.
    error: Option<(Verdict, String)>,
    timing: Option<Timing>,
    /// Decoded images (in order) for snapshot calibration across repeats.
    pixels: Vec<image::DynamicImage>,
    snapshots: Vec<crate::model::SnapshotRecord>,
}

/// The request body worker-comfyui expects: `{"input": {"workflow", "images"?}}`.
pub fn request_body(s: &Scenario) -> Result<Vec<u8>, String> {
    let mut input = json!({ "workflow": Value::Object(s.workflow.clone()) });
    if !s.images.is_empty() {
        let mut images = Vec::new();
        for img in &s.images {
            if let Some(data) = &img.inline {
                images.push(json!({"name": img.name, "image": data}));
                continue;
            }
            let bytes = std::fs::read(&img.path).map_err(|e| {
                format!(
                    "cannot read input image `{}` ({}): {e}",
                    img.name,
                    img.path.display()
                )
            })?;
            images.push(json!({"name": img.name, "image": base64::engine::general_purpose::STANDARD.encode(bytes)}));
        }
        input["images"] = Value::Array(images);
    }
    let body = serde_json::to_vec(&json!({ "input": input }))
        .map_err(|e| format!("cannot serialise request: {e}"))?;
    let (limit, route) = if s.mode == Mode::Sync {
        (RUNSYNC_LIMIT, "/runsync")
    } else {
        (RUN_LIMIT, "/run")
    };
    if body.len() > limit {
        return Err(format!(
            "the request is {:.1} MB, over RunPod's {} MB limit for {route}: shrink the input images (or use mode: sync, limited to 20 MB)",
            body.len() as f64 / 1e6,
            limit / 1_000_000
        ));
    }
    Ok(body)
}

/// Runs a loaded scenario against `env` (in the caller's runtime).
pub async fn run(s: &Scenario, env: &TrialEnv) -> ScenarioReport {
    let started = Instant::now();
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    let mut error: Option<(Verdict, String)> = None;
    let mut timings = Vec::new();
    let mut pixels = Vec::new();
    let mut snapshots = Vec::new();
    for i in 0..s.repeat {
        let mut one = run_once(s, env, i).await;
        if s.snapshot.compare != crate::scenario::CompareMode::Off && s.repeat > 1 {
            pixels.push(std::mem::take(&mut one.pixels));
        }
        snapshots.append(&mut one.snapshots);
        failures.extend(one.failures.into_iter().map(|mut f| {
            if s.repeat > 1 {
                f.check = format!("run {}: {}", i + 1, f.check);
            }
            f
        }));
        timings.extend(one.timing);
        runs.push(one.record);
        if one.error.is_some() {
            error = one.error;
            break;
        }
    }
    let budget = budget::evaluate(&s.budget, &timings);
    let calibration = snapshot::calibrate(&pixels);
    let cost = runs.iter().filter_map(|r| r.cost).reduce(|a, b| a + b);
    let verdict = match (&error, failures.is_empty(), budget.misses.is_empty()) {
        (Some((v, _)), _, _) => *v,
        (None, false, _) => Verdict::Failed,
        (None, true, false) => Verdict::OverBudget,
        (None, true, true) => Verdict::Passed,
    };
    let message = message(s, env, verdict, &error, &failures, &budget, &runs);
    let mut report = ScenarioReport::new(head(s), verdict, message);
    report.failures = failures;
    report.budget = Some(budget);
    report.runs = runs;
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.snapshots = snapshots;
    report.calibration = calibration;
    report.cost = cost;
    report
}

async fn run_once(s: &Scenario, env: &TrialEnv, index: u32) -> OneRun {
    let mut one = OneRun {
        record: RunRecord::default(),
        failures: Vec::new(),
        error: None,
        timing: None,
        pixels: Vec::new(),
        snapshots: Vec::new(),
    };
    let body = match request_body(s) {
        Ok(b) => b,
        Err(e) => {
            one.error = Some((Verdict::Error, e));
            return one;
        }
    };
    if let Some(c) = &env.costs {
        let expected = s
            .budget
            .execution
            .map_or(0.0, |d| c.of(d.as_millis() as u64));
        if let Some(reason) = c.refuse(expected) {
            one.error = Some((Verdict::Ignored, reason));
            return one;
        }
    }
    let how = if s.mode == Mode::Sync {
        Submit::RunSync(s.timeout)
    } else {
        Submit::Run
    };
    let _permit = env
        .in_flight
        .acquire()
        .await
        .expect("semaphore is never closed");
    let started = Instant::now();
    let job = match poll::drive_with(&env.endpoint, how, body, s.timeout, &env.watch).await {
        Ok(job) => job,
        Err(e) => {
            one.record.total_ms = started.elapsed().as_millis() as u64;
            let verdict = match &e {
                DriveError::Deadline {
                    job, last_state, ..
                } => {
                    one.record.job_id = Some(job.clone());
                    one.record.state = Some(last_state.clone());
                    Verdict::TimedOut
                }
                DriveError::Status { job, .. } => {
                    one.record.job_id = Some(job.clone());
                    Verdict::Error
                }
                DriveError::Stuck { job, .. } => {
                    one.record.job_id = Some(job.clone());
                    one.record.state = Some("IN_QUEUE".into());
                    Verdict::Error
                }
                DriveError::Submit(_) | DriveError::Interrupted => Verdict::Error,
            };
            one.error = Some((verdict, crate::redact::redact(&e.to_string()).into_owned()));
            return one;
        }
    };
    let st = &job.status;
    one.record = RunRecord {
        job_id: Some(st.id.clone()),
        worker_id: st.worker_id.clone(),
        state: Some(st.status.to_string()),
        error: st
            .error
            .as_deref()
            .map(|e| crate::redact::redact(e).into_owned()),
        delay_ms: st.delay_ms,
        execution_ms: st.execution_ms,
        total_ms: job.wall.as_millis() as u64,
        status_calls: job.status_calls,
        ..RunRecord::default()
    };
    if let (Some(c), Some(ms)) = (&env.costs, st.execution_ms) {
        let cost = c.of(ms);
        c.add(cost);
        one.record.cost = Some(cost);
    }
    one.timing = Some(Timing {
        queue_ms: st.delay_ms,
        execution_ms: st.execution_ms,
        total_ms: one.record.total_ms,
    });
    one.failures.extend(checks::status(
        &s.expect,
        st.status.as_str(),
        st.error.as_deref(),
    ));
    let decoded =
        if st.status == JobState::Completed && s.expect.status == ExpectedStatus::Completed {
            check_output(s, env, index, st.output.as_ref(), &mut one).await
        } else if st.status == JobState::Completed && env.record.is_some() {
            output::decode(st.output.as_ref(), &env.endpoint).await.ok()
        } else {
            None
        };
    if let (Some(dir), 0) = (&env.record, index) {
        let source = format!("{} job {}", env.target_label, st.id);
        match crate::record::write(dir, &s.name, st, &job.timeline, decoded.as_ref(), &source) {
            Ok(f) => eprintln!(
                "endpoint-harness: recorded {} (replay with `mock: {}`)",
                f.display(),
                crate::record::behaviour_name(&s.name)
            ),
            Err(e) => eprintln!(
                "endpoint-harness: warning: could not record {}: {e}",
                s.name
            ),
        }
    }
    one
}

async fn check_output(
    s: &Scenario,
    env: &TrialEnv,
    index: u32,
    output: Option<&Value>,
    one: &mut OneRun,
) -> Option<output::Output> {
    let out = match output::decode(output, &env.endpoint).await {
        Ok(o) => o,
        Err(e) => {
            one.failures.push(CheckFailure::new(
                "job output",
                "images from the worker",
                e.to_string(),
            ));
            return None;
        }
    };
    one.record.output_shape = Some(out.shape);
    one.record.warnings = out
        .warnings
        .iter()
        .map(|w| crate::redact::redact(w).into_owned())
        .collect();
    let mut infos = Vec::new();
    let mut decoded = Vec::new();
    for (i, returned) in out.images.iter().enumerate() {
        let inspected = checks::inspect(i, returned);
        let file = returned.bytes.as_ref().ok().and_then(|b| {
            save_image(
                &env.reports_dir,
                &s.name,
                index,
                i,
                &returned.filename,
                b,
                inspected.info.format,
            )
        });
        let thumbnail = inspected.thumb.as_ref().map(crate::png::data_uri);
        decoded.push(inspected.pixels.zip(inspected.thumb));
        infos.push(inspected.info.clone());
        one.record.images.push(ImageRecord {
            info: inspected.info,
            file,
            thumbnail,
        });
    }
    one.failures
        .extend(checks::images(&s.expect.images, &infos));
    one.failures
        .extend(checks::warnings(s.expect.warnings, &out.warnings));
    // Later repeats are verified too, but only the first may write references.
    if index == 0 || env.snapshots.mode == snapshot::Mode::Verify {
        let refs: Vec<Option<snapshot::Candidate>> = decoded
            .iter()
            .map(|d| {
                d.as_ref()
                    .map(|(pixels, thumb)| snapshot::Candidate { pixels, thumb })
            })
            .collect();
        let snap = snapshot::verify(&env.snapshots, &s.name, &s.snapshot, &refs);
        one.failures.extend(snap.failures);
        one.snapshots = snap.records;
    }
    // Kept only for calibration across repeats.
    if s.repeat > 1 && s.snapshot.compare != crate::scenario::CompareMode::Off {
        one.pixels = decoded.into_iter().flatten().map(|(p, _)| p).collect();
    }
    Some(out)
}

/// Saves returned bytes under `reports/images/<scenario>/`; the name is sanitised so an
/// endpoint filename like `../../x.png` cannot leave the folder.
fn save_image(
    reports: &Path,
    scenario: &str,
    run: u32,
    i: usize,
    filename: &str,
    bytes: &[u8],
    format: Option<ImageFormat>,
) -> Option<String> {
    // `images/<scenario folders>/<leaf>.r<run>-<n>-<name>`: no folder per scenario, so
    // a big suite creates one file per image, not a directory too.
    let full = Path::new("images").join(crate::paths::scenario_path(scenario));
    let rel = full.parent().map(Path::to_path_buf).unwrap_or_default();
    let leaf = full
        .file_name()
        .map(|l| l.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = reports.join(&rel);
    std::fs::create_dir_all(&dir).ok()?;
    let stem = crate::paths::sanitize(
        Path::new(filename)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("image"),
    );
    let ext = format.map_or("bin", ImageFormat::extension);
    let name = format!("{leaf}.r{run}-{i}-{stem}.{ext}");
    std::fs::write(dir.join(&name), bytes).ok()?;
    Some(crate::paths::slashed(&rel.join(&name)))
}

fn message(
    s: &Scenario,
    env: &TrialEnv,
    verdict: Verdict,
    error: &Option<(Verdict, String)>,
    failures: &[CheckFailure],
    budget: &BudgetReport,
    runs: &[RunRecord],
) -> Option<String> {
    use std::fmt::Write;
    let mut m = String::new();
    let job = runs
        .last()
        .and_then(|r| r.job_id.as_deref())
        .map(|j| format!(", job {j}"))
        .unwrap_or_default();
    let _ = writeln!(
        m,
        "{} against {}{job} ({})",
        verdict.as_str().to_uppercase(),
        env.target_label,
        crate::paths::display_path(&s.file).display()
    );
    if let Some((_, e)) = error {
        let _ = writeln!(m, "  ✗ {e}");
    }
    for f in failures {
        let _ = writeln!(m, "  ✗ {f}");
    }
    for miss in &budget.misses {
        let _ = writeln!(m, "  ✗ {miss}");
    }
    for na in &budget.not_applicable {
        let _ = writeln!(m, "  · {na}");
    }
    for w in &s.warnings {
        let _ = writeln!(m, "  ! {w}");
    }
    for r in runs {
        for w in &r.warnings {
            let _ = writeln!(m, "  ! output.errors: {w}");
        }
    }
    (verdict != Verdict::Passed || !budget.not_applicable.is_empty() || !s.warnings.is_empty())
        .then_some(m)
}

/// What identifies a loaded scenario in reports.
pub fn head(s: &Scenario) -> ScenarioHead {
    ScenarioHead {
        name: s.name.clone(),
        file: crate::paths::display_path(&s.file).display().to_string(),
        description: s.description.clone(),
        tags: s.tags.clone(),
        warnings: s.warnings.clone(),
    }
}

/// The report of a scenario file that failed to load.
pub fn invalid(name: &str, file: &Path, diags: &Diagnostics) -> ScenarioReport {
    let head = ScenarioHead {
        name: name.to_string(),
        file: crate::paths::display_path(file).display().to_string(),
        ..ScenarioHead::default()
    };
    ScenarioReport::new(
        head,
        Verdict::Error,
        Some(format!("invalid scenario\n{diags}")),
    )
}

/// The report of a scenario that ended before any job ran (ignored, no endpoint,
/// or given up by the harness), with its verdict and message.
pub fn without_runs(s: &Scenario, verdict: Verdict, message: &str) -> ScenarioReport {
    ScenarioReport::new(head(s), verdict, Some(message.to_string()))
}

/// A deadline for the whole trial, a little past the scenario's, so a hung
/// transport can never hang the test process.
pub fn hard_deadline(s: &Scenario) -> Duration {
    s.timeout * s.repeat + Duration::from_secs(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_filename_cannot_leave_the_reports_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let reports = tmp.path().join("reports");
        let rel = save_image(
            &reports,
            "sdxl/../../evil",
            0,
            0,
            "../../x.png",
            b"png",
            Some(ImageFormat::Png),
        )
        .unwrap();
        assert_eq!(rel, "images/sdxl/_/_/evil.r0-0-x.png");
        let written = reports.join(&rel);
        assert!(written.is_file());
        assert!(written
            .canonicalize()
            .unwrap()
            .starts_with(reports.canonicalize().unwrap()));
        let rel = save_image(&reports, "a", 0, 1, "/etc/passwd", b"x", None).unwrap();
        assert_eq!(rel, "images/a.r0-1-passwd.bin");
    }
}
