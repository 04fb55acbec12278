//! The `endpoint` backend: an S3 service this process does not own, checked before use.

use std::time::{Duration, Instant};

use crate::{LocalAwsError, S3Endpoint, probe};

/// What to do when the endpoint does not answer.
const HINT: &str = "start the S3 service there or point AWS_ENDPOINT_URL at one that runs, or use `--aws embedded`";

/// An external S3-compatible service (`AWS_ENDPOINT_URL`), probed once when connecting so that a
/// service that is down is reported at start, not in the middle of a run.
#[derive(Debug, Clone)]
pub struct ExternalS3 {
    endpoint: S3Endpoint,
    startup: Duration,
    version: String,
}

impl ExternalS3 {
    /// Probes `endpoint` with one unsigned `GET {url}/_localstack/health`. Any HTTP answer (even
    /// 403 or 404) means something is listening; a LocalStack there also tells its version. A
    /// connection that is refused or times out (5 s) is an [`LocalAwsError::EndpointDown`] that
    /// names the endpoint and what to do.
    pub async fn connect(endpoint: S3Endpoint) -> Result<Self, LocalAwsError> {
        let started = Instant::now();
        let url = format!("{}/_localstack/health", endpoint.url);
        let answer = probe::get(&url).await.map_err(|reason| LocalAwsError::EndpointDown {
            backend: "endpoint",
            endpoint: endpoint.url.clone(),
            reason,
            hint: HINT,
        })?;
        let localstack = (answer.status == 200)
            .then(|| serde_json::from_slice::<serde_json::Value>(&answer.body).ok())
            .flatten()
            .and_then(|health| health.get("version")?.as_str().map(|v| format!("LocalStack {v}")));
        let version = localstack.unwrap_or_else(|| match answer.server {
            Some(server) => format!("S3 endpoint (server: {server})"),
            None => "S3 endpoint (server unknown)".to_owned(),
        });
        Ok(Self { endpoint, startup: started.elapsed(), version })
    }

    /// Where to send S3 requests.
    pub fn endpoint(&self) -> S3Endpoint {
        self.endpoint.clone()
    }

    /// How long the probe took.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// What the endpoint said it is: `LocalStack <version>`, or its `Server` header.
    pub fn version(&self) -> &str {
        &self.version
    }
}
