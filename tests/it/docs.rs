//! The front door and the book say what the code does: README stays short
//! and its example scenario loads, the generated reference pages are what
//! `endpoint-harness docs` writes now, every page is in the book's summary, and
//! every relative link of README and the book leads to a file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn markdown_files() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("README.md")];
    let mut stack = vec![PathBuf::from("docs/src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn the_generated_reference_pages_are_up_to_date() {
    let out = Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["docs", "--check"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_reference_names_every_variable_and_command() {
    let env = std::fs::read_to_string("docs/src/reference/environment.md").unwrap();
    for v in endpoint_harness::settings::vars::VARS {
        assert!(env.contains(&format!("`{}`", v.name)), "{}", v.name);
    }
    let cli = std::fs::read_to_string("docs/src/reference/cli.md").unwrap();
    for sub in [
        "run",
        "check",
        "snapshots",
        "review",
        "provision cleanup",
        "report merge",
        "docs",
    ] {
        assert!(cli.contains(&format!("`endpoint-harness {sub}`")), "{sub}");
    }
    let scenario = std::fs::read_to_string("docs/src/reference/scenario.md").unwrap();
    assert!(scenario.contains("| `workflow` |") && scenario.contains("| `allow_unchecked` |"));
}

#[test]
fn the_readme_is_a_short_front_door_with_the_two_commands_and_a_real_scenario() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let lines = readme.lines().count();
    assert!(
        lines < 200,
        "README.md is {lines} lines: the rest belongs in docs/"
    );
    assert!(
        readme.contains("\ncargo test --test scenarios\n"),
        "the main job"
    );
    assert!(readme.contains("\ncargo test\n"), "the whole test suite");
    let yaml = readme
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("an example scenario");
    let root = Path::new("scenarios/sd15");
    let loaded =
        endpoint_harness::scenario::parse::load_str(yaml, &root.join("readme-example.yaml"), root);
    assert!(
        loaded.is_ok(),
        "README's scenario does not load: {}",
        loaded.err().unwrap()
    );
}

#[test]
fn every_page_is_in_the_summary_and_every_link_leads_somewhere() {
    let summary = std::fs::read_to_string("docs/src/SUMMARY.md").unwrap();
    let link = regex::Regex::new(r"\]\(([^)#\s]+)(#[^)]*)?\)").unwrap();
    let mut problems = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        if let Ok(rel) = file.strip_prefix("docs/src") {
            let rel = rel.display().to_string();
            if rel != "SUMMARY.md" && !summary.contains(&format!("]({rel})")) {
                problems.push(format!("{rel} is not in SUMMARY.md"));
            }
        }
        for m in link.captures_iter(&text) {
            let target = &m[1];
            if target.starts_with("http") || target.starts_with("mailto:") {
                continue;
            }
            let path = file.parent().unwrap().join(target);
            if !path.exists() {
                problems.push(format!(
                    "{}: link to {target} leads nowhere",
                    file.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every repository path the docs and README name exists, every relative
/// link resolves, and the counts they state are what the repository holds:
/// docs that disagree with the code are a defect a newcomer trips on.
#[test]
fn every_path_link_and_count_in_the_docs_is_true() {
    use std::path::Path;
    let tops = [
        "harness/",
        "tests/",
        "benches/",
        "scenarios/",
        "mocks/",
        "docs/",
        "schemas/",
        "snapshots/",
        "crates/",
        "fuzz/",
        "src/",
        ".ci/",
    ];
    // Files `init` writes into a user's repository, named by the guide to it.
    let theirs = [
        "scenarios/starter/composite.yaml",
        "scenarios/starter/workflows/composite_api.json",
    ];
    let mut pages: Vec<std::path::PathBuf> = vec!["README.md".into()];
    let mut stack = vec![std::path::PathBuf::from("docs/src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                // The reference pages are generated from the code (tested above).
                if !p.ends_with("reference") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "md") {
                pages.push(p);
            }
        }
    }
    let code = regex::Regex::new(r"`([^`\s]+)`").unwrap();
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let mut wrong = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for (n, line) in text.lines().enumerate() {
            for c in code.captures_iter(line) {
                let p = &c[1];
                if !tops.iter().any(|t| p.starts_with(t))
                    || p.contains(['<', '>', '*', '{', '}', '$', '…'])
                    || theirs.contains(&p)
                {
                    continue;
                }
                let path = p
                    .split([':', '#'])
                    .next()
                    .unwrap()
                    .trim_end_matches(['.', ',', ';', ')']);
                if !Path::new(path).exists() {
                    wrong.push(format!(
                        "{}:{}: `{p}` does not exist",
                        page.display(),
                        n + 1
                    ));
                }
            }
            for c in link.captures_iter(line) {
                let l = &c[1];
                if l.starts_with("http") || l.starts_with('#') || l.starts_with("mailto") {
                    continue;
                }
                let target = page.parent().unwrap().join(l.split('#').next().unwrap());
                if !target.exists() {
                    wrong.push(format!(
                        "{}:{}: link {l} does not resolve",
                        page.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The counts the reliability page states.
    let page = std::fs::read_to_string("docs/src/features/reliability.md").unwrap();
    let fixtures = std::fs::read_dir("tests/fixtures/invalid")
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert!(
        page.contains(&format!("| {fixtures} fixtures,")),
        "reliability.md must say {fixtures} fixtures"
    );
    let verdicts = std::fs::read_to_string("tests/it/snapshots/it__selftest__verdicts.snap")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("== "))
        .count();
    assert!(
        page.contains(&format!("| {verdicts} verdicts and messages pinned")),
        "reliability.md must say {verdicts} verdicts"
    );
    let pairs = endpoint_harness::snapshot::corpus::load(Path::new("tests/fixtures/drift"))
        .unwrap()
        .pairs
        .len();
    let stated = regex::Regex::new(r"(\d+) pairs").unwrap();
    for doc in [
        "README.md",
        "docs/src/guide/snapshots.md",
        "docs/src/features/drift-corpus.md",
    ] {
        let text = std::fs::read_to_string(doc).unwrap();
        for m in stated.captures_iter(&text) {
            let n: usize = m[1].parse().unwrap();
            assert!(n <= pairs, "{doc} says {n} pairs; the corpus holds {pairs}");
        }
    }
}
