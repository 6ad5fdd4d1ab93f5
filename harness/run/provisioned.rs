//! A run on a throwaway endpoint (`HARNESS_PROVISION`, `endpoint-harness
//! provision`): what is checked before anything is created (the key, a
//! spending cap, one process per run), the endpoint brought up as the run's
//! live target, and its teardown at the end of the run, on a signal (see
//! `signal.rs`) or, through [`Guard`], on a panic.

use std::sync::Arc;

use super::ctx::Ctx;
use crate::model::RunInfo;
use crate::settings::SetupError;
use crate::settings::{Settings, EXIT_INTERRUPTED};
use crate::targets::{Kind, TargetConfig};
use crate::tools::provision::{Manager, Options, Session, Spec};

/// What a provisioned run will create, checked before anything is.
pub(crate) struct Plan {
    spec: Spec,
    api: Manager,
    key: String,
}

impl Plan {
    /// The first GPU pool (the job-cost price defaults to it).
    pub(crate) fn pool(&self) -> String {
        self.spec.gpu.pools.first().cloned().unwrap_or_default()
    }
}

/// The plan when the run provisions; errors before any call is made.
pub(crate) fn plan(
    var: &dyn Fn(&str) -> Option<String>,
    settings: &Settings,
) -> Result<Option<Plan>, SetupError> {
    let Some(Options {
        file,
        image,
        no_cost_cap,
    }) = crate::tools::provision::options(var)?
    else {
        return Ok(None);
    };
    if var("NEXTEST_RUN_ID").is_some() {
        return Err(SetupError::invalid(
            "HARNESS_PROVISION",
            "under nextest every process would create its own endpoint: run the suite in one \
             process (`cargo test --test scenarios` or `endpoint-harness provision`)",
        ));
    }
    if settings.max_cost.is_none() && !no_cost_cap {
        return Err(SetupError::invalid(
            "HARNESS_PROVISION",
            "creating an endpoint spends money: set HARNESS_MAX_COST (or pass --no-cost-cap, \
             HARNESS_NO_COST_CAP=1, to create one without a cap)",
        ));
    }
    let spec = crate::tools::provision::load(&file, image)
        .map_err(|e| SetupError::invalid("HARNESS_PROVISION", e.to_string()))?;
    let api = crate::tools::provision::manager(var)?;
    let key = var("RUNPOD_API_KEY").unwrap_or_default().trim().to_string();
    Ok(Some(Plan { spec, api, key }))
}

/// `HARNESS_WAIT_ROLLOUT` on a live endpoint: waits until its rolling release
/// has reached every worker before the first job (a provisioned endpoint
/// always waits, in [`bring_up`]). On another target it is a note.
pub(crate) fn wait_rollout(
    settings: &Settings,
    target: &mut TargetConfig,
    handle: &tokio::runtime::Handle,
) -> Result<(), SetupError> {
    let Some(deadline) = settings.wait_rollout else {
        return Ok(());
    };
    if target.kind != Kind::Live {
        target
            .notes
            .push("HARNESS_WAIT_ROLLOUT waits on live endpoints only; not waiting".into());
        return Ok(());
    }
    let url = target.url.clone().unwrap_or_default();
    let configured = crate::settings::Env::process().get("RUNPOD_MANAGEMENT_URL");
    let key = target.api_key.as_deref().unwrap_or_default();
    let api = crate::runpod::rollout::api_of(&url, key, configured);
    let Some(api) = api else {
        return Err(SetupError::invalid(
            "HARNESS_WAIT_ROLLOUT",
            "the endpoint URL names no endpoint id",
        ));
    };
    let say = |m: &str| eprintln!("endpoint-harness: {m}");
    match handle.block_on(crate::runpod::rollout::wait(&api, deadline, &say)) {
        Ok(_) => Ok(()),
        Err(e) => Err(SetupError::invalid(
            "HARNESS_WAIT_ROLLOUT",
            format!("not starting: {e}"),
        )),
    }
}

/// Creates the endpoint and waits for it; makes it the run's live target.
/// A failure (or Ctrl-C meanwhile) has torn down what existed before it returns.
pub(crate) fn bring_up(
    plan: Plan,
    settings: &Settings,
    target: &mut TargetConfig,
    handle: &tokio::runtime::Handle,
) -> Result<(RunInfo, Arc<Session>), SetupError> {
    let mut info = super::info::run_info("", Kind::Live, &settings.reports);
    let price = crate::tools::provision::price_of(&settings.costs_file, &plan.pool());
    let session = Session::new(
        plan.api,
        plan.spec.clone(),
        &settings.reports,
        &info.run_id,
        price,
    );
    let up = handle.block_on(crate::tools::provision::bring_up(
        &session,
        super::signal::wait_for_signal(),
    ));
    if let Err(e) = up {
        if e.why.starts_with("interrupted") {
            eprintln!("endpoint-harness: {e}");
            std::process::exit(EXIT_INTERRUPTED);
        }
        return Err(SetupError::invalid("HARNESS_PROVISION", e.to_string()));
    }
    session.sample_workers(handle);
    *target = TargetConfig {
        kind: Kind::Live,
        url: session.endpoint_url(),
        api_key: Some(plan.key),
        basic_auth: None,
        websocket: true,
        capabilities: target.capabilities.clone(),
        notes: vec![format!(
            "provisioned endpoint {} ({}) from {}; it is deleted when the run ends",
            session.name(),
            session.id().unwrap_or_default(),
            plan.spec.image
        )],
    };
    info.target = target.to_string();
    info.target_kind = Kind::Live;
    Ok((info, session))
}

/// At the end of the run: wait for abandoned jobs' cancels, then tear down.
/// Returns false when the endpoint could not be verified deleted.
pub(crate) fn finish(ctx: &Ctx, runtime: &tokio::runtime::Runtime) -> bool {
    let Some(session) = &ctx.provision else {
        return true;
    };
    runtime.block_on(crate::runpod::job::drain(std::time::Duration::from_secs(
        15,
    )));
    let report = runtime.block_on(session.teardown());
    let ok = report.deleted;
    *ctx.provision_report
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(report);
    ok
}

/// Tears the endpoint down if the run ends without [`finish`] (a panic
/// unwinding through the runner).
pub(crate) struct Guard(pub(crate) Arc<Ctx>);

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(session) = &self.0.provision else {
            return;
        };
        let done = self
            .0
            .provision_report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if !done {
            let r = crate::tools::provision::teardown_blocking(session);
            eprintln!("endpoint-harness: provision: after a panic: {}", r.teardown);
        }
    }
}
