//! The validator against what a real ComfyUI 0.3.64 and worker-comfyui 5.8.5
//! answered for the same graphs (`tests/comfyui/recorded/`, made with
//! `tests/comfyui/record.py`): the same refusals, with ComfyUI's `/prompt` body
//! and the worker's job error word for word (exception texts aside, where
//! ComfyUI prints a Python traceback and we say what is wrong instead).

use std::path::Path;

use serde_json::Value;

use super::*;

fn inventory() -> Inventory {
    Inventory::load(Path::new("mocks/inventories/comfyui-0.3.64.json")).unwrap()
}

fn recording(case: &str) -> Value {
    let path = format!("tests/comfyui/recorded/{case}.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn graph(rec: &Value) -> serde_json::Map<String, Value> {
    rec["graph"].as_object().unwrap().clone()
}

#[test]
fn refusals_match_a_real_comfyui_and_worker_word_for_word() {
    let inv = inventory();
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
        assert_eq!(rec["prompt"]["status"], 400, "{case}");
        let refusal = validate(&graph(&rec), &inv, &[], Strictness::Comfy).expect_err(case);
        assert_eq!(
            refusal.to_comfy_json(),
            rec["prompt"]["body"],
            "{case}: /prompt body"
        );
        assert_eq!(
            worker_error(&refusal, &inv),
            rec["worker"]["error"].as_str().unwrap(),
            "{case}: worker error"
        );
    }
}

#[test]
fn broken_links_are_refused_where_comfyui_raises_and_explained() {
    let inv = inventory();
    for (case, details, explain) in [
        (
            "missing_link",
            "'9'",
            "input `images` links to node 9, which is not in the workflow",
        ),
        (
            "bad_slot",
            "tuple index out of range",
            "input `images` links to output 3 of node 2 (ImageAddNoise), which has 1 output(s)",
        ),
    ] {
        let rec = recording(case);
        let body = &rec["prompt"]["body"];
        let refusal = validate(&graph(&rec), &inv, &[], Strictness::Comfy).expect_err(case);
        assert_eq!(refusal.kind, body["error"]["type"].as_str().unwrap());
        let ours = &refusal.node_errors[0];
        let theirs = &body["node_errors"][&ours.node]["errors"][0];
        assert_eq!(
            ours.errors[0].kind,
            theirs["type"].as_str().unwrap(),
            "{case}"
        );
        assert_eq!(ours.errors[0].details, details);
        assert_eq!(ours.errors[0].explain.as_deref(), Some(explain));
    }
}

#[test]
fn graphs_comfyui_accepted_pass() {
    let inv = inventory();
    for case in ["success", "video_mp4", "animated", "execution_error"] {
        let rec = recording(case);
        assert_eq!(rec["prompt"]["status"], 200, "{case}");
        validate(&graph(&rec), &inv, &[], Strictness::Comfy)
            .unwrap_or_else(|r| panic!("{case}: {r:?}"));
    }
}

#[test]
fn upload_combos_accept_the_images_the_job_sends() {
    let inv = inventory();
    let g: serde_json::Map<String, Value> = serde_json::from_value(serde_json::json!({
        "1": {"class_type": "LoadImage", "inputs": {"image": "source.png"}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}
    }))
    .unwrap();
    let refused = validate(&g, &inv, &[], Strictness::Preflight).unwrap_err();
    assert!(refused.node_errors[0].errors[0]
        .explain
        .as_deref()
        .unwrap()
        .contains("nor an input image the scenario sends"));
    validate(&g, &inv, &["source.png".to_string()], Strictness::Preflight).unwrap();
}
