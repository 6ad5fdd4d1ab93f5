//! One job of a scenario: build the request, reserve its cost, take an
//! in-flight slot, run it on the target, then check the answer: status and
//! error, every returned file, warnings, references; save the files and, when
//! asked, record the job for replay.


use serde_json::Value;

use super::env::TrialEnv;
use super::request::request_body;
use super::stop::Stop;
use crate::checks;
use crate::runpod::job::Finished;
use crate::model::{CheckFailure, RunRecord, SnapshotRecord, Timing};
use crate::runpod::output;
use crate::scenario::{ExpectedStatus, Mode, Scenario};
use crate::targets::JobRequest;
use crate::runpod::wire::JobState;

/// The outcome of one submitted job, before verdicts.
pub(crate) struct OneRun {
    pub(crate) record: RunRecord,
    pub(crate) failures: Vec<CheckFailure>,
    /// What stopped this run before its answer could be checked.
    pub(crate) stop: Option<Stop>,
    pub(crate) timing: Option<Timing>,
    /// Decoded images (in order) for snapshot calibration across repeats.
    pub(crate) pixels: Vec<image::DynamicImage>,
    pub(crate) snapshots: Vec<SnapshotRecord>,
    /// Images in the snapshot comparison's review band (not failing the scenario).
    pub(crate) reviews: Vec<String>,
    /// Snapshot passes worth saying (against another class's reference).
    pub(crate) notes: Vec<String>,
}

impl OneRun {
    fn stopped(stop: Stop) -> Self {
        OneRun {
            record: RunRecord::default(),
            failures: Vec::new(),
            stop: Some(stop),
            timing: None,
            pixels: Vec::new(),
            snapshots: Vec::new(),
            reviews: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Runs job `index` (0-based) of scenario `s`.
pub(crate) async fn run_once(s: &Scenario, env: &TrialEnv, index: u32) -> OneRun {
    let body = match request_body(s) {
        Ok(b) => b,
        Err(e) => return OneRun::stopped(e.into()),
    };
    // The job's share of the spending cap is held from before it is submitted.
    let reservation = match &env.costs {
        Some(c) => {
            let expected = s
                .budget
                .execution
                .map_or(0.0, |d| c.of(d.as_millis() as u64));
            match c.reserve(expected).await {
                Ok(r) => Some(r),
                Err(refused) => return OneRun::stopped(Stop::CostCap(refused.0)),
            }
        }
        None => None,
    };
    let _permit = env
        .in_flight
        .acquire()
        .await
        .expect("semaphore is never closed");
    let started = crate::clock::now();
    let submitted_at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    let request = JobRequest {
        body,
        sync: s.mode == Mode::Sync,
        deadline: s.timeout,
    };
    let mut job = match env.target.run(request, &env.watch).await {
        Ok(job) => job,
        Err(e) => {
            let mut one = OneRun::stopped(e.into());
            one.record.total_ms = crate::clock::since(started).as_millis() as u64;
            one.record.submitted_at = Some(submitted_at);
            if let Some(Stop::Drive(d)) = &one.stop {
                one.record.job_id = d.job().map(str::to_string);
                one.record.state = d.last_state().map(str::to_string);
                one.record.worker_id = d.worker().map(str::to_string);
            }
            return one;
        }
    };
    let mut one = finished(&job, env, reservation);
    one.record.submitted_at = Some(submitted_at);
    // Known before references are judged: they are kept by the class it names.
    one.record.fingerprint = Some(env.fingerprints.of(env.target.as_ref(), one.record.worker_id.as_deref()).await);
    one.failures.extend(checks::status(
        &s.expect,
        job.status.status.as_str(),
        job.status.error.as_deref(),
    ));
    // A figure that cannot be true fails closed: its budget cannot be judged.
    for a in &job.status.absurd {
        one.failures.push(CheckFailure::new("endpoint figures", "RunPod's delayTime and executionTime in milliseconds", a.clone()));
    }
    let completed = job.status.status == JobState::Completed;
    // Decoding takes the output: each image's base64 becomes its bytes in place.
    let output_value = job.status.output.take();
    let decoded = if completed && s.expect.status == ExpectedStatus::Completed {
        check_output(s, env, index, output_value, &mut one).await
    } else if completed && env.record.is_some() {
        output::decode(output_value, env.target.as_ref())
            .await
            .ok()
    } else {
        None
    };
    if let (Some(dir), 0) = (&env.record, index) {
        record(dir, s, env, &job, decoded.as_ref(), one.record.fingerprint.as_ref());
    }
    one
}

/// The record, timing and cost of a job that reached a terminal state.
fn finished(job: &Finished, env: &TrialEnv, reservation: Option<crate::results::cost::Reservation>) -> OneRun {
    let st = &job.status;
    let mut record = RunRecord {
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
        timeline: job.timeline.clone(),
        nodes: job.nodes.clone(),
        progress: job.progress.clone(),
        ..RunRecord::default()
    };
    if let (Some(c), Some(ms)) = (&env.costs, st.execution_ms) {
        let cost = c.of(ms);
        if let Some(r) = reservation {
            r.settle(cost);
        }
        record.cost = Some(cost);
    }
    OneRun {
        timing: Some(Timing {
            queue_ms: st.delay_ms,
            execution_ms: st.execution_ms,
            total_ms: record.total_ms,
        }),
        record,
        failures: Vec::new(),
        stop: None,
        pixels: Vec::new(),
        snapshots: Vec::new(),
        reviews: Vec::new(),
        notes: Vec::new(),
    }
}

fn record(
    dir: &std::path::Path,
    s: &Scenario,
    env: &TrialEnv,
    job: &Finished,
    decoded: Option<&output::Output>,
    fingerprint: Option<&crate::model::Fingerprint>,
) {
    let source = format!("{} job {}", env.target.label(), job.status.id);
    let recording = crate::tools::record::Recording {
        status: &job.status,
        timeline: &job.timeline,
        nodes: &job.nodes,
        output: decoded,
        source: &source,
        fingerprint,
    };
    match crate::tools::record::write(dir, &s.name, &recording) {
        Ok(f) => eprintln!(
            "endpoint-harness: recorded {} (replay with `mock: {}`)",
            f.display(),
            crate::tools::record::behaviour_name(&s.name)
        ),
        Err(e) => eprintln!(
            "endpoint-harness: warning: could not record {}: {e}",
            s.name
        ),
    }
}

/// The most files `expect` accepts (stills and videos together), when it says.
fn expected_items(s: &Scenario) -> Option<usize> {
    let stills = s.expect.images.count.max?;
    let videos = match &s.expect.videos {
        None => 0,
        Some(v) => v.count.max?,
    };
    Some(stills as usize + videos as usize)
}

/// Decodes and checks the output of a COMPLETED job, one file at a time;
/// returns it for recording (only then are the files kept).
async fn check_output(
    s: &Scenario,
    env: &TrialEnv,
    index: u32,
    output: Option<Value>,
    one: &mut OneRun,
) -> Option<output::Output> {
    let limits = output::Limits { expected: expected_items(s), ..env.output_limits };
    let target = env.target.as_ref();
    let mut stream = match output::Stream::open(output, target, &limits).await {
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
    one.record.output_shape = Some(stream.shape());
    one.record.warnings = stream
        .warnings
        .iter()
        .map(|w| crate::redact::redact(w).into_owned())
        .collect();
    let provenance = env.provenance(one.record.fingerprint.as_ref()).await;
    let recording = env.record.is_some() && index == 0;
    let mut kept = Vec::new();
    let mut inspector = super::inspect::Inspector::new(s, env, index, &provenance);
    while let Some(returned) = stream.next(target).await {
        // Decoding, checking and comparing are CPU and file work: off the
        // async worker, so the other jobs' polls are not held up behind them.
        crate::clock::blocking(|| inspector.take(&returned, &mut one.record));
        if recording {
            kept.push(returned);
        }
    }
    let (compared, pixels) = crate::clock::blocking(|| inspector.finish(&mut one.failures));
    one.failures.extend(checks::warnings(s.expect.warnings, &stream.warnings));
    one.snapshots = compared.records;
    one.reviews = compared.reviews;
    one.notes = compared.notes;
    // Kept only for calibration across repeats.
    one.pixels = pixels;
    recording.then(|| output::Output { shape: stream.shape(), images: kept, warnings: stream.warnings })
}
