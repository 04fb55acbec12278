//! `wb aws serve --aws B` (hidden): the detached process `wb aws up` starts. It starts backend B, writes
//! `.workbench/aws.json`, records the start-up time, and serves until SIGTERM (`wb aws down`) or SIGINT; then it
//! removes the state file and stops the backend (LocalStack's process group, the container). It owns the
//! backend the way `wb run` does, so the `localstack` and `container` watchdogs still clean up if it is killed.
//!
//! A LocalStack host process that dies under it ends it too (exit 1), so the state file never names a backend
//! that is gone. Everything it says goes to its log, `.workbench/logs/aws-serve.log`.

use std::time::Duration;

use localstack::{Backend, RunningBackend};
use tokio::signal::unix::{SignalKind, signal};

use crate::exit::ExitStatus;
use crate::services::aws::state::{self, AwsState};
use crate::services::aws::{SERVE_LOG, session, startup_text};
use crate::workspace::Workspace;

/// How often the backend's own process is checked.
const WATCH_EVERY: Duration = Duration::from_millis(250);

/// How many failed probes in a row make a container count as gone (one probe every [`CONTAINER_PROBE_EVERY`]).
const CONTAINER_PROBES: u32 = 3;

/// How often a container backend is probed.
const CONTAINER_PROBE_EVERY: Duration = Duration::from_secs(5);

/// Why serving stopped.
enum Stop {
    Signal(&'static str),
    Died(String),
}

/// Runs `wb aws serve --aws backend` and returns the exit code: 0 when stopped by a signal, 1 when the backend
/// died, 2 when it could not start.
pub async fn serve(backend: Backend) -> ExitStatus {
    let pid = std::process::id();
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    if backend == Backend::Endpoint {
        eprintln!(
            "error: the endpoint backend has nothing to serve: `wb run --aws endpoint` uses AWS_ENDPOINT_URL directly"
        );
        return ExitStatus::Error;
    }
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
    else {
        eprintln!("error: cannot install signal handlers; check the process limits");
        return ExitStatus::Error;
    };
    let started_at = crate::history::now();
    say(&format!("`wb aws serve` (pid {pid}): starting the {backend} backend"));
    let state_dir = workspace.state_dir();
    let started = tokio::select! {
        started = backend.start(&state_dir) => started,
        _ = term.recv() => {
            say("stopped before the backend was up (SIGTERM)");
            return ExitStatus::Ok;
        }
        _ = int.recv() => {
            say("stopped before the backend was up (SIGINT)");
            return ExitStatus::Ok;
        }
    };
    let running = match started {
        Ok(running) => running,
        Err(e) => {
            eprintln!("error: cannot start the {backend} S3 backend: {e}");
            return ExitStatus::Error;
        }
    };
    let path = state::state_path(&workspace);
    let log = workspace.state_dir().join("logs").join(SERVE_LOG);
    let state = AwsState::of(&running, started_at, log);
    if let Err(e) = state.write(&path) {
        eprintln!("error: cannot write {}: {e}; check that .workbench/ is writable", path.display());
        running.shutdown().await;
        return ExitStatus::Error;
    }
    state::record_startup(&state::startups_path(&workspace), &running, "wb aws up");
    say(&format!(
        "serving the {backend} backend at {} ({}), started in {}; SIGTERM (`wb aws down`) stops it",
        state.endpoint,
        state.version,
        startup_text(state.startup_ms)
    ));

    let mut tick = tokio::time::interval(WATCH_EVERY);
    let mut last_probe = tokio::time::Instant::now();
    let mut failed_probes = 0;
    let stop = loop {
        tokio::select! {
            _ = term.recv() => break Stop::Signal("SIGTERM"),
            _ = int.recv() => break Stop::Signal("SIGINT"),
            _ = hup.recv() => say("SIGHUP ignored: `wb aws down` stops this backend"),
            _ = tick.tick() => {
                if let Some(died) = died(&running, &state, &mut last_probe, &mut failed_probes).await {
                    break Stop::Died(died);
                }
            }
        }
    };
    // The state file goes first, so nobody picks up a backend that is stopping.
    state::remove_if_owned(&path, pid);
    running.shutdown().await;
    match stop {
        Stop::Signal(signal) => {
            say(&format!("stopped the {backend} backend ({signal})"));
            ExitStatus::Ok
        }
        Stop::Died(reason) => {
            eprintln!("error: {reason}; stopped serving: `wb aws up --aws {backend}` starts a new one");
            ExitStatus::Fail
        }
    }
}

/// Whether the backend is gone: the LocalStack host process exited, or a container stopped answering.
async fn died(
    running: &RunningBackend,
    state: &AwsState,
    last_probe: &mut tokio::time::Instant,
    failed_probes: &mut u32,
) -> Option<String> {
    match running {
        RunningBackend::LocalStack(process) => (crate::sys::process_alive(process.pid(), None) == Some(false))
            .then(|| format!("the LocalStack process (pid {}) exited unexpectedly", process.pid())),
        RunningBackend::Container(_) if last_probe.elapsed() >= CONTAINER_PROBE_EVERY => {
            *last_probe = tokio::time::Instant::now();
            match session::answers(&state.s3_endpoint()).await {
                Ok(()) => *failed_probes = 0,
                Err(_) => *failed_probes += 1,
            }
            (*failed_probes >= CONTAINER_PROBES)
                .then(|| format!("the LocalStack container stopped answering at {}", state.endpoint))
        }
        _ => None,
    }
}

/// A timestamped line in the serve log.
fn say(line: &str) {
    eprintln!("{} {line}", crate::history::now());
}
