//! Record and replay: a run against a live-style endpoint with HARNESS_RECORD=1
//! writes a cassette under mocks/recorded/; `mock: recorded/<name>` then replays
//! the same timings, status and image bytes offline, and the key is in neither.

use std::path::Path;

use crate::common::{all_text, copy_dir, run_suite, MockProcess};

#[test]
fn a_recorded_live_job_replays_offline_with_the_same_timings_and_images() {
    let key = "rpa_RECORD_KEY_abcdef0123";
    let live = MockProcess::start(&[
        "--api-key",
        key,
        "--speed",
        "100",
        "--behaviour",
        "cold-start",
        "--endpoint-id",
        "ep",
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scenarios");
    let mocks = tmp.path().join("mocks");
    copy_dir(
        Path::new("tests/selftest/workflows"),
        &scen.join("workflows"),
    );
    std::fs::write(
        scen.join("fox.yaml"),
        "workflow: workflows/tiny.json\nexpect:\n  images: {count: 1, width: 64}\n",
    )
    .unwrap();
    let (s, m) = (
        scen.to_string_lossy().to_string(),
        mocks.to_string_lossy().to_string(),
    );
    let r1 = tmp.path().join("r1").to_string_lossy().to_string();
    let rec = run_suite(
        &[],
        &[
            ("HARNESS_SCENARIOS", &s),
            ("HARNESS_REPORTS", &r1),
            ("HARNESS_MOCKS", &m),
            ("HARNESS_RECORD", "1"),
            ("RUNPOD_API_KEY", key),
            ("RUNPOD_ENDPOINT_ID", "ep"),
            ("RUNPOD_ENDPOINT_URL", &live.endpoint_url("ep")),
        ],
    );
    assert_eq!(rec.code, 0, "{}", rec.all());
    assert!(
        rec.stderr.contains("replay with `mock: recorded/fox`"),
        "{}",
        rec.stderr
    );
    let cassette = std::fs::read_to_string(mocks.join("recorded/fox.yaml")).unwrap();
    assert!(
        cassette.contains("queue: 45000ms") && cassette.contains("execution: 4000ms"),
        "{cassette}"
    );
    assert!(
        !all_text(&mocks).contains(key),
        "the key is not in the cassette"
    );

    // Replay against the embedded mock: same reported times, same bytes.
    std::fs::write(scen.join("fox.yaml"), "workflow: workflows/tiny.json\nmock: recorded/fox\nexpect:\n  images: {count: 1, width: 64}\nbudget:\n  queue: 60s\n").unwrap();
    let r2 = tmp.path().join("r2").to_string_lossy().to_string();
    let replay = run_suite(
        &[],
        &[
            ("HARNESS_SCENARIOS", &s),
            ("HARNESS_REPORTS", &r2),
            ("HARNESS_MOCKS", &m),
        ],
    );
    assert_eq!(replay.code, 0, "{}", replay.all());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(&r2).join("report.json")).unwrap())
            .unwrap();
    let run = &report["scenarios"][0]["runs"][0];
    assert_eq!(
        (run["delay_ms"].as_u64(), run["execution_ms"].as_u64()),
        (Some(45_000), Some(4_000))
    );
    let recorded = std::fs::read(mocks.join("recorded/fox/0.img")).unwrap();
    let replayed =
        std::fs::read(Path::new(&r2).join(run["images"][0]["file"].as_str().unwrap())).unwrap();
    assert_eq!(recorded, replayed, "the replayed image is the recorded one");
}
