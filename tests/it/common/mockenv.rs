//! Starting a mock with inline behaviours, and talking to it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use endpoint_harness::mock::behaviour::Behaviour;
use endpoint_harness::mock::{MockOptions, MockServer};

pub const KEY: &str = "mock-test-key-0123456789";

/// A mock serving each `(endpoint id, behaviour yaml)` at `speed`.
pub fn mock_with(behaviours: &[(&str, &str)], speed: f64, min_retention: Duration) -> MockServer {
    let endpoints: BTreeMap<String, Arc<Behaviour>> = behaviours
        .iter()
        .map(|(id, yaml)| (id.to_string(), Arc::new(Behaviour::parse(yaml).unwrap())))
        .collect();
    MockServer::start(
        MockOptions {
            api_key: KEY.into(),
            endpoints,
            speed,
            min_retention,
        },
        0,
    )
    .unwrap()
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `/_mock/stats` of a mock.
pub async fn stats(server: &MockServer) -> serde_json::Value {
    get_json(&format!("{}/_mock/stats", server.url())).await
}

/// An authorised GET of a mock route (RunPod, management or ComfyUI face), as JSON.
pub async fn get_json(url: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A tiny valid workflow that saves one `w`x`h` image.
pub fn workflow(w: u32, h: u32) -> serde_json::Value {
    serde_json::json!({
        "3": {"class_type": "KSampler", "inputs": {"seed": 5}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": w, "height": h, "batch_size": 1}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}}
    })
}

pub fn body(w: u32, h: u32) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"input": {"workflow": workflow(w, h)}})).unwrap()
}
