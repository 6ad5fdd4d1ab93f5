//! Rebuilds the crate when a shipped mock behaviour changes (`mocks/` is built
//! into the binary with include_dir, which cargo does not track by itself),
//! and gives `--version` the commit it was built from: git's HEAD in a
//! checkout, the `.cargo_vcs_info.json` cargo writes into a published
//! package, else `ENDPOINT_HARNESS_COMMIT`, else `unknown`.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=mocks");
    println!("cargo:rerun-if-env-changed=ENDPOINT_HARNESS_COMMIT");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let dir = Path::new(&dir);
    if dir.join(".git").exists() {
        // The commit changes when HEAD moves or the branch it names does.
        println!("cargo:rerun-if-changed=.git/HEAD");
        if let Ok(head) = std::fs::read_to_string(dir.join(".git/HEAD")) {
            if let Some(r) = head.trim().strip_prefix("ref: ") {
                println!("cargo:rerun-if-changed=.git/{r}");
            }
        }
    }
    let commit = std::env::var("ENDPOINT_HARNESS_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git_head(dir))
        .or_else(|| vcs_info(dir))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ENDPOINT_HARNESS_BUILD_COMMIT={commit}");
}

fn git_head(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(dir)
        .output()
        .ok()?;
    let sha = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !sha.is_empty()).then_some(sha)
}

/// `{"git": {"sha1": "..."}}`, as `cargo package` writes it.
fn vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let at = text.find("\"sha1\"")?;
    let rest = &text[at + 6..];
    let start = rest.find('"')? + 1;
    let sha: String = rest[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .take(12)
        .collect();
    (!sha.is_empty()).then_some(sha)
}
