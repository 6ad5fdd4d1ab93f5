//! Videos and animations end to end against the mock: a clip that is blank
//! and does not move fails its pixel checks in every build, a codec nothing
//! here decodes says plainly that its pixels were not checked (and fails when
//! strict), and the HTML report plays what the browser can.

use crate::common::run_suite;

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
fn a_frozen_blank_mp4_fails_in_every_build() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = tmp.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    frozen_scenario(&scenarios);
    let reports = tmp.path().join("reports");
    // no ffmpeg executable: H.264 is decoded by the bundled OpenH264 alone
    let out = run_suite(
        &[],
        &[
            ("HARNESS_SCENARIOS", scenarios.to_str().unwrap()),
            ("HARNESS_REPORTS", reports.to_str().unwrap()),
            ("HARNESS_PROGRESS", "off"),
            ("HARNESS_FFMPEG", "/nonexistent/ffmpeg"),
        ],
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    let s = &report["scenarios"][0];
    let video = &s["runs"][0]["videos"][0];
    assert_eq!(video["frames"], 10, "{video}");
    assert_eq!(video["codec"], "h264");
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
}

/// A VP9 WebM with no decoder for it (no ffmpeg executable, no `ffmpeg`
/// feature): a visible note locally, a failure with HARNESS_STRICT=1 that
/// says how to make it checkable, and a pass again with `allow_unchecked`.
#[cfg(not(feature = "ffmpeg"))]
#[test]
fn unchecked_video_pixels_fail_when_strict_unless_allowed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = tmp.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::copy(
        root.join("scenarios/video/workflows/vp9_webm.json"),
        scenarios.join("vp9.json"),
    )
    .unwrap();
    let yaml = "workflow: vp9.json\nmock: video/vp9\nexpect:\n  videos: {count: 1}\n";
    std::fs::write(scenarios.join("plain.yaml"), yaml).unwrap();
    std::fs::write(
        scenarios.join("allowed.yaml"),
        format!("{yaml}allow_unchecked: [video_pixels]\n"),
    )
    .unwrap();
    let run = |strict: &str| {
        let reports = tmp.path().join(format!("reports-{strict}"));
        let out = run_suite(
            &[],
            &[
                ("HARNESS_SCENARIOS", scenarios.to_str().unwrap()),
                ("HARNESS_REPORTS", reports.to_str().unwrap()),
                ("HARNESS_PROGRESS", "off"),
                ("HARNESS_FFMPEG", "/nonexistent/ffmpeg"),
                ("HARNESS_STRICT", strict),
                ("CI", ""),
            ],
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
                .unwrap();
        let by_name = |n: &str| {
            report["scenarios"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == n)
                .unwrap()
                .clone()
        };
        (out, by_name("plain"), by_name("allowed"))
    };
    let (out, plain, allowed) = run("0");
    assert_eq!(
        (plain["verdict"].as_str(), allowed["verdict"].as_str()),
        (Some("passed"), Some("passed")),
        "{}",
        out.all()
    );
    assert!(
        out.all().contains("not checked")
            && out.all().contains("fails on CI and with HARNESS_STRICT=1"),
        "{}",
        out.all()
    );
    let (out, plain, allowed) = run("1");
    assert_eq!(plain["verdict"], "failed", "{}", out.all());
    assert_eq!(allowed["verdict"], "passed", "{}", out.all());
    let failure = plain["failures"][0].to_string();
    assert!(
        failure.contains("not checked: video 0")
            && failure.contains("allow_unchecked: [video_pixels]")
            && failure.contains("ffmpeg"),
        "{failure}"
    );
    assert!(
        out.all().contains("allowed: allow_unchecked: video_pixels"),
        "the report shows the opt-out: {}",
        out.all()
    );
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
