//! `index.html` and `compare.html` used in a real browser: headless Chromium,
//! driven over the DevTools protocol with real mouse and keyboard events,
//! loads the page, filters it by verdict, tag and name, opens a snapshot's
//! diff at full size, and the same for the compare view. Screenshots are kept
//! under `target/ui-artifacts/` (CI uploads them). Chromium comes from
//! `.ci/run`; without it the tests skip locally and fail on CI.

use std::path::{Path, PathBuf};

use crate::common::cdp::{chromium, Browser, Page};
use crate::common::{copy_dir, run_suite};
use serde_json::Value;

fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-artifacts")
}

/// The shipped suite, run twice as is (baseline, and history for the trend
/// charts) and once with one seed changed (candidate); then `compare`.
fn runs(tmp: &Path) -> (PathBuf, PathBuf) {
    let (a, b) = (tmp.join("a"), tmp.join("b"));
    copy_dir(Path::new("scenarios"), &a);
    copy_dir(Path::new("scenarios"), &b);
    // A copy of the references: the changed seed fails its snapshot, and the
    // candidate it writes beside the reference must not land in the repository
    // (where `snapshots pending` in another test would find it).
    let snaps = tmp.join("snapshots");
    copy_dir(Path::new("snapshots"), &snaps);
    let f = b.join("sdxl/txt2img-basic.yaml");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("\"3.seed\": 42", "\"3.seed\": 43");
    std::fs::write(&f, text).unwrap();
    let (base, cand) = (tmp.join("reports"), tmp.join("reports-candidate"));
    for (scen, reports, times) in [(&a, &base, 1), (&b, &cand, 2)] {
        for _ in 0..times {
            let out = run_suite(
                &[],
                &[
                    ("HARNESS_SCENARIOS", &scen.display().to_string()),
                    ("HARNESS_SNAPSHOT_DIR", &snaps.display().to_string()),
                    ("HARNESS_REPORTS", &reports.display().to_string()),
                    ("HARNESS_PROGRESS", "off"),
                ],
            );
            assert!(reports.join("index.html").is_file(), "{}", out.all());
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .arg("compare")
        .args([&base, &cand])
        .arg("--out")
        .arg(&cand)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    (base, cand)
}

/// Names of the cards the filters leave visible.
async fn visible(page: &mut Page) -> Vec<String> {
    let v = page
        .eval("[...document.querySelectorAll('[data-item]')].filter(e => !e.hidden && e.offsetParent !== null).map(e => e.dataset.name)")
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
#[ignore = "needs Chromium, which .ci/run installs: cargo test --test it -- --ignored"]
fn the_report_filters_searches_and_opens_a_diff_in_chromium() {
    let Some(binary) = chromium() else {
        panic!(
            "no Chromium on this machine: install it (apt-get install chromium), as .ci/run does"
        );
    };
    let tmp = tempfile::tempdir().unwrap();
    let (_, cand) = runs(tmp.path());
    let report: Value =
        serde_json::from_slice(&std::fs::read(cand.join("report.json")).unwrap()).unwrap();
    let scenarios = report["scenarios"].as_array().unwrap();
    let browser = Browser::start(&binary, 1280, 1000);
    block_on(async {
        let mut page = browser.page().await;
        page.goto(&format!("file://{}", cand.join("index.html").display()))
            .await;
        // One script, ours; every scenario a card; failures first.
        assert_eq!(page.eval("document.scripts.length").await, 1);
        assert_eq!(visible(&mut page).await.len(), scenarios.len());
        assert_eq!(
            page.eval("document.querySelector('[data-item]').dataset.name")
                .await,
            "sdxl/txt2img-basic"
        );
        assert_eq!(
            page.eval("document.querySelector('[data-item]').open")
                .await,
            true,
            "a failure is open"
        );

        // The verdict pill: only the failed scenario.
        page.click(".pill[data-verdict=failed]").await;
        assert_eq!(visible(&mut page).await, ["sdxl/txt2img-basic"]);
        assert_eq!(
            page.eval("document.getElementById('shown').textContent")
                .await,
            "1"
        );
        assert!(page
            .eval("location.hash")
            .await
            .as_str()
            .unwrap()
            .contains("verdict=failed"));

        // Back to all; search by name, typed.
        page.click(".pill[data-verdict=all]").await;
        page.type_into("#q", "img2img").await;
        let want: Vec<String> = scenarios
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .filter(|n| n.contains("img2img"))
            .collect();
        let mut got = visible(&mut page).await;
        got.sort();
        assert_eq!(got, want);
        assert!(!want.is_empty());

        // Clear the search; filter by tag with the keyboard on the select.
        page.eval("(() => { const q = document.getElementById('q'); q.value = ''; q.dispatchEvent(new Event('input')); })()").await;
        page.click("#tag").await;
        let tags: Vec<String> = page
            .eval("[...document.querySelectorAll('#tag option')].map(o => o.value)")
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        let tag = "video";
        let at = tags.iter().position(|t| t == tag).expect("a video tag");
        page.eval(&format!("(() => {{ const s = document.getElementById('tag'); s.selectedIndex = {at}; s.dispatchEvent(new Event('change')); }})()")).await;
        let tagged = scenarios
            .iter()
            .filter(|s| s["tags"].as_array().unwrap().iter().any(|t| t == tag))
            .count();
        assert_eq!(visible(&mut page).await.len(), tagged);
        page.screenshot(&artifacts().join("index-filtered.png"))
            .await;

        // A link with the filters in it opens filtered.
        let url = page.eval("location.href").await;
        page.goto("about:blank").await;
        page.goto(url.as_str().unwrap()).await;
        assert_eq!(visible(&mut page).await.len(), tagged);
        page.goto(&format!("file://{}", cand.join("index.html").display()))
            .await;

        // The snapshot mismatch: side by side, then the diff at full size, then the slider.
        let snap = "[data-name='sdxl/txt2img-basic'] .snap";
        assert_eq!(
            page.eval(&format!("document.querySelector(\"{snap}\").dataset.mode"))
                .await,
            "side"
        );
        page.click(&format!("{snap} button[data-mode=diff]")).await;
        assert_eq!(
            page.eval(&format!("document.querySelector(\"{snap}\").dataset.mode"))
                .await,
            "diff"
        );
        let diff = page
            .eval(&format!("(() => {{ const i = document.querySelector(\"{snap} .view.diff img\"); i.scrollIntoView(); return [i.naturalWidth, i.getBoundingClientRect().width, i.complete]; }})()"))
            .await;
        assert_eq!(diff[0], 1024, "the diff is the full-size file: {diff}");
        assert!(diff[1].as_f64().unwrap() > 500.0, "and shown large: {diff}");
        page.screenshot(&artifacts().join("index-diff.png")).await;
        page.click(&format!("{snap} button[data-mode=slider]"))
            .await;
        page.click(&format!("{snap} input[type=range]")).await;
        for _ in 0..10 {
            page.call("Input.dispatchKeyEvent", serde_json::json!({"type": "keyDown", "key": "ArrowLeft", "code": "ArrowLeft", "windowsVirtualKeyCode": 37})).await;
            page.call("Input.dispatchKeyEvent", serde_json::json!({"type": "keyUp", "key": "ArrowLeft", "code": "ArrowLeft", "windowsVirtualKeyCode": 37})).await;
        }
        let pos = page
            .eval(&format!(
                "document.querySelector(\"{snap}\").style.getPropertyValue('--pos')"
            ))
            .await;
        assert_eq!(pos, "40%", "the keyboard moved the slider");
        page.screenshot(&artifacts().join("index-slider.png")).await;
    });
}

#[test]
#[ignore = "needs Chromium, which .ci/run installs: cargo test --test it -- --ignored"]
fn the_compare_view_puts_the_regression_first_in_chromium() {
    let Some(binary) = chromium() else {
        panic!(
            "no Chromium on this machine: install it (apt-get install chromium), as .ci/run does"
        );
    };
    let tmp = tempfile::tempdir().unwrap();
    let (_, cand) = runs(tmp.path());
    let browser = Browser::start(&binary, 1280, 1000);
    block_on(async {
        let mut page = browser.page().await;
        page.goto(&format!("file://{}", cand.join("compare.html").display()))
            .await;
        let first = page.eval("(() => { const e = document.querySelector('[data-item]'); return [e.dataset.name, e.dataset.verdict, e.open]; })()").await;
        assert_eq!(
            first,
            serde_json::json!(["sdxl/txt2img-basic", "regressed", true])
        );
        page.click(".pill[data-verdict=regressed]").await;
        assert_eq!(visible(&mut page).await, ["sdxl/txt2img-basic"]);
        page.click("[data-item] .snap button[data-mode=slider]")
            .await;
        let shown = page
            .eval("(() => { const v = document.querySelector('[data-item] .snap .view.slider'); return v.getBoundingClientRect().height > 500; })()")
            .await;
        assert_eq!(
            shown, true,
            "baseline and candidate at full size under the slider"
        );
        page.screenshot(&artifacts().join("compare.png")).await;
    });
}
