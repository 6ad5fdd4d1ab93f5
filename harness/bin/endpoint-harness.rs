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
    /// Lint scenario files without running anything; exit 1 on any error.
    Check {
        /// Scenario folder or file (default: $HARNESS_SCENARIOS or scenarios/).
        path: Option<PathBuf>,
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

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check { path } => check(path),
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
        // Written without panicking: whoever started us may have closed our stdout.
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "mock RunPod endpoint listening on http://{addr}/v2/{endpoint_id} (behaviour `{behaviour}`, speed {speed}x)");
        let others: Vec<String> = cat.behaviours.keys().map(|n| format!("/v2/{}", mock::endpoint_id(n))).collect();
        let _ = writeln!(out, "other behaviours: {}", others.join(" "));
        let _ = out.flush();
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
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
