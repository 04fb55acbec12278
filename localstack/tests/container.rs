//! The `container` backend for real: LocalStack in Docker, from the default image resolution
//! (here usually the offline-built `workbench/localstack:2026.3.0`, see `just localstack-image`).
//!
//! Without Docker or without an image these tests print what is missing and pass, unless
//! `CI=true`. They run one at a time.

mod common;

use std::process::Command;
use std::time::Duration;

use localstack::{Backend, LocalAwsError, LocalStackContainer, RunningBackend};
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// Starts the container backend, or `None` (after saying what is missing) when Docker or the image
/// is not there.
async fn start() -> Option<RunningBackend> {
    match Backend::Container.start(&common::state_dir()).await {
        Ok(running) => Some(running),
        Err(e @ (LocalAwsError::DockerUnavailable { .. } | LocalAwsError::ImageMissing { .. })) => {
            common::missing(&e.to_string());
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// Whether Docker still knows container `id` (`None` when the docker CLI is not available).
fn container_exists(id: &str) -> Option<bool> {
    let output = Command::new("docker")
        .args(["ps", "--all", "--quiet", "--no-trunc", "--filter"])
        .arg(format!("id={id}"))
        .output()
        .ok()?;
    output.status.success().then(|| !String::from_utf8_lossy(&output.stdout).trim().is_empty())
}

async fn wait_removed(id: &str, limit: Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        match container_exists(id) {
            None | Some(false) => return true,
            Some(true) if std::time::Instant::now() > deadline => return false,
            Some(true) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

#[tokio::test]
async fn container_backend_serves_s3_and_is_removed_on_shutdown() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(running) = start().await else { return };
    let RunningBackend::Container(container) = &running else { panic!("not a container: {running:?}") };
    let id = container.id().to_owned();
    eprintln!(
        "{} from {} ready in {:?} at {}",
        running.version(),
        container.image(),
        running.startup(),
        running.endpoint().url
    );
    assert_eq!(running.backend(), Backend::Container);
    assert_eq!(running.version(), "LocalStack 2026.3.0");
    assert!(running.startup() < Duration::from_secs(30), "start-up took {:?}", running.startup());
    assert!(running.endpoint().url.starts_with("http://127.0.0.1:"), "{}", running.endpoint().url);
    assert_ne!(container_exists(&id), Some(false), "Docker does not know container {id}");

    common::exercise(&running.endpoint()).await;
    common::exercise_ses(&running.endpoint()).await;

    let log = container.log_path().to_owned();
    running.shutdown().await;
    assert!(wait_removed(&id, Duration::from_secs(1)).await, "container {id} still exists after shutdown");
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.lines().any(|l| l == "Ready."), "{log}");
}
#[tokio::test]
async fn a_dropped_container_is_removed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(running) = start().await else { return };
    let RunningBackend::Container(container) = &running else { panic!("not a container: {running:?}") };
    let id = container.id().to_owned();
    drop(running);
    assert!(wait_removed(&id, Duration::from_secs(30)).await, "container {id} outlived its owner");
}

#[tokio::test]
async fn a_missing_image_is_named_with_the_command_that_builds_one() {
    let image = "workbench/no-such-localstack:0";
    match LocalStackContainer::start(&common::state_dir(), Some(image)).await {
        Err(e @ LocalAwsError::DockerUnavailable { .. }) => common::missing(&e.to_string()),
        Err(e @ LocalAwsError::ImageMissing { .. }) => {
            let message = e.to_string();
            assert!(
                message.starts_with(&format!("backend `container`: image {image} is not available: ")),
                "{message}"
            );
            assert!(
                message.contains("`just localstack-image`") && message.contains("WB_LOCALSTACK_IMAGE"),
                "{message}"
            );
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(running) => {
            running.shutdown().await;
            panic!("{image} started");
        }
    }
}
