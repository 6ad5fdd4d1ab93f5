//! Loading one scenario file: YAML -> raw serde structs -> validated [`Scenario`].
//!
//! Every problem becomes a [`Diagnostic`] at `file:line:column`; the loader keeps
//! going after the first one so a user fixes a file in one pass. Unknown keys get
//! "did you mean" from the list serde itself reports as expected.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml_ng::Value;

use super::diag::{did_you_mean, Diagnostic, Diagnostics};
use super::positions::{Pos, PositionIndex};
use super::raw::{RawBudget, RawCount, RawExpect, RawImageExpect, RawScenario, RawSnapshot};
use super::*;
use crate::workflow;

/// RunPod keeps `/run` results this long; a longer timeout is warned about.
const RESULT_RETENTION: Duration = Duration::from_secs(30 * 60);
/// RunPod's own ceiling for a job's life (`policy.ttl`, `executionTimeout`).
const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Colour families `expect.images.color` accepts.
const COLORS: &[&str] = &["rgb", "rgba", "gray", "gray_alpha"];
/// Largest image side a scenario may expect; beyond it a check is surely a typo.
const MAX_SIDE: u32 = 16384;

/// Loads and validates the scenario at `file`; `root` is the scenario folder (for the name).
pub fn load(file: &Path, root: &Path) -> Result<Scenario, Diagnostics> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Diagnostics(vec![Diagnostic::new(
            file,
            Pos { line: 1, col: 1 },
            format!("cannot read scenario: {e}"),
        )])
    })?;
    load_str(&text, file, root)
}

/// Like [`load`], from text already read.
pub fn load_str(text: &str, file: &Path, root: &Path) -> Result<Scenario, Diagnostics> {
    let mut cx = Cx {
        file,
        text,
        idx: PositionIndex::build(text),
        diags: Vec::new(),
    };
    let raw = cx.parse();
    let scenario = raw.and_then(|raw| cx.validate(raw, scenario_name(root, file)));
    match scenario {
        Some(s) if cx.diags.is_empty() => Ok(s),
        _ => {
            if cx.diags.is_empty() {
                cx.at(
                    Pos { line: 1, col: 1 },
                    "scenario could not be loaded",
                    None,
                );
            }
            cx.diags
                .sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
            Err(Diagnostics(cx.diags))
        }
    }
}

/// The trial name: the path under `root` without extension, `/`-separated on every OS.
pub fn scenario_name(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file).with_extension("");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

struct Cx<'a> {
    file: &'a Path,
    text: &'a str,
    idx: PositionIndex,
    diags: Vec<Diagnostic>,
}

impl Cx<'_> {
    fn at(&mut self, pos: Pos, msg: impl Into<String>, help: Option<String>) {
        let d = Diagnostic::new(self.file, pos, msg)
            .with_help(help)
            .with_source(self.text);
        self.diags.push(d);
    }

    fn key_err(&mut self, path: &str, msg: impl Into<String>, help: Option<String>) {
        let pos = self.idx.key(path);
        self.at(pos, msg, help);
    }

    fn val_err(&mut self, path: &str, msg: impl Into<String>, help: Option<String>) {
        let pos = self.idx.value(path);
        self.at(pos, msg, help);
    }

    /// YAML -> RawScenario, reporting every unknown key and the first type error.
    fn parse(&mut self) -> Option<RawScenario> {
        let mut value: Value = match serde_yaml_ng::from_str(self.text) {
            Ok(v) => v,
            Err(e) => {
                // Some errors (e.g. a second document) carry no location: point at the start.
                let pos = e
                    .location()
                    .map(|l| Pos {
                        line: l.line().max(1),
                        col: l.column().max(1),
                    })
                    .unwrap_or(Pos { line: 1, col: 1 });
                let msg = e.to_string();
                let mut msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                if msg.contains("more than one document") {
                    msg = "a scenario file holds one YAML document, but this one has several (a `---` separator?)".into();
                }
                self.at(pos, format!("invalid YAML: {msg}"), None);
                return None;
            }
        };
        match &value {
            Value::Null => {
                self.at(
                    Pos { line: 1, col: 1 },
                    "the scenario file is empty",
                    Some("a scenario needs at least `workflow:`".into()),
                );
                return None;
            }
            Value::Mapping(_) => {}
            _ => {
                self.at(
                    Pos { line: 1, col: 1 },
                    "a scenario must be a YAML mapping of keys",
                    None,
                );
                return None;
            }
        }
        // Each unknown key is reported, removed, and the parse retried, so all typos show at once.
        for _ in 0..64 {
            match serde_path_to_error::deserialize::<_, RawScenario>(value.clone()) {
                Ok(raw) => return (self.diags.is_empty()).then_some(raw),
                Err(err) => {
                    let mut parent = dotted(&err.path().to_string());
                    let inner = err.into_inner().to_string();
                    match unknown_field(&inner) {
                        Some((key, expected)) => {
                            // serde_path_to_error may already include the unknown key itself.
                            if parent == key {
                                parent.clear();
                            } else if let Some(p) = parent.strip_suffix(&format!(".{key}")) {
                                parent = p.to_string();
                            }
                            let path = join(&parent, &key);
                            let help = did_you_mean(&key, expected.iter().map(String::as_str))
                                .map(|s| format!("did you mean `{s}`?"))
                                .or_else(|| {
                                    Some(format!("expected one of: {}", expected.join(", ")))
                                });
                            self.key_err(&path, format!("unknown key `{path}`"), help);
                            if !remove_path(&mut value, &parent, &key) {
                                return None;
                            }
                        }
                        None => {
                            let shown = if parent.is_empty() || parent == "." {
                                String::new()
                            } else {
                                format!("`{parent}`: ")
                            };
                            let help = type_help(&inner);
                            self.val_err(&parent, format!("{shown}{inner}"), help);
                            return None;
                        }
                    }
                }
            }
        }
        None
    }

    fn validate(&mut self, raw: RawScenario, name: String) -> Option<Scenario> {
        let tags = self.words(raw.tags.unwrap_or_default(), "tags");
        let requires = self.words(raw.requires.unwrap_or_default(), "requires");
        let (mut graph, workflow_source) = self.workflow(raw.workflow.as_ref())?;
        if let Some(set) = &raw.set {
            self.overrides(&mut graph, set);
        }
        let images = self.images(raw.images.unwrap_or_default());
        let mode = match raw.mode.as_deref() {
            None | Some("async") => Mode::Async,
            Some("sync") => Mode::Sync,
            Some(other) => {
                self.one_of("mode", other, &["async", "sync"]);
                Mode::Async
            }
        };
        let timeout = match &raw.timeout {
            Some(t) => self.duration("timeout", t).unwrap_or(DEFAULT_TIMEOUT),
            None => DEFAULT_TIMEOUT,
        };
        let mut warnings = Vec::new();
        if timeout > RESULT_RETENTION && mode == Mode::Async {
            warnings.push(format!(
                "timeout {} is longer than RunPod's 30-minute result retention after /run: a result that waits longer than that is deleted and /status answers 404",
                humantime::format_duration(timeout)
            ));
        }
        let expect = self.expect(raw.expect.unwrap_or_default());
        let snapshot = self.snapshot(raw.snapshot.unwrap_or_default());
        let budget = self.budget(raw.budget.unwrap_or_default());
        let repeat = raw.repeat.unwrap_or(1);
        if !(1..=1000).contains(&repeat) {
            self.val_err(
                "repeat",
                format!("repeat must be between 1 and 1000, found {repeat}"),
                None,
            );
        }
        if let Some(m) = &raw.mock {
            let ok = !m.is_empty()
                && m.split('/').all(|seg| {
                    !seg.is_empty()
                        && seg != ".."
                        && seg
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                });
            if !ok {
                self.val_err(
                    "mock",
                    format!("mock behaviour `{m}` is not a name under mocks/"),
                    Some("e.g. `mock: cold-start` for mocks/cold-start.yaml".into()),
                );
            }
        }
        Some(Scenario {
            name,
            file: self.file.to_path_buf(),
            description: raw.description,
            tags,
            requires,
            workflow: graph,
            workflow_source,
            images,
            mode,
            timeout,
            expect,
            snapshot,
            budget,
            repeat,
            mock: raw.mock,
            warnings,
        })
    }

    fn words(&mut self, items: Vec<String>, key: &str) -> Vec<String> {
        for (i, t) in items.iter().enumerate() {
            if t.is_empty()
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                self.val_err(
                    &format!("{key}.{i}"),
                    format!("`{t}` in `{key}` must be a word of letters, digits, `-`, `_` or `.`"),
                    None,
                );
            }
        }
        items
    }

    fn one_of(&mut self, path: &str, found: &str, allowed: &[&str]) {
        let help = did_you_mean(found, allowed.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| Some(format!("expected one of: {}", allowed.join(", "))));
        self.val_err(path, format!("`{path}` cannot be `{found}`"), help);
    }

    fn duration(&mut self, path: &str, text: &str) -> Option<Duration> {
        match humantime::parse_duration(text) {
            Ok(d) if d < Duration::from_millis(1) => {
                self.val_err(path, format!("`{path}` must be longer than zero"), None);
                None
            }
            Ok(d) if d > MAX_TIMEOUT => {
                self.val_err(
                    path,
                    format!("`{path}` of {text} is longer than RunPod's 7-day limit on a job"),
                    None,
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.val_err(
                    path,
                    format!("`{path}`: `{text}` is not a duration ({e})"),
                    Some("write durations like `90s`, `10m` or `1h 30m`".into()),
                );
                None
            }
        }
    }

    fn workflow(&mut self, raw: Option<&Value>) -> Option<(workflow::Graph, String)> {
        match raw {
            None => {
                self.at(Pos { line: 1, col: 1 }, "missing `workflow`", Some("add `workflow: workflows/<name>.json` (an API-format export) or an inline mapping".into()));
                None
            }
            Some(Value::String(rel)) => {
                let path = self.file.parent().unwrap_or(Path::new(".")).join(rel);
                let text = match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) => {
                        self.val_err(
                            "workflow",
                            format!("cannot read workflow `{rel}` ({}): {e}", path.display()),
                            None,
                        );
                        return None;
                    }
                };
                match workflow::from_json_text(&text) {
                    Ok(g) => Some((g, rel.clone())),
                    Err(p) => {
                        self.workflow_problem(&path, &text, p);
                        None
                    }
                }
            }
            Some(v @ Value::Mapping(_)) => {
                let json = match workflow::yaml_to_json(v) {
                    Ok(j) => j,
                    Err(e) => {
                        self.val_err("workflow", format!("inline workflow: {e}"), None);
                        return None;
                    }
                };
                match workflow::normalise(json) {
                    Ok(g) => Some((g, "inline".into())),
                    Err(p) => {
                        self.key_err("workflow", p.message, p.help);
                        None
                    }
                }
            }
            Some(_) => {
                self.val_err(
                    "workflow",
                    "`workflow` must be a file path or an inline mapping",
                    None,
                );
                None
            }
        }
    }

    fn workflow_problem(&mut self, path: &Path, text: &str, p: workflow::WorkflowProblem) {
        match p.at {
            Some((line, col)) => {
                let d = Diagnostic::new(path, Pos { line, col }, p.message)
                    .with_help(p.help)
                    .with_source(text);
                self.diags.push(d);
            }
            None => {
                let msg = format!(
                    "{} ({})",
                    p.message,
                    super::diag::display_path(path).display()
                );
                self.val_err("workflow", msg, p.help);
            }
        }
    }

    fn overrides(&mut self, graph: &mut workflow::Graph, set: &serde_yaml_ng::Mapping) {
        for (k, v) in set {
            let Some(key) = k.as_str() else {
                self.key_err("set", "override keys must be strings like \"3.seed\"", None);
                continue;
            };
            let path = format!("set.{key}");
            let value = match workflow::yaml_to_json(v) {
                Ok(j) => j,
                Err(e) => {
                    self.val_err(&path, e, None);
                    continue;
                }
            };
            if let Err(p) = workflow::apply_override(graph, key, value) {
                self.key_err(&path, p.message, p.help);
            }
        }
    }

    fn images(&mut self, raw: Vec<super::raw::RawImage>) -> Vec<InputImage> {
        let base = self.file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut out: Vec<InputImage> = Vec::new();
        for (i, img) in raw.into_iter().enumerate() {
            if img.name.is_empty() || img.name.contains('/') || img.name.contains('\\') {
                self.val_err(
                    &format!("images.{i}.name"),
                    format!("input image name `{}` must be a plain file name", img.name),
                    None,
                );
            } else if out.iter().any(|o| o.name == img.name) {
                self.val_err(
                    &format!("images.{i}.name"),
                    format!("input image name `{}` is used twice", img.name),
                    None,
                );
            }
            let path: PathBuf = base.join(&img.path);
            if !path.is_file() {
                self.val_err(
                    &format!("images.{i}.path"),
                    format!(
                        "input image `{}` not found ({})",
                        img.path,
                        super::diag::display_path(&path).display()
                    ),
                    None,
                );
            }
            out.push(InputImage {
                name: img.name,
                path,
                inline: None,
            });
        }
        out
    }

    fn expect(&mut self, raw: RawExpect) -> Expect {
        let status = match raw.status.as_deref() {
            None => ExpectedStatus::Completed,
            Some(s) => match ExpectedStatus::ALL.iter().find(|(n, _)| *n == s) {
                Some((_, st)) => *st,
                None => {
                    let names: Vec<&str> = ExpectedStatus::ALL.iter().map(|(n, _)| *n).collect();
                    self.one_of("expect.status", s, &names);
                    ExpectedStatus::Completed
                }
            },
        };
        let error = raw.error.as_deref().and_then(|e| self.error_match(e));
        if error.is_some() && status == ExpectedStatus::Completed {
            self.key_err(
                "expect.error",
                "`expect.error` needs `expect.status: FAILED` (or TIMED_OUT / CANCELLED)",
                None,
            );
        }
        if raw.images.is_some() && status != ExpectedStatus::Completed {
            self.key_err(
                "expect.images",
                format!(
                    "`expect.images` applies only to COMPLETED jobs, not {}",
                    status.as_str()
                ),
                None,
            );
        }
        let images = self.image_expect(raw.images.unwrap_or_default());
        let warnings = match raw.warnings.as_deref() {
            None | Some("forbid") => WarningPolicy::Forbid,
            Some("allow") => WarningPolicy::Allow,
            Some(other) => {
                self.one_of("expect.warnings", other, &["forbid", "allow"]);
                WarningPolicy::Forbid
            }
        };
        Expect {
            status,
            error,
            images,
            warnings,
        }
    }

    fn error_match(&mut self, text: &str) -> Option<ErrorMatch> {
        match text.strip_prefix('/').and_then(|t| t.strip_suffix('/')) {
            Some(re) if !re.is_empty() => match regex::Regex::new(re) {
                Ok(r) => Some(ErrorMatch::Regex(r)),
                Err(e) => {
                    self.val_err(
                        "expect.error",
                        format!("`expect.error` is not a valid regex: {e}"),
                        None,
                    );
                    None
                }
            },
            _ => Some(ErrorMatch::Substring(text.to_string())),
        }
    }

    fn image_expect(&mut self, raw: RawImageExpect) -> ImageExpect {
        let count = match &raw.count {
            None => CountRange { min: 1, max: None },
            Some(v) => self.count(v),
        };
        let format = match raw.format.as_deref() {
            None => None,
            Some("png") => Some(ImageFormat::Png),
            Some("jpeg" | "jpg") => Some(ImageFormat::Jpeg),
            Some("webp") => Some(ImageFormat::Webp),
            Some(other) => {
                self.one_of("expect.images.format", other, &["png", "jpeg", "webp"]);
                None
            }
        };
        for (key, v) in [("width", raw.width), ("height", raw.height)] {
            if let Some(v) = v.filter(|v| *v == 0 || *v > MAX_SIDE) {
                self.val_err(
                    &format!("expect.images.{key}"),
                    format!("`expect.images.{key}` of {v} is outside 1..={MAX_SIDE}"),
                    None,
                );
            }
        }
        let color = raw.color.filter(|c| {
            let ok = COLORS.contains(&c.as_str());
            if !ok {
                self.one_of("expect.images.color", c, COLORS);
            }
            ok
        });
        let max_bytes = raw
            .max_bytes
            .as_ref()
            .and_then(|v| self.bytes("expect.images.max_bytes", v));
        ImageExpect {
            color,
            alpha: raw.alpha,
            max_bytes,
            count,
            format,
            width: raw.width,
            height: raw.height,
            not_blank: raw.not_blank.unwrap_or(true),
        }
    }

    /// A byte size: an integer, or a number with a unit (KB, MB, KiB, MiB, GB, B).
    fn bytes(&mut self, path: &str, v: &Value) -> Option<u64> {
        if let Some(n) = v.as_u64() {
            return Some(n);
        }
        let text = v.as_str().unwrap_or_default().trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (num, unit) = text.split_at(split);
        let mult = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => Some(1.0),
            "kb" => Some(1e3),
            "mb" => Some(1e6),
            "gb" => Some(1e9),
            "kib" => Some(1024.0),
            "mib" => Some(1024.0 * 1024.0),
            _ => None,
        };
        match (num.parse::<f64>(), mult) {
            (Ok(n), Some(m)) if n > 0.0 => Some((n * m) as u64),
            _ => {
                self.val_err(
                    path,
                    format!("`{path}` must be a size like 5000000, \"5MB\" or \"512KiB\""),
                    None,
                );
                None
            }
        }
    }

    fn count(&mut self, v: &Value) -> CountRange {
        const PATH: &str = "expect.images.count";
        let fallback = CountRange { min: 1, max: None };
        if let Some(n) = v.as_u64() {
            return match u32::try_from(n) {
                Ok(n) if n <= 4096 => CountRange {
                    min: n,
                    max: Some(n),
                },
                _ => {
                    self.val_err(
                        PATH,
                        format!("image count {n} is not plausible (at most 4096)"),
                        None,
                    );
                    fallback
                }
            };
        }
        match serde_yaml_ng::from_value::<RawCount>(v.clone()) {
            Ok(RawCount { min, max }) => {
                let r = CountRange {
                    min: min.unwrap_or(0),
                    max,
                };
                if r.max.is_some_and(|m| m < r.min) {
                    self.val_err(
                        PATH,
                        format!("count max {} is below min {}", r.max.unwrap_or(0), r.min),
                        None,
                    );
                }
                r
            }
            Err(e) => {
                self.val_err(
                    PATH,
                    format!("`{PATH}` must be a number or {{min, max}}: {e}"),
                    Some("e.g. `count: 1` or `count: {min: 1, max: 4}`".into()),
                );
                fallback
            }
        }
    }

    fn snapshot(&mut self, raw: RawSnapshot) -> SnapshotSpec {
        let compare = match raw.compare.as_deref() {
            None | Some("off") => CompareMode::Off,
            Some("exact") => CompareMode::Exact,
            Some("perceptual") => CompareMode::Perceptual,
            Some(other) => {
                self.one_of("snapshot.compare", other, &["off", "exact", "perceptual"]);
                CompareMode::Off
            }
        };
        let max_distance = raw.max_distance.unwrap_or(DEFAULT_MAX_DISTANCE);
        if max_distance > 64 {
            self.val_err(
                "snapshot.max_distance",
                format!("max_distance {max_distance} is above 64, the hash length in bits"),
                None,
            );
        }
        let min_similarity = raw.min_similarity.unwrap_or(DEFAULT_MIN_SIMILARITY);
        if !(0.0..=1.0).contains(&min_similarity) {
            self.val_err(
                "snapshot.min_similarity",
                format!("min_similarity {min_similarity} is outside 0..=1"),
                None,
            );
        }
        SnapshotSpec {
            compare,
            max_distance,
            min_similarity,
        }
    }

    fn budget(&mut self, raw: RawBudget) -> Budget {
        let mut one = |key: &str, v: Option<String>| {
            v.and_then(|t| self.duration(&format!("budget.{key}"), &t))
        };
        Budget {
            queue: one("queue", raw.queue),
            execution: one("execution", raw.execution),
            total: one("total", raw.total),
        }
    }
}

/// `a.b[0].c` (serde_path_to_error) -> `a.b.0.c` (position index).
fn dotted(p: &str) -> String {
    let p = p.replace('[', ".").replace(']', "");
    let p = p.trim_start_matches('.');
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Parses serde's "unknown field `x`, expected one of `a`, `b`" message.
fn unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (key, tail) = rest.split_once('`')?;
    let expected = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((key.to_string(), expected))
}

fn type_help(msg: &str) -> Option<String> {
    if msg.contains("expected a sequence") {
        Some("write a list, e.g. `[a, b]`".into())
    } else if msg.contains("expected a string") {
        Some("quote the value, e.g. \"10m\"".into())
    } else {
        None
    }
}

/// Removes `key` from the mapping at `parent`; false when it cannot be found.
fn remove_path(root: &mut Value, parent: &str, key: &str) -> bool {
    let mut cur = root;
    if !parent.is_empty() {
        for seg in parent.split('.') {
            cur = match cur {
                Value::Mapping(m) => match m.get_mut(seg) {
                    Some(v) => v,
                    None => return false,
                },
                Value::Sequence(s) => match seg.parse::<usize>().ok().and_then(|i| s.get_mut(i)) {
                    Some(v) => v,
                    None => return false,
                },
                _ => return false,
            };
        }
    }
    match cur {
        Value::Mapping(m) => m.remove(key).is_some(),
        _ => false,
    }
}
