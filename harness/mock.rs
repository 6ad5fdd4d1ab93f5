//! The mock RunPod endpoint: an axum server speaking the serverless v2 API under
//! `/v2/{endpoint_id}/`, with Bearer auth, the job life cycle, health counts,
//! cancel, retry, purge, retention expiry, payload limits and injected faults.
//!
//! Each behaviour of `mocks/` is served as its own endpoint id (`/v2/cold-start/`),
//! so scenarios choose a behaviour just by their URL; the same behaviours are
//! also served as ComfyUI servers under `/comfyui/{behaviour}/` (its own API and
//! websocket), for the `comfyui` target. The same code runs embedded
//! (on its own thread and runtime, like wiremock) and standalone (`endpoint-harness
//! mock`). All state belongs to one server instance; finished jobs and their
//! files are forgotten after retention, so a long-running mock stays flat.

pub mod behaviour;
pub mod catalogue;
mod comfyui;
pub(crate) mod files;
mod manage;
mod options;
pub(crate) mod runpod;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use options::{endpoint_id, MockOptions};
use runpod::jobs::Store;
use state::Mock;

use crate::runpod::wire::RUNSYNC_LIMIT;

/// A running mock on 127.0.0.1; dropping it stops the server.
pub struct MockServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockServer {
    /// Starts on `127.0.0.1:port` (0 = any free port) on a thread with its own runtime.
    pub fn start(opts: MockOptions, port: u16) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mock-endpoint".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("mock runtime");
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("mock listener");
                    let _ = serve(listener, opts, async {
                        let _ = rx.await;
                    })
                    .await;
                });
            })?;
        Ok(MockServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v2/<id>`
    pub fn endpoint_url(&self, id: &str) -> String {
        format!("{}/v2/{}", self.url(), id)
    }

    /// `http://127.0.0.1:PORT/comfyui/<id>`: the behaviour as a ComfyUI server.
    pub fn comfyui_url(&self, behaviour: &str) -> String {
        format!("{}/comfyui/{}", self.url(), endpoint_id(behaviour))
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves the mock on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    opts: MockOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let base_url = format!("http://{}", listener.local_addr()?);
    axum::serve(listener, router(opts, base_url))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The mock's routes, for serving or for calling in-process.
pub fn router(opts: MockOptions, base_url: String) -> Router {
    use runpod::routes::*;
    let store = Arc::new(Store::new(opts.speed, opts.min_retention));
    let runs = Arc::new(runpod::clock::Runs::new(opts.speed));
    // Submissions evict as they come; this also frees a server gone quiet. It
    // holds the store weakly and ends with it.
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        let weak = Arc::downgrade(&store);
        rt.spawn(async move {
            loop {
                let Some(store) = weak.upgrade() else { return };
                let every = store.eviction_interval();
                drop(store);
                tokio::time::sleep(every).await;
                match weak.upgrade() {
                    Some(store) => store.maybe_evict(),
                    None => return,
                }
            }
        });
    }
    let mock = Arc::new(Mock {
        opts,
        store,
        base_url,
        seen: Mutex::default(),
        stats: Mutex::default(),
        comfy: comfyui::exec::Face::default(),
        manage: manage::registry::Registry::default(),
    });
    let comfy = Router::new()
        .route("/prompt", post(comfyui::prompt))
        .route("/ws", get(comfyui::ws))
        .route("/history/{id}", get(comfyui::history))
        .route("/view", get(comfyui::view))
        .route("/upload/image", post(comfyui::upload))
        .route("/queue", get(comfyui::get_queue).post(comfyui::post_queue))
        .route("/interrupt", post(comfyui::interrupt))
        .route("/object_info", get(comfyui::object_info))
        .route("/object_info/{node}", get(comfyui::object_info_node))
        .route("/system_stats", get(comfyui::system_stats));
    Router::new()
        // The management API (REST v2) under the same base as the runtime routes.
        .route(
            "/v2/serverless",
            post(manage::routes::create).get(manage::routes::list),
        )
        .route(
            "/v2/serverless/{id}",
            get(manage::routes::get_one).delete(manage::routes::delete),
        )
        .route("/v2/serverless/{id}/workers", get(manage::routes::workers))
        .route(
            "/v2/serverless/{id}/workers/{worker}/logs",
            get(manage::evidence::logs),
        )
        .route(
            "/v2/serverless/{id}/releases",
            get(manage::evidence::releases),
        )
        .route("/v2/{endpoint}/run", post(run))
        .route("/v2/{endpoint}/runsync", post(runsync))
        .route("/v2/{endpoint}/status/{id}", get(status).post(status))
        .route(
            "/v2/{endpoint}/status-sync/{id}",
            get(status_sync).post(status_sync),
        )
        .route("/v2/{endpoint}/cancel/{id}", post(cancel))
        .route("/v2/{endpoint}/retry/{id}", post(retry))
        .route("/v2/{endpoint}/purge-queue", post(purge))
        .route("/v2/{endpoint}/health", get(health))
        .route("/s3/{*key}", get(download))
        .route("/_mock/stats", get(runpod::stats::stats))
        .nest("/comfyui/{endpoint}", comfy)
        // RunPod refuses /runsync bodies over 20 MB; the route handlers apply 10 MB to /run.
        .layer(DefaultBodyLimit::max(RUNSYNC_LIMIT + 1))
        // A load run's virtual instant (`X-Harness-Sim`), for every route.
        .layer(axum::middleware::from_fn(move |req, next| {
            runpod::clock::layer(runs.clone(), req, next)
        }))
        .with_state(mock)
}
