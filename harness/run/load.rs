//! Load runs (`load:`): many jobs of one scenario at once, closed model
//! (`concurrency` jobs in flight) or open model (`rate` arrivals a second),
//! with an optional ramp; every job checked like a single run (references for
//! the first only); the figures a platform team asks of a burst (throughput,
//! latency percentiles per phase, errors by kind, cold starts, workers over
//! time) and the thresholds that fail the run. Safe on a paid endpoint:
//! only run on request (HARNESS_LOAD=1 or --include-ignored), the spending
//! cap reserved before each submission, submitting stopped on the first
//! 401/404 or an error rate over its threshold for a minute, and every job
//! left in flight cancelled when the run ends early.

mod engine;
mod figures;
mod sampler;

pub(crate) use engine::run;
