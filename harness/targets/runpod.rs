//! RunPod's serverless API as a [`Target`]: the live endpoint, the mock (the
//! same API on loopback) and runpod-python's local test server, all through
//! [`Client`] and the job driver.

use futures_util::future::BoxFuture;

use super::api::{JobRequest, Target};
use crate::runpod::Client;
use crate::http::EndpointError;
use crate::runpod::Submit;
use crate::runpod::job::{DriveError, Finished, Watch};
use crate::runpod::wire::Health;

/// A RunPod-compatible endpoint.
pub struct Runpod {
    client: Client,
    label: String,
    facts: super::api::TargetFacts,
    virtual_time: bool,
    api: Option<crate::runpod::evidence::EndpointApi>,
}

impl Runpod {
    /// The endpoint behind `client`, shown as `label`.
    pub fn new(client: Client, label: impl Into<String>) -> Self {
        Runpod {
            client,
            label: label.into(),
            facts: Default::default(),
            virtual_time: false,
            api: None,
        }
    }

    /// The same, saying what it runs on (the mock knows; a live endpoint's
    /// workers are asked by the caller).
    pub fn with_facts(mut self, facts: super::api::TargetFacts) -> Self {
        self.facts = facts;
        self
    }

    /// The endpoint's management API, for its workers, releases and logs.
    pub fn with_endpoint_api(mut self, api: Option<crate::runpod::evidence::EndpointApi>) -> Self {
        self.api = api;
        self
    }

    /// Marks the endpoint as the harness's own mock, which serves a load run
    /// on a virtual clock (`X-Harness-Sim`).
    pub fn with_virtual_time(mut self) -> Self {
        self.virtual_time = true;
        self
    }

    /// The client (for tests and tools that call routes directly).
    #[cfg(any(test, feature = "internals"))]
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl Target for Runpod {
    fn label(&self) -> &str {
        &self.label
    }

    fn run<'a>(
        &'a self,
        request: JobRequest,
        watch: &'a Watch,
    ) -> BoxFuture<'a, Result<Finished, DriveError>> {
        let how = if request.sync {
            Submit::RunSync(request.deadline)
        } else {
            Submit::Run
        };
        Box::pin(crate::runpod::job::drive_with(
            &self.client,
            how,
            request.body,
            request.deadline,
            watch,
        ))
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, EndpointError>> {
        Box::pin(self.client.health())
    }

    fn facts(&self) -> BoxFuture<'_, super::api::TargetFacts> {
        Box::pin(async { self.facts.clone() })
    }

    fn virtual_time(&self) -> bool {
        self.virtual_time
    }

    fn endpoint_api(&self) -> Option<&crate::runpod::evidence::EndpointApi> {
        self.api.as_ref()
    }
}

impl crate::runpod::output::Download for Runpod {
    fn download<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, EndpointError>> {
        Box::pin(self.client.download(url))
    }
}
