//! The `endpoint-harness` command: lint scenarios (`check`) and serve the mock
//! endpoint standalone (`mock`). Running the suite is `cargo test --test scenarios`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use endpoint_harness::mock::behaviour::Catalogue;
use endpoint_harness::mock::{self, MockOptions};
use endpoint_harness::scenario::load;

#[derive(Parser)]
#[command(
    name = "endpoint-harness",
    version,
    about = "Regression tests for RunPod serverless ComfyUI endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scenario suite, like `cargo test --test scenarios` but without cargo.
    /// Arguments after `--` are libtest's (filters, --exact, --list, --test-threads, ...).
    Run {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Lint scenario files without running anything; exit 1 on any error.
    Check {
        /// Scenario folder or file (default: $HARNESS_SCENARIOS or scenarios/).
        path: Option<PathBuf>,
    },
    /// Review reference snapshots: pending candidates, orphans, tolerances.
    Snapshots {
        #[command(subcommand)]
        action: SnapshotAction,
        /// Reference folder (default: $HARNESS_SNAPSHOT_DIR or snapshots/).
        #[arg(long, global = true)]
        dir: Option<PathBuf>,
    },
    /// Per-scenario trends from history.jsonl; exit 1 when a regression is flagged.
    Trend {
        /// The history file (default: $HARNESS_REPORTS/history.jsonl).
        #[arg(long)]
        history: Option<PathBuf>,
        /// Earlier runs whose median is the baseline.
        #[arg(long, default_value_t = 5)]
        baseline_runs: usize,
        /// Flag a latency (total p95, execution) above baseline x this.
        #[arg(long, default_value_t = 1.5)]
        latency_ratio: f64,
        /// Flag a snapshot similarity below baseline minus this.
        #[arg(long, default_value_t = 0.02)]
        similarity_drop: f64,
        /// Exit 0 even when something is flagged (report only).
        #[arg(long)]
        no_fail: bool,
    },
    /// Scaffold a scenario from an exported (API-format) workflow.
    New {
        /// Scenario name, e.g. `sdxl/portrait` (becomes scenarios/sdxl/portrait.yaml).
        name: String,
        /// The workflow exported with Workflow > Export (API).
        #[arg(long)]
        workflow: PathBuf,
        /// Scenario folder (default: $HARNESS_SCENARIOS or scenarios/).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
    /// Convert a RunPod Hub tests.json into scenario files.
    ImportHub {
        /// The Hub test file (e.g. .runpod/tests.json).
        tests: PathBuf,
        /// Folder for the scenarios (workflows/ and fixtures/ go beside them).
        #[arg(long, default_value = "scenarios/hub")]
        out: PathBuf,
    },
    /// Print a JSON Schema: `scenario` (default), `behaviour` (mocks/*.yaml) or `report`.
    Schema {
        #[arg(default_value = "scenario", value_parser = ["scenario", "behaviour", "report"])]
        kind: String,
    },
    /// Serve the mock RunPod endpoint on 127.0.0.1 until Ctrl-C.
    Mock {
        /// Port to listen on (0 = any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// API key clients must send as `Authorization: Bearer <key>`.
        #[arg(
            long,
            env = "MOCK_API_KEY",
            default_value = "test-key",
            hide_env_values = true
        )]
        api_key: String,
        /// Behaviour served under the endpoint id given by --endpoint-id.
        #[arg(long, default_value = "default")]
        behaviour: String,
        /// Endpoint id for --behaviour (every behaviour is also served under its own name).
        #[arg(long, default_value = "my-endpoint")]
        endpoint_id: String,
        /// Simulated seconds per real second (1 = real time).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Folder of behaviour files.
        #[arg(long, default_value = "mocks")]
        mocks: PathBuf,
    },
}

#[derive(Subcommand)]
enum SnapshotAction {
    /// List candidates (`*.new`) waiting for review.
    Pending,
    /// Accept candidates: they replace the references. FILTER limits to paths containing it.
    Accept { filter: Option<String> },
    /// Reject candidates: they are deleted.
    Reject { filter: Option<String> },
    /// List references no scenario (with `snapshot.compare` on) produces; exit 1 if any.
    Orphans {
        /// Scenario folder (default: $HARNESS_SCENARIOS or scenarios/).
        #[arg(long)]
        scenarios: Option<PathBuf>,
    },
    /// Suggest tolerances from a report of scenarios run with `repeat` > 1.
    Calibrate {
        /// The report to read.
        #[arg(default_value = "reports/report.json")]
        report: PathBuf,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check { path } => check(path),
        Command::Run { args } => {
            let argv = std::iter::once("endpoint-harness run".to_string()).chain(args);
            endpoint_harness::runner::main_with(libtest_mimic::Arguments::from_iter(argv))
        }
        Command::New {
            name,
            workflow,
            dir,
            force,
        } => {
            let dir = dir.unwrap_or_else(|| env_path("HARNESS_SCENARIOS", "scenarios"));
            match endpoint_harness::scaffold::new_scenario(&dir, &name, &workflow, force) {
                Ok(files) => {
                    for f in files {
                        println!("wrote {}", f.display());
                    }
                    println!("run it: cargo test --test scenarios -- --exact {name}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::ImportHub { tests, out } => match endpoint_harness::hub::import(&tests, &out) {
            Ok((files, remarks)) => {
                for f in &files {
                    println!("wrote {}", f.display());
                }
                for r in &remarks {
                    eprintln!("note: {r}");
                }
                println!(
                    "{} scenario(s) imported from {}",
                    files.len(),
                    tests.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Command::Trend {
            history,
            baseline_runs,
            latency_ratio,
            similarity_drop,
            no_fail,
        } => {
            let path = history
                .unwrap_or_else(|| env_path("HARNESS_REPORTS", "reports").join("history.jsonl"));
            let (lines, bad) = match endpoint_harness::history::read(&path) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            if bad > 0 {
                eprintln!(
                    "warning: {bad} unreadable line(s) in {} skipped",
                    path.display()
                );
            }
            let opts = endpoint_harness::trend::Options {
                baseline_runs,
                latency_ratio,
                similarity_drop,
            };
            let trends = endpoint_harness::trend::analyse(&lines, &opts);
            print!("{}", endpoint_harness::trend::render(&trends));
            if !no_fail && trends.iter().any(|t| !t.flags.is_empty()) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Schema { kind } => {
            let schema = match kind.as_str() {
                "behaviour" => endpoint_harness::schema::behaviour(),
                "report" => endpoint_harness::schema::report(),
                _ => endpoint_harness::schema::scenario(),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).expect("schema serialises")
            );
            ExitCode::SUCCESS
        }
        Command::Snapshots { action, dir } => snapshots(action, dir),
        Command::Mock {
            port,
            api_key,
            behaviour,
            endpoint_id,
            speed,
            mocks,
        } => serve(port, api_key, behaviour, endpoint_id, speed, mocks),
    }
}

fn check(path: Option<PathBuf>) -> ExitCode {
    let root = path.unwrap_or_else(|| {
        PathBuf::from(std::env::var("HARNESS_SCENARIOS").unwrap_or_else(|_| "scenarios".into()))
    });
    let files = if root.is_file() {
        vec![root.clone()]
    } else {
        match endpoint_harness::runner::discover(&root) {
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
    let mut bad = 0;
    for f in &files {
        if let Err(diags) = load::load(f, &base) {
            bad += 1;
            eprintln!("{diags}\n");
        }
    }
    if bad > 0 {
        eprintln!("{bad} of {} scenario file(s) have errors", files.len());
        ExitCode::from(1)
    } else {
        println!("{} scenario file(s) OK", files.len());
        ExitCode::SUCCESS
    }
}

fn serve(
    port: u16,
    api_key: String,
    behaviour: String,
    endpoint_id: String,
    speed: f64,
    mocks: PathBuf,
) -> ExitCode {
    let cat = Catalogue::load(&mocks);
    for (name, err) in &cat.errors {
        eprintln!("warning: mock behaviour `{name}` is invalid: {err}");
    }
    let b = match cat.get(Some(&behaviour)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !(speed > 0.0 && speed.is_finite()) {
        eprintln!("error: --speed must be a positive number");
        return ExitCode::from(2);
    }
    let mut opts = MockOptions::from_catalogue(&cat, &api_key, speed);
    opts.endpoints.insert(endpoint_id.clone(), b);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}");
                return ExitCode::from(2);
            }
        };
        let addr = listener.local_addr().expect("bound address");
        // Install the handlers before announcing the URL: a client may signal at once.
        use tokio::signal::unix::{signal, SignalKind};
        let (mut int, mut term) = match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(i), Ok(t)) => (i, t),
            _ => {
                eprintln!("error: cannot install signal handlers");
                return ExitCode::from(2);
            }
        };
        // Written without panicking: whoever started us may have closed our stdout.
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "mock RunPod endpoint listening on http://{addr}/v2/{endpoint_id} (behaviour `{behaviour}`, speed {speed}x)");
        let others: Vec<String> = cat.behaviours.keys().map(|n| format!("/v2/{}", mock::endpoint_id(n))).collect();
        let _ = writeln!(out, "other behaviours: {}", others.join(" "));
        let _ = out.flush();
        let shutdown = async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        };
        match mock::serve(listener, opts, shutdown).await {
            Ok(()) => {
                eprintln!("mock stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        }
    })
}

fn env_path(var: &str, default: &str) -> PathBuf {
    PathBuf::from(
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.into()),
    )
}

fn snapshots(action: SnapshotAction, dir: Option<PathBuf>) -> ExitCode {
    use endpoint_harness::snapshot;
    let root = dir.unwrap_or_else(|| env_path("HARNESS_SNAPSHOT_DIR", "snapshots"));
    match action {
        SnapshotAction::Pending => {
            let p = snapshot::pending(&root);
            for f in &p {
                println!("{}", f.display());
            }
            println!("{} pending file(s)", p.len());
            ExitCode::SUCCESS
        }
        SnapshotAction::Accept { filter } => resolve(&root, filter, true),
        SnapshotAction::Reject { filter } => resolve(&root, filter, false),
        SnapshotAction::Orphans { scenarios } => {
            let scen = scenarios.unwrap_or_else(|| env_path("HARNESS_SCENARIOS", "scenarios"));
            let files = endpoint_harness::runner::discover(&scen).unwrap_or_default();
            let mut wanted = Vec::new();
            for f in &files {
                match load::load(f, &scen) {
                    Ok(s) if s.snapshot.compare != endpoint_harness::scenario::CompareMode::Off => {
                        wanted.push(s.name)
                    }
                    Ok(_) => {}
                    // A broken scenario may still own references: never call them orphans.
                    Err(_) => wanted.push(load::scenario_name(&scen, f)),
                }
            }
            let orphans = snapshot::orphans(&root, &wanted);
            for o in &orphans {
                println!("{}", o.display());
            }
            if orphans.is_empty() {
                println!("no orphan references under {}", root.display());
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "{} reference file(s) under {} belong to no scenario that compares snapshots",
                    orphans.len(),
                    root.display()
                );
                ExitCode::from(1)
            }
        }
        SnapshotAction::Calibrate { report } => calibrate(&report),
    }
}

fn resolve(root: &std::path::Path, filter: Option<String>, accept: bool) -> ExitCode {
    match endpoint_harness::snapshot::resolve_pending(root, filter.as_deref(), accept) {
        Ok(done) => {
            for f in &done {
                println!(
                    "{} {}",
                    if accept { "accepted" } else { "rejected" },
                    f.display()
                );
            }
            println!(
                "{} file(s) {}",
                done.len(),
                if accept { "accepted" } else { "rejected" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn calibrate(report: &std::path::Path) -> ExitCode {
    let text = match std::fs::read_to_string(report) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", report.display());
            return ExitCode::from(2);
        }
    };
    let parsed: endpoint_harness::model::RunReport = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {} is not a report.json: {e}", report.display());
            return ExitCode::from(2);
        }
    };
    let mut any = false;
    for s in &parsed.scenarios {
        if let Some(c) = &s.calibration {
            any = true;
            let (d, sim) = endpoint_harness::snapshot::suggest(c);
            println!(
                "{}: {} pairs, observed max distance {}, min similarity {:.4} -> suggest max_distance: {d}, min_similarity: {sim}",
                s.name, c.pairs, c.max_distance, c.min_similarity
            );
        }
    }
    if !any {
        println!("no calibration data: run scenarios with `repeat: 5` (or more) and snapshot.compare on, then calibrate");
    }
    ExitCode::SUCCESS
}
