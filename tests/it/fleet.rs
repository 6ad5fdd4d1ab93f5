//! A fleet: an endpoint whose worker changes GPU. A reference accepted on an
//! RTX 4090; then the workers list and the worker's log name an H100. The
//! same picture drifted by the H100 is for review (not red), another seed or
//! a black frame fails, and after the H100's image is accepted (in the review
//! page, headless Chromium and a key press, or `snapshots accept`) the H100 class verifies strictly
//! while the 4090's still passes. The review page's test needs Chromium
//! (`.ci/run` installs it and runs the ignored tests).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::cdp::{chromium, Browser};
use crate::common::run_suite;

struct Fleet {
    _tmp: tempfile::TempDir,
    scen: PathBuf,
    mocks: PathBuf,
    snaps: PathBuf,
    reports: PathBuf,
}

impl Fleet {
    fn new() -> Fleet {
        let tmp = tempfile::tempdir().unwrap();
        let (scen, mocks) = (tmp.path().join("scenarios"), tmp.path().join("mocks"));
        std::fs::create_dir_all(&scen).unwrap();
        std::fs::create_dir_all(&mocks).unwrap();
        std::fs::copy(
            "scenarios/sdxl/workflows/sdxl_txt2img.json",
            scen.join("sdxl.json"),
        )
        .unwrap();
        for (name, body) in [
            ("rtx4090", "worker: {gpu: NVIDIA GeForce RTX 4090}\n"),
            (
                "h100-drift",
                "worker: {gpu: NVIDIA H100 80GB HBM3}\nimage: gpu_drift\n",
            ),
            (
                "h100-black",
                "worker: {gpu: NVIDIA H100 80GB HBM3}\nimage: black\n",
            ),
        ] {
            std::fs::write(
                mocks.join(format!("{name}.yaml")),
                format!("description: {name}\n{body}"),
            )
            .unwrap();
        }
        let snaps = tmp.path().join("snapshots");
        let reports = tmp.path().join("reports");
        Fleet {
            scen,
            mocks,
            snaps,
            reports,
            _tmp: tmp,
        }
    }

    /// Runs the one scenario against behaviour `mock` with `seed`; returns the exit code and report.
    fn run(&self, mock: &str, seed: u64, extra: &[(&str, &str)]) -> (i32, Value, String) {
        // The default bands are strict; a blank check off, so the black frame is judged by the snapshot alone.
        let yaml = format!(
            "workflow: sdxl.json\nmock: {mock}\nset: {{\"3.seed\": {seed}}}\nexpect:\n  images: {{count: 1, not_blank: false}}\nsnapshot: {{}}\n"
        );
        std::fs::write(self.scen.join("fleet.yaml"), yaml).unwrap();
        let mut env = vec![
            ("HARNESS_SCENARIOS", self.scen.to_str().unwrap()),
            ("HARNESS_REPORTS", self.reports.to_str().unwrap()),
            ("HARNESS_MOCKS", self.mocks.to_str().unwrap()),
            ("HARNESS_SNAPSHOT_DIR", self.snaps.to_str().unwrap()),
            ("HARNESS_PROGRESS", "off"),
        ];
        env.extend_from_slice(extra);
        let out = run_suite(&[], &env);
        let report: Value =
            serde_json::from_slice(&std::fs::read(self.reports.join("report.json")).unwrap())
                .unwrap();
        (out.code, report, out.all())
    }
}

fn snapshot(report: &Value) -> &Value {
    &report["scenarios"][0]["snapshots"][0]
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Starts `endpoint-harness review` on a free port; returns the child and its URL.
fn review(snaps: &Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .args(["review", "--port", "0", "--snapshot-dir"])
        .arg(snaps)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .expect(&line)
        .to_string();
    (child, url)
}

#[test]
fn a_worker_on_another_gpu_is_judged_across_classes_then_verifies_strictly() {
    let f = Fleet::new();
    // Accepted on the 4090.
    let (code, report, out) = f.run("rtx4090", 42, &[("HARNESS_SNAPSHOTS", "update")]);
    assert_eq!(code, 0, "{out}");
    let fp = &report["scenarios"][0]["runs"][0]["fingerprint"];
    assert_eq!(fp["gpu"], "NVIDIA GeForce RTX 4090", "{fp}");
    assert_eq!(
        fp["torch"], "2.11.0+cu130",
        "read from the worker's start-up lines: {fp}"
    );
    let snap = std::fs::read_to_string(f.snaps.join("fleet/0.snap")).unwrap();
    assert!(
        snap.contains("class: gpu=NVIDIA GeForce RTX 4090; comfyui=0.3.64; torch=2.11.0+cu130"),
        "{snap}"
    );

    // The endpoint lands on an H100: the drifted picture is for review, not red.
    let (code, report, out) = f.run("h100-drift", 42, &[]);
    assert_eq!(code, 0, "drift alone is never red: {out}");
    assert_eq!(snapshot(&report)["outcome"], "review", "{out}");
    assert!(snapshot(&report)["across"]
        .as_str()
        .unwrap()
        .contains("RTX 4090"));
    assert!(
        out.contains("no reference for class gpu=NVIDIA H100 80GB HBM3"),
        "{out}"
    );
    // The HTML says the figures the verdict used, the job's stack and the class.
    let html = std::fs::read_to_string(f.reports.join("index.html")).unwrap();
    assert!(
        html.contains("judged against class gpu=NVIDIA GeForce RTX 4090"),
        "the class in the snapshot caption"
    );
    assert!(
        html.contains("8x8 cells") && html.contains("psnr"),
        "the cross-class figures"
    );
    assert!(
        !html.contains("bits, similarity"),
        "no gradient-hash heading"
    );
    assert!(
        html.contains("on GPU NVIDIA H100 80GB HBM3"),
        "the job line names the stack"
    );
    // Another seed, and a black frame, fail on the new class.
    let (code, report, out) = f.run("h100-drift", 43, &[("CI", "true")]);
    assert_eq!(
        (code, snapshot(&report)["outcome"].as_str()),
        (101, Some("mismatched")),
        "{out}"
    );
    assert!(out.contains("across classes"), "{out}");
    let (code, _, out) = f.run("h100-black", 42, &[("CI", "true")]);
    assert_eq!(code, 101, "{out}");
    // The review run left the H100's candidate in its own class's folder.
    let (code, _, out) = f.run("h100-drift", 42, &[]);
    assert_eq!(code, 0, "{out}");
    let class_dir = f
        .snaps
        .join("fleet/classes/nvidia-h100-80gb-hbm3_0.3.64_2.11.0-cu130");
    assert!(class_dir.join("0.png.new").is_file());

    // Settle it as a terminal does (the review page does the same, below).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .args(["snapshots", "accept", "--snapshot-dir"])
        .arg(&f.snaps)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(class_dir.join("0.png").is_file() && !class_dir.join("0.png.new").exists());
    assert_eq!(
        std::fs::read_to_string(f.snaps.join("fleet/0.snap")).unwrap(),
        snap,
        "the 4090's reference is untouched"
    );

    // Now the H100 verifies strictly, and the 4090 still passes on its own.
    let (code, report, out) = f.run("h100-drift", 42, &[("CI", "true")]);
    assert_eq!(
        (code, snapshot(&report)["outcome"].as_str()),
        (0, Some("matched")),
        "{out}"
    );
    assert!(snapshot(&report)["across"].is_null());
    let (code, report, out) = f.run("rtx4090", 42, &[("CI", "true")]);
    assert_eq!(
        (code, snapshot(&report)["outcome"].as_str()),
        (0, Some("matched")),
        "{out}"
    );
    assert!(snapshot(&report)["across"].is_null());
}

/// The review page settles a new class in one step: the H100's candidate,
/// beside the 4090's reference, accepted with a key in headless Chromium.
#[test]
#[ignore = "needs Chromium, which .ci/run installs: cargo test --test it -- --ignored"]
fn the_review_page_accepts_a_new_class_with_a_key() {
    let f = Fleet::new();
    assert_eq!(
        f.run("rtx4090", 42, &[("HARNESS_SNAPSHOTS", "update")]).0,
        0
    );
    assert_eq!(f.run("h100-drift", 42, &[]).0, 0);
    let class_dir = f
        .snaps
        .join("fleet/classes/nvidia-h100-80gb-hbm3_0.3.64_2.11.0-cu130");
    assert!(class_dir.join("0.png.new").is_file());
    let Some(binary) = chromium() else {
        panic!(
            "no Chromium on this machine: install it (apt-get install chromium), as .ci/run does"
        );
    };
    let (mut child, url) = review(&f.snaps);
    let browser = Browser::start(&binary, 1280, 1000);
    block_on(async {
        let mut page = browser.page().await;
        page.goto(&url).await;
        assert_eq!(
            page.eval("document.querySelectorAll('.card').length").await,
            1
        );
        let text = page.eval("document.querySelector('.card').innerText").await;
        let text = text.as_str().unwrap();
        assert!(
            text.contains("gpu=NVIDIA H100 80GB HBM3"),
            "the class it would become: {text}"
        );
        assert!(
            text.contains("NVIDIA GeForce RTX 4090"),
            "the reference's fingerprint: {text}"
        );
        assert!(text.contains("psnr"), "{text}");
        assert_eq!(
            page.eval("document.querySelectorAll('.card img').length")
                .await,
            3,
            "expected, actual, diff"
        );
        let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-artifacts");
        page.screenshot(&shots.join("review.png")).await;
        // A request without the page's token is refused.
        let refused = page
            .eval("fetch('/accept/0', {method: 'POST'}).then(r => r.status)")
            .await;
        assert_eq!(refused, 403);
        page.call(
            "Input.dispatchKeyEvent",
            serde_json::json!({"type": "keyDown", "key": "a", "text": "a"}),
        )
        .await;
        for _ in 0..100 {
            if page.eval("document.querySelectorAll('.card').length").await == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            page.eval("document.getElementById('done').hidden").await,
            false,
            "nothing pending"
        );
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(class_dir.join("0.png").is_file() && !class_dir.join("0.png.new").exists());
    let accepted = std::fs::read_to_string(class_dir.join("0.snap")).unwrap();
    assert!(
        accepted.contains("fingerprint.gpu: NVIDIA H100 80GB HBM3")
            && accepted.contains("accepted: 20"),
        "{accepted}"
    );

    let (code, report, out) = f.run("h100-drift", 42, &[("CI", "true")]);
    assert_eq!(
        (code, snapshot(&report)["outcome"].as_str()),
        (0, Some("matched")),
        "{out}"
    );
}
