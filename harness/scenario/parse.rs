//! Loading one scenario file: YAML -> raw serde structs -> validated [`Scenario`].
//!
//! Every problem becomes a [`Diagnostic`] at `file:line:column`; the loader keeps
//! going after the first one so a user fixes a file in one pass. Unknown keys get
//! "did you mean" from the list serde itself reports as expected.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::diag::{Diagnostic, Diagnostics};
use super::positions::{Pos, PositionIndex};
use super::raw::RawScenario;
use super::*;
use crate::comfyui::inventory::Inventory;
use crate::scenario::workflow;
use crate::text::did_you_mean;
use help::{
    dotted, join, nearby_file, plain_types, type_help, unknown_field, yaml_help, DURATION_FIELDS,
};

mod expect;
mod help;
mod inventory;
mod load_block;
mod video;

/// RunPod keeps `/run` results this long; a longer timeout is warned about.
const RESULT_RETENTION: Duration = Duration::from_secs(30 * 60);
/// RunPod's own ceiling for a job's life (`policy.ttl`, `executionTimeout`).
const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);

/// What loading may use besides the file itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions<'a> {
    /// The node inventory of the target: with it a UI-format save is converted
    /// to the API format (as the ComfyUI frontend's Export (API) does).
    pub inventory: Option<&'a Inventory>,
    /// Validate each graph against `inventory` as ComfyUI would, reporting
    /// each error at the scenario's `workflow:` (or the `set:` key that put
    /// the value there). Scenarios that expect a failure are not preflighted:
    /// a refusal may be what they test.
    pub preflight: bool,
}

/// Loads and validates the scenario at `file`; `root` is the scenario folder (for the name).
pub fn load(file: &Path, root: &Path) -> Result<Scenario, Diagnostics> {
    load_with(file, root, LoadOptions::default())
}

/// Like [`load()`], with an inventory to convert UI-format saves and to preflight with.
pub fn load_with(file: &Path, root: &Path, opts: LoadOptions<'_>) -> Result<Scenario, Diagnostics> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Diagnostics(vec![Diagnostic::new(
            file,
            Pos { line: 1, col: 1 },
            format!("cannot read scenario: {e}"),
        )])
    })?;
    load_str_with(&text, file, root, opts)
}

/// Like [`load()`], from text already read.
pub fn load_str(text: &str, file: &Path, root: &Path) -> Result<Scenario, Diagnostics> {
    load_str_with(text, file, root, LoadOptions::default())
}

/// Like [`load_with()`], from text already read.
pub fn load_str_with(
    text: &str,
    file: &Path,
    root: &Path,
    opts: LoadOptions<'_>,
) -> Result<Scenario, Diagnostics> {
    let mut cx = Cx {
        file,
        text,
        opts,
        idx: PositionIndex::default(),
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
    crate::paths::name_under(root, file)
}

struct Cx<'a> {
    file: &'a Path,
    text: &'a str,
    opts: LoadOptions<'a>,
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
        let value = self.yaml()?;
        self.typed(value)
    }

    /// The text as one YAML mapping, or a diagnostic. The one parse also
    /// fills the position index every later diagnostic reads.
    fn yaml(&mut self) -> Option<Value> {
        let doc = match super::yaml::parse(self.text) {
            Ok(doc) => doc,
            Err(e) => {
                let mut msg = e.message;
                if msg.contains("more than one YAML document") {
                    msg = "a scenario file holds one YAML document, but this one has several (a `---` separator?)".into();
                }
                let help = yaml_help(&msg, self.text, e.pos);
                self.at(e.pos, format!("invalid YAML: {msg}"), help);
                return None;
            }
        };
        self.idx = doc.index;
        let start = Pos { line: 1, col: 1 };
        match doc.value {
            value @ Value::Object(_) => Some(value),
            Value::Null => {
                let help = Some("a scenario needs at least `workflow:`".into());
                self.at(start, "the scenario file is empty", help);
                None
            }
            _ => {
                self.at(start, "a scenario must be a YAML mapping of keys", None);
                None
            }
        }
    }

    /// The mapping as [`RawScenario`]: each unknown key is reported, removed, and the
    /// parse retried, so all typos show at once; a type error stops it.
    fn typed(&mut self, mut value: Value) -> Option<RawScenario> {
        for _ in 0..64 {
            let err = match serde_path_to_error::deserialize::<_, RawScenario>(&value) {
                Ok(raw) => return (self.diags.is_empty()).then_some(raw),
                Err(err) => err,
            };
            let parent = dotted(&err.path().to_string());
            let inner = err.into_inner().to_string();
            match unknown_field(&inner) {
                Some((key, expected)) => {
                    let parent = self.unknown_key(parent, &key, &expected);
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
                    let help = type_help(&inner, &parent);
                    let field = parent.rsplit('.').next().unwrap_or(&parent);
                    let message = if DURATION_FIELDS.contains(&field)
                        && inner.contains("expected a string")
                    {
                        format!("{shown}a duration like `30s` or `10m`, not a bare number")
                    } else {
                        format!("{shown}{}", plain_types(&inner))
                    };
                    self.val_err(&parent, message, help);
                    return None;
                }
            }
        }
        None
    }

    /// Reports unknown `key` under `parent` with "did you mean"; returns the parent path.
    fn unknown_key(&mut self, mut parent: String, key: &str, expected: &[String]) -> String {
        // serde_path_to_error may already include the unknown key itself.
        if parent == key {
            parent.clear();
        } else if let Some(p) = parent.strip_suffix(&format!(".{key}")) {
            parent = p.to_string();
        }
        let path = join(&parent, key);
        let help = did_you_mean(key, expected.iter().map(String::as_str))
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| Some(format!("expected one of: {}", expected.join(", "))));
        self.key_err(&path, format!("unknown key `{path}`"), help);
        parent
    }

    fn validate(&mut self, raw: RawScenario, name: String) -> Option<Scenario> {
        let tags = self.words(raw.tags.unwrap_or_default(), "tags");
        let requires = self.words(raw.requires.unwrap_or_default(), "requires");
        let (mut graph, workflow_source) = self.workflow(raw.workflow.as_ref())?;
        let set_by = match &raw.set {
            Some(set) => self.overrides(&mut graph, set),
            None => Vec::new(),
        };
        let images = self.images(raw.images.unwrap_or_default());
        let (mode, timeout, warnings) =
            self.submission(raw.mode.as_deref(), raw.timeout.as_deref());
        let expect = self.expect(raw.expect.unwrap_or_default());
        if self.opts.preflight && expect.status == ExpectedStatus::Completed {
            self.preflight(&graph, &images, &set_by);
        }
        let snapshot = self.snapshot(raw.snapshot);
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
            self.mock_name(m);
        }
        let targets = raw.targets.unwrap_or_default();
        for (i, t) in targets.iter().enumerate() {
            if !TARGET_KINDS.contains(&t.as_str()) {
                self.one_of(&format!("targets.{i}"), t, TARGET_KINDS);
            }
        }
        let load = raw.load.and_then(|l| self.load(l, repeat));
        let allow_unchecked = self.allow_unchecked(raw.allow_unchecked.unwrap_or_default());
        Some(Scenario {
            allow_unchecked,
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
            targets,
            load,
            warnings,
        })
    }

    /// `allow_unchecked:` values.
    fn allow_unchecked(&mut self, words: Vec<String>) -> Vec<crate::scenario::Unchecked> {
        use crate::scenario::Unchecked;
        let mut out = Vec::new();
        for (i, w) in words.iter().enumerate() {
            match Unchecked::ALL.iter().find(|(_, s)| s == w) {
                Some((u, _)) if !out.contains(u) => out.push(*u),
                Some(_) => {}
                None => {
                    let names: Vec<&str> = Unchecked::ALL.iter().map(|(_, s)| *s).collect();
                    self.val_err(
                        &format!("allow_unchecked.{i}"),
                        format!("allow_unchecked: `{w}` is not a check that can go unchecked"),
                        Some(format!("one of: {}", names.join(", "))),
                    );
                }
            }
        }
        out
    }

    /// `mode` and `timeout`, with the retention warning a long async timeout earns.
    fn submission(
        &mut self,
        mode: Option<&str>,
        timeout: Option<&str>,
    ) -> (Mode, Duration, Vec<String>) {
        let mode = match mode {
            None | Some("async") => Mode::Async,
            Some("sync") => Mode::Sync,
            Some(other) => {
                self.one_of("mode", other, &["async", "sync"]);
                Mode::Async
            }
        };
        let timeout = timeout
            .and_then(|t| self.duration("timeout", t))
            .unwrap_or(DEFAULT_TIMEOUT);
        let mut warnings = Vec::new();
        if timeout > RESULT_RETENTION && mode == Mode::Async {
            warnings.push(format!(
                "timeout {} is longer than RunPod's 30-minute result retention after /run: a result that waits longer than that is deleted and /status answers 404",
                humantime::format_duration(timeout)
            ));
        }
        (mode, timeout, warnings)
    }

    /// `mock:` must name a behaviour file under `mocks/`, nothing outside it.
    fn mock_name(&mut self, m: &str) {
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

    fn words(&mut self, items: Vec<String>, key: &str) -> Vec<String> {
        for (i, t) in items.iter().enumerate() {
            if t.is_empty()
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                self.val_err(
                    &format!("{key}.{i}"),
                    format!("`{t}` in `{key}` must be one word of ASCII letters, digits, `-`, `_` or `.` (no spaces, no accented letters)"),
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
                    format!(
                        "`{path}`: `{text}` is not a duration: {}",
                        crate::text::duration_error(text, &e)
                    ),
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
                        let help = nearby_file(&path).map(|f| {
                            let written = match rel.rsplit_once('/') {
                                Some((dir, _)) => format!("{dir}/{f}"),
                                None => f,
                            };
                            format!("did you mean `{written}`?")
                        });
                        self.val_err(
                            "workflow",
                            format!("cannot read workflow `{rel}` ({}): {e}", path.display()),
                            help,
                        );
                        return None;
                    }
                };
                match workflow::from_json_text(&text, self.opts.inventory) {
                    Ok(g) => Some((g, rel.clone())),
                    Err(p) => {
                        self.workflow_problem(&path, &text, p);
                        None
                    }
                }
            }
            Some(v @ Value::Object(_)) => {
                match workflow::normalise(v.clone(), self.opts.inventory) {
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
                    crate::paths::display_path(path).display()
                );
                self.val_err("workflow", msg, p.help);
            }
        }
    }

    /// Applies `set:`; returns which `(node id, input)` each key set, for preflight positions.
    fn overrides(
        &mut self,
        graph: &mut workflow::Graph,
        set: &serde_json::Map<String, Value>,
    ) -> Vec<((String, String), String)> {
        let mut set_by = Vec::new();
        let inv: Option<&Inventory> = match self.opts.inventory {
            Some(i) => Some(i),
            None => crate::comfyui::inventory::set_types::core(),
        };
        for (key, value) in set {
            let path = format!("set.{key}");
            match workflow::apply_override(graph, key, value.clone()) {
                Ok(target) => {
                    let class = graph
                        .get(&target.0)
                        .and_then(|n| n.get("class_type"))
                        .and_then(Value::as_str);
                    if let (Some(inv), Some(class)) = (inv, class) {
                        if let Some((why, help)) = crate::comfyui::inventory::set_types::mismatch(
                            inv, class, &target.1, value,
                        ) {
                            self.val_err(&path, why, Some(help.into()));
                        }
                    }
                    set_by.push((target, path))
                }
                Err(p) => self.key_err(&path, p.message, p.help),
            }
        }
        set_by
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
                        crate::paths::display_path(&path).display()
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
}

/// `a.b[0].c` (serde_path_to_error) -> `a.b.0.c` (position index).
/// What `targets:` may name.
const TARGET_KINDS: &[&str] = &["mock", "live", "local", "comfyui"];

/// Removes `key` from the mapping at `parent`; false when it cannot be found.
fn remove_path(root: &mut Value, parent: &str, key: &str) -> bool {
    let mut cur = root;
    if !parent.is_empty() {
        for seg in parent.split('.') {
            cur = match cur {
                Value::Object(m) => match m.get_mut(seg) {
                    Some(v) => v,
                    None => return false,
                },
                Value::Array(s) => match seg.parse::<usize>().ok().and_then(|i| s.get_mut(i)) {
                    Some(v) => v,
                    None => return false,
                },
                _ => return false,
            };
        }
    }
    match cur {
        Value::Object(m) => m.remove(key).is_some(),
        _ => false,
    }
}
