//! Any bytes as a job's `output`: decoding and image checks never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // Nothing listens on port 9: a URL in the input fails fast on loopback.
    let ep = endpoint_harness::targets::Runpod::new(
        endpoint_harness::runpod::Client::new("http://127.0.0.1:9/v2/x", None).unwrap(),
        "fuzz",
    );
    rt.block_on(async {
        if let Ok(out) = endpoint_harness::runpod::output::decode(Some(&value), &ep).await {
            for (i, r) in out.images.iter().enumerate() {
                let _ = endpoint_harness::media::inspect(i, r);
                let _ = endpoint_harness::media::inspect_keeping(i, r, false);
            }
        }
    });
});
