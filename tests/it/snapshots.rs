//! Reference snapshots through the real suite binary: a missing reference fails
//! on CI, `update` writes it, `verify` passes GPU-like noise, and a changed seed
//! fails with a diff image in the reports. The comparison itself is unit-tested
//! in `harness/snapshot/tests.rs`.

use std::path::Path;

#[test]
fn end_to_end_update_verify_and_a_changed_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scenarios");
    crate::common::copy_dir(
        Path::new("tests/selftest/workflows"),
        &scen.join("workflows"),
    );
    let yaml = |seed: u32| {
        format!("workflow: workflows/tiny.json\nset:\n  \"3.seed\": {seed}\nmock: drift\nsnapshot:\n  compare: perceptual\n")
    };
    std::fs::write(scen.join("fox.yaml"), yaml(1)).unwrap();
    let (s, r, d) = (
        scen.to_string_lossy().to_string(),
        tmp.path().join("reports").to_string_lossy().to_string(),
        tmp.path().join("snapshots").to_string_lossy().to_string(),
    );
    let env = |mode: &'static str| {
        vec![
            ("HARNESS_SCENARIOS", s.clone()),
            ("HARNESS_REPORTS", r.clone()),
            ("HARNESS_SNAPSHOT_DIR", d.clone()),
            ("HARNESS_SNAPSHOTS", mode.to_string()),
        ]
    };
    let run = |e: Vec<(&str, String)>| {
        let refs: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::common::run_suite(&[], &refs)
    };
    let missing = run([env("verify"), vec![("CI", "true".into())]].concat());
    assert_eq!(missing.code, 101, "{}", missing.all());
    assert!(
        missing
            .stdout
            .contains("snapshot 0: expected a reference image")
            && missing.stdout.contains("got no reference there yet"),
        "{}",
        missing.stdout
    );
    let update = run(env("update"));
    assert_eq!(update.code, 0, "{}", update.all());
    assert!(tmp.path().join("snapshots/fox/0.png").is_file());
    let verify = run(env("verify"));
    assert_eq!(verify.code, 0, "drift passes perceptual: {}", verify.all());
    std::fs::write(scen.join("fox.yaml"), yaml(2)).unwrap();
    let changed = run(env("verify"));
    assert_eq!(changed.code, 101, "{}", changed.all());
    assert!(
        changed.stdout.contains("snapshot 0 (pass: psnr >= ")
            && changed.stdout.contains("): expected a match with"),
        "{}",
        changed.stdout
    );
    assert!(tmp
        .path()
        .join("reports/images/fox/snapshot-0-diff.png")
        .is_file());
}
