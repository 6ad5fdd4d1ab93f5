//! The mock's RunPod face: the v2 routes ([`routes`]), the job store and life
//! cycle on a simulated clock ([`jobs`]), the worker pool that scales like an
//! endpoint ([`cluster`]), a load run's virtual instant ([`clock`]), the
//! worker-comfyui that validates and renders ([`worker`], [`render`]), HTTP
//! faults ([`faults`]) and the request counters ([`stats`]).

pub(crate) mod answer;
pub(crate) mod clock;
pub(crate) mod cluster;
pub(crate) mod faults;
pub(crate) mod jobs;
pub(crate) mod render;
pub(crate) mod routes;
pub(crate) mod stats;
pub(crate) mod worker;
