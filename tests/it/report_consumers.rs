//! The reports of a real run, read by real consumers: `junit.xml` by the
//! junitparser Python package (counts must match report.json), and `index.html`
//! by headless Chromium (it renders the cards and images; the screenshot is not
//! blank; `tests/report_browser.rs` uses the page). Both tools come from `.ci/run`; without them the tests skip locally
//! and fail on CI.

use crate::common::cdp::chromium;

use std::path::{Path, PathBuf};
use std::process::Command;

fn run_selftest(dir: &Path) -> serde_json::Value {
    let out = crate::common::run_suite(
        &["--test-threads", "8"],
        &[
            ("HARNESS_SCENARIOS", "tests/selftest"),
            ("HARNESS_REPORTS", &dir.to_string_lossy()),
        ],
    );
    serde_json::from_str(
        &std::fs::read_to_string(dir.join("report.json"))
            .unwrap_or_else(|e| panic!("{e}: {}", out.all())),
    )
    .unwrap()
}

fn python_with(module: &str) -> Option<PathBuf> {
    let py = std::env::var_os("HARNESS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".venv/bin/python"));
    Command::new(&py)
        .args(["-c", &format!("import {module}")])
        .status()
        .ok()
        .filter(|s| s.success())
        .map(|_| py)
}

#[test]
#[ignore = "needs Python with junitparser, which .ci/run installs (HARNESS_PYTHON): cargo test --test it -- --ignored"]
fn junit_xml_is_read_by_junitparser_with_the_right_counts() {
    let Some(py) = python_with("junitparser") else {
        panic!("no Python with junitparser: pip install junitparser, or set HARNESS_PYTHON (.ci/run does both)");
    };
    let tmp = tempfile::tempdir().unwrap();
    let report = run_selftest(tmp.path());
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for suite in xml:
    for case in suite:
        counts["tests"] += 1
        for r in case.result:
            if isinstance(r, Failure): counts["failures"] += 1
            elif isinstance(r, Error): counts["errors"] += 1
            elif isinstance(r, Skipped): counts["skipped"] += 1
print(counts["tests"], counts["failures"], counts["errors"], counts["skipped"])
"#;
    let out = crate::common::succeed(Command::new(py).args([
        "-c",
        script,
        &tmp.path().join("junit.xml").to_string_lossy(),
    ]));
    let got: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let c = &report["counts"];
    let n = |k: &str| c[k].as_u64().unwrap();
    assert_eq!(
        got,
        vec![
            n("total"),
            n("failed") + n("over_budget"),
            n("error") + n("timed_out"),
            n("ignored")
        ],
        "{c}"
    );
    assert!(
        got[1] > 0 && got[2] > 0,
        "the fault matrix has failures and errors"
    );
}

#[test]
#[ignore = "needs Chromium, which .ci/run installs: cargo test --test it -- --ignored"]
fn index_html_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        panic!(
            "no Chromium on this machine: install it (apt-get install chromium), as .ci/run does"
        );
    };
    let tmp = tempfile::tempdir().unwrap();
    run_selftest(&tmp.path().join("reports"));
    let page = format!("file://{}", tmp.path().join("reports/index.html").display());
    let profile = tmp.path().join("profile");
    let shot = tmp.path().join("shot.png");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];
    let dom = Command::new(&browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &page])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.matches("class=\"scenario\"").count() > 30,
        "a card per scenario is rendered: {}",
        &dom[..dom.len().min(500)]
    );
    assert!(dom.matches("<img ").count() > 10, "thumbnails are rendered");
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "one script, the page's own: none comes from the endpoint"
    );
    let status = Command::new(&browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--window-size=1280,1600", "--hide-scrollbars"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let img = image::open(&shot).unwrap();
    assert_eq!((img.width(), img.height()), (1280, 1600));
    let luma = img.to_luma8();
    let dark = luma.pixels().filter(|p| p.0[0] < 128).count();
    assert!(
        dark > 5_000,
        "the screenshot has content ({dark} dark pixels)"
    );
}

#[test]
#[ignore = "needs Chromium, which .ci/run installs: cargo test --test it -- --ignored"]
fn videos_play_or_show_their_frames_in_headless_chromium() {
    let Some(browser) = chromium() else {
        panic!(
            "no Chromium on this machine: install it (apt-get install chromium), as .ci/run does"
        );
    };
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().join("reports");
    let out = crate::common::run_suite(
        &["video/"],
        &[
            ("HARNESS_REPORTS", reports.to_str().unwrap()),
            ("HARNESS_PROGRESS", "off"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let page = format!("file://{}", reports.join("index.html").display());
    // Virtual time lets the players load (or fail) before the DOM is dumped.
    let dom = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=8000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("profile").display()
        ))
        .args(["--dump-dom", &page])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let players: Vec<&str> = dom.split("<figure class=\"video\">").skip(1).collect();
    let clips = std::fs::read_dir("scenarios/video")
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert_eq!(players.len(), clips, "one figure per clip");
    for p in &players {
        // Each clip either plays (video, or an animated image) or hides itself;
        // frames sampled in pure Rust are always there for animations.
        assert!(
            p.contains("data-state=\"playable\"") || p.contains("data-state=\"unplayable\""),
            "the player settled: {}",
            &p[..p.len().min(300)]
        );
        if p.contains("<img src=\"images/") {
            assert!(
                p.contains("alt=\"frame 0\""),
                "an animation shows its frames"
            );
        }
    }
    let playing = players
        .iter()
        .filter(|p| p.contains("data-state=\"playable\""))
        .count();
    eprintln!(
        "{playing} of {} clips play in {}",
        players.len(),
        browser.display()
    );
}
