//! Loader diagnostics, one fixture per error kind: each `tests/fixtures/invalid/*.yaml`
//! must fail to load with exactly the message pinned in its insta snapshot
//! (`tests/snapshots/loader__<fixture>.snap`). After a deliberate change, review
//! with `cargo insta review`, or accept all with `INSTA_UPDATE=always cargo test --test it -- loader::`.
//! The `unicode-*` fixtures hold CJK, emoji, combining marks and right-to-left
//! text before the error on the same line: the caret must sit under the token.

use std::path::Path;

use endpoint_harness::scenario::parse;

#[test]
fn every_invalid_fixture_fails_with_its_pinned_diagnostic() {
    let root = Path::new("tests/fixtures/invalid");
    let mut seen = 0;
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"),
        "invalid/*.yaml",
        |path| {
            seen += 1;
            let rel = path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(path);
            let got = match parse::load(rel, root) {
                Ok(_) => format!("loaded without error: {}", rel.display()),
                Err(d) => d.to_string(),
            };
            insta::assert_snapshot!(got);
        }
    );
    assert!(seen >= 18, "fixtures missing: only {seen}");
}

#[test]
fn every_error_names_file_line_and_column() {
    let root = Path::new("tests/fixtures/invalid");
    for e in std::fs::read_dir(root).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let d = parse::load(&p, root).unwrap_err();
            for diag in &d.0 {
                assert!(diag.line >= 1 && diag.col >= 1, "{}: {diag}", p.display());
                assert!(diag.to_string().contains(&format!(
                    "--> {}:{}:{}",
                    diag.file.display(),
                    diag.line,
                    diag.col
                )));
            }
        }
    }
}

#[test]
fn shipped_scenarios_all_load() {
    let root = Path::new("scenarios");
    for f in endpoint_harness::run::discover(root).unwrap() {
        if let Err(d) = parse::load(&f, root) {
            panic!("{}", d);
        }
    }
}

#[test]
fn anchors_aliases_and_merge_keys_resolve_in_a_scenario() {
    // One inline workflow node reused through an alias, a shared expectation
    // merged in, and a YAML 1.1 word that stays text (`off` is not false).
    let text = r#"
description: &d shared words
workflow:
  "1": &sampler
    class_type: KSampler
    inputs: {seed: 1, steps: 2}
  "2":
    class_type: SaveImage
    inputs: {images: ["1", 0], filename_prefix: *d}
set:
  "1.steps": 4
expect:
  images:
    <<: &size {width: 64, height: 32}
    count: 1
snapshot:
  compare: off
"#;
    let root = Path::new("scenarios");
    let s = parse::load_str(text, &root.join("anchors.yaml"), root).unwrap();
    assert_eq!(s.workflow["2"]["inputs"]["filename_prefix"], "shared words");
    assert_eq!(s.workflow["1"]["inputs"]["steps"], 4);
    assert_eq!(s.expect.images.width, Some(64));
    assert_eq!(s.expect.images.height, Some(32));
}
