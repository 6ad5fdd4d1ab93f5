//! How a mock server is set up: its key, the behaviour behind each endpoint
//! id, its clock speed and its retention floor.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::behaviour::Behaviour;

/// How a mock server is set up.
#[derive(Clone)]
pub struct MockOptions {
    /// The Bearer key clients must send.
    pub api_key: String,
    /// Endpoint id -> behaviour.
    pub endpoints: BTreeMap<String, Arc<Behaviour>>,
    /// Simulated seconds per real second (1 = real time).
    pub speed: f64,
    /// Results never expire sooner than this in real time, whatever the speed.
    pub min_retention: Duration,
}

impl MockOptions {
    /// Serves every behaviour of `catalogue` under its own name (`/` becomes `~`).
    pub fn from_catalogue(
        cat: &crate::mock::catalogue::Catalogue,
        api_key: &str,
        speed: f64,
    ) -> Self {
        let endpoints = cat
            .behaviours
            .iter()
            .map(|(name, b)| (endpoint_id(name), b.clone()))
            .collect();
        MockOptions {
            api_key: api_key.to_string(),
            endpoints,
            speed,
            min_retention: Duration::from_secs(30),
        }
    }
}

/// The endpoint id under which a behaviour is served.
pub fn endpoint_id(behaviour: &str) -> String {
    behaviour.replace('/', "~")
}
