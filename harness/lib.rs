//! endpoint-harness: declarative regression tests for RunPod serverless ComfyUI
//! endpoints.
//!
//! Data flows one way: [`scenario`] (a YAML file, loaded with `file:line:col`
//! diagnostics) → workflow (the ComfyUI graph and its `set:` overrides) →
//! [`wire`] (RunPod v2 and worker-comfyui types) → [`targets`] (one client per
//! target kind behind one trait; [`client`] and [`job`] drive RunPod jobs, each
//! owned until settled) → output, media and checks → snapshots → [`model`]
//! (verdicts and records, pure data) → reports (JSON, JUnit, Markdown, HTML).
//!
//! The public surface is what other programs use: the suite runner
//! ([`runner::main`], the `scenarios` test target), the command line
//! ([`cli::main`]), scenario loading ([`scenario::load`]), targets and their
//! clients, the mock endpoint ([`mock::MockServer`]) and the result model.
//! Everything else is private to the crate; the `internals` feature exposes
//! it, unstable and undocumented, to this repository's benchmarks and fuzzers.

#![deny(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

/// Declares crate-private modules that the `internals` feature makes public
/// (hidden from the docs) for benchmarks, fuzz targets and white-box tests.
/// Defined first, so every room can use it for its own inner modules.
macro_rules! internal {
    ($($name:ident),* $(,)?) => {
        $(
            #[cfg(feature = "internals")]
            #[doc(hidden)]
            #[allow(missing_docs)]
            pub mod $name;
            #[cfg(not(feature = "internals"))]
            pub(crate) mod $name;
        )*
    };
}

pub mod cli;
pub mod mock;
pub mod model;
pub mod run;
pub mod scenario;

internal!(
    checks, clock, comfyui, http, media, paths, png, redact, results, runpod, settings, snapshot,
    targets, text, tools,
);
