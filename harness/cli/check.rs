//! `endpoint-harness check`: every scenario loaded and validated offline, every
//! diagnostic printed with `file:line:col`; exit 1 if any file is bad. With a
//! node inventory (`--inventory`), every graph is also preflighted as ComfyUI
//! would validate it, and UI-format saves are converted. `--format json`
//! prints the same findings for machines; under GitHub Actions
//! (`GITHUB_ACTIONS=true`) each is also a workflow annotation, so a bad
//! scenario is marked on its file and line in the pull request.

use std::path::PathBuf;
use std::process::ExitCode;

use super::common::env_path;
use crate::comfyui::inventory::Inventory;
use crate::scenario::{parse, Diagnostic, ExpectedStatus};

/// How findings are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Diagnostics with their source line and caret, on stderr.
    Text,
    /// One JSON document on stdout: files, errors, warnings (`file`, `line`, `col`, `message`, `help`).
    Json,
}

/// `check [PATH]`: lint scenario files without running anything; exit 1 on any error.
#[derive(clap::Args)]
pub(crate) struct CheckArgs {
    /// Scenario folder or file (default: $HARNESS_SCENARIOS or scenarios/).
    path: Option<PathBuf>,
    /// The target's node inventory (`endpoint-harness inventory --comfyui URL`):
    /// preflight every graph against it as ComfyUI would.
    #[arg(long, env = "HARNESS_INVENTORY", value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// `text` (default) or `json` (one document on stdout, for tools).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

impl CheckArgs {
    pub(crate) fn run(self) -> ExitCode {
        let inventory = match self.inventory.as_deref().map(Inventory::load).transpose() {
            Ok(inv) => inv,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let github = crate::settings::Env::process()
            .get("GITHUB_ACTIONS")
            .is_some_and(|v| v == "true");
        check(self.path, inventory.as_ref(), self.format, github)
    }
}

/// One finding: an error from a file that does not load, or a warning from one that does.
#[derive(serde::Serialize)]
struct Finding {
    file: String,
    line: Option<usize>,
    col: Option<usize>,
    severity: &'static str,
    message: String,
    help: Option<String>,
}

impl Finding {
    fn error(d: &Diagnostic) -> Self {
        Finding {
            file: crate::paths::slashed(&d.file),
            line: Some(d.line),
            col: Some(d.col),
            severity: "error",
            message: d.message.clone(),
            help: d.help.clone(),
        }
    }

    /// A workflow command (`::error file=…,line=…::message`), escaped as the runner expects.
    fn annotation(&self) -> String {
        let mut props = format!("file={}", property(&self.file));
        if let (Some(l), Some(c)) = (self.line, self.col) {
            props.push_str(&format!(",line={l},col={c}"));
        }
        props.push_str(",title=endpoint-harness check");
        let mut text = self.message.clone();
        if let Some(h) = &self.help {
            text.push_str(&format!("\nhelp: {h}"));
        }
        format!("::{} {props}::{}", self.severity, data(&text))
    }
}

/// The escaping of a workflow command's message.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The escaping of a workflow command's property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The JSON document of `--format json`.
#[derive(serde::Serialize)]
struct Summary<'a> {
    files: usize,
    bad_files: usize,
    preflighted_against: Option<usize>,
    findings: &'a [Finding],
}

fn check(
    path: Option<PathBuf>,
    inventory: Option<&Inventory>,
    format: Format,
    github: bool,
) -> ExitCode {
    let root = path.unwrap_or_else(|| env_path("HARNESS_SCENARIOS", "scenarios"));
    let files = if root.is_file() {
        vec![root.clone()]
    } else {
        match crate::run::discover(&root) {
            Ok(f) if !f.is_empty() => f,
            Ok(_) => {
                eprintln!(
                    "error: no scenario files (*.yaml) found under {}",
                    root.display()
                );
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let base = if root.is_file() {
        root.parent().map(PathBuf::from).unwrap_or_default()
    } else {
        root.clone()
    };
    let opts = parse::LoadOptions {
        inventory,
        preflight: inventory.is_some(),
    };
    let mut bad = 0;
    let mut negative = 0;
    let mut findings = Vec::new();
    for f in &files {
        match parse::load_with(f, &base, opts) {
            Err(diags) => {
                bad += 1;
                if format == Format::Text {
                    eprintln!("{diags}\n");
                }
                findings.extend(diags.0.iter().map(Finding::error));
            }
            Ok(s) => {
                if s.expect.status != ExpectedStatus::Completed {
                    negative += 1;
                }
                findings.extend(s.warnings.iter().map(|w| Finding {
                    file: crate::paths::slashed(&crate::paths::display_path(f)),
                    line: None,
                    col: None,
                    severity: "warning",
                    message: w.clone(),
                    help: None,
                }));
            }
        }
    }
    if github {
        // Workflow commands are read from the step's output; with `--format
        // json` they go to stderr so stdout stays one JSON document.
        for a in findings.iter().map(Finding::annotation) {
            match format {
                Format::Text => println!("{a}"),
                Format::Json => eprintln!("{a}"),
            }
        }
    }
    if format == Format::Json {
        let summary = Summary {
            files: files.len(),
            bad_files: bad,
            preflighted_against: inventory.map(Inventory::len),
            findings: &findings,
        };
        match serde_json::to_string_pretty(&summary) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
        return if bad > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        };
    }
    let against = match inventory {
        Some(inv) if negative > 0 => format!(
            ", preflighted against {} node types ({negative} expecting a failure were not)",
            inv.len()
        ),
        Some(inv) => format!(", preflighted against {} node types", inv.len()),
        None => String::new(),
    };
    if bad > 0 {
        eprintln!(
            "{bad} of {} scenario file(s) have errors{against}",
            files.len()
        );
        ExitCode::from(1)
    } else {
        println!("{} scenario file(s) OK{against}", files.len());
        ExitCode::SUCCESS
    }
}
