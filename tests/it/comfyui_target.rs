//! ComfyUI as a target, checked where CI can afford it: against the mock's
//! ComfyUI face, which is itself held to what a real ComfyUI 0.3.64 answered
//! (`tests/comfyui/recorded/`, made by `tests/comfyui/record.py` against a real
//! CPU ComfyUI). The same scenarios also run against a real ComfyUI; README
//! reports that run.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use endpoint_harness::comfyui::ComfyClient;
use endpoint_harness::comfyui::Queued;
use endpoint_harness::mock::catalogue::Catalogue;
use endpoint_harness::mock::{MockOptions, MockServer};
use endpoint_harness::runpod::job::{DriveError, Watch};
use endpoint_harness::targets::{Comfyui, JobRequest, Target};
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::common::mockenv::{get_json, rt, stats, KEY};
use crate::common::run_suite;

const INVENTORY: &str = "mocks/inventories/comfyui-0.3.64.json";

fn mock() -> MockServer {
    let cat = Catalogue::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/mocks")));
    assert!(cat.errors.is_empty(), "{:?}", cat.errors);
    MockServer::start(MockOptions::from_catalogue(&cat, KEY, 100.0), 0).unwrap()
}

fn recording(case: &str) -> Value {
    let path = format!(
        "{}/tests/comfyui/recorded/{case}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

async fn post_prompt(url: &str, graph: &Value, client_id: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{url}/prompt"))
        .bearer_auth(KEY)
        .json(&json!({"prompt": graph, "client_id": client_id}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[test]
fn refusals_are_the_recorded_comfyui_bodies() {
    let server = mock();
    let url = server.comfyui_url("comfyui");
    rt().block_on(async {
        for case in [
            "validation_errors",
            "out_of_range",
            "unknown_node",
            "type_mismatch",
            "invalid_int",
            "no_outputs",
            "no_class_type",
            "missing_upload",
        ] {
            let rec = recording(case);
            let (status, body) = post_prompt(&url, &rec["graph"], "c").await;
            assert_eq!(status, 400, "{case}");
            assert_eq!(body, rec["prompt"]["body"], "{case}");
        }
        // Where ComfyUI raises a Python exception, the type and place agree.
        for case in ["missing_link", "bad_slot"] {
            let rec = recording(case);
            let (status, body) = post_prompt(&url, &rec["graph"], "c").await;
            assert_eq!(status, 400, "{case}");
            assert_eq!(
                keys(&body["node_errors"]),
                keys(&rec["prompt"]["body"]["node_errors"]),
                "{case}"
            );
            assert_eq!(
                body["error"]["type"], rec["prompt"]["body"]["error"]["type"],
                "{case}"
            );
        }
    });
}

/// The recorded message types of one prompt, in order, without progress chatter.
fn kinds(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["type"].as_str().unwrap().to_string())
        .filter(|t| !matches!(t.as_str(), "status" | "progress" | "progress_state"))
        .collect()
}

#[test]
fn progress_messages_and_history_have_the_recorded_shape() {
    let server = mock();
    let url = server.comfyui_url("comfyui");
    let rec = recording("success");
    rt().block_on(async {
        let ws_url = format!(
            "{}/ws?clientId=conformance",
            url.replace("http://", "ws://")
        );
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws_url)
                .unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {KEY}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let (status, answer) = post_prompt(&url, &rec["graph"], "conformance").await;
        assert_eq!(status, 200);
        assert_eq!(keys(&answer), keys(&rec["prompt"]["body"]));
        let id = answer["prompt_id"].as_str().unwrap().to_string();
        let mut seen = Vec::new();
        while let Some(Ok(m)) = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
        {
            let tokio_tungstenite::tungstenite::Message::Text(t) = m else {
                continue;
            };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            let last = v["type"] == "executing" && v["data"]["node"].is_null();
            seen.push(v);
            if last {
                break;
            }
        }
        ws.close(None).await.ok();
        // Same sequence of message types (ComfyUI's order of independent
        // branches aside), and the same fields in each.
        let recorded: Vec<Value> = rec["ws"].as_array().unwrap().clone();
        let mut ours = kinds(&seen);
        assert_eq!(
            ours.pop().as_deref(),
            Some("executing"),
            "the last message names no node"
        );
        assert_eq!(ours, kinds(&recorded));
        for theirs in &recorded {
            let kind = theirs["type"].as_str().unwrap();
            if let Some(mine) = seen
                .iter()
                .find(|m| m["type"] == kind && m["data"]["prompt_id"] == json!(id))
            {
                assert_eq!(keys(&mine["data"]), keys(&theirs["data"]), "{kind}");
            }
        }
        let history = get_json(&format!("{url}/history/{id}")).await;
        let entry = &history[&id];
        let rec_id = rec["prompt"]["body"]["prompt_id"].as_str().unwrap();
        let theirs = &rec["history"][rec_id];
        assert_eq!(keys(entry), keys(theirs));
        assert_eq!(keys(&entry["status"]), keys(&theirs["status"]));
        assert_eq!(keys(&entry["outputs"]), keys(&theirs["outputs"]));
        for (node, out) in theirs["outputs"].as_object().unwrap() {
            let mine = &entry["outputs"][node]["images"];
            assert_eq!(
                mine.as_array().unwrap().len(),
                out["images"].as_array().unwrap().len(),
                "node {node}"
            );
            assert_eq!(keys(&mine[0]), keys(&out["images"][0]));
            assert_eq!(mine[0]["type"], out["images"][0]["type"], "node {node}");
        }
    });
}

fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

fn runs<'a>(r: &'a Value, name: &str) -> &'a Value {
    &r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name}"))["runs"][0]
}

#[test]
fn the_suite_runs_on_the_comfyui_face_with_per_node_timings() {
    for ws in ["on", "off"] {
        let reports = tempfile::tempdir().unwrap();
        // Videos run from `scenarios` (their references are named from there).
        for (scenarios, filter) in [
            ("scenarios/model-free", ""),
            ("tests/comfyui/scenarios", ""),
            ("scenarios", "video/"),
        ] {
            let args: Vec<&str> = if filter.is_empty() {
                vec![]
            } else {
                vec![filter]
            };
            let out = run_suite(
                &args,
                &[
                    ("HARNESS_TARGET", "comfyui"),
                    ("COMFYUI_URL", "mock"),
                    ("COMFYUI_WS", ws),
                    ("HARNESS_INVENTORY", INVENTORY),
                    ("HARNESS_SCENARIOS", scenarios),
                    ("HARNESS_REPORTS", reports.path().to_str().unwrap()),
                    ("HARNESS_PROGRESS", "off"),
                ],
            );
            assert_eq!(out.code, 0, "{scenarios} ws={ws}: {}", out.all());
            assert!(
                out.stderr
                    .contains("against the embedded mock (ComfyUI API)"),
                "{}",
                out.stderr
            );
            let r = report(reports.path());
            assert_eq!(r["target_kind"], "comfyui");
            if !filter.is_empty() {
                continue;
            }
            if scenarios == "tests/comfyui/scenarios" {
                let failed = runs(&r, "execution-error");
                let error = failed["error"].as_str().unwrap();
                assert!(
                    error.starts_with("Job processing failed: Workflow execution error: Node Type: SaveVideo, Node ID: 4, Message: CUDA out of memory"),
                    "{error}"
                );
                continue;
            }
            let noise = runs(&r, "noise");
            assert!(
                noise["delay_ms"].is_u64() && noise["execution_ms"].is_u64(),
                "{noise}"
            );
            let nodes = noise["nodes"].as_array().cloned().unwrap_or_default();
            if ws == "off" {
                // Polling sees the phases but not the nodes.
                assert!(nodes.is_empty());
                continue;
            }
            let ids: Vec<&str> = nodes.iter().map(|n| n["node"].as_str().unwrap()).collect();
            // The order a real ComfyUI ran this graph in: the preview as soon as it can.
            assert_eq!(ids, ["1", "2", "5", "3", "4"], "{nodes:?}");
            let save = &nodes[4];
            assert_eq!(
                (save["class_type"].as_str(), save["title"].as_str()),
                (Some("SaveImage"), Some("Save"))
            );
            let starts: Vec<u64> = nodes
                .iter()
                .map(|n| n["start_ms"].as_u64().unwrap())
                .collect();
            assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
            let html = std::fs::read_to_string(reports.path().join("index.html")).unwrap();
            assert!(
                html.contains("ImageAddNoise"),
                "the HTML report shows the node timings"
            );
        }
    }
}

fn target(url: &str, token: &str) -> Comfyui {
    Comfyui::new(
        ComfyClient::new(url, Some(token), None).unwrap(),
        "mock",
        true,
    )
}

fn request(graph: Value, deadline: Duration) -> JobRequest {
    JobRequest {
        body: serde_json::to_vec(&json!({"input": {"workflow": graph}})).unwrap(),
        sync: false,
        deadline,
    }
}

async fn queue(url: &str) -> Value {
    get_json(&format!("{url}/queue")).await
}

#[test]
fn a_deadline_interrupts_a_running_prompt_and_dequeues_a_waiting_one() {
    let server = mock();
    let graph = recording("success")["graph"].clone();
    rt().block_on(async {
        // timed-out: the first node never finishes; stuck-in-queue: never starts.
        for behaviour in ["timed-out", "stuck-in-queue"] {
            let url = server.comfyui_url(behaviour);
            let t = target(&url, KEY);
            let err = t
                .run(
                    request(graph.clone(), Duration::from_millis(500)),
                    &Watch::default(),
                )
                .await
                .unwrap_err();
            match &err {
                DriveError::Deadline {
                    cancelled: Some(Ok(())),
                    last_state,
                    ..
                } => {
                    let want = if behaviour == "timed-out" {
                        "IN_PROGRESS"
                    } else {
                        "IN_QUEUE"
                    };
                    assert_eq!(last_state, want, "{behaviour}");
                }
                other => panic!("{behaviour}: {other}"),
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            let q = queue(&url).await;
            assert_eq!(
                q,
                json!({"queue_running": [], "queue_pending": []}),
                "{behaviour}"
            );
        }
        let s = stats(&server).await;
        assert!(
            s["requests"]["timed-out comfyui/interrupt"].as_u64() >= Some(1),
            "{s}"
        );
        assert!(
            s["requests"]["stuck-in-queue comfyui/queue"].as_u64() >= Some(1),
            "{s}"
        );
    });
}

#[test]
fn a_dropped_job_is_cancelled_by_its_guard() {
    let server = mock();
    let url = server.comfyui_url("stuck-in-queue");
    let graph = recording("success")["graph"].clone();
    rt().block_on(async {
        let t = target(&url, KEY);
        let watch = Watch::default();
        let run = t.run(request(graph, Duration::from_secs(60)), &watch);
        assert!(tokio::time::timeout(Duration::from_millis(300), run)
            .await
            .is_err());
        for _ in 0..50 {
            if queue(&url).await["queue_pending"]
                .as_array()
                .unwrap()
                .is_empty()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the dropped prompt is still queued: {}", queue(&url).await);
    });
}

#[test]
fn a_refusal_is_a_failed_job_naming_nodes_and_bad_credentials_are_said() {
    let server = mock();
    let url = server.comfyui_url("comfyui");
    let rec = recording("validation_errors");
    rt().block_on(async {
        let job = target(&url, KEY)
            .run(
                request(rec["graph"].clone(), Duration::from_secs(10)),
                &Watch::default(),
            )
            .await
            .unwrap();
        assert_eq!(job.status.status.as_str(), "FAILED");
        let error = job.status.error.unwrap();
        assert!(
            error.starts_with(rec["worker"]["error"].as_str().unwrap()),
            "worker-comfyui's words first: {error}"
        );
        assert!(
            error.contains("In short:\nnode 1 (EmptyImage): Required input is missing: color"),
            "{error}"
        );

        let client = ComfyClient::new(&url, Some("wrong-token"), None).unwrap();
        let e = client
            .queue_prompt(&rec["graph"], "c", "p")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("check COMFYUI_TOKEN") && !e.contains("wrong-token"),
            "{e}"
        );
        // The right key is accepted and the refusal is an answer, not an error.
        let client = ComfyClient::new(&url, Some(KEY), None).unwrap();
        assert!(matches!(
            client.queue_prompt(&rec["graph"], "c", "p2").await.unwrap(),
            Queued::Refused(_)
        ));
    });
}

#[test]
fn check_inventory_finds_each_error_class_comfyui_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases: Vec<(String, Value, Vec<String>)> = Vec::new();
    for case in [
        "validation_errors",
        "out_of_range",
        "unknown_node",
        "type_mismatch",
        "invalid_int",
        "missing_link",
        "bad_slot",
        "no_outputs",
        "missing_upload",
    ] {
        let rec = recording(case);
        let body = &rec["prompt"]["body"];
        let mut kinds: Vec<String> = body["node_errors"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|n| {
                n["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["type"].as_str().unwrap().to_string())
            })
            .collect();
        if kinds.is_empty() {
            kinds.push(body["error"]["type"].as_str().unwrap().to_string());
        }
        cases.push((case.to_string(), rec["graph"].clone(), kinds));
    }
    // A typo in a node type: ComfyUI says it does not exist; preflight says what was meant.
    let typo = json!({"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
                      "2": {"class_type": "SaveImag", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}});
    cases.push(("typo".into(), typo, vec!["invalid_prompt".into()]));
    for (case, graph, _) in &cases {
        std::fs::write(dir.path().join(format!("{case}.json")), graph.to_string()).unwrap();
        std::fs::write(
            dir.path().join(format!("{case}.yaml")),
            format!("description: {case}\nworkflow: {case}.json\n"),
        )
        .unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .args(["check", "--inventory"])
        .arg(root.join("mocks/inventories/comfyui-0.3.64.json"))
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for (case, _, kinds) in &cases {
        let at = format!("{case}.yaml:2:11");
        let block: Vec<&str> = stderr.split("\n\n").filter(|b| b.contains(&at)).collect();
        assert!(!block.is_empty(), "{case}: no diagnostic at {at}\n{stderr}");
        for kind in kinds {
            assert!(
                block.iter().any(|b| b.contains(&format!("[{kind}]"))),
                "{case}: ComfyUI's `{kind}` not reported:\n{}",
                block.join("\n\n")
            );
        }
    }
    assert!(
        stderr.contains("node 2 (SaveImag): node type `SaveImag` does not exist in this ComfyUI"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `SaveImage`?"), "{stderr}");
    assert!(
        stderr
            .contains("10 of 10 scenario file(s) have errors, preflighted against 496 node types"),
        "{stderr}"
    );
    // The same graphs without the inventory are well-formed scenarios.
    let plain = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .arg("check")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        plain.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
}

#[test]
fn convert_prints_what_the_frontend_exports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .args(["convert", "--inventory"])
        .arg(root.join(INVENTORY))
        .arg(root.join("tests/comfyui/ui/link_reroutes.ui.json"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/comfyui/ui/link_reroutes.api.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(got, want);
    // Without an inventory a UI save is refused with the fix.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-harness"))
        .args([
            "convert",
            "--inventory",
            "/nonexistent/inventory.json",
            "x.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/inventory.json"));
}

#[test]
fn a_video_is_reported_as_savevideo_reports_it() {
    let server = mock();
    let url = server.comfyui_url("video/h264");
    let rec = recording("video_mp4");
    rt().block_on(async {
        let (status, answer) = post_prompt(&url, &rec["graph"], "v").await;
        assert_eq!(status, 200, "{answer}");
        let id = answer["prompt_id"].as_str().unwrap().to_string();
        let mut entry = Value::Null;
        for _ in 0..100 {
            let h = get_json(&format!("{url}/history/{id}")).await;
            if let Some(e) = h.get(&id) {
                entry = e.clone();
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rec_id = rec["prompt"]["body"]["prompt_id"].as_str().unwrap();
        let theirs = &rec["history"][rec_id]["outputs"]["4"];
        let ours = &entry["outputs"]["4"];
        // {"images": [{"filename": "clip_00001_.mp4", "subfolder": ..., "type": "output"}], "animated": [true]}
        assert_eq!(keys(ours), keys(theirs), "{ours}");
        assert_eq!(ours["animated"], theirs["animated"]);
        assert!(
            ours["images"][0]["filename"]
                .as_str()
                .unwrap()
                .ends_with(".mp4"),
            "{ours}"
        );
    });
}

/// The real diffusion lane, replayed: the SD1.5 scenarios recorded on a real
/// ComfyUI run on the mock's ComfyUI face with the recorded per-node timings
/// (KSampler and VAEDecode the slow ones, in the order the real server ran
/// them) and the sampler's step progress, and their images match the
/// references the real run accepted.
#[test]
fn the_recorded_diffusion_lane_replays_nodes_progress_and_pixels() {
    let reports = tempfile::tempdir().unwrap();
    let out = run_suite(
        &["sd15/"],
        &[
            ("HARNESS_TARGET", "comfyui"),
            ("COMFYUI_URL", "mock"),
            ("HARNESS_REPORTS", reports.path().to_str().unwrap()),
            ("HARNESS_PROGRESS", "off"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let r = report(reports.path());
    let basic = runs(&r, "sd15/txt2img-basic");
    let recorded: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string("mocks/recorded/sd15/txt2img-basic.yaml").unwrap(),
    )
    .unwrap();
    let want: Vec<String> = recorded["replay"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].as_str().unwrap().to_string())
        .collect();
    let nodes = basic["nodes"].as_array().unwrap();
    let got: Vec<&str> = nodes.iter().map(|n| n["node"].as_str().unwrap()).collect();
    assert_eq!(got, want, "{nodes:?}");
    let slowest = nodes
        .iter()
        .max_by_key(|n| n["ms"].as_u64().unwrap())
        .unwrap();
    assert!(
        ["KSampler", "VAEDecode"].contains(&slowest["class_type"].as_str().unwrap()),
        "{nodes:?}"
    );
    // The workflow samples 4 steps: each step is reported once, in order.
    let steps: Vec<u64> = basic["progress"]
        .as_array()
        .expect("the sampler's steps")
        .iter()
        .map(|p| p["value"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [1, 2, 3, 4], "{basic}");
    assert_eq!(basic["progress"][0]["max"], 4);
    let scenario = r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "sd15/txt2img-basic")
        .unwrap();
    let snap = &scenario["snapshots"][0];
    assert_eq!(snap["outcome"], "matched", "{snap}");
    assert_eq!(
        snap["metrics"]["max_diff"], 0,
        "the recorded pixels exactly: {snap}"
    );
}
