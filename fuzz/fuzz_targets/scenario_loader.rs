//! Any bytes as a scenario file: the loader answers Ok or diagnostics, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = std::path::Path::new("scenarios/fuzz.yaml");
    if let Err(d) = endpoint_harness::scenario::parse::load_str(&text, path, std::path::Path::new("scenarios")) {
        assert!(d.0.iter().all(|x| x.line >= 1 && x.col >= 1));
        // Rendering too: a caret under multi-byte text must not slice a character.
        let _ = d.to_string();
    }
});
