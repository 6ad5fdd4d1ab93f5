//! The drift corpus of real diffusion outputs (tests/fixtures/drift/, see
//! harness/snapshot/corpus.rs): with the default bands and checks, no benign
//! pair raises an alarm (fail or review) and at least 95% of the regressions
//! fail, steps ±1 and cfg ±0.5 among them. Prints the confusion matrix
//! (`cargo test --test it -- drift_corpus:: --nocapture`).

use std::path::Path;

use endpoint_harness::scenario::SnapshotSpec;
use endpoint_harness::snapshot::corpus;

#[test]
fn default_bands_separate_benign_drift_from_regressions() {
    let dir = Path::new("tests/fixtures/drift");
    let c = corpus::load(dir).unwrap();
    assert!(
        c.pairs.len() >= 30,
        "the corpus holds {} pairs",
        c.pairs.len()
    );
    let spec = SnapshotSpec::tolerant();
    let judged = corpus::judge_all(dir, &c, &spec).unwrap();
    let report = corpus::report(&judged, &spec);
    println!("{report}");
    let m = corpus::Matrix::of(&judged);
    let alarms: Vec<&str> = judged
        .iter()
        .filter(|j| j.pair.class == "benign" && j.outcome() != 0)
        .map(|j| j.pair.id.as_str())
        .collect();
    assert!(alarms.is_empty(), "false alarms: {alarms:?}\n{report}");
    assert!(m.caught() >= 0.95, "caught {:.3}\n{report}", m.caught());
    for kind in ["steps-plus1", "steps-minus1", "cfg-plus0.5", "cfg-minus0.5"] {
        let missed: Vec<&str> = judged
            .iter()
            .filter(|j| j.pair.id.ends_with(kind) && j.outcome() != 2)
            .map(|j| j.pair.id.as_str())
            .collect();
        assert!(missed.is_empty(), "{kind} not caught: {missed:?}\n{report}");
        assert!(
            judged.iter().any(|j| j.pair.id.ends_with(kind)),
            "no {kind} pair in the corpus"
        );
    }
    // The docs show these figures: they must be what the code computes now.
    let page = std::fs::read_to_string("docs/src/features/drift-corpus.md").unwrap();
    let shown = page
        .split("<!-- corpus:begin -->\n")
        .nth(1)
        .and_then(|rest| rest.split("\n<!-- corpus:end -->").next())
        .expect("the corpus markers in docs/src/features/drift-corpus.md");
    assert_eq!(
        shown.trim(),
        report.trim(),
        "docs/src/features/drift-corpus.md is stale: paste the table this test prints"
    );
}
