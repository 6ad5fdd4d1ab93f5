//! endpoint-harness: declarative regression tests for RunPod serverless ComfyUI
//! endpoints.
//!
//! A scenario (a YAML file, loaded by [`scenario::parse::load`] with
//! `file:line:column` diagnostics) is run by the suite ([`run::main`], the
//! `scenarios` test target, or `endpoint-harness run` from [`cli::main`]): its
//! workflow goes to a target (a RunPod endpoint, a local worker, ComfyUI, or the
//! [`mock::MockServer`]), the job is followed to its end, the returned files are
//! read into facts, judged against `expect` and compared with references, and
//! the outcome is recorded in the result [`model`] that the reports are written
//! from.
//!
//! The code is in rooms by capability (docs/src/design/architecture.md maps
//! them); evidence flows one way, from the bytes an endpoint returns to facts,
//! to judgements, to the model. The public surface is the entry points, scenario
//! loading, the mock server and the result model; everything else is private to
//! the crate, and the `internals` feature exposes it, unstable and undocumented,
//! to this repository's benchmarks, fuzz targets and white-box tests.

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
