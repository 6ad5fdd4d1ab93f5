//! The mock speaks RunPod's v2 API: routes, auth, life cycle, limits, retention.
//! Each test fails if the mock mishandles the corner case it names.

use std::time::Duration;

use crate::common::mockenv::{body, get_json, mock_with, rt, stats, KEY};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SLOW: &str = "queue: 20s\nexecution: 20s\n";

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(server: &endpoint_harness::mock::MockServer, id: &str) -> Self {
        Api {
            http: reqwest::Client::new(),
            base: server.endpoint_url(id),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(KEY);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, body: Option<Vec<u8>>) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, body).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
}

#[test]
fn job_life_cycle_reports_declared_times() {
    // 10 ms of queue and 20 ms of execution at speed 1000 = 10 s and 20 s declared.
    let server = mock_with(
        &[("ep", "queue: 10s\nexecution: 20s\n")],
        1000.0,
        Duration::from_secs(30),
    );
    let api = Api::new(&server, "ep");
    rt().block_on(async {
        let (code, run) = api.post("/run", Some(body(64, 64))).await;
        assert_eq!(code, 200);
        assert_eq!(run["status"], "IN_QUEUE");
        let id = run["id"].as_str().unwrap().to_string();
        assert!(id.ends_with("-u1"), "{id}");
        let (_, first) = api.get(&format!("/status/{id}")).await;
        assert_eq!(first["status"], "IN_QUEUE");
        let mut seen = vec![first["status"].as_str().unwrap().to_string()];
        let done = loop {
            tokio::time::sleep(Duration::from_millis(2)).await;
            let (_, s) = api.get(&format!("/status/{id}")).await;
            let st = s["status"].as_str().unwrap().to_string();
            if seen.last() != Some(&st) {
                seen.push(st.clone());
            }
            if st == "COMPLETED" {
                break s;
            }
        };
        assert_eq!(seen, ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
        assert_eq!(done["delayTime"], 10_000);
        assert_eq!(done["executionTime"], 20_000);
        assert!(done["workerId"].is_string());
        assert_eq!(done["output"]["images"][0]["type"], "base64");
        // POST /status works too (older docs and the Go SDK use it).
        let (code, again) = api.post(&format!("/status/{id}"), None).await;
        assert_eq!(
            (code, &again["status"]),
            (StatusCode::OK, &json!("COMPLETED"))
        );
    });
}

#[test]
fn auth_unknown_endpoint_and_unknown_job() {
    let server = mock_with(&[("ep", "{}")], 1000.0, Duration::from_secs(30));
    rt().block_on(async {
        let http = reqwest::Client::new();
        let url = format!("{}/run", server.endpoint_url("ep"));
        let none = http.post(&url).body(body(8, 8)).send().await.unwrap();
        assert_eq!(none.status(), 401);
        let wrong = http
            .post(&url)
            .bearer_auth("nope")
            .body(body(8, 8))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let (code, _) = Api::new(&server, "other")
            .post("/run", Some(body(8, 8)))
            .await;
        assert_eq!(code, 404);
        let (code, _) = Api::new(&server, "ep").get("/status/no-such-job").await;
        assert_eq!(code, 404);
    });
}

#[test]
fn runsync_returns_non_terminal_after_wait_and_status_sync_long_polls() {
    let server = mock_with(
        &[("ep", "queue: 0s\nexecution: 2s\n")],
        1.0,
        Duration::from_secs(30),
    );
    let api = Api::new(&server, "ep");
    rt().block_on(async {
        let t = std::time::Instant::now();
        let (_, r) = api.post("/runsync?wait=1000", Some(body(16, 16))).await;
        assert_eq!(r["status"], "IN_PROGRESS", "{r}");
        assert!(t.elapsed() >= Duration::from_millis(950));
        let id = r["id"].as_str().unwrap().to_string();
        assert!(id.starts_with("sync-"));
        let (_, s) = api.get(&format!("/status-sync/{id}?wait=5000")).await;
        assert_eq!(s["status"], "COMPLETED");
        assert!(
            t.elapsed() < Duration::from_millis(3500),
            "long poll answered as soon as the job ended"
        );
    });
}

#[test]
fn cancel_purge_health_and_retry() {
    let server = mock_with(
        &[
            ("slow", SLOW),
            (
                "fail",
                "status: FAILED\nerror: boom\nqueue: 0s\nexecution: 0s\n",
            ),
            ("stuck", "stuck: true\n"),
        ],
        1000.0,
        Duration::from_secs(30),
    );
    rt().block_on(async {
        let slow = Api::new(&server, "slow");
        let (_, a) = slow.post("/run", Some(body(8, 8))).await;
        let (_, b) = slow.post("/run", Some(body(8, 8))).await;
        let (_, c) = slow.post("/run", Some(body(8, 8))).await;
        let (_, h) = slow.get("/health").await;
        assert_eq!(h["jobs"]["inQueue"], 3, "{h}");
        let (_, cancelled) = slow
            .post(&format!("/cancel/{}", a["id"].as_str().unwrap()), None)
            .await;
        assert_eq!(cancelled["status"], "CANCELLED");
        let (_, purged) = slow.post("/purge-queue", None).await;
        assert_eq!(purged, json!({"removed": 2, "status": "completed"}));
        let (code, _) = slow
            .get(&format!("/status/{}", b["id"].as_str().unwrap()))
            .await;
        assert_eq!(code, 404, "purged jobs are gone");
        let _ = c;
        let (_, h) = slow.get("/health").await;
        assert_eq!(h["jobs"]["inQueue"], 0);
        for k in [
            "idle",
            "running",
            "initializing",
            "ready",
            "throttled",
            "unhealthy",
        ] {
            assert!(h["workers"][k].is_number(), "workers.{k} in {h}");
        }

        let fail = Api::new(&server, "fail");
        let (_, f) = fail.post("/run", Some(body(8, 8))).await;
        let id = f["id"].as_str().unwrap().to_string();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (_, s) = fail.get(&format!("/status/{id}")).await;
        assert_eq!(
            (s["status"].as_str(), s["error"].as_str()),
            (Some("FAILED"), Some("boom"))
        );
        let (code, r) = fail.post(&format!("/retry/{id}"), None).await;
        assert_eq!((code, &r["status"]), (StatusCode::OK, &json!("IN_QUEUE")));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (_, h) = fail.get("/health").await;
        assert_eq!(h["jobs"]["retried"], 1);

        let (_, done) = Api::new(&server, "slow")
            .post(&format!("/retry/{}", a["id"].as_str().unwrap()), None)
            .await;
        assert!(done["error"]
            .as_str()
            .unwrap()
            .contains("cannot be retried"));

        let stuck = Api::new(&server, "stuck");
        stuck.post("/run", Some(body(8, 8))).await;
        let (_, h) = stuck.get("/health").await;
        assert_eq!(h["workers"]["idle"], 0);
        assert_eq!(h["workers"]["running"], 0);
        assert_eq!(h["jobs"]["inQueue"], 1);
    });
}

#[test]
fn payload_limits_policy_and_retention() {
    // At 100000x, 30 minutes of retention is 18 ms of real time, floored at 50 ms.
    let server = mock_with(
        &[("ep", "queue: 0s\nexecution: 10s\n")],
        100_000.0,
        Duration::from_millis(50),
    );
    let api = Api::new(&server, "ep");
    rt().block_on(async {
        let big = serde_json::to_vec(&json!({"input": {"workflow": crate::common::mockenv::workflow(8, 8), "pad": "x".repeat(10_500_000)}})).unwrap();
        let (code, e) = api.post("/run", Some(big.clone())).await;
        assert_eq!(code, 413, "{e}");
        let (code, _) = api.post("/runsync?wait=1000", Some(big)).await;
        assert_eq!(code, 200, "runsync takes up to 20 MB");
        // executionTimeout shorter than the job: TIMED_OUT.
        let req = json!({"input": {"workflow": crate::common::mockenv::workflow(8, 8)}, "policy": {"executionTimeout": 5000}});
        let (_, r) = api.post("/run", Some(serde_json::to_vec(&req).unwrap())).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        let (_, s) = api.get(&format!("/status/{}", r["id"].as_str().unwrap())).await;
        assert_eq!(s["status"], "TIMED_OUT", "{s}");
        assert_eq!(s["executionTime"], 5000);
        // Retention: results expire (at least min_retention of real time after the end).
        tokio::time::sleep(Duration::from_millis(80)).await;
        let (code, _) = api.get(&format!("/status/{}", r["id"].as_str().unwrap())).await;
        assert_eq!(code, 404, "expired results answer 404");
        let st = stats(&server).await;
        assert_eq!(st["jobs_created"]["ep"], 2, "the refused /run created no job");
    });
}

#[test]
fn worker_validation_errors_are_the_workers_own() {
    let server = mock_with(
        &[(
            "ep",
            "queue: 0s\nexecution: 0s\nmodels: [sd_xl_base_1.0.safetensors]\n",
        )],
        1000.0,
        Duration::from_secs(30),
    );
    let api = Api::new(&server, "ep");
    rt().block_on(async {
        let req = json!({"input": {"workflow": {"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "nope.safetensors"}}, "10": {"class_type": "LoadImage", "inputs": {"image": "missing.png"}}}}});
        let (_, r) = api.post("/runsync", Some(serde_json::to_vec(&req).unwrap())).await;
        assert_eq!(r["status"], "FAILED");
        let e = r["error"].as_str().unwrap();
        assert!(e.starts_with("Workflow validation failed:\n• Node "), "{e}");
        assert!(e.contains("ckpt_name: 'nope.safetensors' not in ['sd_xl_base_1.0.safetensors']"), "{e}");
        assert!(e.contains("Invalid image file: missing.png"), "{e}");
        assert!(e.ends_with("Available checkpoint models: sd_xl_base_1.0.safetensors"), "{e}");
        let (_, r) = api.post("/runsync", Some(br#"{"input": {"prompt": "x"}}"#.to_vec())).await;
        assert_eq!(r["error"], "Missing 'workflow' parameter");
    });
}

#[test]
fn s3_urls_are_served_by_the_mock_and_need_their_signature() {
    let server = mock_with(
        &[("ep", "queue: 0s\nexecution: 0s\noutput: s3_url\n")],
        1000.0,
        Duration::from_secs(30),
    );
    let api = Api::new(&server, "ep");
    rt().block_on(async {
        let (_, r) = api.post("/runsync", Some(body(32, 16))).await;
        let url = r["output"]["images"][0]["data"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(url.contains("X-Amz-Signature="), "{url}");
        let ok = reqwest::get(&url).await.unwrap();
        assert_eq!(ok.status(), 200);
        let img = image::load_from_memory(&ok.bytes().await.unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (32, 16));
        let unsigned = reqwest::get(url.split('?').next().unwrap()).await.unwrap();
        assert_eq!(unsigned.status(), 403);
    });
}

#[test]
fn running_state_can_be_reported_as_running() {
    let server = mock_with(
        &[("ep", "queue: 0s\nexecution: 20s\nrunning_state: RUNNING\n")],
        1000.0,
        Duration::from_secs(30),
    );
    let api = Api::new(&server, "ep");
    rt().block_on(async {
        let (_, r) = api.post("/run", Some(body(8, 8))).await;
        tokio::time::sleep(Duration::from_millis(3)).await;
        let (_, s) = api
            .get(&format!("/status/{}", r["id"].as_str().unwrap()))
            .await;
        assert_eq!(s["status"], "RUNNING");
    });
}

#[test]
fn webhooks_get_the_final_status_and_ttl_expires_jobs() {
    let server = mock_with(
        &[("ep", "queue: 0s\nexecution: 1s\n")],
        100.0,
        Duration::from_millis(50),
    );
    let api = Api::new(&server, "ep");
    rt().block_on(async {
        // A loopback receiver for the webhook.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Value>(4);
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(v).await;
                    "ok"
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let req = json!({"input": {"workflow": crate::common::mockenv::workflow(8, 8)}, "webhook": hook});
        let (_, r) = api.post("/run", Some(serde_json::to_vec(&req).unwrap())).await;
        let id = r["id"].as_str().unwrap().to_string();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let (_, s) = api.get(&format!("/status/{id}")).await;
        assert_eq!(s["status"], "COMPLETED");
        let posted = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
        assert_eq!(posted["id"], json!(id));
        assert_eq!(posted["status"], "COMPLETED");
        assert!(posted["output"]["images"].is_array());

        // policy.ttl: the job is gone (404) once its time to live has passed.
        let req = json!({"input": {"workflow": crate::common::mockenv::workflow(8, 8)}, "policy": {"ttl": 10000}});
        let (_, r) = api.post("/run", Some(serde_json::to_vec(&req).unwrap())).await;
        let id = r["id"].as_str().unwrap().to_string();
        let (code, _) = api.get(&format!("/status/{id}")).await;
        assert_eq!(code, 200);
        tokio::time::sleep(Duration::from_millis(120)).await;
        let (code, _) = api.get(&format!("/status/{id}")).await;
        assert_eq!(code, 404, "past policy.ttl (10 s at 100x, at least 50 ms)");
    });
}

#[test]
fn finished_jobs_and_their_files_are_evicted_and_unknown_endpoints_key_nothing() {
    // s3_url output so every job also stores files; results expire after 100 ms.
    let server = mock_with(
        &[("ep", "queue: 0s\nexecution: 1s\noutput: s3_url\n")],
        100_000.0,
        Duration::from_millis(100),
    );
    let api = Api::new(&server, "ep");
    rt().block_on(async {
        for _ in 0..40 {
            let (code, _) = api.post("/runsync?wait=1000", Some(body(8, 8))).await;
            assert_eq!(code, 200);
        }
        let st = stats(&server).await;
        assert_eq!(st["held_jobs"], 40, "{st}");
        assert_eq!(st["held_files"], 40, "{st}");
        tokio::time::sleep(Duration::from_millis(400)).await;
        // The next submission sweeps: only the new job is held.
        api.post("/run", Some(body(8, 8))).await;
        let st = stats(&server).await;
        assert_eq!(st["held_jobs"], 1, "expired jobs are forgotten: {st}");
        assert_eq!(st["held_files"], 0, "their files too: {st}");
        assert_eq!(st["jobs_created"]["ep"], 41);
        // Requests to endpoints that do not exist are refused before anything is counted.
        for i in 0..20 {
            let other = Api {
                http: reqwest::Client::new(),
                base: format!("{}/v2/nope-{i}", server.url()),
            };
            let (code, _) = other.post("/run", Some(body(8, 8))).await;
            assert_eq!(code, 404);
        }
        let st = stats(&server).await;
        let keys: Vec<&String> = st["requests"].as_object().unwrap().keys().collect();
        assert!(keys.iter().all(|k| k.starts_with("ep ")), "{keys:?}");
    });
}

/// The events of an SSE answer read until it is quiet for 300 ms (the mock
/// keeps a stream open for live lines that never come).
async fn sse(req: reqwest::RequestBuilder) -> (StatusCode, Vec<(String, Value)>) {
    let mut resp = req.bearer_auth(KEY).send().await.unwrap();
    let status = resp.status();
    let mut body = String::new();
    while let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(Duration::from_millis(300), resp.chunk()).await
    {
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    let events = body
        .split("\n\n")
        .filter_map(|e| {
            let id = e.lines().find_map(|l| l.strip_prefix("id: "))?.to_string();
            let data = e.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((id, serde_json::from_str(data).unwrap()))
        })
        .collect();
    (status, events)
}

#[test]
fn worker_logs_stream_as_sse_with_tail_since_source_and_last_event_id() {
    let server = mock_with(
        &[(
            "ep",
            "queue: 10ms\nexecution: 20ms\nstatus: FAILED\nerror: boom\nworker:\n  gpu: NVIDIA L4\n  version: \"9\"\n  logs: [\"one {job}\", \"two\", \"three\"]\n",
        )],
        1.0,
        Duration::from_secs(30),
    );
    let api = Api::new(&server, "ep");
    let manage = format!("{}/v2/serverless/ep", server.url());
    rt().block_on(async {
        let (_, run) = api.post("/run", Some(body(64, 64))).await;
        let id = run["id"].as_str().unwrap().to_string();
        let worker = loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let (_, s) = api.get(&format!("/status/{id}")).await;
            if s["status"] == "FAILED" {
                break s["workerId"].as_str().unwrap().to_string();
            }
        };
        // The workers list names the worker, its GPU and release.
        let list = get_json(&format!("{manage}/workers")).await;
        let w = &list["workers"][0];
        assert_eq!(
            (
                w["id"].as_str(),
                w["gpuTypeId"].as_str(),
                w["version"].as_str()
            ),
            (Some(worker.as_str()), Some("NVIDIA L4"), Some("9")),
            "{list:#}"
        );
        let logs = format!("{manage}/workers/{worker}/logs");
        let (code, all) = sse(api.http.get(&logs)).await;
        assert_eq!(code, StatusCode::OK);
        let lines: Vec<&str> = all.iter().filter_map(|(_, d)| d["line"].as_str()).collect();
        assert!(lines.contains(&format!("one {id}").as_str()), "{lines:?}");
        assert!(
            lines.iter().any(|l| l.contains("boom")),
            "the error is printed: {lines:?}"
        );
        for (ev_id, d) in &all {
            assert_eq!(
                ev_id,
                d["ts"].as_str().unwrap(),
                "the event id is the timestamp"
            );
            assert!(matches!(d["source"].as_str(), Some("container" | "system")));
        }
        // tail: the last N lines.
        let (_, two) = sse(api.http.get(format!("{logs}?tail=2"))).await;
        assert_eq!(two.len(), 2);
        assert_eq!(two[1].1, all.last().unwrap().1);
        // Last-Event-ID: only what came after.
        let mid = &all[all.len() - 3].0;
        let (_, after) = sse(api.http.get(&logs).header("Last-Event-ID", mid)).await;
        assert!(after.iter().all(|(i, _)| i > mid), "{after:?}");
        assert!(!after.is_empty() && after.len() < all.len());
        // since: from a time on.
        let (_, since) = sse(api.http.get(format!("{logs}?since={}", all[1].0))).await;
        assert_eq!(since.len(), all.len() - 1, "{since:?}");
        // source: one kind of line.
        let (_, system) = sse(api.http.get(format!("{logs}?source=system"))).await;
        assert!(
            system.iter().all(|(_, d)| d["source"] == "system"),
            "{system:?}"
        );
        // An unknown worker is a 404, never a hang.
        let (code, _) = sse(api.http.get(format!("{manage}/workers/nobody/logs"))).await;
        assert_eq!(code, StatusCode::NOT_FOUND);
    });
}

#[test]
fn the_releases_route_rolls_out_over_simulated_time() {
    // 100 simulated seconds at 100x: done after about a second.
    let server = mock_with(
        &[("ep", "worker:\n  version: \"3\"\n  rollout: 100s\n")],
        100.0,
        Duration::from_secs(30),
    );
    let url = format!("{}/v2/serverless/ep/releases", server.url());
    rt().block_on(async {
        let get = || get_json(&url);
        let first = get().await;
        assert_eq!(first["releases"][0]["version"], "4", "{first:#}");
        assert_eq!(first["rollout"]["inProgress"], true, "{first:#}");
        let start = std::time::Instant::now();
        let done = loop {
            let v = get().await;
            if v["rollout"]["inProgress"] == false {
                break v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never finished: {v:#}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(done["rollout"]["percentOnLatest"], 100.0, "{done:#}");
        assert_eq!(
            done["rollout"]["workersOnLatest"],
            done["rollout"]["workersTotal"]
        );
    });
}
