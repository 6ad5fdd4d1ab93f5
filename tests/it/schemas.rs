//! The checked-in JSON Schemas match the structs, and every shipped scenario,
//! mock behaviour and a real report.json validate against them.
//! `cargo run -- schema --out schemas` rewrites `schemas/` after a deliberate change.

use std::path::Path;

fn validator(schema: serde_json::Value) -> (boon::Schemas, boon::SchemaIndex) {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("mem://schema.json", schema).unwrap();
    let idx = compiler.compile("mem://schema.json", &mut schemas).unwrap();
    (schemas, idx)
}

fn yaml_as_json(path: &Path) -> serde_json::Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn checked_in_schemas_are_current() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .args(["schema", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut stale = Vec::new();
    for name in [
        "scenario.schema.json",
        "mock-behaviour.schema.json",
        "report.schema.json",
    ] {
        let want = std::fs::read_to_string(tmp.path().join(name)).unwrap();
        let have = std::fs::read_to_string(Path::new("schemas").join(name)).unwrap_or_default();
        if want != have {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas {stale:?}: run `cargo run -- schema --out schemas` and commit"
    );
}

#[test]
fn shipped_scenarios_and_behaviours_validate() {
    let (schemas, idx) = validator(endpoint_harness::tools::schema::scenario());
    let mut n = 0;
    for dir in ["scenarios", "tests/selftest"] {
        for f in endpoint_harness::run::discover(Path::new(dir)).unwrap() {
            if let Err(e) = schemas.validate(&yaml_as_json(&f), idx) {
                panic!("{}: {e}", f.display());
            }
            n += 1;
        }
    }
    assert!(n > 30);
    // What the loader refuses as unknown keys, the schema refuses too.
    let bad = yaml_as_json(Path::new("tests/fixtures/invalid/unknown-keys.yaml"));
    assert!(schemas.validate(&bad, idx).is_err());
    let (schemas, idx) = validator(endpoint_harness::tools::schema::behaviour());
    for f in endpoint_harness::run::discover(Path::new("mocks")).unwrap() {
        if let Err(e) = schemas.validate(&yaml_as_json(&f), idx) {
            panic!("{}: {e}", f.display());
        }
    }
}

#[test]
fn a_real_report_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let out = crate::common::run_suite(
        &["faults", "--test-threads", "4"],
        &[
            ("HARNESS_SCENARIOS", "tests/selftest"),
            ("HARNESS_REPORTS", &tmp.path().to_string_lossy()),
        ],
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report.json"))
            .unwrap_or_else(|e| panic!("{e}: {}", out.all())),
    )
    .unwrap();
    let (schemas, idx) = validator(endpoint_harness::tools::schema::report());
    if let Err(e) = schemas.validate(&report, idx) {
        panic!("{e}");
    }
}
