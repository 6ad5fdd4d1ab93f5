//! JSON Schemas for what users write (scenario files, mock behaviours) and what
//! CI reads (`report.json`), generated from the structs serde uses, so a schema
//! cannot drift from the loader. The generated files are checked in under
//! `schemas/` and a test fails when they are stale.

use serde_json::Value;

/// The schema of a scenario file.
pub fn scenario() -> Value {
    serde_json::to_value(schemars::schema_for!(crate::scenario::raw::RawScenario))
        .expect("schemas serialise")
}

/// The schema of a mock behaviour file (`mocks/*.yaml`).
pub fn behaviour() -> Value {
    serde_json::to_value(schemars::schema_for!(crate::mock::behaviour::Behaviour))
        .expect("schemas serialise")
}

/// The schema of `reports/report.json`.
pub fn report() -> Value {
    serde_json::to_value(schemars::schema_for!(crate::model::RunReport)).expect("schemas serialise")
}
