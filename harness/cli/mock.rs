//! `endpoint-harness mock`: the mock RunPod endpoint standalone on 127.0.0.1,
//! for any client (the official runpod SDK included), until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::mock::catalogue::Catalogue;
use crate::mock::{self, MockOptions};

/// `mock`: serve the mock RunPod endpoint on 127.0.0.1 until Ctrl-C.
#[derive(clap::Args)]
pub(crate) struct MockArgs {
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
    /// Finished jobs are kept at least this long in real time, whatever the
    /// speed (then forgotten: `/status` answers 404, memory is freed).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    retention_floor: std::time::Duration,
}

impl MockArgs {
    pub(crate) fn run(self) -> ExitCode {
        serve(self)
    }
}

fn serve(args: MockArgs) -> ExitCode {
    let MockArgs {
        port,
        api_key,
        behaviour,
        endpoint_id,
        speed,
        mocks,
        retention_floor,
    } = args;
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
    opts.min_retention = retention_floor;
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
