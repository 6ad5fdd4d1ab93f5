//! Loader diagnostics, one fixture per error kind: each `tests/fixtures/invalid/*.yaml`
//! must fail to load with exactly the message pinned in its `.err` file.
//! `BLESS=1 cargo test --test loader` rewrites the `.err` files after a deliberate change.

use std::path::Path;

use endpoint_harness::scenario::load;

#[test]
fn every_invalid_fixture_fails_with_its_pinned_diagnostic() {
    let root = Path::new("tests/fixtures/invalid");
    let mut files: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "fixtures missing: {files:?}");
    let bless = std::env::var_os("BLESS").is_some();
    let mut mismatches = Vec::new();
    for f in &files {
        let got = match load::load(f, root) {
            Ok(_) => format!("loaded without error: {}", f.display()),
            Err(d) => d.to_string(),
        };
        let pinned = f.with_extension("err");
        if bless {
            std::fs::write(&pinned, format!("{got}\n")).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&pinned).unwrap_or_default();
        if want.trim_end() != got.trim_end() {
            mismatches.push(format!(
                "--- {} ---\nexpected:\n{want}\ngot:\n{got}\n",
                f.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn every_error_names_file_line_and_column() {
    let root = Path::new("tests/fixtures/invalid");
    for e in std::fs::read_dir(root).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let d = load::load(&p, root).unwrap_err();
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
    for f in endpoint_harness::runner::discover(root).unwrap() {
        if let Err(d) = load::load(&f, root) {
            panic!("{}", d);
        }
    }
}
