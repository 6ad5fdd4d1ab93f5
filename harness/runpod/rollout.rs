//! Waiting for a rolling release: before a run's first job (opt-in with
//! `HARNESS_WAIT_ROLLOUT` on a live endpoint, always on a provisioned one) the
//! endpoint's release history is polled until its rollout summary says every
//! worker runs the newest release, so the run does not judge half of its jobs
//! on the old image. Also where the management API of an endpoint URL lives.

use std::time::{Duration, Instant};

use super::evidence::{EndpointApi, EvidenceError, Rollout};

/// RunPod's management API, for endpoints on RunPod's runtime API.
pub const RUNPOD_MANAGEMENT: &str = "https://api.runpod.io";

/// The rollout did not finish in time, or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    /// The deadline passed with workers still on an older release.
    #[error(
        "the rolling release{} had reached {} after {}s (deadline {}s): workers still run an \
         older release",
        latest(.last),
        reached(.last),
        .waited.as_secs(),
        .deadline.as_secs()
    )]
    Deadline {
        /// The last summary read.
        last: Rollout,
        /// How long the wait took.
        waited: Duration,
        /// The deadline it was given.
        deadline: Duration,
    },
    /// The releases route could not be read.
    #[error("{0}")]
    Read(#[from] EvidenceError),
}

fn latest(r: &Rollout) -> String {
    r.latest.as_deref().map(|v| format!(" to version {v}")).unwrap_or_default()
}

fn reached(r: &Rollout) -> String {
    match (r.percent, r.on_latest) {
        (Some(p), Some((on, all))) => format!("{p:.0}% of workers ({on} of {all})"),
        (Some(p), None) => format!("{p:.0}% of workers"),
        (None, Some((on, all))) => format!("{on} of {all} workers"),
        (None, None) => "an unknown share of workers".into(),
    }
}

/// Polls the rollout of `api`'s endpoint until it is complete or `deadline`
/// passes; `say` hears each change. The first poll is immediate, then every
/// 250 ms growing to 5 s (a rollout takes minutes; the releases route is cheap).
pub async fn wait(
    api: &EndpointApi,
    deadline: Duration,
    say: &(dyn Fn(&str) + Sync),
) -> Result<Rollout, RolloutError> {
    let start = Instant::now();
    let mut every = Duration::from_millis(250);
    let mut last: Option<Rollout> = None;
    loop {
        let r = api.rollout().await?;
        if r.complete() {
            if last.is_some() {
                say(&format!(
                    "the rolling release{} reached every worker after {:.1}s",
                    latest(&r),
                    start.elapsed().as_secs_f64()
                ));
            }
            return Ok(r);
        }
        if last.as_ref() != Some(&r) {
            say(&format!("rolling release{}: {} on it; waiting", latest(&r), reached(&r)));
        }
        let waited = start.elapsed();
        if waited >= deadline {
            return Err(RolloutError::Deadline {
                last: r,
                waited,
                deadline,
            });
        }
        last = Some(r);
        tokio::time::sleep(every.min(deadline - waited)).await;
        every = (every * 2).min(Duration::from_secs(5));
    }
}

/// The management API of the endpoint at runtime URL `url`, with `key`
/// (see [`management_of`] for where it is looked for).
pub fn api_of(url: &str, key: &str, configured: Option<String>) -> Option<EndpointApi> {
    let (base, id) = management_of(url, configured)?;
    EndpointApi::new(&base, &id, key)
}

/// The management API base and endpoint id for the endpoint at `url`:
/// `configured` (`RUNPOD_MANAGEMENT_URL`) when set; RunPod's own for an
/// `api.runpod.ai` endpoint; otherwise the endpoint's own server (a proxy or
/// the standalone mock serves both), so nothing is sent to RunPod that the
/// user did not point at it.
pub fn management_of(url: &str, configured: Option<String>) -> Option<(String, String)> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let id = parsed.path_segments()?.rfind(|s| !s.is_empty())?
        .to_string();
    let base = match configured {
        Some(b) => b,
        None if parsed.host_str() == Some("api.runpod.ai") => RUNPOD_MANAGEMENT.to_string(),
        None => {
            let mut origin = parsed.clone();
            origin.set_path("");
            origin.set_query(None);
            origin.as_str().trim_end_matches('/').to_string()
        }
    };
    Some((base, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_management_api_of_an_endpoint_url() {
        assert_eq!(
            management_of("https://api.runpod.ai/v2/abc123", None),
            Some(("https://api.runpod.io".into(), "abc123".into()))
        );
        assert_eq!(
            management_of("http://127.0.0.1:9000/v2/live/", None),
            Some(("http://127.0.0.1:9000".into(), "live".into()))
        );
        assert_eq!(
            management_of("https://api.runpod.ai/v2/abc", Some("http://proxy:1".into())),
            Some(("http://proxy:1".into(), "abc".into()))
        );
    }

    #[test]
    fn a_missed_deadline_names_the_share_reached() {
        let e = RolloutError::Deadline {
            last: Rollout {
                latest: Some("7".into()),
                in_progress: true,
                on_latest: Some((1, 3)),
                percent: Some(33.3),
            },
            waited: Duration::from_secs(600),
            deadline: Duration::from_secs(600),
        };
        let text = e.to_string();
        assert!(text.contains("version 7"), "{text}");
        assert!(text.contains("33% of workers (1 of 3)"), "{text}");
        assert!(text.contains("deadline 600s"), "{text}");
    }
}
