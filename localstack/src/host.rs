//! The `localstack` backend: real LocalStack as a host process, run from the pinned venv.

use std::fs::File;
use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::process::{Child, Command};

use crate::venv::{ensure_venv, log_tail, venv_python};
use crate::watchdog::Watchdog;
use crate::{Credentials, LocalAwsError, S3Endpoint, probe};

/// How long LocalStack may take from spawn to `Ready.` (it takes about 3 s once the venv
/// exists; the target is under 20 s).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a SIGTERM gets before SIGKILL (LocalStack needs about 3 s to stop S3 cleanly).
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// How many LocalStack logs of each kind are kept in `<state_dir>/logs`.
const KEPT_LOGS: usize = 10;

/// Real LocalStack (`python -m localstack.runtime.main` from `<state_dir>/localstack-venv`) on a
/// free loopback port, S3 and SES (alerts).
///
/// Everything it writes stays in the state directory: its output in
/// `<state_dir>/logs/localstack-host-<time>-<port>.log` (the last 10 kept), its file system root
/// (`FILESYSTEM_ROOT`: caches, certificates), `LOCALSTACK_VOLUME_DIR` and `CONFIG_DIR` under
/// `<state_dir>/localstack/`, and its temporary files in `<state_dir>/localstack/tmp/<port>`
/// (removed at shutdown). `OVERRIDE_IN_DOCKER=0` keeps this host layout even on a machine that
/// looks like a container (it would otherwise write to `/var/lib/localstack`). Its DNS server
/// and analytics events are off (`DNS_ADDRESS=0`, `DISABLE_EVENTS=1`), and it does not try to
/// download its test certificate (`SKIP_SSL_CERT_DOWNLOAD=1`), so it runs offline.
///
/// LocalStack runs in its own process group. [`LocalStackProcess::shutdown`] sends SIGTERM to
/// the group, waits up to 10 s, then SIGKILL. Dropping the value without shutting down does the
/// same in the background. A watchdog (see `watchdog.rs`) does it too if this process dies
/// without either (killed, aborted), so no LocalStack outlives its owner.
#[derive(Debug)]
pub struct LocalStackProcess {
    child: Option<Child>,
    pid: u32,
    watchdog: Option<Watchdog>,
    endpoint: S3Endpoint,
    startup: Duration,
    version: String,
    log_path: PathBuf,
    tmp_dir: PathBuf,
}

impl LocalStackProcess {
    /// Makes sure the venv exists ([`ensure_venv`], about 90 s the first time, then cached),
    /// starts LocalStack on a free `127.0.0.1` port, waits until it prints `Ready.` (up to 60 s)
    /// and checks `/_localstack/health` reports S3 available. On any failure the process is
    /// stopped before the error is returned; the error quotes the log's last lines.
    pub async fn start(state_dir: &Path) -> Result<Self, LocalAwsError> {
        let state_dir = state_dir.to_owned();
        let venv = tokio::task::spawn_blocking({
            let state_dir = state_dir.clone();
            move || ensure_venv(&state_dir)
        })
        .await
        .expect("ensure_venv does not panic")?;
        // A free port can be taken by someone else between probing and LocalStack binding it;
        // that shows as an early exit mentioning the address, and a new port is tried.
        let mut attempt = 1;
        loop {
            match Self::start_once(&state_dir, &venv).await {
                Err(LocalAwsError::LocalStackStart { ref tail, .. })
                    if attempt < 3 && tail.contains("Address already in use") =>
                {
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn start_once(state_dir: &Path, venv: &Path) -> Result<Self, LocalAwsError> {
        let port = free_port().map_err(|source| LocalAwsError::Bind { source })?;
        let root = state_dir.join("localstack");
        let tmp_dir = root.join("tmp").join(port.to_string());
        let logs = state_dir.join("logs");
        for dir in [root.join("fs"), root.join("volume"), root.join("config"), tmp_dir.clone(), logs.clone()] {
            std::fs::create_dir_all(&dir).map_err(|source| LocalAwsError::StateDir { path: dir, source })?;
        }
        prune_logs(&logs, "localstack-host-");
        let log_path = logs.join(format!("localstack-host-{}-{port}.log", unix_millis()));
        let log_error = |source| LocalAwsError::StateDir { path: log_path.clone(), source };
        let mut log = File::create(&log_path).map_err(log_error)?;
        let listen = format!("127.0.0.1:{port}");
        let python = venv_python(venv);
        let _ = writeln!(
            log,
            "workbench: starting {} -m localstack.runtime.main (GATEWAY_LISTEN={listen})",
            python.display()
        );
        let stdout = log.try_clone().map_err(log_error)?;

        let started = Instant::now();
        let mut command = Command::new(&python);
        command
            .args(["-m", "localstack.runtime.main"])
            .current_dir(&root)
            .env("GATEWAY_LISTEN", &listen)
            .env("SERVICES", "s3,ses")
            .env("EAGER_SERVICE_LOADING", "1")
            .env("OVERRIDE_IN_DOCKER", "0")
            .env("FILESYSTEM_ROOT", root.join("fs"))
            .env("LOCALSTACK_VOLUME_DIR", root.join("volume"))
            .env("CONFIG_DIR", root.join("config"))
            // Python's tempfile honours TMPDIR, then TEMP, then TMP; LocalStack warns that TMPDIR
            // is deprecated, so the other two are used.
            .env_remove("TMPDIR")
            .env("TEMP", &tmp_dir)
            .env("TMP", &tmp_dir)
            .env("DNS_ADDRESS", "0")
            .env("DISABLE_EVENTS", "1")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env("PERSISTENCE", "0")
            .env("PYTHONUNBUFFERED", "1")
            .env_remove("PYTHONDONTWRITEBYTECODE")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(log)
            .process_group(0)
            .kill_on_drop(false);
        let mut child = command.spawn().map_err(|source| LocalAwsError::Spawn {
            backend: "localstack",
            program: python.clone(),
            source,
        })?;
        let pid = child.id().expect("a child that was just spawned has a pid");
        let watchdog = Watchdog::for_process_group(pid).ok();
        let endpoint = S3Endpoint { url: format!("http://{listen}"), credentials: Credentials::local() };

        let failed = |reason: String| LocalAwsError::LocalStackStart {
            backend: "localstack",
            reason,
            log: log_path.clone(),
            tail: log_tail(&log_path, 15),
        };
        let ready = wait_until_ready(&mut child, &log_path, started).await;
        let version = match ready {
            Ok(()) => probe::wait_healthy(&endpoint.url, Duration::from_secs(10)).await,
            Err(reason) => Err(reason),
        };
        let mut process = Self {
            child: Some(child),
            pid,
            watchdog,
            endpoint,
            startup: started.elapsed(),
            version: String::new(),
            log_path: log_path.clone(),
            tmp_dir,
        };
        match version {
            Ok(version) => {
                process.version = format!("LocalStack {version}");
                Ok(process)
            }
            Err(reason) => {
                process.stop().await;
                Err(failed(reason))
            }
        }
    }

    /// Where clients reach this LocalStack (`http://127.0.0.1:<port>`, the local credentials;
    /// LocalStack accepts any).
    pub fn endpoint(&self) -> S3Endpoint {
        self.endpoint.clone()
    }

    /// The LocalStack process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// From spawning the process until `Ready.` and a healthy S3 (the venv check before it is
    /// not included).
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// `LocalStack <version>` as `/_localstack/health` reported it, e.g. `LocalStack 2026.3.0`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// This run's log file (LocalStack's stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Stops LocalStack: SIGTERM to its process group, up to 10 s to exit, then SIGKILL; returns
    /// once the process has been reaped, so its pid is gone.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = Pid::from_raw(self.pid as i32);
        if let Some(group) = group {
            let _ = kill_process_group(group, Signal::TERM);
        }
        if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_err() {
            if let Some(group) = group {
                let _ = kill_process_group(group, Signal::KILL);
            }
            let _ = child.wait().await;
        }
        // Anything LocalStack left behind in its group.
        if let Some(group) = group {
            let _ = kill_process_group(group, Signal::KILL);
        }
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.disarm();
        }
        let _ = tokio::fs::remove_dir_all(&self.tmp_dir).await;
    }
}

impl Drop for LocalStackProcess {
    fn drop(&mut self) {
        if self.child.take().is_none() {
            return;
        }
        // Not shut down: stop it without blocking. The watchdog sends SIGTERM now and SIGKILL after
        // 10 s if needed; the dropped `Child` is reaped by tokio.
        match self.watchdog.take() {
            Some(watchdog) => watchdog.fire(),
            None => {
                if let Some(group) = Pid::from_raw(self.pid as i32) {
                    let _ = kill_process_group(group, Signal::TERM);
                }
                let pid = self.pid;
                let _ = std::thread::Builder::new().name("localstack-stopper".into()).spawn(move || {
                    std::thread::sleep(STOP_GRACE);
                    if let Some(group) = Pid::from_raw(pid as i32) {
                        let _ = kill_process_group(group, Signal::KILL);
                    }
                });
            }
        }
    }
}

/// Polls the log for LocalStack's `Ready.` line; fails when the process exits first or after
/// [`START_TIMEOUT`].
async fn wait_until_ready(child: &mut Child, log: &Path, started: Instant) -> Result<(), String> {
    loop {
        if let Ok(text) = tokio::fs::read(log).await
            && String::from_utf8_lossy(&text).lines().any(|line| line.trim_end() == "Ready.")
        {
            return Ok(());
        }
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("it exited ({status}) before printing `Ready.`")),
            Ok(None) => {}
            Err(e) => return Err(format!("cannot watch the process: {e}")),
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(format!("no `Ready.` within {} s", START_TIMEOUT.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A port that was free on 127.0.0.1 a moment ago.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

pub(crate) fn unix_millis() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
}

/// Keeps the newest `KEPT_LOGS - 1` logs starting with `prefix` (names sort by time), making
/// room for the one about to be written.
pub(crate) fn prune_logs(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut logs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix) && n.ends_with(".log"))
        })
        .collect();
    logs.sort();
    let excess = logs.len().saturating_sub(KEPT_LOGS - 1);
    for old in &logs[..excess] {
        let _ = std::fs::remove_file(old);
    }
}
