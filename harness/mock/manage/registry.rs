//! The endpoints created through the mock's management API, and the call
//! counters its faults use: state only (a leaf), the routes are in `manage.rs`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use crate::mock::behaviour::Behaviour;
use crate::mock::manage::provisioning::{ManageRoute, Provisioning};

/// One endpoint created through the API.
pub(crate) struct Managed {
    pub(crate) behaviour: Arc<Behaviour>,
    pub(crate) behaviour_name: String,
    pub(crate) provision: Provisioning,
    pub(crate) body: Value,
    pub(crate) created: Instant,
    pub(crate) workers_min: u32,
    pub(crate) workers_max: u32,
}

/// The created endpoints of one mock server, and the call counters faults use.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) endpoints: Mutex<BTreeMap<String, Managed>>,
    calls: Mutex<HashMap<(String, &'static str), u32>>,
}

impl Registry {
    /// The behaviour of a created endpoint, for the runtime routes.
    pub(crate) fn behaviour_of(&self, id: &str) -> Option<Arc<Behaviour>> {
        lock(&self.endpoints).get(id).map(|m| m.behaviour.clone())
    }

    pub(crate) fn count(&self, behaviour: &str, route: ManageRoute) -> u32 {
        let mut calls = lock(&self.calls);
        let n = calls
            .entry((behaviour.to_string(), name(route)))
            .or_insert(0);
        *n += 1;
        *n
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The name a management call is counted under (`/_mock/stats`: `serverless create`).
pub(crate) fn name(r: ManageRoute) -> &'static str {
    match r {
        ManageRoute::Create => "create",
        ManageRoute::Get => "get",
        ManageRoute::List => "list",
        ManageRoute::Workers => "workers",
        ManageRoute::Delete => "delete",
        ManageRoute::Any => "any",
    }
}
