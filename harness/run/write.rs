//! Writing the run's reports: at the end of an in-process run (and on Ctrl-C),
//! or, under nextest, this process's fragment and the reports rebuilt from
//! every fragment so far (the last process leaves the whole run's;
//! `report build` makes them once more and prunes old images).

use super::ctx::Ctx;
use crate::model::{CostSummary, RunReport, ScenarioReport};

/// Writes the reports of the scenarios this process ran (and takes them).
pub(crate) fn write_reports(ctx: &Ctx) {
    let mine: Vec<ScenarioReport> =
        std::mem::take(&mut *ctx.reports.lock().unwrap_or_else(|e| e.into_inner()));
    let provisioned = ctx
        .provision_report
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_some();
    // An interrupted provisioned run still reports what it created and how it ended.
    if mine.is_empty() && !provisioned {
        return;
    }
    let dir = &ctx.settings.reports;
    let result = match &ctx.settings.nextest_run {
        // Under nextest: this process's fragment only; `endpoint-harness report build`
        // makes the reports once for the run.
        Some(_) => crate::results::shards::write_fragment(
            dir,
            &ctx.info,
            &mine,
            cost_summary(ctx, &[]).as_ref(),
        )
        .and_then(|_| {
            crate::results::shards::build_so_far(dir, &ctx.info.run_id)
                .map(|_| ())
                .map_err(|e| std::io::Error::other(e.to_string()))
        }),
        None => {
            let mut report = RunReport::new(&ctx.info, mine.clone());
            report.cost = cost_summary(ctx, &report.scenarios);
            report.provision = ctx
                .provision_report
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            crate::results::report::prune_images(dir, &report);
            // History first: the HTML report charts it.
            crate::results::report::append_history(dir, &report, &mine)
                .and_then(|_| crate::results::report::write_all(dir, &report))
        }
    };
    if let Err(e) = result {
        eprintln!(
            "endpoint-harness: warning: could not write reports to {}: {e}",
            dir.display()
        );
    }
}

fn cost_summary(ctx: &Ctx, scenarios: &[ScenarioReport]) -> Option<CostSummary> {
    let c = ctx.costs.as_ref()?;
    Some(CostSummary {
        currency: c.currency.clone(),
        gpu: c.gpu.clone(),
        per_second: c.per_second,
        total: CostSummary::total_of(scenarios.iter().filter_map(|s| s.cost)),
    })
}
