//! Testing a worker image before it ships: a throwaway RunPod endpoint created
//! from the image through the REST v2 management API, the suite run on it as
//! a live target, and the endpoint deleted afterwards whatever happened (the
//! run's end, a failure, a panic, Ctrl-C, SIGTERM), with a state file for
//! `provision cleanup` to finish what a killed run could not.
//!
//! The runner starts it from `HARNESS_PROVISION` (or `endpoint-harness
//! provision`), see [`Options`]; nothing here knows about trials.

mod api;
mod cleanup;
mod lifecycle;
mod spec;
mod state;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use api::{Manager, MANAGEMENT_URL};
pub use cleanup::cleanup;
pub use lifecycle::Session;
pub use spec::{load, Spec, SpecFile};

use crate::settings::SetupError;

/// How a run provisions: the spec file, an image that overrides its `image:`,
/// and whether creating without a spending cap was asked for explicitly.
#[derive(Clone, Debug)]
pub struct Options {
    /// `HARNESS_PROVISION`.
    pub file: PathBuf,
    /// `HARNESS_PROVISION_IMAGE` / `--image`.
    pub image: Option<String>,
    /// `HARNESS_NO_COST_CAP=1` / `--no-cost-cap`.
    pub no_cost_cap: bool,
}

static FROM_CLI: OnceLock<Options> = OnceLock::new();

/// `endpoint-harness provision` sets the options before it runs the suite.
pub fn set_from_cli(o: Options) {
    let _ = FROM_CLI.set(o);
}

/// The run's provision options: the CLI's, else `HARNESS_PROVISION` and its
/// companions; None when the run does not provision.
pub(crate) fn options(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<Options>, SetupError> {
    if let Some(o) = FROM_CLI.get() {
        return Ok(Some(o.clone()));
    }
    let get = |k: &str| var(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let Some(file) = get("HARNESS_PROVISION") else {
        return Ok(None);
    };
    let no_cost_cap = match get("HARNESS_NO_COST_CAP").as_deref() {
        None | Some("0" | "false" | "off") => false,
        Some("1" | "true" | "on") => true,
        Some(other) => return Err(SetupError::bad_value("HARNESS_NO_COST_CAP", "1 or 0", other)),
    };
    Ok(Some(Options {
        file: PathBuf::from(file),
        image: get("HARNESS_PROVISION_IMAGE"),
        no_cost_cap,
    }))
}

/// The management API client from `RUNPOD_MANAGEMENT_URL` and `RUNPOD_API_KEY`.
pub(crate) fn manager(var: &dyn Fn(&str) -> Option<String>) -> Result<Manager, SetupError> {
    let get = |k: &str| var(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let key = get("RUNPOD_API_KEY").ok_or_else(|| {
        SetupError::invalid(
            "RUNPOD_API_KEY",
            "provisioning an endpoint needs the account's API key",
        )
    })?;
    let base = get("RUNPOD_MANAGEMENT_URL").unwrap_or_else(|| MANAGEMENT_URL.into());
    Manager::new(&base, &key).map_err(|e| SetupError::invalid("RUNPOD_MANAGEMENT_URL", e.to_string()))
}

/// The per-second price of one GPU of `pool` from the price table, if it has one.
pub(crate) fn price_of(costs_file: &std::path::Path, pool: &str) -> Option<(f64, String)> {
    let text = std::fs::read_to_string(costs_file).ok()?;
    let table: crate::results::cost::PriceTable = crate::text::yaml::from_str(&text).ok()?;
    let p = *table.per_second.get(pool)?;
    Some((p, table.currency))
}

/// Creates the endpoint and waits for a ready worker on its newest release; on any failure (or when
/// `stop` resolves meanwhile: the runner's Ctrl-C / SIGTERM) tears down what
/// exists first, then says why.
pub(crate) async fn bring_up(
    session: &Arc<Session>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), BringUpError> {
    let up = async {
        session.create().await?;
        session.wait_ready().await?;
        session.wait_rollout().await
    };
    let outcome = tokio::select! {
        r = up => r.map_err(|e| e.to_string()),
        _ = stop => Err("interrupted while provisioning".to_string()),
    };
    if let Err(why) = outcome {
        lifecycle::say(&format!("{why}; tearing down"));
        let r = session.teardown().await;
        return Err(BringUpError { why, teardown: r.teardown });
    }
    Ok(())
}

/// The endpoint did not come up; what happened to it afterwards.
#[derive(Debug, thiserror::Error)]
#[error("{why} (teardown: {teardown})")]
pub(crate) struct BringUpError {
    /// Why it did not come up (a management error, no ready worker, an interrupt).
    pub why: String,
    /// How the teardown went.
    pub teardown: String,
}

/// Tears `session` down from a thread of its own (for a panic, where the
/// run's runtime may be going away).
pub(crate) fn teardown_blocking(session: &Arc<Session>) -> crate::model::ProvisionReport {
    let s = session.clone();
    let t = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("teardown runtime");
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(300), s.teardown()).await
        })
    });
    match t.join() {
        Ok(Ok(r)) => r,
        _ => crate::model::ProvisionReport {
            name: session.name().to_string(),
            teardown: "teardown did not finish within 5 minutes: run `endpoint-harness provision cleanup`".into(),
            ..Default::default()
        },
    }
}
