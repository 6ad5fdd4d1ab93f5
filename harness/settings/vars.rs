//! Every environment variable the harness reads, in one table: its name,
//! default, meaning and an example. [`super::Env`] refuses to read a name that
//! is not here, the docs' reference page (`docs/src/reference/environment.md`)
//! is generated from it, and a test fails when either drifts.

/// One environment variable.
#[derive(Clone, Copy, Debug)]
pub struct Var {
    /// The name (`HARNESS_REPORTS`).
    pub name: &'static str,
    /// Which part of the harness it sets (a heading of the reference page).
    pub section: Section,
    /// The default, as people read it.
    pub default: &'static str,
    /// What it does.
    pub meaning: &'static str,
    /// An example value.
    pub example: &'static str,
    /// Its value is a secret: never printed.
    pub secret: bool,
}

/// The headings of the reference page, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// Which endpoint the jobs run on.
    Target,
    /// Where things are and how the suite runs.
    Run,
    /// Reference snapshots.
    Snapshots,
    /// Money and throwaway endpoints.
    Cost,
    /// Set by other tools: CI, GitHub Actions, cargo-nextest.
    Outside,
}

impl Section {
    /// The heading.
    pub fn title(self) -> &'static str {
        match self {
            Section::Target => "The target",
            Section::Run => "The run",
            Section::Snapshots => "Reference snapshots",
            Section::Cost => "Cost and throwaway endpoints",
            Section::Outside => "Set by CI, GitHub Actions and cargo-nextest",
        }
    }
}

const fn var(
    name: &'static str,
    section: Section,
    default: &'static str,
    meaning: &'static str,
    example: &'static str,
) -> Var {
    Var {
        name,
        section,
        default,
        meaning,
        example,
        secret: false,
    }
}

const fn secret(name: &'static str, section: Section, meaning: &'static str) -> Var {
    Var {
        name,
        section,
        default: "unset",
        meaning,
        example: "…",
        secret: true,
    }
}

use Section::*;

/// Every variable, grouped by section.
pub const VARS: &[Var] = &[
    secret("RUNPOD_API_KEY", Target, "the API key of a live endpoint; with `RUNPOD_ENDPOINT_ID` (or `RUNPOD_ENDPOINT_URL`) set the target is live"),
    var("RUNPOD_ENDPOINT_ID", Target, "unset", "the endpoint id: the target is `https://api.runpod.ai/v2/$RUNPOD_ENDPOINT_ID`", "abc123xyz"),
    var("RUNPOD_ENDPOINT_URL", Target, "unset", "the full endpoint URL, id included, instead of the one built from `RUNPOD_ENDPOINT_ID` (a proxy, the standalone mock); for `local`, the worker's root", "http://127.0.0.1:8080/v2/my-endpoint"),
    var("HARNESS_TARGET", Target, "`live` when the live variables are set, else `mock`", "`mock` (embedded), `live`, `local` (a worker run with `python handler.py --rp_serve_api`) or `comfyui` (ComfyUI itself); `live` without its variables falls back to the mock with a note", "local"),
    var("HARNESS_CAPABILITIES", Target, "the mock: `capabilities` of its `default` behaviour; others: none", "comma list of what the target offers for `requires:`", "sdxl,sd15"),
    var("COMFYUI_URL", Target, "`http://127.0.0.1:8188`", "the ComfyUI server for `HARNESS_TARGET=comfyui` (`mock`: the embedded mock's ComfyUI face)", "http://127.0.0.1:8188"),
    secret("COMFYUI_TOKEN", Target, "a bearer token for a ComfyUI behind an authenticating proxy"),
    secret("COMFYUI_BASIC_AUTH", Target, "`user:password` for a ComfyUI behind basic auth"),
    var("COMFYUI_WS", Target, "`on`", "`off`: follow prompts by polling `/history` instead of the progress websocket", "off"),
    var("HARNESS_INVENTORY", Target, "unset", "a saved `/object_info` (`endpoint-harness inventory`): every scenario is preflighted against it before anything is sent, and UI-format saves are converted with it", "inventory.json"),
    var("HARNESS_WORKER_LOGS", Target, "`on`", "`off`: do not fetch a worker's log lines for a red or slow trial (live endpoints and the mock; the workers list is still read)", "off"),
    var("HARNESS_WAIT_ROLLOUT", Target, "unset", "a live endpoint: before the first job, wait until its rolling release has reached every worker, at most this long (the releases route's rollout summary)", "10m"),
    var("HARNESS_SCENARIOS", Run, "`scenarios`", "the scenario folder", "tests/scenarios"),
    var("HARNESS_REPORTS", Run, "`reports`", "the report folder", "target/reports"),
    var("HARNESS_MOCK_FALLBACK", Run, "unset", "locally, `1` lets `HARNESS_TARGET=live` without `RUNPOD_API_KEY`/`RUNPOD_ENDPOINT_ID` run the embedded mock (said before the trials); without it, and always on CI, that is an error", "1"),
    var("HARNESS_MOCKS", Run, "`mocks`", "a folder of mock behaviours of your own, added to the built-in ones (a file named like a built-in one replaces it)", "tests/mocks"),
    var("HARNESS_PARTITION", Run, "unset", "`hash:K/N`: run only the K-th of N shards of the scenarios (by a stable hash of each name), as nextest's `--partition`; each shard writes its own reports for `report merge`", "hash:2/3"),
    var("HARNESS_MAX_OUTPUT_ITEMS", Run, "`64`", "files of one job's output fetched at most; the rest are counted, not fetched, and fail the trial (also past what `expect` allows)", "200"),
    var("HARNESS_MAX_OUTPUT_BYTES", Run, "`536870912` (512 MiB)", "bytes of one job's output fetched at most, all files together (they are read one at a time, so this bounds the transfer, not the memory); past it the rest are not fetched and the trial fails", "2147483648"),
    var("HARNESS_MAX_IN_FLIGHT", Run, "`4`", "jobs in flight at once across the trial threads of one process", "8"),
    var("HARNESS_MOCK_SPEED", Run, "`100`", "simulated seconds per real second in the embedded mock (load runs use a virtual clock instead)", "10"),
    var("HARNESS_MOCK_API_KEY", Run, "random per run", "the embedded mock's API key (tests plant a recognisable secret with it)", "test-key-123"),
    var("HARNESS_QUEUE_GRACE", Run, "`60s`", "a job still IN_QUEUE this long makes the harness read `/health`; if no worker can start, the job is cancelled and fails with that diagnosis", "2m"),
    var("HARNESS_PROGRESS", Run, "`15s`", "interval of the `waiting: scenario STATE elapsed` lines on stderr; `off` disables them", "off"),
    var("HARNESS_LOAD", Run, "unset", "`1`: run `load:` scenarios (otherwise ignored unless `--include-ignored`)", "1"),
    var("HARNESS_STRICT", Run, "unset", "`1`: what could not be checked fails the trial, and the snapshot review band fails (as on CI)", "1"),
    var("HARNESS_RECORD", Run, "unset", "`1`: record every live, local or ComfyUI job as a replayable mock behaviour under the mocks folder's `recorded/`", "1"),
    var("HARNESS_VERBOSE", Run, "unset", "`1`: print the order trials start in, with each one's expected duration from `history.jsonl`", "1"),
    var("HARNESS_HUB_TESTS", Run, "unset", "a RunPod Hub `tests.json` whose tests also run, as trials `hub/<name>`", ".runpod/tests.json"),
    var("HARNESS_FFMPEG", Run, "`ffmpeg` on PATH", "the `ffmpeg` executable that decodes video codecs the bundled OpenH264 does not", "/usr/bin/ffmpeg"),
    var("HARNESS_SNAPSHOTS", Snapshots, "`verify`", "`verify` or `update` the reference snapshots; on CI always `verify`", "update"),
    var("HARNESS_SNAPSHOT_DIR", Snapshots, "`snapshots`", "the reference folder", "tests/snapshots"),
    var("HARNESS_SNAPSHOT_VARIANT", Snapshots, "unset", "a reference class named by hand instead of the job's fingerprint: references under `<scenario>/variants/<variant>/`; other classes are judged across, never accepted as a strict match", "a100-fp16"),
    var("HARNESS_SNAPSHOT_CLASS", Snapshots, "each scenario's `snapshot.class` (`gpu,comfyui,torch`)", "the fingerprint fields that make a reference class, for every scenario: a comma list of `gpu`, `release`, `comfyui`, `torch`, `cuda`, `attention`, `unet_dtype`, `vae_dtype`, `vram`, or `any` (one class)", "gpu,torch,attention"),
    var("HARNESS_COSTS", Cost, "`costs.yaml`", "the price table for cost estimates (no file: no costs shown)", "prices.yaml"),
    var("HARNESS_GPU", Cost, "the table's `gpu:`", "the GPU class whose price applies", "A100"),
    var("HARNESS_MAX_COST", Cost, "unset", "spending cap of the run (per process), in the table's currency: past it no job is submitted and the remaining scenarios are ignored with that reason", "2.50"),
    var("HARNESS_PROVISION", Cost, "unset", "a provision file: create a throwaway endpoint from a worker image, run the suite on it, delete it", "provision.yaml"),
    var("HARNESS_PROVISION_IMAGE", Cost, "unset", "the image to provision, over the file's `image:`", "runpod/worker-comfyui:5.8.5-base"),
    var("HARNESS_NO_COST_CAP", Cost, "unset", "`1`: let provisioning create an endpoint without `HARNESS_MAX_COST`", "1"),
    var("RUNPOD_MANAGEMENT_URL", Cost, "`https://api.runpod.io`", "the management API (REST v2) provisioning uses; the standalone mock's URL stands in for it", "http://127.0.0.1:8080"),
    secret("MOCK_API_KEY", Run, "`endpoint-harness mock`: the key the standalone mock accepts (`--api-key`)"),
    var("CI", Outside, "unset", "set (not `false`/`0`): snapshots are only verified and nothing is written; what could not be checked fails the trial", "true"),
    var("GITHUB_STEP_SUMMARY", Outside, "unset", "GitHub Actions: `summary.md` is appended to this file", "/home/runner/_work/_temp/summary"),
    var("GITHUB_ACTIONS", Outside, "unset", "GitHub Actions: `endpoint-harness check` also prints workflow annotations, so a bad scenario is marked on its file and line in the pull request", "true"),
    var("GITHUB_SHA", Outside, "unset", "GitHub Actions: the commit a run and its references are stamped with", "0123abcd…"),
    var("NEXTEST", Outside, "unset", "set by cargo-nextest (one process per trial): only the trial asked for is built", "1"),
    var("NEXTEST_RUN_ID", Outside, "unset", "set by cargo-nextest: trials of one run share reports and `report build` joins them", "a7c2…"),
];

/// The table entry of `name`.
pub fn lookup(name: &str) -> Option<&'static Var> {
    VARS.iter().find(|v| v.name == name)
}
