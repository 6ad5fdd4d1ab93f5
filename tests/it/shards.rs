//! The nightly at scale, as CI runs it: the suite split over shards, each shard
//! run the way nextest runs it (one process per scenario, one run id per
//! shard), each shard's reports built once, the shards merged into one report.
//! Nextest itself is not needed: its contract with a test binary is
//! `--list`, `--list --ignored` and one `--exact <name>` process per test with
//! `NEXTEST_RUN_ID` set, which is what [`nextest_like`] does.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::{copy_dir, run_suite, suite_command};

fn harness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_endpoint-harness"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    crate::common::scrub_env(&mut cmd);
    cmd
}

/// `endpoint-harness report build --reports DIR`, which must succeed.
fn report_build(reports: &Path) {
    crate::common::succeed(
        harness()
            .args(["report", "build", "--reports"])
            .arg(reports),
    );
}

/// Test names as `--list` prints them (`[tags] name: test`).
fn listed(scenarios: &str, extra: &[&str]) -> Vec<String> {
    let out = suite_command()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--list"])
        .args(extra)
        .env("HARNESS_SCENARIOS", scenarios)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(|l| l.rsplit("] ").next().unwrap().to_string())
        .collect()
}

/// nextest's `hash:` partition, in spirit: a stable split by name.
fn shard_of(name: &str, shards: usize) -> usize {
    name.bytes().map(usize::from).sum::<usize>() % shards
}

/// Runs `names` as nextest does: one process each (four at a time), all with
/// one `NEXTEST_RUN_ID`. Returns how many processes ran.
fn nextest_like(env: &[(&str, String)], run_id: &str, names: &[String]) -> usize {
    for chunk in names.chunks(4) {
        let children: Vec<_> = chunk
            .iter()
            .map(|name| {
                let mut cmd = suite_command();
                crate::common::scrub_env(&mut cmd);
                cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
                    .args(["--exact", name])
                    .env("NEXTEST_RUN_ID", run_id)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped());
                for (k, v) in env {
                    cmd.env(k, v);
                }
                (name, cmd.spawn().unwrap())
            })
            .collect();
        for (name, child) in children {
            let out = child.wait_with_output().unwrap();
            // A failing scenario exits 101, as under nextest; anything else is the harness failing.
            let code = out.status.code().unwrap_or(-1);
            assert!(
                code == 0 || code == 101,
                "{name}: exit {code}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    names.len()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn names_in(report: &serde_json::Value) -> BTreeSet<String> {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

const COUNTS: [&str; 7] = [
    "total",
    "passed",
    "failed",
    "over_budget",
    "error",
    "timed_out",
    "ignored",
];

#[test]
fn sharded_runs_of_the_suite_and_the_fault_matrix_merge_into_one_report() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("step-summary.md");
    let mut shard_dirs = Vec::new();
    let mut union = BTreeSet::new();
    // The shipped suite and the reliability fault matrix, each split over two shards.
    for (suite, label) in [("scenarios", "suite"), ("tests/selftest", "faults")] {
        let skip: BTreeSet<String> = listed(suite, &["--ignored"]).into_iter().collect();
        let names: Vec<String> = listed(suite, &[])
            .into_iter()
            .filter(|n| !skip.contains(n))
            .collect();
        assert!(names.len() > 15, "{suite}: {names:?}");
        union.extend(names.iter().cloned());
        for shard in 0..2 {
            let mine: Vec<String> = names
                .iter()
                .filter(|n| shard_of(n, 2) == shard)
                .cloned()
                .collect();
            let reports = tmp.path().join(format!("{label}-{shard}"));
            let env = [
                ("HARNESS_SCENARIOS", suite.to_string()),
                ("HARNESS_REPORTS", reports.display().to_string()),
                ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
            ];
            nextest_like(&env, &format!("{label}-shard-{shard}"), &mine);
            // The processes wrote fragments, and the last one the whole
            // shard's reports; none wrote the step summary.
            assert_eq!(
                names_in(&json(&reports.join("report.json"))),
                mine.iter().cloned().collect::<BTreeSet<_>>()
            );
            assert!(!summary.exists(), "a trial process wrote the step summary");
            let history = std::fs::read_to_string(reports.join("history.jsonl")).unwrap();
            assert_eq!(
                history.lines().count(),
                mine.len(),
                "one history line per trial"
            );
            // `report build`, once per shard (as each CI job does, without a step summary).
            report_build(&reports);
            let built = json(&reports.join("report.json"));
            assert_eq!(
                built["counts"]["total"].as_u64().unwrap() as usize,
                mine.len()
            );
            assert_eq!(names_in(&built), mine.iter().cloned().collect());
            for f in ["junit.xml", "summary.md", "index.html"] {
                assert!(reports.join(f).is_file(), "{f}");
            }
            shard_dirs.push(reports);
        }
    }
    // The final CI job: one merge, one summary.
    let merged = tmp.path().join("merged");
    crate::common::succeed(
        harness()
            .args(["report", "merge"])
            .arg(&merged)
            .args(&shard_dirs)
            .env("GITHUB_STEP_SUMMARY", &summary),
    );
    let report = json(&merged.join("report.json"));
    assert_eq!(
        names_in(&report),
        union,
        "the merged report holds exactly the union of the shards"
    );
    for c in COUNTS {
        let sum: u64 = shard_dirs
            .iter()
            .map(|d| json(&d.join("report.json"))["counts"][c].as_u64().unwrap())
            .sum();
        assert_eq!(report["counts"][c].as_u64().unwrap(), sum, "count {c}");
    }
    assert!(
        report["counts"]["failed"].as_u64().unwrap() + report["counts"]["error"].as_u64().unwrap()
            > 0,
        "the fault matrix fails some"
    );
    // Exactly one summary: its heading once.
    let published = std::fs::read_to_string(&summary).unwrap();
    let first_line = std::fs::read_to_string(merged.join("summary.md"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(published.matches(&first_line).count(), 1, "{published}");
    // One history, every shard's lines once; merging again adds nothing.
    let lines = std::fs::read_to_string(merged.join("history.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, union.len());
    let again = harness()
        .args(["report", "merge"])
        .arg(&merged)
        .args(&shard_dirs)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(
        std::fs::read_to_string(merged.join("history.jsonl"))
            .unwrap()
            .lines()
            .count(),
        lines
    );
    // Every image the merged report names is in the merged folder.
    let mut files = 0;
    for s in report["scenarios"].as_array().unwrap() {
        for r in s["runs"].as_array().unwrap() {
            let images = r["images"].as_array().into_iter().flatten();
            for i in images.chain(r["videos"].as_array().into_iter().flatten()) {
                if let Some(f) = i["file"].as_str() {
                    assert!(merged.join(f).is_file(), "{f}");
                    files += 1;
                }
            }
        }
    }
    assert!(files > 10, "{files} files");
    println!(
        "FIGURE shards: {} scenarios over 4 shards ({} processes) merged into one report, 1 step summary",
        union.len(),
        union.len()
    );
}

#[test]
fn fragments_merge_directly_and_names_that_sanitise_alike_both_survive() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scenarios");
    copy_dir(Path::new("scenarios/model-free"), &scen.join("a"));
    let src = std::fs::read_dir(scen.join("a"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    // `a/b` and `a_b`: one sanitised name, two scenarios.
    std::fs::copy(&src, scen.join("a/b.yaml")).unwrap();
    std::fs::copy(&src, scen.join("a_b.yaml")).unwrap();
    let reports = tmp.path().join("reports");
    let env = [
        ("HARNESS_SCENARIOS", scen.display().to_string()),
        ("HARNESS_REPORTS", reports.display().to_string()),
    ];
    nextest_like(&env, "collide", &["a/b".to_string(), "a_b".to_string()]);
    let fragments = reports.join(".trials/collide");
    // One line per scenario in the run's fragments file, no file per trial.
    let text = std::fs::read_to_string(fragments.join("fragments.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "one fragment per scenario: {text:.300}");
    let files: Vec<_> = std::fs::read_dir(&fragments)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n != "run.json"
                && n != "fragments.jsonl"
                && n != "report.lock"
                && !n.ends_with(".claimed")
        })
        .collect();
    assert!(files.is_empty(), "{files:?}");
    // A fragment folder is a valid merge input too.
    let merged = tmp.path().join("merged");
    crate::common::succeed(
        harness()
            .args(["report", "merge"])
            .arg(&merged)
            .arg(&fragments),
    );
    let names = names_in(&json(&merged.join("report.json")));
    assert_eq!(
        names,
        ["a/b".to_string(), "a_b".to_string()].into_iter().collect()
    );
}

#[test]
fn merge_and_build_say_what_is_wrong_with_their_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = harness()
        .args(["report", "merge"])
        .arg(tmp.path().join("out"))
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is neither a report folder"),
        "{out:?}"
    );
    let out = harness()
        .args(["report", "build", "--reports"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("run the suite under nextest first"),
        "{out:?}"
    );
    // An in-process run builds its reports itself; `report build` is for nextest runs.
    let r = tmp.path().join("r");
    let out = run_suite(
        &["--exact", "sdxl/txt2img-basic"],
        &[("HARNESS_REPORTS", &r.display().to_string())],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(r.join("report.json").is_file());
}

#[test]
fn the_cost_cap_holds_across_the_processes_of_one_run() {
    // 8 processes × 50 jobs; each job costs 3 s × the ADA_24 example price; the cap is worth 10 jobs.
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scenarios");
    copy_dir(
        Path::new("scenarios/sdxl/workflows"),
        &scen.join("workflows"),
    );
    let mut names = Vec::new();
    for i in 0..8 {
        std::fs::write(
            scen.join(format!("cap-{i}.yaml")),
            format!(
                "description: fifty jobs\nworkflow: workflows/sdxl_txt2img.json\nrepeat: 50\nset:\n  \"3.seed\": {i}\nbudget:\n  execution: 3s\n"
            ),
        )
        .unwrap();
        names.push(format!("cap-{i}"));
    }
    let job = 3.0 * 0.00031;
    let reports = tmp.path().join("reports");
    let env = [
        ("HARNESS_SCENARIOS", scen.display().to_string()),
        ("HARNESS_REPORTS", reports.display().to_string()),
        ("HARNESS_MAX_COST", format!("{}", 10.0 * job)),
    ];
    // All eight at once, as nextest's threads would start them.
    let children: Vec<_> = names
        .iter()
        .map(|name| {
            let mut cmd = suite_command();
            crate::common::scrub_env(&mut cmd);
            cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
                .args(["--exact", name])
                .env("NEXTEST_RUN_ID", "capped")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            for (k, v) in &env {
                cmd.env(k, v);
            }
            cmd.spawn().unwrap()
        })
        .collect();
    for mut c in children {
        c.wait().unwrap();
    }
    report_build(&reports);
    let report = json(&reports.join("report.json"));
    let mut submitted = 0;
    let mut spent = 0.0;
    for s in report["scenarios"].as_array().unwrap() {
        for r in s["runs"].as_array().unwrap() {
            if r["job_id"].is_string() {
                submitted += 1;
                spent += r["cost"].as_f64().unwrap();
            }
        }
    }
    assert!(
        submitted <= 10,
        "{submitted} jobs submitted against a cap worth 10"
    );
    assert!(submitted >= 1);
    assert!(spent <= 10.0 * job + 1e-9, "{spent}");
    let messages = report["scenarios"].as_array().unwrap().iter().filter(|s| {
        s["message"]
            .as_str()
            .is_some_and(|m| m.contains("HARNESS_MAX_COST"))
    });
    assert!(messages.count() >= 1, "the refused scenarios say why");
    println!("FIGURE cost cap across processes: 8 processes x 50 jobs, cap worth 10 jobs: {submitted} submitted, {spent:.5} spent");
}

#[test]
fn a_compare_of_two_runs_with_one_changed_seed_names_exactly_that_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    copy_dir(Path::new("scenarios"), &a);
    copy_dir(Path::new("scenarios"), &b);
    // Another seed for the img2img scenario: another picture, same everything else.
    let f = b.join("sdxl/img2img.yaml");
    let text = std::fs::read_to_string(&f).unwrap();
    let changed = text.replace(
        "  \"KSampler.denoise\": 0.55\n",
        "  \"KSampler.denoise\": 0.55\n  \"KSampler.seed\": 777\n",
    );
    assert_ne!(text, changed, "the scenario sets a seed");
    std::fs::write(&f, changed).unwrap();
    let (ra, rb) = (tmp.path().join("production"), tmp.path().join("candidate"));
    for (scen, reports) in [(&a, &ra), (&b, &rb)] {
        let out = run_suite(
            &[],
            &[
                ("HARNESS_SCENARIOS", &scen.display().to_string()),
                ("HARNESS_REPORTS", &reports.display().to_string()),
            ],
        );
        assert!(reports.join("report.json").is_file(), "{}", out.all());
    }
    let out_dir = tmp.path().join("cmp");
    let out = harness()
        .arg("compare")
        .args([&ra, &rb])
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "a regression exits 1: {stdout}");
    let cmp = json(&out_dir.join("compare.json"));
    let regressed: Vec<&str> = cmp["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["change"] == "regressed" || s["change"] == "missing")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(regressed, ["sdxl/img2img"], "{stdout}");
    assert_eq!(cmp["verdict"], "regressed");
    let s = &cmp["scenarios"][0];
    assert!(
        s["images"][0]["regressed"] == true && s["images"][0]["evidence"]["diff"].is_string(),
        "{s}"
    );
    assert!(out_dir
        .join(s["images"][0]["evidence"]["diff"].as_str().unwrap())
        .is_file());
    for f in ["compare.md", "compare.html"] {
        assert!(out_dir.join(f).is_file());
    }
    // The same run against itself: same, exit 0.
    let out = harness().arg("compare").args([&ra, &ra]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// After a nextest run, with no `report build`, `index.html` and
/// `report.json` show the whole run: the last process rebuilt them from every
/// fragment. A second run replaces the first's report, not adds to it.
#[test]
fn the_last_nextest_process_leaves_the_whole_runs_report() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().join("reports");
    let env = [
        ("HARNESS_REPORTS", reports.display().to_string()),
        ("HARNESS_SCENARIOS", "scenarios/sdxl".to_string()),
        // Candidates go to a scratch folder, never into the repository's references.
        (
            "HARNESS_SNAPSHOT_DIR",
            tmp.path().join("snapshots").display().to_string(),
        ),
        ("NEXTEST", "1".to_string()),
    ];
    let names = listed("scenarios/sdxl", &[]);
    assert!(names.len() >= 3, "{names:?}");
    nextest_like(&env, "first-run", &names);
    let report = json(&reports.join("report.json"));
    assert_eq!(
        names_in(&report),
        names.iter().cloned().collect::<BTreeSet<_>>()
    );
    assert_eq!(report["run_id"], "first-run");
    let html = std::fs::read_to_string(reports.join("index.html")).unwrap();
    assert!(
        names.iter().all(|n| html.contains(n.as_str())),
        "every scenario in index.html"
    );
    nextest_like(&env, "second-run", &names[..1]);
    let report = json(&reports.join("report.json"));
    assert_eq!(
        (report["run_id"].as_str(), names_in(&report).len()),
        (Some("second-run"), 1)
    );
}
