//! Runs split across processes and machines, made into one report. Under
//! nextest each process appends only its own scenarios, one line each, to the
//! run's `reports/.trials/<run id>/fragments.jsonl` (and their history lines),
//! which costs the same whatever the suite's size and creates no file per
//! trial; `endpoint-harness report build` turns
//! a run's fragments into the reports once. `endpoint-harness report merge`
//! does the same across shards: fragment folders or finished report folders
//! in, one report set, one history and one step summary out.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::model::{CostSummary, RunInfo, RunReport, ScenarioReport, Verdict};

/// Why reports could not be built or merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Nothing to build from.
    #[error("{0}")]
    Nothing(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MergeError + '_ {
    move |source| MergeError::Io {
        path: crate::paths::display_path(path).display().to_string(),
        source,
    }
}

/// Where a run's fragments live.
pub fn fragments_dir(reports: &Path, run_id: &str) -> PathBuf {
    reports.join(".trials").join(crate::paths::sanitize(run_id))
}

/// The file of a run's fragments: one scenario report per line.
const FRAGMENTS: &str = "fragments.jsonl";

/// Writes this process's scenarios as fragments of run `info` (and their history
/// lines); the cost does not grow with the number of scenarios in the run.
/// Fragments are appended to one file rather than written one file each: a
/// file created per trial was, on a filesystem that had just deleted many
/// files, a visible part of a trial process's system time
/// (`benches/nextest_scale.rs`).
pub fn write_fragment(reports: &Path, info: &RunInfo, mine: &[ScenarioReport], cost: Option<&CostSummary>) -> std::io::Result<()> {
    let dir = fragments_dir(reports, &info.run_id);
    fs::create_dir_all(&dir)?;
    let run = dir.join("run.json");
    if !run.is_file() {
        let meta = serde_json::json!({"info": info, "cost": cost});
        crate::paths::atomic_write(&run, meta.to_string().as_bytes())?;
    }
    let mut lines = String::new();
    for s in mine {
        lines.push_str(&serde_json::to_string(s).map_err(std::io::Error::other)?);
        lines.push('\n');
    }
    if !lines.is_empty() {
        let mut f = fs::OpenOptions::new().append(true).create(true).open(dir.join(FRAGMENTS))?;
        // Appends of other processes never interleave with these lines, even if
        // the write were split; the lock goes with the file.
        f.lock()?;
        f.write_all(lines.as_bytes())?;
    }
    // One append per process: lines are written whole by one `write`.
    let report = RunReport::new(info, Vec::new());
    crate::results::history::append(reports, &report, mine)?;
    remove_stale(reports, &dir);
    Ok(())
}

/// The identity of run `run_id` as its first fragment recorded it, if written yet.
pub(crate) fn run_of(reports: &Path, run_id: &str) -> Option<RunInfo> {
    let bytes = fs::read(fragments_dir(reports, run_id).join("run.json")).ok()?;
    let meta: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    serde_json::from_value(meta["info"].clone()).ok()
}

/// True for exactly one caller per run and `what` (whoever creates the marker first).
pub(crate) fn first_to_claim(reports: &Path, run_id: &str, what: &str) -> bool {
    let dir = fragments_dir(reports, run_id);
    let _ = fs::create_dir_all(&dir);
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join(format!("{what}.claimed")))
        .is_ok()
}


/// Fragments of runs that ended more than a day ago are of no further use.
fn remove_stale(reports: &Path, keep: &Path) {
    let Ok(entries) = fs::read_dir(reports.join(".trials")) else { return };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(86_400));
        if old && e.path().is_dir() && e.path() != keep {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// A run read from fragments: its identity, price summary and scenarios.
struct Fragments {
    info: RunInfo,
    cost: Option<CostSummary>,
    scenarios: Vec<ScenarioReport>,
}

fn read_fragments(dir: &Path) -> Result<Fragments, MergeError> {
    let meta: serde_json::Value = fs::read(dir.join("run.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| MergeError::Nothing(format!("{} has no run.json: not a run's fragments", dir.display())))?;
    let info: RunInfo = serde_json::from_value(meta["info"].clone())
        .map_err(|e| MergeError::Nothing(format!("{}: run.json: {e}", dir.display())))?;
    let cost = serde_json::from_value(meta["cost"].clone()).ok();
    // Keyed by the collision-free name: a trial run again (nextest --retries)
    // replaces its earlier line.
    let mut scenarios: BTreeMap<String, ScenarioReport> = BTreeMap::new();
    let mut keep = |s: ScenarioReport| {
        let key = crate::paths::unique(&s.name);
        if scenarios.get(&key).is_none_or(|old| supersedes(&s, old)) {
            scenarios.insert(key, s);
        }
    };
    // One file per scenario, as earlier versions wrote them.
    for e in fs::read_dir(dir).map_err(io(dir))?.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") && p.file_name().is_some_and(|n| n != "run.json") {
            let bytes = fs::read(&p).map_err(io(&p))?;
            match serde_json::from_slice::<ScenarioReport>(&bytes) {
                Ok(s) => keep(s),
                Err(e) => eprintln!("endpoint-harness: warning: skipping {}: {e}", p.display()),
            }
        }
    }
    let path = dir.join(FRAGMENTS);
    match fs::read_to_string(&path) {
        Ok(text) => {
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                match serde_json::from_str::<ScenarioReport>(line) {
                    Ok(s) => keep(s),
                    // A process killed mid-write leaves a cut line: the others still count.
                    Err(e) => eprintln!("endpoint-harness: warning: skipping line {} of {}: {e}", n + 1, path.display()),
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&path)(e)),
    }
    Ok(Fragments { info, cost, scenarios: scenarios.into_values().collect() })
}

/// The run whose fragments `report build` uses: `run`, nextest's current run,
/// or the run written last.
fn pick_run(reports: &Path, run: Option<&str>) -> Result<PathBuf, MergeError> {
    if let Some(id) = run.map(str::to_string).or_else(|| crate::settings::Env::process().nextest_run()) {
        let dir = fragments_dir(reports, &id);
        return if dir.is_dir() {
            Ok(dir)
        } else {
            Err(MergeError::Nothing(format!("no fragments of run {id} under {}", reports.join(".trials").display())))
        };
    }
    let trials = reports.join(".trials");
    fs::read_dir(&trials)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("run.json").is_file())
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
        .ok_or_else(|| MergeError::Nothing(format!("no run's fragments under {} (run the suite under nextest first)", trials.display())))
}

/// `report build`: the reports of one run, once, from its fragments.
pub fn build(reports: &Path, run: Option<&str>) -> Result<RunReport, MergeError> {
    let dir = pick_run(reports, run)?;
    let f = read_fragments(&dir)?;
    let mut report = RunReport::new(&f.info, f.scenarios);
    report.cost = summarise(f.cost, &report);
    crate::results::report::prune_images(reports, &report);
    crate::results::report::write_all(reports, &report).map_err(io(reports))?;
    Ok(report)
}

/// Under nextest, after each trial process writes its fragment: the reports
/// rebuilt from every fragment of the run so far, so the last process to
/// finish leaves the whole run's `index.html` and `report.json` (no stale
/// report after `cargo nextest run`). Builds take turns under a lock, so a
/// build that read fewer fragments never lands after one that read more.
/// Images are not pruned here: a trial still running may be saving its own.
pub fn build_so_far(reports: &Path, run_id: &str) -> Result<RunReport, MergeError> {
    let dir = fragments_dir(reports, run_id);
    let lock = fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("report.lock")).map_err(io(&dir))?;
    lock.lock().map_err(io(&dir))?;
    let f = read_fragments(&dir)?;
    let mut report = RunReport::new(&f.info, f.scenarios);
    report.cost = summarise(f.cost, &report);
    // The step summary is the run's to write once (`report build`, a merge).
    crate::results::report::write_files(reports, &report).map_err(io(reports))?;
    Ok(report)
}

fn summarise(cost: Option<CostSummary>, report: &RunReport) -> Option<CostSummary> {
    cost.map(|mut c| {
        c.total = crate::model::CostSummary::total_of(report.scenarios.iter().filter_map(|s| s.cost));
        c
    })
}

/// One input of a merge.
enum Input {
    /// A finished report folder (`report.json`, `images/`, `history.jsonl`).
    Folder(PathBuf),
    /// A run's fragments (a `.trials/<run>` folder, or a shard folder holding one).
    Fragments(PathBuf),
}

fn classify(p: &Path) -> Result<Input, MergeError> {
    if p.join("report.json").is_file() {
        return Ok(Input::Folder(p.to_path_buf()));
    }
    if p.join("run.json").is_file() {
        return Ok(Input::Fragments(p.to_path_buf()));
    }
    if p.join(".trials").is_dir() {
        return pick_run(p, None).map(Input::Fragments);
    }
    Err(MergeError::Nothing(format!(
        "{} is neither a report folder (report.json) nor a run's fragments (run.json)",
        p.display()
    )))
}

/// Whether a later report of a scenario (a retry, another input) replaces an
/// earlier one. It does, except that a run stopped without a result (ignored:
/// the cost cap, a missing capability) never hides an earlier red one: a
/// failure outranks every stop.
fn supersedes(later: &ScenarioReport, earlier: &ScenarioReport) -> bool {
    later.verdict != Verdict::Ignored || earlier.verdict.is_success()
}

/// `report merge OUT IN...`: one report set, one history and one summary from shards.
pub fn merge(out: &Path, inputs: &[PathBuf]) -> Result<RunReport, MergeError> {
    if inputs.is_empty() {
        return Err(MergeError::Nothing("nothing to merge: give report folders or fragment folders".into()));
    }
    fs::create_dir_all(out).map_err(io(out))?;
    let mut scenarios: BTreeMap<String, ScenarioReport> = BTreeMap::new();
    let mut infos: Vec<RunInfo> = Vec::new();
    let mut cost: Option<CostSummary> = None;
    let mut history: Vec<crate::results::history::HistoryLine> = Vec::new();
    for input in inputs {
        let (root, mut report) = match classify(input)? {
            Input::Folder(dir) => {
                let path = dir.join("report.json");
                let bytes = fs::read(&path).map_err(io(&path))?;
                let r: RunReport = serde_json::from_slice(&bytes)
                    .map_err(|e| MergeError::Nothing(format!("{}: not a report.json: {e}", path.display())))?;
                if let Ok((lines, _)) = crate::results::history::read(&dir.join("history.jsonl")) {
                    history.extend(lines);
                }
                (dir, r)
            }
            Input::Fragments(dir) => {
                let f = read_fragments(&dir)?;
                let mut r = RunReport::new(&f.info, f.scenarios);
                r.cost = summarise(f.cost, &r);
                history.extend(r.scenarios.iter().map(|s| crate::results::history::HistoryLine::from_scenario(&r, s)));
                // Fragments sit in `<reports>/.trials/<run>/`: files are relative to `<reports>`.
                let root = dir.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or(dir);
                (root, r)
            }
        };
        infos.push(report.info());
        cost = cost.or(report.cost.take());
        for s in report.scenarios {
            copy_files(&root, out, &s)?;
            match scenarios.get(&s.name) {
                Some(old) if !supersedes(&s, old) => {
                    eprintln!("endpoint-harness: warning: {} is in more than one input; the red one is kept (a later run that stopped without a result does not hide it)", old.name);
                }
                Some(old) => {
                    eprintln!("endpoint-harness: warning: {} is in more than one input; the later one is kept", old.name);
                    scenarios.insert(s.name.clone(), s);
                }
                None => {
                    scenarios.insert(s.name.clone(), s);
                }
            }
        }
    }
    let info = merged_info(&infos);
    let mut report = RunReport::new(&info, scenarios.into_values().collect());
    report.cost = summarise(cost, &report);
    write_history(out, history)?;
    crate::results::report::prune_images(out, &report);
    crate::results::report::write_all(out, &report).map_err(io(out))?;
    Ok(report)
}

/// One identity for runs merged together: the first run's id and commit, the
/// earliest start, and every distinct target.
fn merged_info(infos: &[RunInfo]) -> RunInfo {
    let mut info = infos[0].clone();
    info.started_at = infos.iter().map(|i| i.started_at.clone()).min().unwrap_or_default();
    let mut targets: Vec<&str> = Vec::new();
    for i in infos {
        if !targets.contains(&i.target.as_str()) {
            targets.push(&i.target);
        }
    }
    info.target = targets.join("; ");
    info
}

/// Copies the files a scenario's records point to (relative to `from`) under `to`.
fn copy_files(from: &Path, to: &Path, s: &ScenarioReport) -> Result<(), MergeError> {
    if from == to {
        return Ok(());
    }
    let files = s
        .runs
        .iter()
        .flat_map(|r| r.images.iter().filter_map(|i| i.file.clone()).chain(r.videos.iter().filter_map(|v| v.file.clone())))
        .chain(s.snapshots.iter().flat_map(|n| [n.expected.clone(), n.actual.clone(), n.diff.clone()]).flatten());
    for rel in files {
        // Only paths inside the report folder are copied.
        if Path::new(&rel).components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            continue;
        }
        let (src, dst) = (from.join(&rel), to.join(&rel));
        if src.is_file() {
            if let Some(parent) = dst.parent() {
                fs::create_dir_all(parent).map_err(io(parent))?;
            }
            fs::copy(&src, &dst).map_err(io(&src))?;
        }
    }
    Ok(())
}

/// The out folder's history plus the inputs' lines it does not have yet, in time order.
fn write_history(out: &Path, incoming: Vec<crate::results::history::HistoryLine>) -> Result<(), MergeError> {
    let path = out.join("history.jsonl");
    let (mut lines, _) = crate::results::history::read(&path).unwrap_or_default();
    let key = |l: &crate::results::history::HistoryLine| (l.run_id.clone(), l.scenario.clone(), l.time.clone());
    let mut seen: std::collections::HashSet<_> = lines.iter().map(key).collect();
    for l in incoming {
        if seen.insert(key(&l)) {
            lines.push(l);
        }
    }
    lines.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.scenario.cmp(&b.scenario)));
    let mut text = String::new();
    for l in &lines {
        text.push_str(&serde_json::to_string(l).map_err(|e| io(&path)(std::io::Error::other(e)))?);
        text.push('\n');
    }
    crate::paths::atomic_write(&path, text.as_bytes()).map_err(io(&path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ScenarioHead, TargetKind};

    fn scenario(name: &str, verdict: Verdict) -> ScenarioReport {
        let head = ScenarioHead {
            name: name.into(),
            file: format!("{name}.yaml"),
            description: None,
            tags: Vec::new(),
            warnings: Vec::new(),
        };
        ScenarioReport::new(head, verdict, None)
    }

    #[test]
    fn appended_fragments_survive_a_cut_line_and_a_retry_replaces_its_first_try() {
        let tmp = tempfile::tempdir().unwrap();
        let info = RunInfo {
            run_id: "r".into(),
            started_at: "2026-11-27T00:00:00Z".into(),
            target: "mock".into(),
            target_kind: TargetKind::Mock,
            git_commit: None,
        };
        let write = |s: ScenarioReport| write_fragment(tmp.path(), &info, &[s], None).unwrap();
        write(scenario("a/b", Verdict::Failed));
        write(scenario("a_b", Verdict::Passed));
        // A process killed mid-write, then the retry of `a/b`.
        let file = fragments_dir(tmp.path(), "r").join(FRAGMENTS);
        let mut f = fs::OpenOptions::new().append(true).open(&file).unwrap();
        f.write_all(b"{\"name\":\"cut").unwrap();
        f.write_all(b"\n").unwrap();
        write(scenario("a/b", Verdict::Passed));
        let read = read_fragments(&fragments_dir(tmp.path(), "r")).unwrap();
        let got: Vec<(String, Verdict)> = read.scenarios.iter().map(|s| (s.name.clone(), s.verdict)).collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|(_, v)| *v == Verdict::Passed), "{got:?}");
        assert_eq!(read.info.run_id, "r");
    }
}

#[cfg(test)]
mod fail_closed {
    use super::*;
    use crate::model::{ScenarioHead, TargetKind};

    fn scenario(name: &str, verdict: Verdict) -> ScenarioReport {
        ScenarioReport::new(ScenarioHead { name: name.into(), ..ScenarioHead::default() }, verdict, None)
    }

    fn info(id: &str) -> RunInfo {
        RunInfo { run_id: id.into(), started_at: "2026-12-07T00:00:00Z".into(), target: "mock".into(), target_kind: TargetKind::Mock, git_commit: None }
    }

    /// A retry stopped by the cost cap (ignored) after a failure: still failed,
    /// in the fragments of one run and in `report merge` of two folders.
    #[test]
    fn a_failure_followed_by_a_stop_stays_failed_in_fragments_and_merges() {
        let tmp = tempfile::tempdir().unwrap();
        let i = info("r");
        write_fragment(tmp.path(), &i, &[scenario("a", Verdict::Failed)], None).unwrap();
        write_fragment(tmp.path(), &i, &[scenario("a", Verdict::Ignored)], None).unwrap();
        let read = read_fragments(&fragments_dir(tmp.path(), "r")).unwrap();
        assert_eq!(read.scenarios[0].verdict, Verdict::Failed);

        let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
        for (dir, v) in [(&one, Verdict::Failed), (&two, Verdict::Ignored)] {
            let r = RunReport::new(&info("x"), vec![scenario("a", v)]);
            crate::results::report::write_all(dir, &r).unwrap();
        }
        let merged = merge(&tmp.path().join("merged"), &[one.clone(), two.clone()]).unwrap();
        assert_eq!(merged.scenarios[0].verdict, Verdict::Failed);
        assert_eq!(merged.counts.failed, 1);
        // A later real result still replaces an earlier one (a passing retry).
        let merged = merge(&tmp.path().join("m2"), &[two, one]).unwrap();
        assert_eq!(merged.scenarios[0].verdict, Verdict::Failed);
    }
}
