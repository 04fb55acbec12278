//! The two files `wb aws` keeps in `.workbench/`: the state file of the backend `wb aws up` left running
//! (`aws.json`), and the last measured start-up time per backend (`aws-startups.json`).
//!
//! Both are written atomically (a temporary file renamed into place), so a reader never sees half a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use localstack::{Backend, Credentials, RunningBackend, S3Endpoint};
use serde::{Deserialize, Serialize};

use crate::workspace::Workspace;

/// Name of the state file in `.workbench/`.
pub const STATE_FILE: &str = "aws.json";

/// Name of the start-up measurements file in `.workbench/`.
pub const STARTUPS_FILE: &str = "aws-startups.json";

/// Where the credentials of a running backend come from. Only the embedded backend's per-start random secret
/// is written to the state file (mode 0600); LocalStack accepts the public local pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialsSource {
    /// The fixed local credentials every local backend accepts ([`Credentials::local`]).
    Local,
    /// The usual AWS variables of the reading process (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_REGION`).
    Environment,
    /// The key pair itself: the embedded server's random secret for this start.
    Inline {
        /// `AWS_ACCESS_KEY_ID`.
        access_key_id: String,
        /// `AWS_SECRET_ACCESS_KEY` (`******` where shown, see [`CredentialsSource::redacted`]).
        secret_access_key: String,
        /// `AWS_REGION`.
        region: String,
    },
}

impl CredentialsSource {
    /// The source of `credentials`: [`CredentialsSource::Local`] for the public local pair, else inline.
    pub fn of(credentials: &Credentials) -> Self {
        if *credentials == Credentials::local() {
            return CredentialsSource::Local;
        }
        CredentialsSource::Inline {
            access_key_id: credentials.access_key_id.clone(),
            secret_access_key: credentials.secret_access_key.clone(),
            region: credentials.region.clone(),
        }
    }

    /// The same with an inline secret replaced by `******`, for `wb aws status --json`.
    pub fn redacted(&self) -> Self {
        match self {
            CredentialsSource::Inline { access_key_id, region, .. } => CredentialsSource::Inline {
                access_key_id: access_key_id.clone(),
                secret_access_key: "******".into(),
                region: region.clone(),
            },
            other => other.clone(),
        }
    }

    /// The credentials this source names; `Environment` falls back to the local ones for variables that are
    /// not set.
    pub fn credentials(&self) -> Credentials {
        match self {
            CredentialsSource::Inline { access_key_id, secret_access_key, region } => Credentials {
                access_key_id: access_key_id.clone(),
                secret_access_key: secret_access_key.clone(),
                region: region.clone(),
            },
            CredentialsSource::Local => Credentials::local(),
            CredentialsSource::Environment => {
                let local = Credentials::local();
                let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
                Credentials {
                    access_key_id: var("AWS_ACCESS_KEY_ID").unwrap_or(local.access_key_id),
                    secret_access_key: var("AWS_SECRET_ACCESS_KEY").unwrap_or(local.secret_access_key),
                    region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).unwrap_or(local.region),
                }
            }
        }
    }
}

/// The content of `.workbench/aws.json`: a backend `wb aws serve` runs and owns until SIGTERM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwsState {
    /// Which backend (`embedded`, `localstack`, `container`).
    #[serde(with = "backend_name")]
    pub backend: Backend,
    /// Its S3 endpoint URL, e.g. `http://127.0.0.1:41234`.
    pub endpoint: String,
    /// Where its credentials come from.
    pub credentials: CredentialsSource,
    /// Process id of the `wb aws serve` that owns it.
    pub pid: u32,
    /// That process's start time in clock ticks since boot (Linux), so a later process given the same pid is
    /// not mistaken for it.
    pub pid_start_ticks: Option<u64>,
    /// The LocalStack host process (`localstack` backend only).
    pub localstack_pid: Option<u32>,
    /// The LocalStack container (`container` backend only).
    pub container_id: Option<String>,
    /// How long the backend took to start until it answered, in milliseconds.
    pub startup_ms: f64,
    /// What runs behind the endpoint, e.g. `LocalStack 2026.3.0`.
    pub version: String,
    /// When its start began, RFC 3339 UTC.
    pub started_at: String,
    /// The serve process's log (its stdout and stderr).
    pub log: PathBuf,
}

impl AwsState {
    /// The state of `running`, served by this process since `started_at` (RFC 3339 UTC, taken before the start
    /// began), logging to `log`.
    pub fn of(running: &RunningBackend, started_at: String, log: PathBuf) -> Self {
        let pid = std::process::id();
        let (localstack_pid, container_id) = match running {
            RunningBackend::LocalStack(process) => (Some(process.pid()), None),
            RunningBackend::Container(container) => (None, Some(container.id().to_string())),
            RunningBackend::Embedded(_) | RunningBackend::Endpoint(_) => (None, None),
        };
        Self {
            backend: running.backend(),
            endpoint: running.endpoint().url,
            credentials: CredentialsSource::of(&running.endpoint().credentials),
            pid,
            pid_start_ticks: crate::sys::process_start_ticks(pid),
            localstack_pid,
            container_id,
            startup_ms: millis(running.startup()),
            version: running.version().to_string(),
            started_at,
            log,
        }
    }

    /// Where to send S3 requests, with the credentials.
    pub fn s3_endpoint(&self) -> S3Endpoint {
        S3Endpoint { url: self.endpoint.clone(), credentials: self.credentials.credentials() }
    }

    /// Whether the serve process still runs (`None`: this platform cannot tell; treat as running).
    pub fn serve_alive(&self) -> Option<bool> {
        crate::sys::process_alive(self.pid, self.pid_start_ticks)
    }

    /// Seconds since `started_at` (0 when it does not parse).
    pub fn uptime_s(&self) -> u64 {
        chrono::DateTime::parse_from_rfc3339(&self.started_at)
            .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds().max(0) as u64)
            .unwrap_or(0)
    }

    /// Writes the state file atomically, readable by its owner only (it may hold a secret).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        write_atomic(path, &serde_json::to_vec_pretty(self).expect("state serialises"))
    }
}

/// What `.workbench/aws.json` says.
#[derive(Debug)]
pub enum Found {
    /// No state file: nothing runs.
    Nothing,
    /// A backend whose serve process runs.
    Running(AwsState),
    /// A state file whose serve process is gone.
    Stale(AwsState),
    /// A state file that cannot be read or parsed.
    Unreadable(String),
}

/// The state file of a workspace.
pub fn state_path(workspace: &Workspace) -> PathBuf {
    workspace.state_dir().join(STATE_FILE)
}

/// Reads the state file at `path` and tells whether its serve process runs.
pub fn read(path: &Path) -> Found {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Found::Nothing,
        Err(e) => return Found::Unreadable(format!("cannot read {}: {e}", path.display())),
    };
    match serde_json::from_slice::<AwsState>(&bytes) {
        Ok(state) if state.serve_alive() == Some(false) => Found::Stale(state),
        Ok(state) => Found::Running(state),
        Err(e) => Found::Unreadable(format!("{} is not a valid state file: {e}", path.display())),
    }
}

/// Reads the state file and removes it when it is stale, saying so on stderr; returns the running backend.
pub fn running(path: &Path) -> Option<AwsState> {
    match read(path) {
        Found::Nothing => None,
        Found::Running(state) => Some(state),
        Found::Stale(state) => {
            remove_stale(path, &state);
            None
        }
        Found::Unreadable(reason) => {
            eprintln!("note: ignoring {reason}; `wb aws down` removes it");
            None
        }
    }
}

/// Removes a stale state file, with a note on stderr.
pub fn remove_stale(path: &Path, state: &AwsState) {
    let _ = std::fs::remove_file(path);
    eprintln!("{}", stale_note(path, state));
}

/// The note printed when a stale state file is removed.
pub fn stale_note(path: &Path, state: &AwsState) -> String {
    format!(
        "note: removed the stale {}: its {} backend's `wb aws serve` (pid {}) is gone",
        path.display(),
        state.backend,
        state.pid
    )
}

/// Removes the state file at `path` if it still describes the serve process `pid`.
pub fn remove_if_owned(path: &Path, pid: u32) {
    if let Ok(bytes) = std::fs::read(path)
        && serde_json::from_slice::<AwsState>(&bytes).is_ok_and(|s| s.pid == pid)
    {
        let _ = std::fs::remove_file(path);
    }
}

/// One measured start-up in `.workbench/aws-startups.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Startup {
    /// From start until the backend answered, in milliseconds.
    pub startup_ms: f64,
    /// What ran, e.g. `LocalStack 2026.3.0`.
    pub version: String,
    /// When, RFC 3339 UTC.
    pub measured_at: String,
    /// Which command started it (`wb aws up`, `wb run`).
    pub by: String,
}

/// `.workbench/aws-startups.json`: the last measured start-up per backend name.
pub type Startups = BTreeMap<String, Startup>;

/// The start-ups file of a workspace.
pub fn startups_path(workspace: &Workspace) -> PathBuf {
    workspace.state_dir().join(STARTUPS_FILE)
}

/// The recorded start-ups (empty when the file is missing or damaged: it is only a record).
pub fn read_startups(path: &Path) -> Startups {
    std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
}

/// Records `running`'s start-up (not for `endpoint`, which starts nothing). Failures are ignored: the record
/// only feeds `wb aws status`.
pub fn record_startup(path: &Path, running: &RunningBackend, by: &str) {
    if running.backend() == Backend::Endpoint {
        return;
    }
    let mut startups = read_startups(path);
    startups.insert(
        running.backend().to_string(),
        Startup {
            startup_ms: millis(running.startup()),
            version: running.version().to_string(),
            measured_at: crate::history::now(),
            by: by.to_string(),
        },
    );
    let _ = write_atomic(path, &serde_json::to_vec_pretty(&startups).expect("start-ups serialise"));
}

/// A duration in milliseconds with microsecond precision.
pub fn millis(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

/// Writes `bytes` to a temporary file next to `path` created with mode 0600 (the state files may hold the
/// embedded server's secret), then renames it onto `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut file| file.write_all(bytes));
    written.and_then(|()| std::fs::rename(&tmp, path)).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Serialises a [`Backend`] as its command-line name.
mod backend_name {
    use localstack::Backend;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(backend: &Backend, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(backend.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Backend, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(pid: u32) -> AwsState {
        AwsState {
            backend: Backend::LocalStack,
            endpoint: "http://127.0.0.1:4566".into(),
            credentials: CredentialsSource::Local,
            pid,
            pid_start_ticks: crate::sys::process_start_ticks(pid),
            localstack_pid: Some(4242),
            container_id: None,
            startup_ms: 3012.5,
            version: "LocalStack 2026.3.0".into(),
            started_at: "2026-11-15T10:15:00.123Z".into(),
            log: PathBuf::from("/w/.workbench/logs/aws-serve.log"),
        }
    }

    #[test]
    fn the_state_file_has_the_documented_fields() {
        let json = serde_json::to_value(state(7)).unwrap();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec![
            "backend",
            "endpoint",
            "credentials",
            "pid",
            "pid_start_ticks",
            "localstack_pid",
            "container_id",
            "startup_ms",
            "version",
            "started_at",
            "log",
        ];
        keys.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(json["backend"], "localstack");
        assert_eq!(json["credentials"], "local");
    }

    #[test]
    fn a_state_of_this_process_is_running_and_of_a_gone_one_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STATE_FILE);
        assert!(matches!(read(&path), Found::Nothing));
        state(std::process::id()).write(&path).unwrap();
        match read(&path) {
            Found::Running(s) => assert_eq!(s, state(std::process::id())),
            other => panic!("{other:?}"),
        }
        if crate::sys::process_alive(std::process::id(), None).is_none() {
            return;
        }
        // The same pid with another start time is a different process.
        let mut reused = state(std::process::id());
        reused.pid_start_ticks = reused.pid_start_ticks.map(|t| t + 1);
        reused.write(&path).unwrap();
        assert!(matches!(read(&path), Found::Stale(_)));
        assert_eq!(running(&path), None);
        assert!(!path.exists(), "a stale state file is removed");

        std::fs::write(&path, "{").unwrap();
        assert!(matches!(read(&path), Found::Unreadable(reason) if reason.contains("is not a valid state file")));
    }

    #[test]
    fn only_the_owner_removes_the_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STATE_FILE);
        state(7).write(&path).unwrap();
        remove_if_owned(&path, 8);
        assert!(path.exists());
        remove_if_owned(&path, 7);
        assert!(!path.exists());
    }

    #[test]
    fn the_stale_note_names_the_file_the_backend_and_the_pid() {
        assert_eq!(
            stale_note(Path::new("/w/.workbench/aws.json"), &state(7)),
            "note: removed the stale /w/.workbench/aws.json: its localstack backend's `wb aws serve` (pid 7) is gone"
        );
    }

    #[test]
    fn millis_keep_microseconds() {
        assert_eq!(millis(Duration::from_micros(1234)), 1.234);
        assert_eq!(millis(Duration::from_secs(3)), 3000.0);
    }
}
