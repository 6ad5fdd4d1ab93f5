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
