//! Which local AWS backend to run, as chosen on the command line.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::{Credentials, EmbeddedS3, ExternalS3, LocalAwsError, LocalStackContainer, LocalStackProcess, S3Endpoint};

/// What [`RunningBackend::version`] reports for the embedded server.
pub const EMBEDDED_VERSION: &str = "embedded s3s-fs 0.14";

/// The kinds of S3 backend the workbench can run against; parsed from and printed as
/// `embedded|localstack|container|endpoint` so it can be a CLI option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// In-process `s3s` server on a loopback port (the default: no set-up, offline, fast).
    #[default]
    Embedded,
    /// Real LocalStack run as a host process from a pinned venv (needs Python >= 3.13).
    LocalStack,
    /// LocalStack in a Docker container via testcontainers.
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

    /// Starts (or, for `endpoint`, probes) the backend. `state_dir` is the workspace's
    /// `.workbench/`:
    ///
    /// * `embedded` serves `<state_dir>/s3` ([`embedded_data_dir`]) with a fresh random secret
    ///   ([`Credentials::generate`]); it fails with [`LocalAwsError::StoreInUse`] while another
    ///   server owns that folder;
    /// * `localstack` uses (and on first use creates, ~90 s) `<state_dir>/localstack-venv`, and
    ///   keeps its logs in `<state_dir>/logs` and its files in `<state_dir>/localstack`;
    /// * `container` keeps the container's log in `<state_dir>/logs`; the image comes from
    ///   `WB_LOCALSTACK_IMAGE` or the defaults (see [`LocalStackContainer`]);
    /// * `endpoint` ignores it and fails at once if nothing answers at `AWS_ENDPOINT_URL`.
    pub async fn start(self, state_dir: &Path) -> Result<RunningBackend, LocalAwsError> {
        Ok(match self {
            Backend::Embedded => {
                let credentials =
                    Credentials::generate().map_err(|e| LocalAwsError::Secret { reason: e.to_string() })?;
                RunningBackend::Embedded(EmbeddedS3::start(&embedded_data_dir(state_dir), credentials).await?)
            }
            Backend::LocalStack => RunningBackend::LocalStack(LocalStackProcess::start(state_dir).await?),
            Backend::Container => RunningBackend::Container(LocalStackContainer::start(state_dir, None).await?),
            Backend::Endpoint => RunningBackend::Endpoint(ExternalS3::connect(S3Endpoint::from_env()?).await?),
        })
    }
}

/// Where the embedded backend keeps its buckets for a state directory: `<state_dir>/s3`.
pub fn embedded_data_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("s3")
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
///
/// Dropping it without [`RunningBackend::shutdown`] still stops what this process started (in
/// the background), and the `localstack` and `container` backends are also cleaned up by a
/// watchdog process if this process dies without dropping it.
#[derive(Debug)]
pub enum RunningBackend {
    /// The in-process server, which stops when shut down or dropped.
    Embedded(EmbeddedS3),
    /// LocalStack as a host process.
    LocalStack(LocalStackProcess),
    /// LocalStack in a container.
    Container(LocalStackContainer),
    /// An external service this process does not own (probed at start).
    Endpoint(ExternalS3),
}

impl RunningBackend {
    /// Where to send S3 requests.
    pub fn endpoint(&self) -> S3Endpoint {
        match self {
            RunningBackend::Embedded(server) => server.endpoint(),
            RunningBackend::LocalStack(process) => process.endpoint(),
            RunningBackend::Container(container) => container.endpoint(),
            RunningBackend::Endpoint(external) => external.endpoint(),
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            RunningBackend::Embedded(_) => Backend::Embedded,
            RunningBackend::LocalStack(_) => Backend::LocalStack,
            RunningBackend::Container(_) => Backend::Container,
            RunningBackend::Endpoint(_) => Backend::Endpoint,
        }
    }

    /// How long starting took until the backend answered (for `endpoint`: the probe).
    pub fn startup(&self) -> Duration {
        match self {
            RunningBackend::Embedded(server) => server.startup(),
            RunningBackend::LocalStack(process) => process.startup(),
            RunningBackend::Container(container) => container.startup(),
            RunningBackend::Endpoint(external) => external.startup(),
        }
    }

    /// What runs behind the endpoint: [`EMBEDDED_VERSION`], `LocalStack 2026.3.0` (from its
    /// health endpoint), or for `endpoint` whatever the probe learnt.
    pub fn version(&self) -> &str {
        match self {
            RunningBackend::Embedded(_) => EMBEDDED_VERSION,
            RunningBackend::LocalStack(process) => process.version(),
            RunningBackend::Container(container) => container.version(),
            RunningBackend::Endpoint(external) => external.version(),
        }
    }

    /// Stops whatever this process started (nothing for `endpoint`) and waits until it is gone.
    pub async fn shutdown(self) {
        match self {
            RunningBackend::Embedded(server) => server.shutdown().await,
            RunningBackend::LocalStack(process) => process.shutdown().await,
            RunningBackend::Container(container) => container.shutdown().await,
            RunningBackend::Endpoint(_) => {}
        }
    }
}
