//! The `endpoint-harness` command: run the suite without cargo (`run`), lint
//! scenarios (`check`), scaffold and import them (`new`, `import-hub`), review
//! references (`snapshots`), read trends (`trend`), print schemas (`schema`),
//! serve the mock endpoint standalone (`mock`), save a ComfyUI's node
//! inventory (`inventory`) and convert UI-format saves (`convert`), build and
//! merge reports (`report`), compare two runs (`compare`), test a worker image
//! on a throwaway endpoint (`provision`). One file
//! per subcommand (or pair).

mod check;
mod comfy;
mod common;
mod compare;
pub(crate) mod docs;
mod mock;
mod provision;
mod report;
mod review;
mod run;
mod scaffold;
mod snapshots;
mod trend;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `--version`: the release and the commit it was built from, so a CI log
/// says exactly which build judged the endpoint.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ENDPOINT_HARNESS_BUILD_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "endpoint-harness",
    version = VERSION,
    about = "Regression tests for RunPod serverless ComfyUI endpoints"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scenario suite, like `cargo test --test scenarios` but without cargo;
    /// flags mirror the environment variables, arguments after `--` are libtest's.
    Run(run::RunArgs),
    /// Lint scenario files without running anything; exit 1 on any error.
    Check(check::CheckArgs),
    /// Review reference snapshots: pending candidates, orphans, tolerances.
    Snapshots(snapshots::SnapshotsArgs),
    /// Review pending candidates in a browser (a page on 127.0.0.1): expected,
    /// actual and diff, figures, fingerprints and class; accept or reject each.
    Review(review::ReviewArgs),
    /// Per-scenario trends from history.jsonl; exit 1 when a regression is flagged.
    Trend(trend::TrendArgs),
    /// Make a folder ready: a starter scenario, a .gitignore and a CI workflow.
    Init(scaffold::InitArgs),
    /// Scaffold a scenario from an exported (API-format) workflow.
    New(scaffold::NewArgs),
    /// Convert a RunPod Hub tests.json into scenario files.
    ImportHub(scaffold::ImportHubArgs),
    /// Print a JSON Schema: `scenario` (default), `behaviour` (mocks/*.yaml) or `report`;
    /// `--out DIR` writes all three files instead (as in `schemas/`).
    Schema {
        #[arg(default_value = "scenario", value_parser = ["scenario", "behaviour", "report"])]
        kind: String,
        /// Write `scenario.schema.json`, `mock-behaviour.schema.json` and
        /// `report.schema.json` into this folder.
        #[arg(short, long = "out", alias = "write", value_name = "DIR")]
        write: Option<std::path::PathBuf>,
    },
    /// Serve the mock RunPod endpoint on 127.0.0.1 until Ctrl-C.
    Mock(mock::MockArgs),
    /// Save a ComfyUI's node inventory (`/object_info`) for `check --inventory`,
    /// `HARNESS_INVENTORY` and `convert`.
    Inventory(comfy::InventoryArgs),
    /// Convert a UI-format workflow save to the API format, as ComfyUI's
    /// Export (API) does; prints the graph.
    Convert(comfy::ConvertArgs),
    /// Build a nextest run's reports from its fragments, or merge shards into one report.
    Report(report::ReportArgs),
    /// Compare two report folders (two endpoints, two worker images, two nights);
    /// exit 1 when the candidate regressed.
    Compare(compare::CompareArgs),
    /// Run the suite on a throwaway endpoint created from a worker image, then
    /// delete it; `provision cleanup` deletes what killed runs left.
    Provision(provision::ProvisionArgs),
    /// Write the book's generated reference pages (environment, commands,
    /// scenario and behaviour fields, report.json); `--check` only compares.
    Docs(docs::DocsArgs),
}

/// Spellings renamed for one convention (`-o/--out` for what a command writes;
/// a folder it reads named as `run` and the variables name it), still accepted
/// for a release: (subcommand, old, new).
const RENAMED: &[(&str, &str, &str)] = &[
    ("schema", "--write", "--out"),
    ("snapshots", "--dir", "--snapshot-dir"),
    ("new", "--dir", "--scenarios"),
];

/// A note for each old spelling in `args`.
fn deprecations(args: &[String]) -> Vec<String> {
    let Some(sub) = args.get(1) else {
        return Vec::new();
    };
    RENAMED
        .iter()
        .filter(|(s, old, _)| {
            s == sub
                && args
                    .iter()
                    .any(|a| a == old || a.starts_with(&format!("{old}=")))
        })
        .map(|(s, old, new)| {
            format!(
                "note: `{s} {old}` is now `{s} {new}`; `{old}` will be removed in the next release"
            )
        })
        .collect()
}

/// Runs the command line given to the process.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    for note in deprecations(&args) {
        eprintln!("{note}");
    }
    match Cli::parse().command {
        Command::Run(a) => a.run(),
        Command::Check(a) => a.run(),
        Command::Snapshots(a) => a.run(),
        Command::Review(a) => a.run(),
        Command::Trend(a) => a.run(),
        Command::Init(a) => a.run(),
        Command::New(a) => a.run(),
        Command::ImportHub(a) => a.run(),
        Command::Schema { kind, write } => schema(&kind, write.as_deref()),
        Command::Mock(a) => a.run(),
        Command::Inventory(a) => a.run(),
        Command::Convert(a) => a.run(),
        Command::Report(a) => a.run(),
        Command::Compare(a) => a.run(),
        Command::Provision(a) => a.run(),
        Command::Docs(a) => a.run(<Cli as clap::CommandFactory>::command()),
    }
}

fn schema(kind: &str, write: Option<&std::path::Path>) -> ExitCode {
    let text = |v: serde_json::Value| {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&v).expect("schema serialises")
        )
    };
    let Some(dir) = write else {
        let v = match kind {
            "behaviour" => crate::tools::schema::behaviour(),
            "report" => crate::tools::schema::report(),
            _ => crate::tools::schema::scenario(),
        };
        print!("{}", text(v));
        return ExitCode::SUCCESS;
    };
    let files = [
        ("scenario.schema.json", crate::tools::schema::scenario()),
        (
            "mock-behaviour.schema.json",
            crate::tools::schema::behaviour(),
        ),
        ("report.schema.json", crate::tools::schema::report()),
    ];
    for (name, v) in files {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, text(v)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(1);
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
