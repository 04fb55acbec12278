//! `wb aws up|status|down|venv`: a local AWS backend that outlives the command, for a session of work.
//!
//! `up` starts `wb aws serve` ([`serve`]) detached, in its own process group, and waits until it has written
//! `.workbench/aws.json` ([`state::AwsState`]) and its endpoint answers. `wb run` uses that backend while it
//! runs ([`session::choose`]). `status` shows what runs where and the measured start-up times, `down` stops it,
//! `venv` prepares the LocalStack venv. Concurrent `up` and `down` serialise on `.workbench/aws.lock`.

pub mod serve;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use localstack::{Backend, Credentials, EmbeddedS3, ExternalS3, LocalAwsError, S3Endpoint};
use serde::Serialize;

use crate::cli::{AwsArgs, AwsCommand};
use crate::exit::ExitStatus;
use crate::present::output::fail;
use crate::present::report;
use crate::services::aws::state::{self, AwsState, Found, Startup};
use crate::services::aws::{SERVE_LOG, session, startup_text, uptime_text};
use crate::workspace::Workspace;

/// The lock file `up` and `down` hold in `.workbench/`.
pub const LOCK_FILE: &str = "aws.lock";

/// The start-up target of the embedded S3, in milliseconds.
pub const EMBEDDED_TARGET_MS: f64 = 100.0;

/// The start-up target of the LocalStack host process, in milliseconds.
pub const LOCALSTACK_TARGET_MS: f64 = 20_000.0;

/// Runs a `wb aws` subcommand and returns the exit code. Needs a multi-thread tokio runtime.
pub async fn main(args: AwsArgs) -> ExitStatus {
    match args.command {
        AwsCommand::Up(up_args) => up(up_args.aws).await,
        AwsCommand::Status(status_args) => status(status_args.json).await,
        AwsCommand::Down(down_args) => down(down_args.aws).await,
        AwsCommand::Venv => venv().await,
        AwsCommand::Serve(serve_args) => serve::serve(serve_args.aws).await,
    }
}

/// Why `wb aws up` or `down` could not do its work; every message names the file or process and what to do.
#[derive(Debug, thiserror::Error)]
enum AwsCommandError {
    /// No workspace, or a bad `workbench.toml`.
    #[error(transparent)]
    Workspace(#[from] crate::workspace::WorkspaceError),
    /// `.workbench/` (or its lock) cannot be used.
    #[error("cannot use {}: {source}; check that it is a writable directory", dir.display())]
    StateDir {
        /// The state directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// This process's own executable is unknown, so `wb aws serve` cannot be started.
    #[error("cannot locate the wb executable to start `wb aws serve`: {source}; run wb from a file path")]
    NoExecutable {
        /// Why.
        source: std::io::Error,
    },
    /// A folder could not be created.
    #[error("cannot create {}: {source}", path.display())]
    Create {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `wb aws serve` could not be started.
    #[error("cannot start {} aws serve: {source}", exe.display())]
    Spawn {
        /// The executable.
        exe: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `wb aws serve` exited before it was up; `error` is the error its log ends with.
    #[error("{error}\n(the log of `wb aws serve` is {})", log.display())]
    ServeExited {
        /// The serve log's error.
        error: String,
        /// The serve log.
        log: PathBuf,
    },
    /// The backend was not up in time and was stopped.
    #[error("the {backend} backend was not up within {seconds} s, so it was stopped; see {}", log.display())]
    NotUp {
        /// The backend.
        backend: Backend,
        /// The time allowed.
        seconds: u64,
        /// The serve log.
        log: PathBuf,
    },
}

/// The workspace, its `.workbench/` created, and the `up`/`down` lock held until the returned file is dropped.
fn locked_workspace() -> Result<(Workspace, File), AwsCommandError> {
    let workspace = Workspace::discover_from_cwd()?;
    let dir = workspace.state_dir();
    let cannot = |source| AwsCommandError::StateDir { dir: dir.clone(), source };
    std::fs::create_dir_all(&dir).map_err(cannot)?;
    let lock = File::create(dir.join(LOCK_FILE)).map_err(cannot)?;
    lock.lock().map_err(cannot)?;
    Ok((workspace, lock))
}

/// `the localstack backend is already running at URL (VERSION; `wb aws serve` pid N, up 5m03s)`.
pub fn already_running(state: &AwsState) -> String {
    format!(
        "the {} backend is already running at {} ({}; `wb aws serve` pid {}, up {})",
        state.backend,
        state.endpoint,
        state.version,
        state.pid,
        uptime_text(state.uptime_s())
    )
}

/// The error when `up` asks for another backend than the one running.
pub fn other_running(state: &AwsState, wanted: Backend) -> String {
    format!(
        "the {} backend is already running at {} (`wb aws serve` pid {}); stop it with `wb aws down` before starting \
         the {wanted} backend",
        state.backend, state.endpoint, state.pid
    )
}

/// How long `up` waits for a backend to be up.
fn up_timeout(backend: Backend) -> Duration {
    match backend {
        Backend::Embedded => Duration::from_secs(30),
        // LocalStack tries up to three ports, each with its start timeout.
        Backend::LocalStack => localstack::START_TIMEOUT * 3 + Duration::from_secs(30),
        // A first start may pull the image.
        Backend::Container | Backend::Endpoint => Duration::from_secs(15 * 60),
    }
}

/// `wb aws up [--aws B]`.
async fn up(requested: Option<Backend>) -> ExitStatus {
    let (workspace, _lock) = match locked_workspace() {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    let backend = requested.or(workspace.backend()).unwrap_or_default();
    let path = state::state_path(&workspace);
    if let Some(running) = state::running(&path) {
        if running.backend == backend {
            println!("{}", already_running(&running));
            return ExitStatus::Ok;
        }
        return fail(other_running(&running, backend));
    }
    if backend == Backend::Endpoint {
        return check_endpoint().await;
    }
    if backend == Backend::LocalStack {
        let dir = workspace.state_dir();
        let venv = tokio::task::spawn_blocking(move || session::ensure_venv_with_message(&dir)).await;
        if let Ok(Err(e)) = venv {
            return fail(format!("cannot start the localstack S3 backend: {e}"));
        }
    }

    let log_path = workspace.state_dir().join("logs").join(SERVE_LOG);
    let child = match spawn_serve(&workspace, backend, &log_path) {
        Ok(child) => child,
        Err(e) => return fail(e),
    };
    if backend != Backend::Embedded {
        println!("starting the {backend} backend (`wb aws serve` pid {}, log {})", child.id(), log_path.display());
    }
    match wait_up(child, &path, &log_path, backend).await {
        Ok(state) => {
            println!(
                "{} backend up at {} ({}), started in {}; `wb aws serve` pid {}",
                state.backend,
                state.endpoint,
                state.version,
                startup_text(state.startup_ms),
                state.pid
            );
            println!("`wb run` uses it while it runs; `wb aws status` shows it, `wb aws down` stops it");
            ExitStatus::Ok
        }
        Err(e) => fail(e),
    }
}

/// Starts `wb aws serve --aws B` detached: own process group, stdin closed, output to the (truncated) log.
fn spawn_serve(
    workspace: &Workspace,
    backend: Backend,
    log_path: &Path,
) -> Result<std::process::Child, AwsCommandError> {
    let exe = std::env::current_exe().map_err(|source| AwsCommandError::NoExecutable { source })?;
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| AwsCommandError::Create { path: dir.to_path_buf(), source })?;
    }
    let write = |source| AwsCommandError::Write { path: log_path.to_path_buf(), source };
    let log = File::create(log_path).map_err(write)?;
    let err = log.try_clone().map_err(write)?;
    let mut command = std::process::Command::new(&exe);
    command
        .args(["aws", "serve", "--aws", backend.as_str()])
        .current_dir(workspace.root())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command.spawn().map_err(|source| AwsCommandError::Spawn { exe, source })
}

/// Waits until the serve process wrote the state file and its endpoint answers; on failure says why, quoting
/// the serve log.
async fn wait_up(
    mut child: std::process::Child,
    path: &Path,
    log_path: &Path,
    backend: Backend,
) -> Result<AwsState, AwsCommandError> {
    let started = Instant::now();
    let timeout = up_timeout(backend);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            // The serve log's error (which may span lines) says what went wrong; quote it from its start.
            let error = match log.find("error: ") {
                Some(at) => log[at + "error: ".len()..].trim_end().to_string(),
                None => format!("`wb aws serve` exited ({status}) before it was up"),
            };
            return Err(AwsCommandError::ServeExited { error, log: log_path.to_path_buf() });
        }
        if let Found::Running(state) = state::read(path)
            && state.pid == child.id()
            && session::answers(&state.s3_endpoint()).await.is_ok()
        {
            return Ok(state);
        }
        if started.elapsed() > timeout {
            crate::sys::send_signal(child.id(), "TERM");
            return Err(AwsCommandError::NotUp { backend, seconds: timeout.as_secs(), log: log_path.to_path_buf() });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `wb aws up --aws endpoint`: nothing to start; check that `AWS_ENDPOINT_URL` answers.
async fn check_endpoint() -> ExitStatus {
    let endpoint = match S3Endpoint::from_env() {
        Ok(endpoint) => endpoint,
        Err(e) => return fail(e),
    };
    match ExternalS3::connect(endpoint).await {
        Ok(external) => {
            println!(
                "the endpoint backend answers at {} ({}, in {}); there is nothing to start: `wb run --aws endpoint` \
                 uses it",
                external.endpoint().url,
                external.version(),
                startup_text(state::millis(external.startup()))
            );
            ExitStatus::Ok
        }
        Err(e) => fail(e),
    }
}

/// `wb aws down [--aws B]`.
async fn down(expected: Option<Backend>) -> ExitStatus {
    let (workspace, _lock) = match locked_workspace() {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    let path = state::state_path(&workspace);
    let running = match state::read(&path) {
        Found::Nothing => {
            println!("{NOTHING_RUNNING}");
            return ExitStatus::Ok;
        }
        Found::Stale(state) => {
            state::remove_stale(&path, &state);
            println!("{NOTHING_RUNNING}");
            return ExitStatus::Ok;
        }
        Found::Unreadable(reason) => {
            let _ = std::fs::remove_file(&path);
            println!("removed {reason}; {NOTHING_RUNNING}");
            return ExitStatus::Ok;
        }
        Found::Running(state) => state,
    };
    if let Some(expected) = expected.filter(|b| *b != running.backend) {
        return fail(format!(
            "the running backend is {}, not {expected}: `wb aws down` without --aws stops it",
            running.backend
        ));
    }
    let how = stop_serve(&running, &path).await;
    state::remove_if_owned(&path, running.pid);
    println!(
        "stopped the {} backend at {} (`wb aws serve` pid {}{how})",
        running.backend, running.endpoint, running.pid
    );
    ExitStatus::Ok
}

/// What `status` and `down` say when nothing runs.
pub const NOTHING_RUNNING: &str = "no local AWS backend is running";

/// SIGTERM to the serve process and a wait until it is gone (it stops LocalStack within 10 s, a container a
/// bit longer); SIGKILL after a minute (the backend's watchdog then cleans up). Returns a note for the message.
async fn stop_serve(running: &AwsState, path: &Path) -> &'static str {
    let gone = || match running.serve_alive() {
        Some(alive) => !alive,
        // No /proc: the serve process removes the state file as it stops.
        None => !path.exists(),
    };
    if !crate::sys::send_signal(running.pid, "TERM") {
        return "";
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !gone() {
        if Instant::now() > deadline {
            crate::sys::send_signal(running.pid, "KILL");
            return ", killed after 60 s";
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ""
}

/// `wb aws venv`: creates (first time, ~90 s) or checks the LocalStack venv.
async fn venv() -> ExitStatus {
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => return fail(e),
    };
    let dir = workspace.state_dir();
    match tokio::task::spawn_blocking(move || session::ensure_venv_with_message(&dir)).await {
        Ok(Ok(venv)) => {
            println!("LocalStack venv ready: {} (localstack-core {})", venv.display(), localstack::LOCALSTACK_VERSION);
            ExitStatus::Ok
        }
        Ok(Err(e)) => fail(e),
        Err(e) => fail(format!("creating the venv panicked: {e}")),
    }
}

/// One bucket in `wb aws status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketStatus {
    /// Bucket name.
    pub name: String,
    /// How many objects (`None` when it could not be listed).
    pub objects: Option<u64>,
    /// Their total size in bytes.
    pub bytes: Option<u64>,
    /// Why it could not be listed (`not created yet` for a missing bucket).
    pub error: Option<String>,
}

/// The running backend in `wb aws status`.
#[derive(Debug, Clone, Serialize)]
pub struct RunningStatus {
    /// The state file.
    #[serde(flatten)]
    pub state: AwsState,
    /// Seconds since it started.
    pub uptime_s: u64,
    /// `None` when it answers, else why not.
    pub not_answering: Option<String>,
    /// The workspace's buckets.
    pub buckets: Vec<BucketStatus>,
}

/// A start-up time in `wb aws status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartupStatus {
    /// Milliseconds.
    pub startup_ms: f64,
    /// The target, in milliseconds.
    pub target_ms: f64,
    /// When it was measured (RFC 3339 UTC), `None` for "just now".
    pub measured_at: Option<String>,
    /// Where the figure comes from: `measured now`, `the running backend`, or ``by `wb aws up` `` (the command that
    /// recorded it).
    pub source: String,
}

/// What `wb aws status --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The backend `wb aws up` left running, if any.
    pub running: Option<RunningStatus>,
    /// The embedded S3's start-up, measured now with a throwaway instance (`None` if it failed, see
    /// `embedded_error`).
    pub embedded_startup: Option<StartupStatus>,
    /// Why the embedded S3 could not be measured.
    pub embedded_error: Option<String>,
    /// The LocalStack host process's last measured start-up (`None`: not measured yet).
    pub localstack_startup: Option<StartupStatus>,
}

/// `wb aws status [--json]`.
async fn status(json: bool) -> ExitStatus {
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => return fail(e),
    };
    let path = state::state_path(&workspace);
    let running = match state::running(&path) {
        Some(state) => Some(running_status(&workspace, state).await),
        None => None,
    };
    let (embedded_startup, embedded_error) = match measure_embedded().await {
        Ok(startup) => (
            Some(StartupStatus {
                startup_ms: state::millis(startup),
                target_ms: EMBEDDED_TARGET_MS,
                measured_at: None,
                source: "measured now".into(),
            }),
            None,
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    let localstack_startup = localstack_startup(running.as_ref().map(|r| &r.state), &workspace);
    let status = Status { running, embedded_startup, embedded_error, localstack_startup };
    if json {
        println!("{}", serde_json::to_string(&status).expect("status serialises"));
    } else {
        print!("{}", status_text(&status));
    }
    ExitStatus::Ok
}

async fn running_status(workspace: &Workspace, mut state: AwsState) -> RunningStatus {
    let endpoint = state.s3_endpoint();
    // The status is printed; the secret stays in the mode-0600 state file.
    state.credentials = state.credentials.redacted();
    let not_answering = session::answers(&endpoint).await.err();
    let mut buckets = Vec::new();
    for name in workspace.settings().buckets.all() {
        let listed =
            if not_answering.is_some() { Err("not answering".to_string()) } else { count(&endpoint, name).await };
        buckets.push(match listed {
            Ok((objects, bytes)) => {
                BucketStatus { name: name.to_string(), objects: Some(objects), bytes: Some(bytes), error: None }
            }
            Err(error) => BucketStatus { name: name.to_string(), objects: None, bytes: None, error: Some(error) },
        });
    }
    RunningStatus { uptime_s: state.uptime_s(), state, not_answering, buckets }
}

/// Objects and bytes in `bucket`, walking its "directories" with delimited listings.
async fn count(endpoint: &S3Endpoint, bucket: &str) -> Result<(u64, u64), String> {
    let store = endpoint.object_store(bucket).map_err(|e| e.to_string())?;
    let (mut objects, mut bytes) = (0, 0);
    let mut pending = vec![None];
    while let Some(prefix) = pending.pop() {
        let listed = match store.list_with_delimiter(prefix.as_ref()).await {
            Ok(listed) => listed,
            Err(e) if e.to_string().contains("NoSuchBucket") => return Err("not created yet".into()),
            Err(e) => return Err(e.to_string()),
        };
        objects += listed.objects.len() as u64;
        bytes += listed.objects.iter().map(|o| o.size).sum::<u64>();
        pending.extend(listed.common_prefixes.into_iter().map(Some));
    }
    Ok((objects, bytes))
}

/// Starts a throwaway embedded S3 in a temporary directory and returns its start-up time.
pub async fn measure_embedded() -> Result<Duration, LocalAwsError> {
    let dir = throwaway_dir();
    // The data folder inside the throwaway directory, so its lock file (beside it) is removed with it.
    let result = EmbeddedS3::start(&dir.join("s3"), Credentials::local()).await;
    let startup = match result {
        Ok(server) => {
            let startup = server.startup();
            server.shutdown().await;
            Ok(startup)
        }
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&dir);
    startup
}

fn throwaway_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("wb-embedded-startup-{}-{nanos}", std::process::id()))
}

/// The LocalStack host process's start-up: the running one's, else the last one recorded.
fn localstack_startup(running: Option<&AwsState>, workspace: &Workspace) -> Option<StartupStatus> {
    if let Some(state) = running.filter(|s| s.backend == Backend::LocalStack) {
        return Some(StartupStatus {
            startup_ms: state.startup_ms,
            target_ms: LOCALSTACK_TARGET_MS,
            measured_at: Some(state.started_at.clone()),
            source: "the running backend".into(),
        });
    }
    let startups = state::read_startups(&state::startups_path(workspace));
    startups.get(Backend::LocalStack.as_str()).map(|s: &Startup| StartupStatus {
        startup_ms: s.startup_ms,
        target_ms: LOCALSTACK_TARGET_MS,
        measured_at: Some(s.measured_at.clone()),
        source: format!("by `{}`", s.by),
    })
}

/// `12 objects, 3.4 MiB`.
fn bucket_text(bucket: &BucketStatus) -> String {
    match (bucket.objects, bucket.bytes, &bucket.error) {
        (Some(objects), Some(bytes), _) => {
            format!("{objects} object{}, {}", if objects == 1 { "" } else { "s" }, report::size(bytes))
        }
        (_, _, Some(error)) => error.clone(),
        _ => "unknown".into(),
    }
}

fn startup_line(what: &str, startup: Option<&StartupStatus>, missing: &str) -> String {
    let Some(s) = startup else { return format!("  {what}: {missing}") };
    let when = match &s.measured_at {
        None => s.source.clone(),
        Some(at) => format!("measured {at}, {}", s.source),
    };
    let verdict = if s.startup_ms < s.target_ms { "within" } else { "over" };
    format!(
        "  {what}: {} ({when}; {verdict} the {} target)",
        startup_text(s.startup_ms),
        startup_text(s.target_ms).replace(".0", "")
    )
}

/// The human text of `wb aws status`.
pub fn status_text(status: &Status) -> String {
    let mut out = String::new();
    match &status.running {
        None => {
            out.push_str(&format!("{NOTHING_RUNNING}: `wb aws up [--aws embedded|localstack|container]` starts one\n"))
        }
        Some(r) => {
            let s = &r.state;
            out.push_str(&format!("backend:   {} ({})\n", s.backend, s.version));
            let answering = match &r.not_answering {
                None => String::new(),
                Some(reason) => format!(" (not answering: {reason}; `wb aws down` cleans up)"),
            };
            out.push_str(&format!("endpoint:  {}{answering}\n", s.endpoint));
            let mut pids = format!("{} (`wb aws serve`)", s.pid);
            if let Some(pid) = s.localstack_pid {
                pids.push_str(&format!(", LocalStack {pid}"));
            }
            if let Some(id) = &s.container_id {
                pids.push_str(&format!(", container {}", id.chars().take(12).collect::<String>()));
            }
            out.push_str(&format!("pid:       {pids}\n"));
            out.push_str(&format!("started:   {} (up {})\n", s.started_at, uptime_text(r.uptime_s)));
            out.push_str(&format!("start-up:  {}\n", startup_text(s.startup_ms)));
            out.push_str(&format!("log:       {}\n", s.log.display()));
            out.push_str("buckets:\n");
            let width = r.buckets.iter().map(|b| b.name.len()).max().unwrap_or(0);
            for bucket in &r.buckets {
                out.push_str(&format!("  {:<width$}  {}\n", bucket.name, bucket_text(bucket)));
            }
        }
    }
    out.push_str("start-up times:\n");
    let embedded = match (&status.embedded_startup, &status.embedded_error) {
        (None, Some(error)) => format!("  embedded S3: cannot measure: {error}"),
        _ => startup_line("embedded S3", status.embedded_startup.as_ref(), "not measured"),
    };
    out.push_str(&embedded);
    out.push('\n');
    out.push_str(&startup_line(
        "LocalStack host process",
        status.localstack_startup.as_ref(),
        "not measured yet — run `wb aws up --aws localstack`",
    ));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::aws::state::CredentialsSource;

    fn state() -> AwsState {
        AwsState {
            backend: Backend::LocalStack,
            endpoint: "http://127.0.0.1:4566".into(),
            credentials: CredentialsSource::Local,
            pid: 7,
            pid_start_ticks: Some(1),
            localstack_pid: Some(8),
            container_id: None,
            startup_ms: 3012.5,
            version: "LocalStack 2026.3.0".into(),
            started_at: "2026-11-15T10:15:00.123Z".into(),
            log: PathBuf::from("/w/.workbench/logs/aws-serve.log"),
        }
    }

    fn embedded() -> Option<StartupStatus> {
        Some(StartupStatus {
            startup_ms: 0.912,
            target_ms: EMBEDDED_TARGET_MS,
            measured_at: None,
            source: "measured now".into(),
        })
    }

    #[test]
    fn status_with_nothing_running_still_shows_the_embedded_start_up() {
        let status =
            Status { running: None, embedded_startup: embedded(), embedded_error: None, localstack_startup: None };
        assert_eq!(
            status_text(&status),
            "no local AWS backend is running: `wb aws up [--aws embedded|localstack|container]` starts one\n\
             start-up times:\n  \
             embedded S3: 0.9 ms (measured now; within the 100 ms target)\n  \
             LocalStack host process: not measured yet — run `wb aws up --aws localstack`\n"
        );
    }

    #[test]
    fn status_shows_what_runs_where() {
        let running = RunningStatus {
            state: state(),
            uptime_s: 303,
            not_answering: None,
            buckets: vec![
                BucketStatus { name: "raw".into(), objects: Some(4), bytes: Some(3 * 1024 * 1024), error: None },
                BucketStatus { name: "work".into(), objects: Some(1), bytes: Some(10), error: None },
                BucketStatus {
                    name: "exports".into(),
                    objects: None,
                    bytes: None,
                    error: Some("not created yet".into()),
                },
            ],
        };
        let localstack = Some(StartupStatus {
            startup_ms: 3012.5,
            target_ms: LOCALSTACK_TARGET_MS,
            measured_at: Some("2026-11-15T10:15:00.123Z".into()),
            source: "the running backend".into(),
        });
        let status = Status {
            running: Some(running),
            embedded_startup: embedded(),
            embedded_error: None,
            localstack_startup: localstack,
        };
        assert_eq!(
            status_text(&status),
            "backend:   localstack (LocalStack 2026.3.0)\n\
             endpoint:  http://127.0.0.1:4566\n\
             pid:       7 (`wb aws serve`), LocalStack 8\n\
             started:   2026-11-15T10:15:00.123Z (up 5m03s)\n\
             start-up:  3.0 s\n\
             log:       /w/.workbench/logs/aws-serve.log\n\
             buckets:\n  \
             raw      4 objects, 3.0 MiB\n  \
             work     1 object, 10 B\n  \
             exports  not created yet\n\
             start-up times:\n  \
             embedded S3: 0.9 ms (measured now; within the 100 ms target)\n  \
             LocalStack host process: 3.0 s (measured 2026-11-15T10:15:00.123Z, the running backend; within the 20 s \
             target)\n"
        );
    }

    #[test]
    fn up_names_the_running_backend_and_how_to_stop_it() {
        assert_eq!(
            other_running(&state(), Backend::Embedded),
            "the localstack backend is already running at http://127.0.0.1:4566 (`wb aws serve` pid 7); stop it with \
             `wb aws down` before starting the embedded backend"
        );
    }

    #[test]
    fn uptimes_read_in_seconds_minutes_or_hours() {
        assert_eq!([uptime_text(0), uptime_text(303), uptime_text(7500)], ["0s", "5m03s", "2h05m"]);
    }

    #[test]
    fn start_up_times_read_in_milliseconds_or_seconds() {
        assert_eq!(startup_text(0.912), "0.9 ms");
        assert_eq!(startup_text(85.0), "85.0 ms");
        assert_eq!(startup_text(3012.5), "3.0 s");
    }

    #[tokio::test]
    async fn the_embedded_s3_starts_well_under_100_ms() {
        let startup = measure_embedded().await.unwrap();
        assert!(startup < Duration::from_millis(100), "{startup:?}");
    }
}
