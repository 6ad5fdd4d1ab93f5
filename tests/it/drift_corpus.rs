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

/// The cross-class tier (a class with no reference yet, judged against the
/// nearest accepted class): no modelled GPU drift down to about 25 dB fails,
/// and at least 95% of the composition changes fail even as another GPU
/// makes them. Steps, cfg, sampler and the like are shown, not counted: only
/// a reference of the job's own class can see them.
#[test]
fn the_cross_class_tier_fails_compositions_and_never_drift() {
    let dir = Path::new("tests/fixtures/drift");
    let c = corpus::load(dir).unwrap();
    let spec = SnapshotSpec::tolerant();
    let judged = corpus::judge_across_all(dir, &c, &spec).unwrap();
    let report = corpus::across_report(&judged);
    println!("{report}");
    let drift: Vec<&corpus::Across> = judged.iter().filter(|j| j.kind == "drift").collect();
    assert!(drift.len() >= 24, "{report}");
    let low = drift
        .iter()
        .filter_map(|j| j.metrics.as_ref()?.psnr)
        .fold(f64::INFINITY, f64::min);
    assert!(
        low <= 26.0,
        "the drift model reaches about 25 dB: {low}\n{report}"
    );
    let red: Vec<&str> = drift
        .iter()
        .filter(|j| j.outcome == 2)
        .map(|j| j.id.as_str())
        .collect();
    assert!(red.is_empty(), "drift failed: {red:?}\n{report}");
    let comp: Vec<&corpus::Across> = judged.iter().filter(|j| j.kind == "composition").collect();
    assert!(comp.len() >= 30, "{report}");
    let caught = comp.iter().filter(|j| j.outcome == 2).count() as f64 / comp.len() as f64;
    assert!(
        caught >= 0.95,
        "composition changes failed: {:.3}\n{report}",
        caught
    );
    let page = std::fs::read_to_string("docs/src/features/drift-corpus.md").unwrap();
    let shown = page
        .split("<!-- across:begin -->\n")
        .nth(1)
        .and_then(|rest| rest.split("\n<!-- across:end -->").next())
        .expect("the across markers in docs/src/features/drift-corpus.md");
    assert_eq!(
        shown.trim(),
        report.trim(),
        "docs/src/features/drift-corpus.md is stale: paste the table this test prints"
    );
}

/// Every measured corpus that `tests/comfyui/diffusion/gpu_corpus.sh` made
/// (`tests/fixtures/drift-gpu*/`: the same graphs on several devices, dtypes
/// and attention backends, and composition changes made there), judged by
/// both tiers: within a class, `within` pairs pass and every regression
/// fails; across classes, no benign pair fails and at least 95% of the
/// composition changes do. The CPU proof of the script is always there; a
/// GPU run's folder is picked up as soon as it is added.
#[test]
fn measured_corpora_are_judged_by_both_tiers() {
    let mut dirs: Vec<_> = std::fs::read_dir("tests/fixtures")
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("drift-gpu"))
                && p.join("corpus.json").is_file()
        })
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no tests/fixtures/drift-gpu*/corpus.json");
    let spec = SnapshotSpec::tolerant();
    for dir in dirs {
        let c = corpus::load(&dir).unwrap();
        let within: Vec<corpus::Judged> = corpus::judge_all(&dir, &c, &spec)
            .unwrap()
            .into_iter()
            .filter(|j| j.pair.tier.as_deref() == Some("within"))
            .collect();
        let within_report = corpus::report(&within, &spec);
        let across = corpus::judge_measured_across(&dir, &c, &spec).unwrap();
        let across_report = corpus::across_report(&across);
        println!(
            "{}: within a class\n\n{within_report}\n{}: across classes\n\n{across_report}",
            dir.display(),
            dir.display()
        );
        let wrong_within: Vec<&str> = within
            .iter()
            .filter(|j| (j.pair.class == "benign") != (j.outcome() == 0))
            .filter(|j| j.pair.class != "gray")
            .map(|j| j.pair.id.as_str())
            .collect();
        assert!(
            wrong_within.is_empty(),
            "{}: within a class, wrong: {wrong_within:?}",
            dir.display()
        );
        let red: Vec<&str> = across
            .iter()
            .filter(|j| j.kind == "drift" && j.outcome == 2)
            .map(|j| j.id.as_str())
            .collect();
        assert!(
            red.is_empty(),
            "{}: benign pairs failed across classes: {red:?}\n{across_report}",
            dir.display()
        );
        let comp: Vec<&corpus::Across> =
            across.iter().filter(|j| j.kind == "composition").collect();
        assert!(
            comp.len() >= 10,
            "{}: {} composition pairs",
            dir.display(),
            comp.len()
        );
        let caught = comp.iter().filter(|j| j.outcome == 2).count() as f64 / comp.len() as f64;
        assert!(
            caught >= 0.95,
            "{}: composition changes failed: {caught:.3}\n{across_report}",
            dir.display()
        );
    }
}
