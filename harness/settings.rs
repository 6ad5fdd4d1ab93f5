//! The run's settings from `HARNESS_*` environment variables (the target itself
//! comes from `crate::targets`), each bad value refused with the variable's name.

use std::path::PathBuf;
use std::time::Duration;

mod env;
mod error;
pub mod vars;

pub use env::Env;

pub use error::SetupError;
#[cfg(any(test, feature = "internals"))]
pub use error::SetupKind;

/// Default cap on jobs in flight: small, so the harness never builds its own queue
/// in front of the endpoint and skews latency figures.
pub(crate) const DEFAULT_MAX_IN_FLIGHT: usize = 4;
/// Default simulated seconds per real second for the embedded mock.
pub(crate) const DEFAULT_MOCK_SPEED: f64 = 100.0;
/// Default `HARNESS_QUEUE_GRACE`.
pub(crate) const DEFAULT_QUEUE_GRACE: Duration = Duration::from_secs(60);
/// Default interval between progress lines (`HARNESS_PROGRESS`).
pub(crate) const DEFAULT_PROGRESS_EVERY: Duration = Duration::from_secs(15);
/// Exit code after SIGINT / SIGTERM (128 + 2, as shells report Ctrl-C).
pub const EXIT_INTERRUPTED: i32 = 130;
/// Exit code when discovery finds nothing or the environment is invalid.
pub const EXIT_SETUP: u8 = 2;

/// Files of one job's output fetched at most, by default.
pub const DEFAULT_MAX_OUTPUT_ITEMS: usize = 64;
/// Bytes of one job's output fetched at most, by default (512 MiB).
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 512 * 1024 * 1024;

/// Settings read from the environment.
pub(crate) struct Settings {
    /// `HARNESS_SCENARIOS`.
    pub scenarios: PathBuf,
    /// `HARNESS_REPORTS`.
    pub reports: PathBuf,
    /// `HARNESS_MOCKS`.
    pub mocks: PathBuf,
    /// `HARNESS_MAX_IN_FLIGHT`.
    pub max_in_flight: usize,
    /// `HARNESS_MAX_OUTPUT_ITEMS`: files of one job's output fetched at most.
    pub max_output_items: usize,
    /// `HARNESS_MAX_OUTPUT_BYTES`: bytes of one job's output fetched at most.
    pub max_output_bytes: u64,
    /// `HARNESS_MOCK_SPEED`.
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
    /// `HARNESS_INVENTORY`: the target's node inventory; scenarios are
    /// preflighted against it and UI-format saves converted with it.
    pub inventory: Option<PathBuf>,
    /// `HARNESS_WORKER_LOGS` (on unless `off`): a red trial carries its workers' log lines.
    pub worker_logs: bool,
    /// `HARNESS_WAIT_ROLLOUT`: wait this long at most for a live endpoint's rolling release.
    pub wait_rollout: Option<Duration>,
    /// `HARNESS_PARTITION=hash:K/N`: this run's shard (K from 1) of N.
    pub partition: Option<(u64, u64)>,
    /// `HARNESS_LOAD=1`: run `load:` scenarios (otherwise only with `--include-ignored`).
    pub load: bool,
    /// `HARNESS_VERBOSE=1`: say more about the run (the order trials start in).
    pub verbose: bool,
    /// Under cargo-nextest (`NEXTEST`): one process per trial.
    pub nextest: bool,
    /// cargo-nextest's run id (`NEXTEST_RUN_ID`): trials of one run share a report.
    pub nextest_run: Option<String>,
}

impl Settings {
    /// The run's settings from the captured environment (see [`Env`]).
    pub fn read(env: &Env) -> Result<Self, SetupError> {
        let var = env.reader();
        let var: &dyn Fn(&str) -> Option<String> = &var;
        let v = Vars(var);
        let progress = match var("HARNESS_PROGRESS").as_deref().map(str::trim) {
            Some("off") | Some("0") => None,
            _ => Some(v.duration("HARNESS_PROGRESS", DEFAULT_PROGRESS_EVERY)?),
        };
        Ok(Settings {
            scenarios: v.path("HARNESS_SCENARIOS", "scenarios"),
            reports: v.path("HARNESS_REPORTS", "reports"),
            mocks: v.path("HARNESS_MOCKS", "mocks"),
            max_in_flight: v
                .number(
                    "HARNESS_MAX_IN_FLIGHT",
                    "a positive integer",
                    |n: &usize| *n > 0,
                )?
                .unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            max_output_items: v
                .number("HARNESS_MAX_OUTPUT_ITEMS", "a positive integer", |n: &usize| *n > 0)?
                .unwrap_or(DEFAULT_MAX_OUTPUT_ITEMS),
            max_output_bytes: v
                .number("HARNESS_MAX_OUTPUT_BYTES", "a positive number of bytes", |n: &u64| *n > 0)?
                .unwrap_or(DEFAULT_MAX_OUTPUT_BYTES),
            mock_speed: v
                .number("HARNESS_MOCK_SPEED", "a positive number", |n: &f64| {
                    *n > 0.0 && n.is_finite()
                })?
                .unwrap_or(DEFAULT_MOCK_SPEED),
            queue_grace: v.duration("HARNESS_QUEUE_GRACE", DEFAULT_QUEUE_GRACE)?,
            progress,
            mock_key: v.text("HARNESS_MOCK_API_KEY"),
            costs_file: v.path("HARNESS_COSTS", "costs.yaml"),
            hub_tests: v.text("HARNESS_HUB_TESTS").map(PathBuf::from),
            record: v.flag("HARNESS_RECORD"),
            inventory: v.text("HARNESS_INVENTORY").map(PathBuf::from),
            load: v.flag("HARNESS_LOAD"),
            partition: match v.text("HARNESS_PARTITION") {
                None => None,
                Some(p) => Some(partition(&p).ok_or_else(|| {
                    SetupError::bad_value("HARNESS_PARTITION", "hash:K/N with 1 <= K <= N", &p)
                })?),
            },
            worker_logs: !matches!(
                v.text("HARNESS_WORKER_LOGS").as_deref(),
                Some("off" | "0" | "false")
            ),
            wait_rollout: match v.text("HARNESS_WAIT_ROLLOUT") {
                None => None,
                Some(_) => Some(v.duration("HARNESS_WAIT_ROLLOUT", Duration::ZERO)?),
            },
            verbose: v.flag("HARNESS_VERBOSE"),
            gpu: v.text("HARNESS_GPU"),
            max_cost: v.number("HARNESS_MAX_COST", "a non-negative number", |n: &f64| {
                *n >= 0.0 && n.is_finite()
            })?,
            nextest: env.nextest(),
            nextest_run: env.nextest_run(),
        })
    }
}

/// `hash:K/N` (or `K/N`) with 1 <= K <= N.
fn partition(text: &str) -> Option<(u64, u64)> {
    let rest = text.strip_prefix("hash:").unwrap_or(text);
    let (k, n) = rest.split_once('/')?;
    let (k, n) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
    (1..=n).contains(&k).then_some((k, n))
}

/// Whether the scenario `name` is in shard `k` of `n`: a stable hash of the
/// name (xxh3), so every shard of a run agrees whatever the machine.
pub(crate) fn in_partition(name: &str, (k, n): (u64, u64)) -> bool {
    xxhash_rust::xxh3::xxh3_64(name.as_bytes()) % n == k - 1
}

/// Typed reads of environment variables; a bad value names its variable.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    /// The value, trimmed; None when unset or blank.
    fn text(&self, k: &str) -> Option<String> {
        (self.0)(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn path(&self, k: &str, default: &str) -> PathBuf {
        PathBuf::from(self.text(k).unwrap_or_else(|| default.to_string()))
    }

    /// Set and not `0` or `false`.
    fn flag(&self, k: &str) -> bool {
        self.text(k).is_some_and(|v| v != "0" && v != "false")
    }

    fn duration(&self, k: &str, default: Duration) -> Result<Duration, SetupError> {
        match self.text(k) {
            None => Ok(default),
            Some(v) => humantime::parse_duration(&v)
                .map_err(|_| SetupError::bad_value(k, "a duration like 30s", &v)),
        }
    }

    /// A number that passes `ok`, described as `expected` when it does not.
    fn number<T: std::str::FromStr>(
        &self,
        k: &str,
        expected: &str,
        ok: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, SetupError> {
        self.text(k)
            .map(|v| {
                v.parse::<T>()
                    .ok()
                    .filter(|n| ok(n))
                    .ok_or_else(|| SetupError::bad_value(k, expected, &v))
            })
            .transpose()
    }
}
