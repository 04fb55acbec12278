//! Which local AWS backend to run, as chosen on the command line.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::{Credentials, EmbeddedS3, LocalAwsError, S3Endpoint};

/// The kinds of S3 backend the workbench can run against; parsed from and printed as
/// `embedded|localstack|container|endpoint` so it can be a CLI option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// In-process `s3s` server on a loopback port (the default: no set-up, offline, fast).
    #[default]
    Embedded,
    /// Real LocalStack run as a host process (not available yet).
    LocalStack,
    /// LocalStack in a container via testcontainers (not available yet).
    Container,
    /// Any S3-compatible service named by `AWS_ENDPOINT_URL` and the usual AWS variables.
    Endpoint,
}

impl Backend {
    /// Every backend, in the order they are documented.
    pub const ALL: [Backend; 4] = [Backend::Embedded, Backend::LocalStack, Backend::Container, Backend::Endpoint];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Embedded => "embedded",
            Backend::LocalStack => "localstack",
            Backend::Container => "container",
            Backend::Endpoint => "endpoint",
        }
    }

    /// Starts (or, for `endpoint`, just locates) the backend. `data_dir` is where the embedded
    /// server keeps its buckets (the design's `.workbench/s3`); the other backends ignore it.
    pub async fn start(self, data_dir: &Path) -> Result<RunningBackend, LocalAwsError> {
        match self {
            Backend::Embedded => Ok(RunningBackend::Embedded(EmbeddedS3::start(data_dir, Credentials::local()).await?)),
            Backend::Endpoint => Ok(RunningBackend::Endpoint(S3Endpoint::from_env()?)),
            Backend::LocalStack | Backend::Container => {
                Err(LocalAwsError::NotAvailable { backend: self.as_str().to_owned() })
            }
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = LocalAwsError;

    /// Accepts the names `Display` prints, ignoring ASCII case and surrounding blanks.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Backend::ALL
            .into_iter()
            .find(|backend| backend.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| LocalAwsError::UnknownBackend { name: s.to_owned() })
    }
}

/// A backend that is up: keep it alive while the endpoint is in use, then shut it down.
#[derive(Debug)]
pub enum RunningBackend {
    /// The in-process server, which stops when shut down or dropped.
    Embedded(EmbeddedS3),
    /// An external service this process does not own.
    Endpoint(S3Endpoint),
}

impl RunningBackend {
    /// Where to send S3 requests.
    pub fn endpoint(&self) -> S3Endpoint {
        match self {
            RunningBackend::Embedded(server) => server.endpoint(),
            RunningBackend::Endpoint(endpoint) => endpoint.clone(),
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            RunningBackend::Embedded(_) => Backend::Embedded,
            RunningBackend::Endpoint(_) => Backend::Endpoint,
        }
    }

    /// Stops whatever this process started (nothing for `endpoint`).
    pub async fn shutdown(self) {
        if let RunningBackend::Embedded(server) = self {
            server.shutdown().await;
        }
    }
}
