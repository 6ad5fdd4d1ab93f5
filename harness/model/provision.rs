//! What a run's throwaway endpoint was: created from which image, when it
//! was ready, how long it lived, what it is estimated to have cost and how it
//! was torn down. Part of `report.json` (`provision`) when the run made one.

use serde::{Deserialize, Serialize};

/// The endpoint a run created for itself and deleted afterwards.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProvisionReport {
    /// `<prefix>-<run id>`: unique, so a lost create answer is found again by it.
    pub name: String,
    /// The endpoint id, once known.
    pub endpoint_id: Option<String>,
    /// The worker image it ran.
    pub image: String,
    /// GPU pools asked for (`ADA_24`, ...).
    #[serde(default)]
    pub gpu_pools: Vec<String>,
    /// When the create call was sent (RFC 3339).
    pub created_at: String,
    /// Seconds from create to the first ready worker (None: never ready, or not waited for).
    pub ready_after_s: Option<f64>,
    /// Seconds from create to verified deletion (or to the end of the run if not deleted).
    #[serde(deserialize_with = "super::lenient::f64_or_nan")]
    #[schemars(with = "Option<f64>")]
    pub lifetime_s: f64,
    /// The most workers seen allocated at once.
    pub peak_workers: u32,
    /// Upper bound of what the endpoint cost: lifetime x peak workers x GPU
    /// count x the price table's per-second price for the first pool (None
    /// without a price for it).
    pub estimated_cost: Option<f64>,
    /// Currency of `estimated_cost`.
    pub currency: Option<String>,
    /// How teardown ended: `deleted` (a GET then answered 404), or what failed.
    pub teardown: String,
    /// Whether the endpoint is known to be gone.
    pub deleted: bool,
}
