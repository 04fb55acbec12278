//! The `localstack` backend for real: LocalStack from the pinned venv as a host process.
//!
//! The venv lives in the workspace's `.workbench/localstack-venv` so every run reuses it (the
//! first run creates it, about 90 s, and needs PyPI). Without a Python >= 3.13 these tests print
//! what is missing and pass, unless `CI=true`. They run one at a time (a LocalStack start-up is
//! timed, and 2 cores are shared).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use localstack::{Backend, LocalAwsError, RunningBackend, ensure_venv, venv_dir};
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The state directory with a ready venv, or `None` (after saying why) when no Python >= 3.13 exists here or
/// the venv cannot be installed (no network to PyPI).
async fn state_with_venv() -> Option<PathBuf> {
    let state = common::state_dir();
    let venv = tokio::task::spawn_blocking({
        let state = state.clone();
        move || ensure_venv(&state)
    })
    .await
    .unwrap();
    match venv {
        Ok(venv) => {
            assert_eq!(venv, venv_dir(&state));
            Some(state)
        }
        // No Python >= 3.13, or a venv that cannot be built here (offline: PyPI unreachable).
        Err(e @ (LocalAwsError::PythonNotFound { .. } | LocalAwsError::Venv { .. })) => {
            common::missing(&e.to_string());
            None
        }
        Err(e) => panic!("{e}"),
    }
}

async fn start(state: &std::path::Path) -> (RunningBackend, u32) {
    let running = Backend::LocalStack.start(state).await.unwrap();
    let RunningBackend::LocalStack(process) = &running else { panic!("not a LocalStack process: {running:?}") };
    let pid = process.pid();
    assert!(common::cmdline(pid).contains("localstack.runtime.main"), "{}", common::cmdline(pid));
    (running, pid)
}

#[tokio::test]
async fn localstack_process_serves_s3_and_leaves_no_process() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(state) = state_with_venv().await else { return };
    let (running, pid) = start(&state).await;
    eprintln!("LocalStack ({}) ready in {:?} at {}", running.version(), running.startup(), running.endpoint().url);
    assert_eq!(running.backend(), Backend::LocalStack);
    assert!(running.startup() < Duration::from_secs(20), "start-up took {:?}", running.startup());
    assert_eq!(running.version(), "LocalStack 2026.3.0");
    let endpoint = running.endpoint();
    assert!(endpoint.url.starts_with("http://127.0.0.1:"), "{}", endpoint.url);

    common::exercise(&endpoint).await;

    // LocalStack's own files stay in the state directory; its log is kept.
    let RunningBackend::LocalStack(process) = &running else { unreachable!() };
    let log = process.log_path().to_owned();
    assert!(log.starts_with(state.join("logs")), "{}", log.display());
    assert!(state.join("localstack/fs/var/lib/localstack/cache").is_dir());

    running.shutdown().await;
    assert!(common::process_gone(pid), "LocalStack (pid {pid}) still runs after shutdown: {}", common::cmdline(pid));
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.lines().any(|l| l == "Ready."), "{log}");
}

#[tokio::test]
async fn dropping_the_backend_stops_localstack() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(state) = state_with_venv().await else { return };
    let (running, pid) = start(&state).await;
    drop(running);
    assert!(common::wait_gone(pid, Duration::from_secs(15)).await, "LocalStack (pid {pid}) outlived its owner");
}

#[tokio::test]
async fn a_panicking_owner_stops_localstack() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(state) = state_with_venv().await else { return };
    let (pid_tx, pid_rx) = tokio::sync::oneshot::channel();
    let owner = tokio::spawn(async move {
        let (_running, pid) = start(&state).await;
        pid_tx.send(pid).unwrap();
        panic!("the owner of a running LocalStack panics");
    });
    let pid = pid_rx.await.expect("LocalStack started");
    assert!(owner.await.unwrap_err().is_panic());
    assert!(common::wait_gone(pid, Duration::from_secs(15)).await, "LocalStack (pid {pid}) outlived its owner");
}

/// Runs in a child process of `a_killed_owner_leaves_no_localstack`: starts LocalStack, writes its
/// pid to `WB_TEST_PID_FILE`, and waits to be killed. Does nothing when run on its own.
#[tokio::test]
#[ignore = "helper run by a_killed_owner_leaves_no_localstack"]
async fn killed_owner_child() {
    let Ok(pid_file) = std::env::var("WB_TEST_PID_FILE") else { return };
    let (_running, pid) = start(&common::state_dir()).await;
    std::fs::write(&pid_file, pid.to_string()).unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;
}

/// SIGKILL leaves no Rust code to run: the watchdog must stop LocalStack.
#[tokio::test]
async fn a_killed_owner_leaves_no_localstack() {
    let _serial = ONE_AT_A_TIME.lock().await;
    if state_with_venv().await.is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let mut owner = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "killed_owner_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env("WB_TEST_PID_FILE", &pid_file)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = loop {
        if let Ok(text) = std::fs::read_to_string(&pid_file)
            && let Ok(pid) = text.trim().parse::<u32>()
        {
            break pid;
        }
        if let Some(status) = owner.try_wait().unwrap() {
            panic!("the owner exited ({status}) before starting LocalStack");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!common::process_gone(pid));
    owner.kill().await.unwrap();
    assert!(common::wait_gone(pid, Duration::from_secs(20)).await, "LocalStack (pid {pid}) outlived its killed owner");
}

/// Alerts go out through SES on LocalStack (see [`common::exercise_ses`]).
#[tokio::test]
async fn localstack_sends_email_through_ses_and_keeps_it() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(state) = state_with_venv().await else { return };
    let (running, _pid) = start(&state).await;
    common::exercise_ses(&running.endpoint()).await;
    running.shutdown().await;
}
