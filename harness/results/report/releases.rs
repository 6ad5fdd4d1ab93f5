//! The line a report opens with when its jobs ran on more than one release of
//! the endpoint (a rolling release under way), shared by summary.md and
//! index.html.

use crate::model::RunReport;

/// When the run's jobs ran on more than one release of the endpoint (a
/// rolling release under way), the line that says so.
pub(crate) fn releases_line(r: &RunReport) -> Option<String> {
    let versions: std::collections::BTreeSet<&str> = r
        .scenarios
        .iter()
        .flat_map(|s| &s.runs)
        .filter_map(|run| run.worker.as_ref()?.version.as_deref())
        .collect();
    (versions.len() > 1).then(|| {
        format!(
            "jobs of this run ran on {} releases of the endpoint ({}): a rolling release was under way, so results may differ by release",
            versions.len(),
            versions.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}
