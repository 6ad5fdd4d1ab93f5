//! Outputs RunPod and worker-comfyui are adding, served by the mock and read
//! by the harness: `output.videos[]` read like `output.images[]`, progress
//! updates in `output` while a job runs (shown and kept as progress, never
//! taken for the result), and a job whose TTL ran out while it ran (404 after
//! IN_PROGRESS) diagnosed as a TTL expiry.

use std::path::Path;

use crate::common::run_suite;
use serde_json::Value;

/// One scenario file in a fresh folder, run against the embedded mock.
fn run_one(yaml: &str, extra: &[(&str, &str)]) -> (crate::common::Output, Value) {
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scenarios");
    std::fs::create_dir_all(&scen).unwrap();
    std::fs::copy(
        "scenarios/video/workflows/h264_mp4.json",
        scen.join("video.json"),
    )
    .unwrap();
    std::fs::copy(
        "scenarios/sdxl/workflows/sdxl_txt2img.json",
        scen.join("sdxl.json"),
    )
    .unwrap();
    std::fs::write(scen.join("one.yaml"), yaml).unwrap();
    let reports = tmp.path().join("reports");
    let mocks = std::fs::canonicalize("mocks").unwrap();
    let mut env = vec![
        ("HARNESS_SCENARIOS", scen.to_str().unwrap()),
        ("HARNESS_REPORTS", reports.to_str().unwrap()),
        ("HARNESS_MOCKS", mocks.to_str().unwrap()),
        ("HARNESS_PROGRESS", "off"),
    ];
    env.extend_from_slice(extra);
    let out = run_suite(&[], &env);
    let report = std::fs::read_to_string(Path::new(&reports).join("report.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    (out, report)
}

#[test]
fn a_video_in_output_videos_is_checked_like_one_in_output_images() {
    let (out, report) = run_one(
        "workflow: video.json\nmock: video/h264-videos\nexpect:\n  videos: {count: 1, container: mp4, codec: h264, frames: 12}\n",
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let run = &report["scenarios"][0]["runs"][0];
    assert_eq!(run["videos"].as_array().map(Vec::len), Some(1), "{run}");
    // Frames were decoded (a strip of thumbnails), not only the container read.
    assert!(
        !run["videos"][0]["strip"].as_array().unwrap().is_empty(),
        "{run}"
    );
    // And a frozen clip in output.videos fails as it would in output.images.
    let (out, _) = run_one(
        "workflow: video.json\nmock: video/h264-videos\nexpect:\n  videos: {count: 1, not_blank: true}\n",
        &[],
    );
    assert_eq!(out.code, 0, "the recorded clip is not blank: {}", out.all());
}

#[test]
fn progress_in_output_is_shown_and_kept_and_never_taken_for_the_result() {
    let (out, report) = run_one(
        "workflow: sdxl.json\nmock: progress\nexpect:\n  images: {count: 1, format: png}\n",
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let run = &report["scenarios"][0]["runs"][0];
    let progress = run["progress"]
        .as_array()
        .expect("progress kept in report.json");
    assert!(!progress.is_empty(), "{run}");
    for p in progress {
        assert_eq!(p["max"], 25, "{p}");
        assert_eq!(p["node"], "3", "the sampler node of the workflow: {p}");
        assert!(p["value"].as_u64().unwrap() <= 25);
        assert!(p["at_ms"].is_u64());
    }
    let values: Vec<u64> = progress
        .iter()
        .map(|p| p["value"].as_u64().unwrap())
        .collect();
    assert!(
        values.windows(2).all(|w| w[0] < w[1]),
        "kept once each, rising: {values:?}"
    );
    // The result is the image, not the progress object.
    assert_eq!(run["images"].as_array().map(Vec::len), Some(1), "{run}");
}

#[test]
fn a_job_gone_after_it_was_seen_running_is_a_ttl_expiry() {
    let (out, report) = run_one(
        "workflow: sdxl.json\nmock: ttl-expired\ntimeout: 10m\n",
        &[],
    );
    assert_eq!(out.code, 101, "{}", out.all());
    let message = report["scenarios"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("TTL ran out while it ran"),
        "{message}\n{}",
        out.all()
    );
    assert!(!message.contains("does not know this job"), "{message}");
    assert!(
        out.stdout.contains("TTL ran out while it ran"),
        "{}",
        out.stdout
    );
}

/// Forty presigned URLs and a cap of eight: eight are fetched, the trial
/// fails, and the thirty-two not fetched are one line, not thirty-two.
#[test]
fn an_output_past_the_item_cap_fails_in_one_line() {
    let (out, report) = run_one(
        "workflow: sdxl.json\nmock: s3-url\nset:\n  \"Empty Latent Image.batch_size\": 40\n  \"Empty Latent Image.width\": 64\n  \"Empty Latent Image.height\": 64\nexpect:\n  images: {count: 40, width: 64, height: 64}\n",
        &[("HARNESS_MAX_OUTPUT_ITEMS", "8")],
    );
    assert_ne!(out.code, 0, "{}", out.all());
    let failures = report["scenarios"][0]["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let f = &failures[0];
    assert!(
        f["check"].as_str().unwrap().contains("(and 31 more alike"),
        "{f}"
    );
    assert!(
        f["actual"]
            .as_str()
            .unwrap()
            .contains("HARNESS_MAX_OUTPUT_ITEMS"),
        "{f}"
    );
    // Within what `expect` allows, the same output passes.
    let (out, _) = run_one(
        "workflow: sdxl.json\nmock: s3-url\nset:\n  \"Empty Latent Image.batch_size\": 40\n  \"Empty Latent Image.width\": 64\n  \"Empty Latent Image.height\": 64\nexpect:\n  images: {count: 40, width: 64, height: 64}\n",
        &[("HARNESS_MAX_OUTPUT_ITEMS", "40")],
    );
    assert_eq!(out.code, 0, "{}", out.all());
}
