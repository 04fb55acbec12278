//! The `container` backend: LocalStack in a Docker container, started with testcontainers.
//!
//! testcontainers 0.28 uses bollard 0.21, whose client version is API 1.53 (Docker 29) and which
//! does not negotiate. It still works with older daemons (tested with Docker 20.10, API 1.41)
//! because bollard's request URLs carry no `/v1.53/` prefix (the path is joined as an absolute
//! path, dropping the version), so the daemon serves each call at its own API version. Should a
//! later bollard send the prefix, an older daemon answers "client version 1.53 is too new", which
//! [`LocalStackContainer::start`] reports as is.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::BoxFuture;
use testcontainers::bollard::Docker;
use testcontainers::bollard::errors::Error as DockerError;
use testcontainers::bollard::models::{HostConfig, PortBinding};
use testcontainers::bollard::query_parameters::CreateImageOptions;
use testcontainers::core::logs::LogFrame;
use testcontainers::core::logs::consumer::LogConsumer;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use crate::host::{prune_logs, unix_millis};
use crate::venv::log_tail;
use crate::watchdog::Watchdog;
use crate::{Credentials, LocalAwsError, S3Endpoint, probe};

/// The image used when none is configured: the official LocalStack image, pinned to the release
/// the venv's lock file holds (Docker tags use the zero-padded month of LocalStack's calendar
/// versions).
pub const DEFAULT_IMAGE: &str = "localstack/localstack:2026.03.0";

/// The image `just localstack-image` builds without any registry (`localstack/image/build.sh`).
/// Used when no image is configured and [`DEFAULT_IMAGE`] is not present locally.
pub const LOCAL_IMAGE: &str = "workbench/localstack:2026.3.0";

/// Environment variable that names the image to run (overrides the defaults).
pub const IMAGE_ENV: &str = "WB_LOCALSTACK_IMAGE";

/// LocalStack's gateway port inside the container.
pub const GATEWAY_PORT: u16 = 4566;

/// How long the container may take from creation to `Ready.`.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a pull may take before it counts as failed.
const PULL_TIMEOUT: Duration = Duration::from_secs(600);

/// Seconds Docker waits after SIGTERM before SIGKILL on stop.
const STOP_SECONDS: i32 = 10;

/// LocalStack (S3 and SES) in a Docker container whose gateway port is published on a random
/// `127.0.0.1` port.
///
/// The image is, in order: the `image` argument of [`LocalStackContainer::start`],
/// `WB_LOCALSTACK_IMAGE`, [`DEFAULT_IMAGE`] if present locally, [`LOCAL_IMAGE`] if present
/// locally, else [`DEFAULT_IMAGE`] pulled. `LOCALSTACK_AUTH_TOKEN` is passed through when set.
/// The container's output goes to `<state_dir>/logs/localstack-container-<time>.log` (the last
/// 10 kept).
///
/// [`LocalStackContainer::shutdown`] stops (SIGTERM, 10 s, SIGKILL) and removes the container.
/// Dropping the value without shutting down removes it in the background, and a watchdog (when
/// the `docker` CLI is on `PATH`) removes it if this process dies first.
pub struct LocalStackContainer {
    // Boxed: testcontainers' handle is large, and this sits in an enum with small variants.
    container: Option<Box<ContainerAsync<GenericImage>>>,
    id: String,
    image: String,
    endpoint: S3Endpoint,
    startup: Duration,
    version: String,
    log_path: PathBuf,
    watchdog: Option<Watchdog>,
}

impl std::fmt::Debug for LocalStackContainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStackContainer")
            .field("id", &self.id)
            .field("image", &self.image)
            .field("endpoint", &self.endpoint.url)
            .field("startup", &self.startup)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl LocalStackContainer {
    /// Connects to Docker (`DOCKER_HOST` or the default socket), makes sure the image is there
    /// (pulling only when it is missing), starts the container, waits for `Ready.` (up to 90 s)
    /// and checks `/_localstack/health`. Errors name what is missing (Docker, the image) and the
    /// command that fixes it; a container that fails to start is removed before returning.
    pub async fn start(state_dir: &Path, image: Option<&str>) -> Result<Self, LocalAwsError> {
        let started = Instant::now();
        let docker = connect().await?;
        let image = resolve_image(&docker, image).await?;

        let logs = state_dir.join("logs");
        std::fs::create_dir_all(&logs).map_err(|source| LocalAwsError::StateDir { path: logs.clone(), source })?;
        prune_logs(&logs, "localstack-container-");
        let log_path = logs.join(format!("localstack-container-{}.log", unix_millis()));
        let log =
            File::create(&log_path).map_err(|source| LocalAwsError::StateDir { path: log_path.clone(), source })?;

        let container = match start_container(&image, &container_env(), log).await {
            Ok(container) => container,
            // It ran but never became ready: its own output says why.
            Err(LocalAwsError::Container { reason, .. }) if std::fs::metadata(&log_path).is_ok_and(|m| m.len() > 0) => {
                return Err(LocalAwsError::LocalStackStart {
                    backend: "container",
                    reason,
                    tail: log_tail(&log_path, 15),
                    log: log_path,
                });
            }
            Err(e) => return Err(e),
        };
        let id = container.id().to_owned();
        let watchdog = Watchdog::for_container(&id);
        let mut container = Self {
            container: Some(Box::new(container)),
            id,
            image,
            endpoint: S3Endpoint { url: String::new(), credentials: Credentials::local() },
            startup: Duration::ZERO,
            version: String::new(),
            log_path,
            watchdog,
        };
        match container.check().await {
            Ok(()) => {
                container.startup = started.elapsed();
                Ok(container)
            }
            Err(reason) => {
                container.stop().await;
                Err(LocalAwsError::LocalStackStart {
                    backend: "container",
                    reason,
                    tail: log_tail(&container.log_path, 15),
                    log: container.log_path.clone(),
                })
            }
        }
    }

    /// Finds the published port and checks LocalStack's health.
    async fn check(&mut self) -> Result<(), String> {
        let port = self
            .container
            .as_ref()
            .expect("running until stopped")
            .get_host_port_ipv4(GATEWAY_PORT.tcp())
            .await
            .map_err(|e| format!("no published port for {GATEWAY_PORT}/tcp: {e}"))?;
        self.endpoint.url = format!("http://127.0.0.1:{port}");
        let version = probe::wait_healthy(&self.endpoint.url, Duration::from_secs(10)).await?;
        self.version = format!("LocalStack {version}");
        Ok(())
    }

    /// Where clients reach this LocalStack (`http://127.0.0.1:<random port>`).
    pub fn endpoint(&self) -> S3Endpoint {
        self.endpoint.clone()
    }

    /// The container id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The image the container runs.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// From the call to [`LocalStackContainer::start`] until LocalStack was healthy.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// `LocalStack <version>` as `/_localstack/health` reported it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// This run's log file (the container's stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Stops the container (SIGTERM, up to 10 s, SIGKILL) and removes it with its volumes.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        let Some(container) = self.container.take() else {
            return;
        };
        let _ = container.stop_with_timeout(Some(STOP_SECONDS)).await;
        let _ = container.rm().await;
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.disarm();
        }
    }
}

impl Drop for LocalStackContainer {
    fn drop(&mut self) {
        let Some(container) = self.container.take() else {
            return;
        };
        if let Some(watchdog) = self.watchdog.take() {
            // `docker rm --force` in the background, where testcontainers' own drop would block
            // (and panic outside a tokio runtime).
            watchdog.fire();
            std::mem::forget(container);
        } else if tokio::runtime::Handle::try_current().is_ok() {
            // testcontainers removes it on drop.
            drop(container);
        } else {
            std::mem::forget(container);
        }
    }
}

/// The daemon address bollard and testcontainers use: `DOCKER_HOST`, else the default unix socket.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned())
}

/// A bollard client (the one testcontainers uses) for image checks, once the daemon answered.
async fn connect() -> Result<Docker, LocalAwsError> {
    let unavailable = |reason: String| LocalAwsError::DockerUnavailable { host: docker_host(), reason };
    let docker = Docker::connect_with_defaults().map_err(|e| unavailable(e.to_string()))?;
    docker.version().await.map_err(|e| unavailable(e.to_string()))?;
    Ok(docker)
}

/// Picks the image (see [`LocalStackContainer`]) and makes sure Docker has it.
async fn resolve_image(docker: &Docker, explicit: Option<&str>) -> Result<String, LocalAwsError> {
    let configured = explicit
        .map(str::to_owned)
        .or_else(|| std::env::var(IMAGE_ENV).ok())
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty());
    let image = match configured {
        Some(image) => image,
        None if has_image(docker, DEFAULT_IMAGE).await => return Ok(DEFAULT_IMAGE.to_owned()),
        None if has_image(docker, LOCAL_IMAGE).await => return Ok(LOCAL_IMAGE.to_owned()),
        None => DEFAULT_IMAGE.to_owned(),
    };
    if has_image(docker, &image).await {
        return Ok(image);
    }
    let not_local = if image == DEFAULT_IMAGE {
        format!("neither it nor {LOCAL_IMAGE} is present locally")
    } else {
        "it is not present locally".to_owned()
    };
    match tokio::time::timeout(PULL_TIMEOUT, pull(docker, &image)).await {
        Ok(Ok(())) => Ok(image),
        Ok(Err(e)) => {
            Err(LocalAwsError::ImageMissing { image, reason: format!("{not_local}, and pulling it failed: {e}") })
        }
        Err(_) => Err(LocalAwsError::ImageMissing {
            image,
            reason: format!("{not_local}, and pulling it took more than {} s", PULL_TIMEOUT.as_secs()),
        }),
    }
}

/// What the Docker daemon says, as `wb doctor` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerFacts {
    /// The daemon's version (`docker version`'s server version).
    pub server_version: String,
    /// The LocalStack image [`LocalStackContainer::start`] would run without pulling: the configured one, else
    /// [`DEFAULT_IMAGE`], else [`LOCAL_IMAGE`]; `None` when none of them is present locally.
    pub image: Option<String>,
}

/// Asks the daemon at `host` (as in `DOCKER_HOST`) for its version and which LocalStack image is present, the
/// same way [`LocalStackContainer::start`] checks (`configured` is [`IMAGE_ENV`]'s value). Pulls nothing; the
/// caller bounds the time (a hung daemon never answers).
pub async fn docker_facts(host: &str, configured: Option<&str>) -> Result<DockerFacts, LocalAwsError> {
    let unavailable = |reason: String| LocalAwsError::DockerUnavailable { host: host.to_owned(), reason };
    let docker = Docker::connect_with_host(host).map_err(|e| unavailable(e.to_string()))?;
    let version = docker.version().await.map_err(|e| unavailable(e.to_string()))?;
    let candidates = match configured.map(str::trim).filter(|i| !i.is_empty()) {
        Some(image) => vec![image.to_owned()],
        None => vec![DEFAULT_IMAGE.to_owned(), LOCAL_IMAGE.to_owned()],
    };
    let mut image = None;
    for candidate in candidates {
        if has_image(&docker, &candidate).await {
            image = Some(candidate);
            break;
        }
    }
    Ok(DockerFacts { server_version: version.version.unwrap_or_else(|| "unknown".to_owned()), image })
}

async fn has_image(docker: &Docker, image: &str) -> bool {
    docker.inspect_image(image).await.is_ok()
}

async fn pull(docker: &Docker, image: &str) -> Result<(), DockerError> {
    let options = CreateImageOptions { from_image: Some(image.to_owned()), ..Default::default() };
    let mut progress = docker.create_image(Some(options), None, None);
    while let Some(step) = progress.next().await {
        step?;
    }
    Ok(())
}

/// LocalStack's settings: S3 and SES (alerts), loaded eagerly, no analytics, no certificate download, and
/// the auth token passed through when set.
fn container_env() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("SERVICES", "s3,ses"),
        ("EAGER_SERVICE_LOADING", "1"),
        ("DISABLE_EVENTS", "1"),
        ("SKIP_SSL_CERT_DOWNLOAD", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Ok(token) = std::env::var("LOCALSTACK_AUTH_TOKEN")
        && !token.trim().is_empty()
    {
        env.push(("LOCALSTACK_AUTH_TOKEN".to_owned(), token));
    }
    env
}

/// Publishes the gateway on a random port of 127.0.0.1 only (not on every interface).
fn loopback_port_bindings() -> HashMap<String, Option<Vec<PortBinding>>> {
    HashMap::from([(
        format!("{GATEWAY_PORT}/tcp"),
        Some(vec![PortBinding { host_ip: Some("127.0.0.1".to_owned()), host_port: Some(String::new()) }]),
    )])
}

/// Splits `repo[:tag]` (the repository may contain a registry `host:port/`).
fn split_image(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (image, "latest"),
    }
}

fn container_error(image: &str, operation: &'static str, reason: impl ToString) -> LocalAwsError {
    LocalAwsError::Container { image: image.to_owned(), operation, reason: reason.to_string() }
}

/// Appends every log frame to the run's log file.
struct FileLog(Mutex<File>);

impl LogConsumer for FileLog {
    fn accept<'a>(&'a self, record: &'a LogFrame) -> BoxFuture<'a, ()> {
        let bytes = match record {
            LogFrame::StdOut(bytes) | LogFrame::StdErr(bytes) => bytes,
        };
        let _ = self.0.lock().unwrap_or_else(|e| e.into_inner()).write_all(bytes);
        Box::pin(async {})
    }
}

/// Creates and starts the container and waits for `Ready.` on its stdout.
async fn start_container(
    image: &str,
    env: &[(String, String)],
    log: File,
) -> Result<ContainerAsync<GenericImage>, LocalAwsError> {
    let (name, tag) = split_image(image);
    let mut request = GenericImage::new(name, tag)
        .with_exposed_port(GATEWAY_PORT.tcp())
        .with_wait_for(WaitFor::message_on_stdout("Ready."))
        .with_startup_timeout(START_TIMEOUT)
        .with_label("workbench.backend", "container")
        .with_log_consumer(FileLog(Mutex::new(log)))
        .with_host_config_modifier(|host_config: &mut HostConfig| {
            host_config.publish_all_ports = Some(false);
            host_config.port_bindings = Some(loopback_port_bindings());
        });
    for (key, value) in env {
        request = request.with_env_var(key, value);
    }
    // testcontainers removes a container that fails to become ready.
    request.start().await.map_err(|e| container_error(image, "start the container", e))
}

#[cfg(test)]
mod tests {
    use super::split_image;

    #[test]
    fn image_references_split_at_the_tag() {
        assert_eq!(split_image("localstack/localstack:2026.03.0"), ("localstack/localstack", "2026.03.0"));
        assert_eq!(split_image("registry:5000/ls/localstack:1"), ("registry:5000/ls/localstack", "1"));
        assert_eq!(split_image("registry:5000/ls/localstack"), ("registry:5000/ls/localstack", "latest"));
        assert_eq!(split_image("localstack"), ("localstack", "latest"));
    }
}
