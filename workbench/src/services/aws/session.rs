//! How `wb run` (and later the TUI) gets its S3 backend: the one `wb aws up` left running when it fits and
//! answers, else one of its own, started as before; plus what is said when a backend fails during a run.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use localstack::{Backend, ExternalS3, LocalAwsError, RunningBackend, S3Endpoint};

use super::owner::{self, OwnerState};
use super::state::{self, AwsState};
use crate::workspace::Workspace;

/// Printed on stderr before the LocalStack venv is created (about 90 s, once), so nothing seems to hang.
pub const VENV_MESSAGE: &str = "creating the LocalStack venv (first time, ~90 s)…";

/// Whether [`localstack::ensure_venv`] will have to create (or recreate) the venv under `state_dir`.
pub fn venv_needs_creation(state_dir: &Path) -> bool {
    !localstack::is_current(&localstack::venv_dir(state_dir))
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
    /// The backend `wb aws up` left running (boxed: its state holds the embedded server's credentials).
    Shared(Box<AwsState>),
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
        Ok(()) => (Choice::Shared(Box::new(running)), None),
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

/// How long a process waits for an embedded store held by another process that can neither be attached to nor
/// taken over (an owner starting or stopping takes milliseconds; stopping waits at most 5 s for requests).
pub const STORE_WAIT: Duration = Duration::from_secs(60);

/// The backend a run talks to.
#[derive(Debug)]
pub enum Session {
    /// Started by this process; stopped by [`Session::shutdown`]. For the embedded backend, this process owns
    /// `.workbench/s3` ([`StoreOwner`]) and waits for attached processes before stopping.
    Own(Box<RunningBackend>, Option<StoreOwner>),
    /// Left running by `wb aws up`; left running.
    Shared(AwsState),
    /// The embedded S3 another `wb` process owns; this process holds a shared lease on it until
    /// [`Session::shutdown`], so the owner keeps serving until then.
    Attached(OwnerState, File),
}

/// What the owner of the embedded store keeps: its owner file and the lease attached processes share.
#[derive(Debug)]
pub struct StoreOwner {
    owner: PathBuf,
    lease: File,
}

impl Session {
    /// Starts or attaches to the chosen backend, saying on stderr when it attaches to (or waits for) the
    /// embedded S3 of another process. See [`Session::start_with`].
    pub async fn start(workspace: &Workspace, choice: Choice, by: &str) -> Result<Session, LocalAwsError> {
        Self::start_with(workspace, choice, by, &|note: String| eprintln!("{note}")).await
    }

    /// Starts or attaches to the chosen backend. For `localstack` the venv is ensured first, with
    /// [`VENV_MESSAGE`] when it must be created. A backend this process starts has its start-up recorded in
    /// `.workbench/aws-startups.json` (with `by`, the command).
    ///
    /// The embedded backend has one owner per `.workbench/s3` ([`owner`]): when another process serves it, this
    /// one attaches (or, while that owner starts or stops, waits up to [`STORE_WAIT`] to attach or take over),
    /// and tells `say` which.
    pub async fn start_with(
        workspace: &Workspace,
        choice: Choice,
        by: &str,
        say: &(dyn Fn(String) + Sync),
    ) -> Result<Session, LocalAwsError> {
        let backend = match choice {
            Choice::Shared(state) => return Ok(Session::Shared(*state)),
            Choice::Own(backend) => backend,
        };
        let state_dir = workspace.state_dir();
        if backend == Backend::LocalStack {
            let dir = state_dir.clone();
            tokio::task::spawn_blocking(move || ensure_venv_with_message(&dir))
                .await
                .expect("ensure_venv does not panic")?;
        }
        if backend == Backend::Embedded {
            return start_embedded(workspace, by, say).await;
        }
        let running = backend.start(&state_dir).await?;
        state::record_startup(&state::startups_path(workspace), &running, by);
        Ok(Session::Own(Box::new(running), None))
    }

    /// Where to send S3 requests.
    pub fn endpoint(&self) -> S3Endpoint {
        match self {
            Session::Own(running, _) => running.endpoint(),
            Session::Shared(state) => state.s3_endpoint(),
            Session::Attached(owner, _) => owner.s3_endpoint(),
        }
    }

    /// Which backend.
    pub fn backend(&self) -> Backend {
        match self {
            Session::Own(running, _) => running.backend(),
            Session::Shared(state) => state.backend,
            Session::Attached(..) => Backend::Embedded,
        }
    }

    /// What runs behind the endpoint.
    pub fn version(&self) -> &str {
        match self {
            Session::Own(running, _) => running.version(),
            Session::Shared(state) => &state.version,
            Session::Attached(owner, _) => &owner.version,
        }
    }

    /// How long the backend took to start (nothing for one this process attached to).
    pub fn startup(&self) -> Duration {
        match self {
            Session::Own(running, _) => running.startup(),
            Session::Shared(state) => Duration::from_micros((state.startup_ms * 1000.0) as u64),
            Session::Attached(..) => Duration::ZERO,
        }
    }

    /// Stops the backend if this process started it; a shared one keeps running, and an attached one is
    /// released. The owner of the embedded store first waits until no process is attached (saying so on stderr
    /// when it has to wait), so nobody loses the server mid-run; Ctrl-C ends that wait.
    pub async fn shutdown(self) {
        match self {
            Session::Own(running, None) => running.shutdown().await,
            Session::Own(running, Some(store)) => {
                let mut said = false;
                // Ctrl-C while waiting stops the server anyway: the attached processes then fail and can re-run.
                let interrupted = tokio::signal::ctrl_c();
                tokio::pin!(interrupted);
                while !owner::try_exclusive(&store.lease).unwrap_or(true) {
                    if !said {
                        eprintln!("{}", owner::waiting_for_attached(&store.owner));
                        said = true;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(owner::POLL) => {}
                        _ = &mut interrupted => {
                            eprintln!("{}", owner::STOPPED_UNDER_ATTACHED);
                            break;
                        }
                    }
                }
                // The owner file goes first, so nobody attaches to a server that is stopping.
                owner::remove_if_mine(&store.owner);
                running.shutdown().await;
                drop(store.lease);
            }
            Session::Shared(_) => {}
            Session::Attached(_, lease) => drop(lease),
        }
    }
}

/// Starts the embedded S3 over `.workbench/s3` and becomes its owner, or attaches to the process that owns it.
async fn start_embedded(
    workspace: &Workspace,
    by: &str,
    say: &(dyn Fn(String) + Sync),
) -> Result<Session, LocalAwsError> {
    let state_dir = workspace.state_dir();
    let owner_path = owner::owner_path(workspace);
    let lease_path = owner::lease_path(workspace);
    let lease_error = |source| LocalAwsError::DataDir { path: lease_path.clone(), source };
    std::fs::create_dir_all(&state_dir).map_err(|source| LocalAwsError::DataDir { path: state_dir.clone(), source })?;
    let started = Instant::now();
    let mut said = false;
    loop {
        match Backend::Embedded.start(&state_dir).await {
            Ok(running) => {
                let lease = owner::open_lease(&lease_path).map_err(lease_error)?;
                let endpoint = running.endpoint();
                if let Err(source) = owner::write(&owner_path, &endpoint, running.version(), by) {
                    running.shutdown().await;
                    return Err(LocalAwsError::DataDir { path: owner_path, source });
                }
                state::record_startup(&state::startups_path(workspace), &running, by);
                let store = StoreOwner { owner: owner_path, lease };
                return Ok(Session::Own(Box::new(running), Some(store)));
            }
            Err(LocalAwsError::StoreInUse { data_dir, lock }) => {
                if let Some(session) = attach(workspace, &owner_path, &lease_path).await.map_err(lease_error)? {
                    match &session {
                        Session::Attached(owner, _) => say(owner::attached_note(owner)),
                        _ => say(format!("using {}", session.endpoint().url)),
                    }
                    return Ok(session);
                }
                if started.elapsed() > STORE_WAIT {
                    return Err(LocalAwsError::StoreInUse { data_dir, lock });
                }
                if !said {
                    say(owner::waiting_note(&lock));
                    said = true;
                }
                tokio::time::sleep(owner::POLL).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Attaches to the process that serves `.workbench/s3`: `wb aws serve` (its `aws.json`) or the owner in the
/// owner file, if it runs, answers, and is not stopping (the shared lease is free). `None`: not now.
async fn attach(workspace: &Workspace, owner_path: &Path, lease_path: &Path) -> std::io::Result<Option<Session>> {
    if let Some(running) = state::running(&state::state_path(workspace)).filter(|s| s.backend == Backend::Embedded)
        && answers(&running.s3_endpoint()).await.is_ok()
    {
        return Ok(Some(Session::Shared(running)));
    }
    let Some(found) = owner::read(owner_path).filter(|o| o.alive() != Some(false)) else { return Ok(None) };
    if answers(&found.s3_endpoint()).await.is_err() {
        return Ok(None);
    }
    let lease = owner::open_lease(lease_path)?;
    if !owner::try_share(&lease)? {
        return Ok(None);
    }
    // Under the lease the owner cannot stop; check it is still the one found.
    match owner::read(owner_path) {
        Some(now) if now == found => Ok(Some(Session::Attached(found, lease))),
        _ => Ok(None),
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
        std::fs::write(venv.join(localstack::VENV_HASH_FILE), format!("{}\n", localstack::lock_hash())).unwrap();
        assert!(!venv_needs_creation(dir.path()));
        std::fs::write(venv.join(localstack::VENV_HASH_FILE), "0000\n").unwrap();
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
