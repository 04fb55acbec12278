//! One owner per embedded store: how a second `wb run`, `wb watch` or TUI on the same `.workbench/s3` finds the
//! embedded S3 another process serves, attaches to it, and keeps it alive until it is done.
//!
//! The server itself holds `.workbench/s3.lock` for its life ([`localstack::EmbeddedS3`]), so a second server
//! over the folder cannot start. Around that lock:
//!
//! * the owner writes `.workbench/s3-owner.json` (mode 0600: it holds the server's random secret) with its pid,
//!   endpoint and credentials, and removes it when it stops;
//! * a process that finds the store locked reads that file and takes a *shared* lock on `.workbench/s3.lease`
//!   for as long as it uses the server (released by the OS if it dies);
//! * before stopping, the owner takes the lease *exclusively*, i.e. waits until every attached process is done,
//!   then removes the owner file and stops the server.
//!
//! So an attached run never loses its server because the owner finished first; it can only lose it if the owner
//! is killed (then it fails with "stopped answering during the run", and nothing it interrupted is cached).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use localstack::S3Endpoint;
use serde::{Deserialize, Serialize};

use super::state::{CredentialsSource, write_atomic};
use crate::workspace::Workspace;

/// Name of the owner file in `.workbench/`.
pub const OWNER_FILE: &str = "s3-owner.json";

/// Name of the lease file in `.workbench/`.
pub const LEASE_FILE: &str = "s3.lease";

/// How often a waiting process looks again.
pub const POLL: Duration = Duration::from_millis(50);

/// The content of `.workbench/s3-owner.json`: the process serving `.workbench/s3` and how to reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerState {
    /// The owning process.
    pub pid: u32,
    /// Its start time in clock ticks since boot (Linux), so a reused pid is not mistaken for it.
    pub pid_start_ticks: Option<u64>,
    /// The command that owns it (`wb run`, `wb (tui)`, ...).
    pub by: String,
    /// The S3 endpoint URL.
    pub endpoint: String,
    /// The server's credentials (its random secret).
    pub credentials: CredentialsSource,
    /// What runs behind the endpoint.
    pub version: String,
    /// When the owner started it, RFC 3339 UTC.
    pub started_at: String,
}

impl OwnerState {
    /// Where to send S3 requests, with the credentials.
    pub fn s3_endpoint(&self) -> S3Endpoint {
        S3Endpoint { url: self.endpoint.clone(), credentials: self.credentials.credentials() }
    }

    /// Whether the owning process still runs (`None`: this platform cannot tell).
    pub fn alive(&self) -> Option<bool> {
        crate::sys::process_alive(self.pid, self.pid_start_ticks)
    }

    /// `the embedded S3 of pid N (wb run) at URL`.
    pub fn describe(&self) -> String {
        format!("the embedded S3 of pid {} ({}) at {}", self.pid, self.by, self.endpoint)
    }
}

/// The owner file of a workspace.
pub fn owner_path(workspace: &Workspace) -> PathBuf {
    workspace.state_dir().join(OWNER_FILE)
}

/// The lease file of a workspace.
pub fn lease_path(workspace: &Workspace) -> PathBuf {
    workspace.state_dir().join(LEASE_FILE)
}

/// The owner file at `path`, if it exists and parses.
pub fn read(path: &Path) -> Option<OwnerState> {
    std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

/// Records this process as the owner of the server at `endpoint` (mode 0600).
pub fn write(path: &Path, endpoint: &S3Endpoint, version: &str, by: &str) -> std::io::Result<OwnerState> {
    let pid = std::process::id();
    let state = OwnerState {
        pid,
        pid_start_ticks: crate::sys::process_start_ticks(pid),
        by: by.to_string(),
        endpoint: endpoint.url.clone(),
        credentials: CredentialsSource::of(&endpoint.credentials),
        version: version.to_string(),
        started_at: crate::history::now(),
    };
    write_atomic(path, &serde_json::to_vec_pretty(&state).expect("owner state serialises"))?;
    Ok(state)
}

/// Removes the owner file at `path` if it still names this process.
pub fn remove_if_mine(path: &Path) {
    if read(path).is_some_and(|s| s.pid == std::process::id()) {
        let _ = std::fs::remove_file(path);
    }
}

/// Opens (creating) the lease file.
pub fn open_lease(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).truncate(false).write(true).open(path)
}

/// A shared lease on the owner's server, if the owner is not stopping: held while attached.
pub fn try_share(lease: &File) -> std::io::Result<bool> {
    match lease.try_lock_shared() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// The exclusive lease, if no process is attached: the owner may stop.
pub fn try_exclusive(lease: &File) -> std::io::Result<bool> {
    match lease.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// What the owner says while it waits for attached processes before stopping.
pub fn waiting_for_attached(owner: &Path) -> String {
    format!(
        "waiting for the processes attached to this embedded S3 to finish before stopping it (they read {})",
        owner.display()
    )
}

/// What the owner says when Ctrl-C ends its wait for attached processes.
pub const STOPPED_UNDER_ATTACHED: &str = "interrupted: stopping the embedded S3 although processes are still attached; \
     they fail with \"stopped answering during the run\" (nothing they interrupted is cached) and can be re-run";

/// What an attached process says.
pub fn attached_note(owner: &OwnerState) -> String {
    format!("attached to {}: it keeps serving until this process is done", owner.describe())
}

/// What a process says while another one holds the store and cannot be attached to yet.
pub fn waiting_note(lock: &Path) -> String {
    format!(
        "waiting for the embedded S3 that holds {} (another wb process; starting or stopping) to attach to it or \
         take it over",
        lock.display()
    )
}
