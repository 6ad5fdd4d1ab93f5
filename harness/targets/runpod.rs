//! RunPod's serverless API as a [`Target`]: the live endpoint, the mock (the
//! same API on loopback) and runpod-python's local test server, all through
//! [`Client`] and the job driver.

use futures_util::future::BoxFuture;

use super::api::{JobRequest, Target};
use crate::client::{Client, EndpointError, Submit};
use crate::job::{DriveError, Finished, Watch};
use crate::wire::Health;

/// A RunPod-compatible endpoint.
pub struct Runpod {
    client: Client,
    label: String,
}

impl Runpod {
    /// The endpoint behind `client`, shown as `label`.
    pub fn new(client: Client, label: impl Into<String>) -> Self {
        Runpod {
            client,
            label: label.into(),
        }
    }

    /// The client (for tests and tools that call routes directly).
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
        Box::pin(crate::job::drive_with(
            &self.client,
            how,
            request.body,
            request.deadline,
            watch,
        ))
    }

    fn download<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, EndpointError>> {
        Box::pin(self.client.download(url))
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, EndpointError>> {
        Box::pin(self.client.health())
    }
}
