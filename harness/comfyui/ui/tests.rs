//! The converter against the real frontend: each fixture in
//! `tests/comfyui/ui/` was built in ComfyUI frontend 1.27.10 (headless, by
//! `build.js`), saved both as the full save and the compact form embedded in
//! PNGs, with the frontend's own Export (API) beside it as the answer.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::convert;
use crate::comfyui::inventory::Inventory;

fn inventory() -> Inventory {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/inventories/comfyui-0.3.64.json");
    Inventory::load(&path).expect("recorded inventory loads")
}

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/comfyui/ui")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn every_frontend_export_is_reproduced() {
    let inv = inventory();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/comfyui/ui");
    let raw = serde_json::from_str(&std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/inventories/comfyui-0.3.64.json")).unwrap()).unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(case) = name.strip_suffix(".api.json") else {
            continue;
        };
        let mut want = fixture(&name);
        untitle_undisplayed(&mut want, &raw);
        for form in ["ui", "embedded"] {
            let got = convert(&fixture(&format!("{case}.{form}.json")), &inv)
                .unwrap_or_else(|e| panic!("{case}.{form}: {e}"));
            let mut got = Value::Object(got);
            untitle_undisplayed(&mut got, &raw);
            assert_eq!(got, want, "{case}.{form}");
        }
        seen += 1;
    }
    assert!(seen >= 7, "only {seen} fixtures");
}

/// The frontend titles a node whose class has no `display_name` from its own
/// translations (ImageBlur: "Image Blur"), which the inventory does not carry;
/// the converter uses the class name. Only that title may differ.
fn untitle_undisplayed(graph: &mut Value, object_info: &Value) {
    for node in graph.as_object_mut().unwrap().values_mut() {
        let class = node["class_type"].as_str().unwrap().to_string();
        if object_info[&class]["display_name"].is_null() {
            node["_meta"]["title"] = json!(class);
        }
    }
}

fn save(nodes: Value, links: Value) -> Value {
    json!({"nodes": nodes, "links": links, "version": 0.4})
}

#[test]
fn a_muted_source_drops_the_input_and_missing_values_take_defaults() {
    let g = convert(
        &save(
            json!([
                {"id": 1, "type": "EmptyImage", "mode": 2, "widgets_values": [8, 8, 1, 0],
                 "outputs": [{"type": "IMAGE", "links": [1]}]},
                {"id": 2, "type": "ImageBlur", "mode": 0, "widgets_values": [4],
                 "inputs": [{"name": "image", "type": "IMAGE", "link": 1}]}
            ]),
            json!([[1, 1, 0, 2, 0, "IMAGE"]]),
        ),
        &inventory(),
    )
    .unwrap();
    assert_eq!(
        Value::Object(g),
        json!({"2": {"inputs": {"blur_radius": 4, "sigma": 1.0}, "class_type": "ImageBlur",
                     "_meta": {"title": "ImageBlur"}}})
    );
}

#[test]
fn widget_values_saved_by_name_are_read_by_name() {
    let g = convert(
        &save(
            json!([{"id": 3, "type": "SaveImage", "title": "Out",
                    "widgets_values": {"filename_prefix": "named"}}]),
            json!([]),
        ),
        &inventory(),
    )
    .unwrap();
    assert_eq!(g["3"]["inputs"], json!({"filename_prefix": "named"}));
    assert_eq!(g["3"]["_meta"]["title"], json!("Out"));
}

#[test]
fn refusals_name_the_node_and_the_fix() {
    let inv = inventory();
    let unknown = convert(
        &save(json!([{"id": 7, "type": "SaveImag", "widgets_values": ["x"]}]), json!([])),
        &inv,
    )
    .unwrap_err();
    assert!(unknown.message.contains("node 7 has type `SaveImag`"), "{}", unknown.message);
    assert!(unknown.help.unwrap().starts_with("did you mean `SaveImage`?"));

    let dangling = convert(
        &save(
            json!([{"id": 2, "type": "ImageInvert", "inputs": [{"name": "image", "type": "IMAGE", "link": 9}]}]),
            json!([]),
        ),
        &inv,
    )
    .unwrap_err();
    assert_eq!(
        dangling.message,
        "input `image` of node 2 refers to link 9, which the workflow does not have"
    );

    // A group node whose definition the save does not carry.
    let grouped = save(json!([{"id": 4, "type": "workflow>Upscale"}]), json!([]));
    let group = convert(&grouped, &inv).unwrap_err();
    assert!(
        group.message.contains("group node (`workflow>Upscale`) whose definition is not in"),
        "{}",
        group.message
    );

    let only_notes = convert(&save(json!([{"id": 1, "type": "Note", "widgets_values": ["hi"]}]), json!([])), &inv)
        .unwrap_err();
    assert!(only_notes.message.contains("no nodes ComfyUI would run"));
}

#[test]
fn a_reroute_loop_is_an_error_not_a_hang() {
    let err = convert(
        &save(
            json!([
                {"id": 1, "type": "Reroute", "inputs": [{"name": "", "type": "*", "link": 2}],
                 "outputs": [{"type": "*", "links": [1]}]},
                {"id": 2, "type": "Reroute", "inputs": [{"name": "", "type": "*", "link": 1}],
                 "outputs": [{"type": "*", "links": [2, 3]}]},
                {"id": 3, "type": "PreviewImage", "inputs": [{"name": "images", "type": "IMAGE", "link": 3}]}
            ]),
            json!([[1, 1, 0, 2, 0, "*"], [2, 2, 0, 1, 0, "*"], [3, 2, 0, 3, 0, "IMAGE"]]),
        ),
        &inventory(),
    )
    .unwrap_err();
    assert!(err.message.contains("circle"), "{}", err.message);
}

#[test]
fn a_bypassed_node_passes_the_input_of_the_consumers_type() {
    // ImageCompositeMasked bypassed: its IMAGE output takes `destination`
    // (slot 0, same index and type), not `source`.
    let g = convert(
        &save(
            json!([
                {"id": 1, "type": "EmptyImage", "widgets_values": [8, 8, 1, 0], "outputs": [{"type": "IMAGE", "links": [1]}]},
                {"id": 2, "type": "EmptyImage", "widgets_values": [4, 4, 1, 0], "outputs": [{"type": "IMAGE", "links": [2]}]},
                {"id": 3, "type": "ImageCompositeMasked", "mode": 4, "widgets_values": [0, 0, false],
                 "inputs": [{"name": "destination", "type": "IMAGE", "link": 1}, {"name": "source", "type": "IMAGE", "link": 2}],
                 "outputs": [{"type": "IMAGE", "links": [3]}]},
                {"id": 4, "type": "SaveImage", "widgets_values": ["b"], "inputs": [{"name": "images", "type": "IMAGE", "link": 3}]}
            ]),
            json!([[1, 1, 0, 3, 0, "IMAGE"], [2, 2, 0, 3, 1, "IMAGE"], [3, 3, 0, 4, 0, "IMAGE"]]),
        ),
        &inventory(),
    )
    .unwrap();
    assert_eq!(g["4"]["inputs"]["images"], json!(["1", 0]));
    assert!(!g.contains_key("3"));
}
