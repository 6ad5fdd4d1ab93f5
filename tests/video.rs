//! Videos and animations end to end against the mock: a clip that is blank
//! and does not move fails its pixel checks where the build can decode it,
//! and says plainly that they were not done where it cannot (never a silent
//! pass); the HTML report plays what the browser can and shows sampled frames.

mod common;

use common::run_suite;

/// A scenario directory with one scenario on the frozen MP4 and default video checks.
fn frozen_scenario(dir: &std::path::Path) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("scenarios/video/workflows/frozen_mp4.json"),
        dir.join("frozen.json"),
    )
    .unwrap();
    std::fs::write(
        dir.join("frozen.yaml"),
        "description: default video checks on a clip that is flat and still\nworkflow: frozen.json\nmock: video/frozen\nexpect:\n  videos:\n    count: 1\n",
    )
    .unwrap();
}

#[test]
fn pixel_checks_of_an_mp4_fail_or_say_they_were_not_done() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = tmp.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    frozen_scenario(&scenarios);
    let reports = tmp.path().join("reports");
    let out = run_suite(
        &[],
        &[
            ("HARNESS_SCENARIOS", scenarios.to_str().unwrap()),
            ("HARNESS_REPORTS", reports.to_str().unwrap()),
            ("HARNESS_PROGRESS", "off"),
        ],
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    let s = &report["scenarios"][0];
    let video = &s["runs"][0]["videos"][0];
    assert_eq!(video["frames"], 10, "{video}");
    assert_eq!(video["codec"], "h264");
    if cfg!(feature = "ffmpeg") {
        assert_eq!(s["verdict"], "failed", "{}", out.all());
        let checks: Vec<&str> = s["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check"].as_str().unwrap())
            .collect();
        assert_eq!(
            checks,
            [
                "video 0 (frozen_00001_.mp4) is not blank",
                "video 0 (frozen_00001_.mp4) moves"
            ]
        );
        assert_eq!(video["frozen"], true);
        assert_eq!(video["sampled"], serde_json::json!([0, 2, 4, 6, 9]));
    } else {
        assert_eq!(s["verdict"], "passed", "{}", out.all());
        let note = video["pixels_unchecked"].as_str().unwrap();
        assert!(
            note.contains("not checked") && note.contains("--features ffmpeg"),
            "{note}"
        );
        assert!(
            out.stdout.contains(note) || out.stderr.contains(note),
            "the note is shown: {}",
            out.all()
        );
    }
}

#[test]
fn junit_and_report_json_carry_the_container_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().join("reports");
    let out = run_suite(
        &["video/h264-mp4", "--exact"],
        &[
            ("HARNESS_REPORTS", reports.to_str().unwrap()),
            ("HARNESS_PROGRESS", "off"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"name="video_0" value="mp4 h264 64x48, 12 frames at 8 fps, 1.5 s""#),
        "{junit}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    let v = &report["scenarios"][0]["runs"][0]["videos"][0];
    for (k, want) in [
        ("container", "\"mp4\""),
        ("fps", "8.0"),
        ("duration_ms", "1500.0"),
        ("width", "64"),
    ] {
        assert_eq!(v[k].to_string(), want, "{k}: {v}");
    }
    let file = v["file"].as_str().unwrap();
    assert!(
        reports.join(file).is_file(),
        "the clip is kept beside the report: {file}"
    );
}
