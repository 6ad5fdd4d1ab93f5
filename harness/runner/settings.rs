//! The run's settings from `HARNESS_*` environment variables (the target itself
//! comes from `crate::target`), each bad value refused with the variable's name.

use std::path::PathBuf;
use std::time::Duration;

use crate::setup::SetupError;

/// Default cap on jobs in flight: small, so the harness never builds its own queue
/// in front of the endpoint and skews latency figures.
pub(crate) const DEFAULT_MAX_IN_FLIGHT: usize = 4;
/// Default simulated seconds per real second for the embedded mock.
pub(crate) const DEFAULT_MOCK_SPEED: f64 = 100.0;
/// Default `HARNESS_QUEUE_GRACE`.
pub(crate) const DEFAULT_QUEUE_GRACE: Duration = Duration::from_secs(60);
/// Exit code after SIGINT / SIGTERM (128 + 2, as shells report Ctrl-C).
pub const EXIT_INTERRUPTED: i32 = 130;
/// Exit code when discovery finds nothing or the environment is invalid.
pub const EXIT_SETUP: u8 = 2;

/// Settings read from the environment.
pub(crate) struct Settings {
    pub scenarios: PathBuf,
    pub reports: PathBuf,
    pub mocks: PathBuf,
    pub max_in_flight: usize,
    pub mock_speed: f64,
    /// How long a job may sit IN_QUEUE before `/health` is asked whether any worker can start.
    pub queue_grace: Duration,
    /// Interval of progress lines on stderr; None = off.
    pub progress: Option<Duration>,
    /// Key of the embedded mock (random per process unless `HARNESS_MOCK_API_KEY` is set).
    pub mock_key: Option<String>,
    /// Price table (`HARNESS_COSTS`), GPU class (`HARNESS_GPU`) and cap (`HARNESS_MAX_COST`).
    pub costs_file: PathBuf,
    pub gpu: Option<String>,
    pub max_cost: Option<f64>,
    /// A RunPod Hub `tests.json` whose tests run as `hub/<name>` trials.
    pub hub_tests: Option<PathBuf>,
    /// `HARNESS_RECORD=1`: save each live/local job as a replayable mock behaviour.
    pub record: bool,
}

impl Settings {
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Self, SetupError> {
        let path = |k: &str, d: &str| {
            PathBuf::from(
                var(k)
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| d.to_string()),
            )
        };
        let max_in_flight = match var("HARNESS_MAX_IN_FLIGHT") {
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    SetupError::bad_value("HARNESS_MAX_IN_FLIGHT", "a positive integer", &v)
                })?,
            None => DEFAULT_MAX_IN_FLIGHT,
        };
        let mock_speed = match var("HARNESS_MOCK_SPEED") {
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| *n > 0.0 && n.is_finite())
                .ok_or_else(|| {
                    SetupError::bad_value("HARNESS_MOCK_SPEED", "a positive number", &v)
                })?,
            None => DEFAULT_MOCK_SPEED,
        };
        let duration = |k: &str, d: Duration| -> Result<Duration, SetupError> {
            match var(k).filter(|v| !v.trim().is_empty()) {
                None => Ok(d),
                Some(v) => humantime::parse_duration(v.trim())
                    .map_err(|_| SetupError::bad_value(k, "a duration like 30s", &v)),
            }
        };
        let queue_grace = duration("HARNESS_QUEUE_GRACE", DEFAULT_QUEUE_GRACE)?;
        let progress = match var("HARNESS_PROGRESS").as_deref().map(str::trim) {
            Some("off") | Some("0") => None,
            _ => Some(duration(
                "HARNESS_PROGRESS",
                crate::progress::DEFAULT_EVERY,
            )?),
        };
        Ok(Settings {
            scenarios: path("HARNESS_SCENARIOS", "scenarios"),
            reports: path("HARNESS_REPORTS", "reports"),
            mocks: path("HARNESS_MOCKS", "mocks"),
            max_in_flight,
            mock_speed,
            queue_grace,
            progress,
            mock_key: var("HARNESS_MOCK_API_KEY").filter(|k| !k.is_empty()),
            costs_file: path("HARNESS_COSTS", "costs.yaml"),
            hub_tests: var("HARNESS_HUB_TESTS")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            record: var("HARNESS_RECORD")
                .is_some_and(|v| !v.is_empty() && v != "0" && v != "false"),
            gpu: var("HARNESS_GPU").filter(|g| !g.trim().is_empty()),
            max_cost: match var("HARNESS_MAX_COST").filter(|v| !v.trim().is_empty()) {
                None => None,
                Some(v) => Some(
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|n| *n >= 0.0 && n.is_finite())
                        .ok_or_else(|| {
                            SetupError::bad_value("HARNESS_MAX_COST", "a non-negative number", &v)
                        })?,
                ),
            },
        })
    }
}
