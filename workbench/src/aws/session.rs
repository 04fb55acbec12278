//! How `wb run` (and later the TUI) gets its S3 backend: the one `wb aws up` left running when it fits and
//! answers, else one of its own, started as before; plus what is said when a backend fails during a run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use localstack::{Backend, ExternalS3, LocalAwsError, RunningBackend, S3Endpoint};

use super::state::{self, AwsState};
use crate::workspace::Workspace;

/// Printed on stderr before the LocalStack venv is created (about 90 s, once), so nothing seems to hang.
pub const VENV_MESSAGE: &str = "creating the LocalStack venv (first time, ~90 s)…";

/// The file `localstack::ensure_venv` writes into the venv last, holding the lock file's hash. Mirrors that
/// crate's private check so the message above is printed only when a (re)creation is coming.
const VENV_HASH_FILE: &str = "workbench-lock.sha256";

/// Whether [`localstack::ensure_venv`] will have to create (or recreate) the venv under `state_dir`.
pub fn venv_needs_creation(state_dir: &Path) -> bool {
    let venv = localstack::venv_dir(state_dir);
    let current = localstack::venv_python(&venv).exists()
        && std::fs::read_to_string(venv.join(VENV_HASH_FILE))
            .is_ok_and(|recorded| recorded.trim() == localstack::lock_hash());
    !current
}

/// [`localstack::ensure_venv`], saying [`VENV_MESSAGE`] on stderr first when the venv must be created.
/// Blocking.
pub fn ensure_venv_with_message(state_dir: &Path) -> Result<PathBuf, LocalAwsError> {
    if venv_needs_creation(state_dir) {
        eprintln!("{VENV_MESSAGE}");
    }
    localstack::ensure_venv(state_dir)
}

/// Which backend a run uses.
#[derive(Debug, Clone)]
pub enum Choice {
    /// The backend `wb aws up` left running.
    Shared(AwsState),
    /// A backend the run starts (and stops) itself.
    Own(Backend),
}

impl Choice {
    /// The backend either way.
    pub fn backend(&self) -> Backend {
        match self {
            Choice::Shared(state) => state.backend,
            Choice::Own(backend) => *backend,
        }
    }
}

/// The running backend from `.workbench/aws.json` when it is the `requested` one (or none was requested) and
/// it answers; else the requested backend (or the `workbench.toml` default, or `embedded`) to start. A stale
/// state file is removed, and a running backend that does not answer is passed over, each with a note on
/// stderr.
pub async fn choose(workspace: &Workspace, requested: Option<Backend>) -> Choice {
    let (choice, note) = choose_with_note(workspace, requested).await;
    if let Some(note) = note {
        eprintln!("{note}");
    }
    choice
}

/// [`choose`] without printing: the note (a running backend passed over) is returned for the caller to show,
/// e.g. in the TUI's log pane, where a line on stderr would garble the screen.
pub async fn choose_with_note(workspace: &Workspace, requested: Option<Backend>) -> (Choice, Option<String>) {
    let own = Choice::Own(requested.or(workspace.backend()).unwrap_or_default());
    let Some(running) = state::running(&state::state_path(workspace)) else { return (own, None) };
    if requested.is_some_and(|b| b != running.backend) {
        return (own, None);
    }
    match answers(&running.s3_endpoint()).await {
        Ok(()) => (Choice::Shared(running), None),
        Err(reason) => {
            let note = format!(
                "note: the running {} backend (`wb aws serve`, pid {}) does not answer at {} ({reason}); this run \
                 starts its own",
                running.backend, running.pid, running.endpoint
            );
            (own, Some(note))
        }
    }
}

/// Whether anything answers HTTP at `endpoint` (one probe, at most 5 s); the error is the reason, e.g.
/// `connection refused`.
pub async fn answers(endpoint: &S3Endpoint) -> Result<(), String> {
    match ExternalS3::connect(endpoint.clone()).await {
        Ok(_) => Ok(()),
        Err(LocalAwsError::EndpointDown { reason, .. }) => Err(reason),
        Err(e) => Err(e.to_string()),
    }
}

/// The backend a run talks to.
#[derive(Debug)]
pub enum Session {
    /// Started by this process; stopped by [`Session::shutdown`].
    Own(Box<RunningBackend>),
    /// Left running by `wb aws up`; left running.
    Shared(AwsState),
}

impl Session {
    /// Starts or attaches to the chosen backend. For `localstack` the venv is ensured first, with
    /// [`VENV_MESSAGE`] when it must be created. A backend this process starts has its start-up recorded in
    /// `.workbench/aws-startups.json` (with `by`, the command).
    pub async fn start(workspace: &Workspace, choice: Choice, by: &str) -> Result<Session, LocalAwsError> {
        let backend = match choice {
            Choice::Shared(state) => return Ok(Session::Shared(state)),
            Choice::Own(backend) => backend,
        };
        let state_dir = workspace.state_dir();
        if backend == Backend::LocalStack {
            let dir = state_dir.clone();
            tokio::task::spawn_blocking(move || ensure_venv_with_message(&dir))
                .await
                .expect("ensure_venv does not panic")?;
        }
        let running = backend.start(&state_dir).await?;
        state::record_startup(&state::startups_path(workspace), &running, by);
        Ok(Session::Own(Box::new(running)))
    }

    /// Where to send S3 requests.
    pub fn endpoint(&self) -> S3Endpoint {
        match self {
            Session::Own(running) => running.endpoint(),
            Session::Shared(state) => state.s3_endpoint(),
        }
    }

    /// Which backend.
    pub fn backend(&self) -> Backend {
        match self {
            Session::Own(running) => running.backend(),
            Session::Shared(state) => state.backend,
        }
    }

    /// What runs behind the endpoint.
    pub fn version(&self) -> &str {
        match self {
            Session::Own(running) => running.version(),
            Session::Shared(state) => &state.version,
        }
    }

    /// How long the backend took to start.
    pub fn startup(&self) -> Duration {
        match self {
            Session::Own(running) => running.startup(),
            Session::Shared(state) => Duration::from_micros((state.startup_ms * 1000.0) as u64),
        }
    }

    /// Stops the backend if this process started it; a shared one keeps running.
    pub async fn shutdown(self) {
        if let Session::Own(running) = self {
            running.shutdown().await;
        }
    }
}

/// What a run says when its backend stopped answering during the run: which backend, where, why, that no
/// interrupted stage is mistaken for complete, and what to do.
pub fn lost_message(backend: Backend, url: &str, reason: &str) -> String {
    let restart = match backend {
        Backend::Endpoint => format!("start the S3 service at {url} again"),
        _ => format!("start it again (`wb aws up --aws {backend}`, or let `wb run` start one)"),
    };
    format!(
        "the {backend} S3 backend at {url} stopped answering during the run ({reason}): the stages it interrupted \
         wrote no cache marker, so the next run recomputes them; {restart} and re-run"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_venv_needs_creating() {
        let dir = tempfile::tempdir().unwrap();
        assert!(venv_needs_creation(dir.path()));
        let venv = localstack::venv_dir(dir.path());
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("bin/python"), "").unwrap();
        assert!(venv_needs_creation(dir.path()), "no hash: an interrupted install");
        std::fs::write(venv.join(VENV_HASH_FILE), format!("{}\n", localstack::lock_hash())).unwrap();
        assert!(!venv_needs_creation(dir.path()));
        std::fs::write(venv.join(VENV_HASH_FILE), "0000\n").unwrap();
        assert!(venv_needs_creation(dir.path()), "another lock file: recreated");
    }

    #[test]
    fn the_lost_backend_message_says_what_to_do() {
        assert_eq!(
            lost_message(Backend::LocalStack, "http://127.0.0.1:4566", "connection refused"),
            "the localstack S3 backend at http://127.0.0.1:4566 stopped answering during the run (connection \
             refused): the stages it interrupted wrote no cache marker, so the next run recomputes them; start it \
             again (`wb aws up --aws localstack`, or let `wb run` start one) and re-run"
        );
        assert!(
            lost_message(Backend::Endpoint, "http://s3:9000", "connection refused")
                .ends_with("; start the S3 service at http://s3:9000 again and re-run")
        );
    }
}
