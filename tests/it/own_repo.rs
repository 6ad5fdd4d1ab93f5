//! Using endpoint-harness from a repository of one's own: `init` in an empty
//! folder then `run` is green against the embedded mock; the shipped mock
//! behaviours are built in and a folder's own override them; `run` takes
//! flags that mirror its variables, shards with `--partition`; every trial is
//! in every report, ignored ones with their reason; a dead endpoint stops the
//! run once.

use std::path::Path;
use std::process::Command;

use crate::common::{copy_dir, scrub_env, Output};

/// The binary in `dir`, with a clean environment plus `env`.
fn eh(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_endpoint-harness"));
    cmd.current_dir(dir).args(args);
    scrub_env(&mut cmd);
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

fn verdicts(r: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn init_then_run_is_green_in_an_empty_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let init = eh(
        dir,
        &[
            "init",
            "--install",
            "--git https://example.invalid/eh endpoint-harness",
        ],
        &[],
    );
    assert_eq!(init.code, 0, "{}", init.all());
    for f in [
        "scenarios/starter/composite.yaml",
        "scenarios/starter/workflows/composite_api.json",
        "schemas/scenario.schema.json",
        ".gitignore",
        ".github/workflows/endpoint-harness.yml",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing: {}", init.all());
    }
    // The CI workflow is YAML GitHub can read: three jobs, the live one sharded
    // and capped, installing what --install said.
    let wf: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(dir.join(".github/workflows/endpoint-harness.yml")).unwrap(),
    )
    .unwrap();
    let jobs = wf["jobs"].as_object().unwrap();
    let mut names: Vec<_> = jobs.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["live", "mock", "report"]);
    assert_eq!(
        wf["jobs"]["live"]["strategy"]["matrix"]["shard"],
        serde_json::json!([1, 2, 3])
    );
    assert!(wf["jobs"]["live"]["env"]["HARNESS_MAX_COST"]
        .as_str()
        .unwrap()
        .contains("1.00"));
    assert_eq!(
        wf["env"]["ENDPOINT_HARNESS_INSTALL"],
        "--git https://example.invalid/eh endpoint-harness"
    );
    let text = serde_json::to_string(&wf).unwrap();
    for step in [
        "--partition hash:${{ matrix.shard }}/3",
        "report merge reports",
        "trend --history",
        "endpoint-harness check",
    ] {
        assert!(text.contains(step), "no `{step}` in the workflow");
    }
    let check = eh(dir, &["check"], &[]);
    assert_eq!(check.code, 0, "{}", check.all());
    let run = eh(dir, &["run"], &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        verdicts(&report(&dir.join("reports"))),
        [("starter/composite".to_string(), "passed".to_string())]
    );
    // A second init writes nothing over the user's files.
    let again = eh(dir, &["init"], &[]);
    assert_eq!(again.code, 1, "{}", again.all());
    assert!(again.stderr.contains("already exist"), "{}", again.stderr);
}

#[test]
fn shipped_behaviours_are_built_in_and_a_folder_of_ones_own_overrides_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(
        Path::new("scenarios/model-free/workflows"),
        &dir.join("scenarios/workflows"),
    );
    // comfyui-fails: the last node raises; the scenario expects exactly that.
    std::fs::write(
        dir.join("scenarios/crash.yaml"),
        "workflow: workflows/composite.json\nmock: comfyui-fails\nexpect:\n  status: FAILED\n  error: out of memory\n",
    )
    .unwrap();
    let run = eh(dir, &["run"], &[]);
    assert_eq!(
        run.code,
        0,
        "built in, no mocks/ folder here: {}",
        run.all()
    );
    // The folder's own comfyui-fails succeeds instead: the scenario now fails.
    std::fs::create_dir_all(dir.join("mocks")).unwrap();
    std::fs::write(
        dir.join("mocks/comfyui-fails.yaml"),
        "queue: 10ms\nexecution: 10ms\n",
    )
    .unwrap();
    let run = eh(dir, &["run"], &[]);
    assert_eq!(run.code, 101, "{}", run.all());
    assert!(run.stdout.contains("expected FAILED"), "{}", run.stdout);
}

#[test]
fn run_flags_mirror_the_variables_and_partitions_split_the_suite() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = root.join("scenarios/model-free");
    let mut seen = Vec::new();
    for k in 1..=2 {
        let reports = tmp.path().join(format!("shard{k}"));
        let out = eh(
            tmp.path(),
            &[
                "run",
                "--scenarios",
                scenarios.to_str().unwrap(),
                "--reports",
                reports.to_str().unwrap(),
                "--mocks",
                root.join("mocks").to_str().unwrap(),
                "--partition",
                &format!("hash:{k}/2"),
            ],
            &[],
        );
        assert!(matches!(out.code, 0 | 101), "{}", out.all());
        seen.extend(verdicts(&report(&reports)).into_iter().map(|(n, _)| n));
    }
    let mut all: Vec<String> = eh(
        tmp.path(),
        &[
            "run",
            "--scenarios",
            scenarios.to_str().unwrap(),
            "--",
            "--list",
        ],
        &[],
    )
    .stdout
    .lines()
    .filter_map(|l| l.strip_suffix(": test"))
    .map(|l| l.rsplit(' ').next().unwrap().to_string())
    .collect();
    all.sort();
    seen.sort();
    assert_eq!(seen, all, "the two shards together run every scenario once");
    let bad = eh(tmp.path(), &["run", "--partition", "3/2"], &[]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(bad.stderr.contains("HARNESS_PARTITION"), "{}", bad.stderr);
}

#[test]
fn an_ignored_trial_is_in_every_report_with_its_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().join("reports");
    let out = eh(
        root,
        &["run", "--reports", reports.to_str().unwrap(), "--", "load/"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let r = report(&reports);
    let burst = r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "load/burst")
        .unwrap_or_else(|| panic!("load/burst is not in report.json: {r:#}"));
    assert_eq!(burst["verdict"], "ignored");
    assert!(
        burst["message"]
            .as_str()
            .unwrap()
            .contains("HARNESS_LOAD=1"),
        "{burst:#}"
    );
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(
        junit.contains("load/burst") && junit.contains("<skipped"),
        "{junit}"
    );
    let summary = std::fs::read_to_string(reports.join("summary.md")).unwrap();
    assert!(summary.contains("load/burst"), "{summary}");
    let html = std::fs::read_to_string(reports.join("index.html")).unwrap();
    assert!(html.contains("load/burst"));
    // A filter that leaves it out leaves it out of the reports too.
    let out = eh(
        root,
        &[
            "run",
            "--reports",
            reports.to_str().unwrap(),
            "--",
            "model-free/noise",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!std::fs::read_to_string(reports.join("report.json"))
        .unwrap()
        .contains("load/burst"));
}

#[test]
fn a_dead_endpoint_stops_the_run_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    // A port nothing listens on: bind one, note it, free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v2/ep");
    let out = eh(
        root,
        &[
            "run",
            "--reports",
            tmp.path().to_str().unwrap(),
            "--",
            "model-free/",
        ],
        &[
            ("RUNPOD_API_KEY", "rpa_DEADENDPOINT_0123456789"),
            ("RUNPOD_ENDPOINT_ID", "ep"),
            ("RUNPOD_ENDPOINT_URL", &url),
        ],
    );
    assert_eq!(out.code, 101, "{}", out.all());
    let all = out.all();
    assert_eq!(
        all.matches("Connection refused").count(),
        1,
        "the cause is said once: {all}"
    );
    assert!(out.stderr.contains("no job will be sent"), "{}", out.stderr);
    let r = report(tmp.path());
    let scenarios = r["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 4, "{r:#}");
    for s in scenarios {
        let m = s["message"].as_str().unwrap_or_default();
        assert_eq!(m.lines().count(), 1, "one short line per trial: {m}");
        assert!(m.contains("not run: the endpoint cannot be reached"), "{m}");
        assert!(
            s["runs"].as_array().is_none_or(|r| r.is_empty()),
            "no job was sent: {s:#}"
        );
    }
}

/// `new` on every shipped image workflow (those loading an image get a
/// placeholder input) and on a graph that resizes after its source: the
/// scaffolded scenario passes its first run against the mock.
#[test]
fn a_scaffolded_scenario_passes_its_first_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let resized = tmp.path().join("resized_api.json");
    std::fs::write(
        &resized,
        serde_json::json!({
            "1": {"class_type": "EmptyImage", "inputs": {"width": 200, "height": 150, "batch_size": 2, "color": 0}},
            "2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "bilinear", "width": 320, "height": 240, "crop": "disabled"}},
            "3": {"class_type": "ImageCrop", "inputs": {"image": ["2", 0], "width": 300, "height": 200, "x": 100, "y": 0}},
            "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "r"}}
        })
        .to_string(),
    )
    .unwrap();
    let mut workflows = vec![resized];
    for dir in [
        "scenarios/sdxl/workflows",
        "scenarios/sd15/workflows",
        "scenarios/flux/workflows",
        "scenarios/model-free/workflows",
    ] {
        // img2img ones too: `new` writes a placeholder for each image they load.
        workflows.extend(
            std::fs::read_dir(root.join(dir))
                .unwrap()
                .flatten()
                .map(|e| e.path()),
        );
    }
    assert!(workflows.len() >= 6, "{workflows:?}");
    for (i, wf) in workflows.iter().enumerate() {
        let out = eh(
            tmp.path(),
            &["new", &format!("s{i}"), "--workflow", wf.to_str().unwrap()],
            &[],
        );
        assert_eq!(out.code, 0, "{}: {}", wf.display(), out.all());
    }
    let yaml = std::fs::read_to_string(tmp.path().join("scenarios/s0.yaml")).unwrap();
    assert!(
        yaml.contains("count: 2") && yaml.contains("width: 220") && yaml.contains("height: 200"),
        "{yaml}"
    );
    let loads = workflows
        .iter()
        .filter(|w| {
            std::fs::read_to_string(w)
                .unwrap()
                .contains("\"LoadImage\"")
        })
        .count();
    assert!(
        loads >= 1,
        "no shipped workflow loads an image: {workflows:?}"
    );
    let out = eh(tmp.path(), &["run"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let r = report(&tmp.path().join("reports"));
    assert_eq!(r["scenarios"].as_array().unwrap().len(), workflows.len());
}

/// A live run names what it will submit and what it may cost before the
/// first job, and leaves the demos of mock behaviours (`targets: [mock]`) out.
#[test]
fn a_live_run_says_what_it_will_spend_and_skips_mock_demos() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mock = crate::common::MockProcess::start(&["--api-key", "rpa_SPEND_0123456789abcdef"]);
    let tmp = tempfile::tempdir().unwrap();
    // The demos of mock behaviours (compat/) beside one scenario that applies anywhere.
    let scen = tmp.path().join("scenarios");
    copy_dir(&root.join("scenarios/compat"), &scen.join("compat"));
    copy_dir(
        &root.join("scenarios/sdxl/workflows"),
        &scen.join("sdxl/workflows"),
    );
    copy_dir(
        &root.join("scenarios/model-free/workflows"),
        &scen.join("model-free/workflows"),
    );
    std::fs::copy(
        root.join("scenarios/model-free/noise.yaml"),
        scen.join("model-free/noise.yaml"),
    )
    .unwrap();
    let reports = tmp.path().join("reports");
    let url = mock.endpoint_url("my-endpoint");
    let out = eh(
        root,
        &[
            "run",
            "--target",
            "live",
            "--scenarios",
            scen.to_str().unwrap(),
            "--reports",
            reports.to_str().unwrap(),
        ],
        &[
            ("RUNPOD_API_KEY", "rpa_SPEND_0123456789abcdef"),
            ("RUNPOD_ENDPOINT_ID", "my-endpoint"),
            ("RUNPOD_ENDPOINT_URL", &url),
            ("HARNESS_CAPABILITIES", "sdxl"),
            ("HARNESS_MAX_COST", "0.5"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("this run submits up to"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(
        line.contains("up to 1 job(s)") && line.contains("model-free/noise"),
        "{line}"
    );
    assert!(
        line.contains("HARNESS_MAX_COST stops submitting at USD 0.5"),
        "{line}"
    );
    let r = report(&reports);
    for s in r["scenarios"].as_array().unwrap() {
        if s["name"].as_str().unwrap().starts_with("compat/") {
            assert_eq!(s["verdict"], "ignored", "{s:#}");
            assert!(
                s["message"]
                    .as_str()
                    .unwrap()
                    .contains("runs against mock only"),
                "{s:#}"
            );
        }
    }
    let jobs = mock.get("/_mock/stats", "rpa_SPEND_0123456789abcdef")["jobs_created"]
        ["my-endpoint"]
        .as_u64();
    assert_eq!(
        jobs,
        Some(1),
        "only the one scenario that applies submitted a job"
    );
}

/// Every scenario `init` and `new` write points its `$schema` at a file that
/// exists: the first file a newcomer opens must not have a broken link.
#[test]
fn every_generated_scenario_links_a_schema_that_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let out = eh(tmp.path(), &["init"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let wf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sdxl/workflows/sdxl_txt2img.json");
    for name in ["top", "deep/er/one"] {
        let out = eh(
            tmp.path(),
            &["new", name, "--workflow", wf.to_str().unwrap()],
            &[],
        );
        assert_eq!(out.code, 0, "{}", out.all());
    }
    let mut checked = 0;
    let mut stack = vec![tmp.path().join("scenarios")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                let text = std::fs::read_to_string(&p).unwrap();
                let link = text
                    .lines()
                    .find_map(|l| l.split("$schema=").nth(1))
                    .unwrap_or_else(|| panic!("{} has no $schema line", p.display()));
                let target = p.parent().unwrap().join(link.trim());
                assert!(
                    target.is_file(),
                    "{}: $schema={link} resolves to {}, which does not exist",
                    p.display(),
                    target.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 3, "{checked}");
}
