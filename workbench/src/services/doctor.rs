//! `wb doctor`: what works on this machine, what does not, and the command that fixes each.
//!
//! Each check is one function over injected inputs (a `PATH`, a state directory, a Docker host, a history path),
//! returning a typed [`Check`]; [`diagnose`] gathers them for the real machine, running the slow probes (the
//! tools, Python, Docker) at once, each bounded in time, so a hung Docker daemon costs [`SLOW_PROBE_TIMEOUT`],
//! not the whole command. Nothing here prints.
//!
//! Required is what the default path needs (`wb run` on the embedded S3): the Rust toolchain, a workspace and a
//! readable run history. The rest is optional and only warns: `cargo-llvm-cov` and `llvm-tools` serve `wb
//! coverage` and `wb check`; Python >= 3.13 and the LocalStack venv serve `--aws localstack`; Docker and the
//! LocalStack image serve `--aws container` — unless `workbench.toml` picks that backend, which makes them
//! required.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use localstack::{Backend, DockerFacts, LocalAwsError, Python};

use super::aws::state::{self, Found};
use crate::history::{self, History, HistoryError};
use crate::workspace::Workspace;

/// Below this much free space on the workspace's filesystem, `disk` warns (a debug build of the workspace and
/// its caches take a few GiB).
pub const LOW_DISK_BYTES: u64 = 5 * GIB;

/// How long Docker or the Python search may take before their check says they did not answer.
pub const SLOW_PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

/// How long a Rust tool (`rustc --version`, `rustup component list`) may take before it counts as not answering.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(10);

/// The oldest `rustc` the workspace builds with (its `rust-version`).
pub const MIN_RUST: &str = env!("CARGO_PKG_RUST_VERSION");

/// The fix for a missing Rust toolchain.
pub const FIX_RUSTUP: &str = "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh";

/// The fix for a missing `cargo-llvm-cov`.
pub const FIX_LLVM_COV: &str = "cargo install cargo-llvm-cov --locked";

/// The fix for missing `llvm-tools`.
pub const FIX_LLVM_TOOLS: &str = "rustup component add llvm-tools-preview";

/// The fix for a missing Python >= 3.13 (found under pyenv's versions; `WB_PYTHON` names any other).
pub const FIX_PYTHON: &str = "pyenv install 3.13";

/// The fix for a missing or outdated LocalStack venv (creates it from the pinned lock file, ~90 s, needs PyPI).
pub const FIX_VENV: &str = "wb aws venv";

/// The fix for a missing LocalStack image (builds it offline).
pub const FIX_IMAGE: &str = "just localstack-image";

/// The fix for a stale or unreadable `.workbench/aws.json`.
pub const FIX_BACKEND: &str = "wb aws down";

const GIB: u64 = 1024 * 1024 * 1024;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Present and usable.
    Ok,
    /// Missing or wrong, but only optional features need it (or it is a risk, such as low disk).
    Warn,
    /// Missing or wrong, and the default path needs it: `wb doctor` exits 1.
    Fail,
}

impl Status {
    /// `ok`, `warn` or `fail`, as `--json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. `cargo-llvm-cov`.
    pub name: &'static str,
    /// Whether the default path needs it (a missing one fails, an optional one warns).
    pub required: bool,
    /// What needs it, e.g. `--aws localstack`.
    pub needed_for: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was found: a version, a path, a size, or why it is missing.
    pub found: String,
    /// The exact command that fixes it, when it is not ok.
    pub fix: Option<String>,
}

/// A check whose outcome is not known yet.
struct Pending {
    name: &'static str,
    required: bool,
    needed_for: &'static str,
}

impl Pending {
    fn new(name: &'static str, required: bool, needed_for: &'static str) -> Self {
        Self { name, required, needed_for }
    }

    fn done(self, status: Status, found: String, fix: Option<String>) -> Check {
        Check { name: self.name, required: self.required, needed_for: self.needed_for, status, found, fix }
    }

    fn ok(self, found: impl Into<String>) -> Check {
        self.done(Status::Ok, found.into(), None)
    }

    /// Missing or broken: a failure when required, else a warning.
    fn missing(self, found: impl Into<String>, fix: impl Into<String>) -> Check {
        let status = if self.required { Status::Fail } else { Status::Warn };
        self.done(status, found.into(), Some(fix.into()))
    }

    fn warn(self, found: impl Into<String>, fix: Option<String>) -> Check {
        self.done(Status::Warn, found.into(), fix)
    }
}

/// Every check, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether nothing required failed (warnings allowed).
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }
}

/// What the checks read from the environment, so tests can pass their own.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// `PATH`, where `rustc`, `cargo`, `rustup` and Python are looked for.
    pub path: Option<OsString>,
    /// `HOME` (pyenv's default root).
    pub home: Option<String>,
    /// `PYENV_ROOT`.
    pub pyenv_root: Option<String>,
    /// `WB_PYTHON`, the interpreter to use for LocalStack.
    pub wb_python: Option<String>,
    /// The Docker daemon's address (`DOCKER_HOST`, else the default socket).
    pub docker_host: String,
    /// `WB_LOCALSTACK_IMAGE`, the image to run instead of the defaults.
    pub localstack_image: Option<String>,
}

impl Machine {
    /// This process's environment.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            path: std::env::var_os("PATH"),
            home: var("HOME"),
            pyenv_root: var("PYENV_ROOT"),
            wb_python: var("WB_PYTHON"),
            docker_host: localstack::docker_host(),
            localstack_image: var(localstack::IMAGE_ENV),
        }
    }
}

/// Runs every check for the workspace holding `cwd` (or says there is none) on `machine`.
pub fn diagnose(machine: &Machine, cwd: &Path) -> Report {
    let workspace = Workspace::discover(cwd);
    let backend = workspace.as_ref().ok().and_then(Workspace::backend);
    let localstack_required = backend == Some(Backend::LocalStack);
    let container_required = backend == Some(Backend::Container);
    let path = machine.path.as_deref();

    let python = spawn_python_search(machine);
    let python_deadline = Instant::now() + SLOW_PROBE_TIMEOUT;
    let mut checks = std::thread::scope(|s| {
        let rustc = s.spawn(|| rustc(path));
        let cargo = s.spawn(|| cargo(path));
        let llvm_cov = s.spawn(|| llvm_cov(path));
        let llvm_tools = s.spawn(|| llvm_tools(path));
        let docker = s.spawn(|| {
            docker(&machine.docker_host, machine.localstack_image.as_deref(), container_required, SLOW_PROBE_TIMEOUT)
        });
        let joined = |h: std::thread::ScopedJoinHandle<'_, Check>, name| {
            h.join().unwrap_or_else(|_| Pending::new(name, false, "").warn("the check panicked", None))
        };
        let mut checks = vec![joined(rustc, "rustc"), joined(cargo, "cargo"), joined(llvm_cov, "cargo-llvm-cov")];
        checks.push(joined(llvm_tools, "llvm-tools"));
        checks.push(python_check(wait_for_python(&python, python_deadline), localstack_required));
        if let Ok(workspace) = &workspace {
            checks.push(venv(&workspace.state_dir(), workspace.root(), localstack_required));
        }
        let [docker_check, image_check] = docker.join().unwrap_or_else(|_| {
            let broken = |name| Pending::new(name, false, "--aws container").warn("the check panicked", None);
            [broken("docker"), broken("localstack-image")]
        });
        checks.push(docker_check);
        checks.push(image_check);
        checks
    });
    match &workspace {
        Ok(workspace) => {
            checks.push(Pending::new("workspace", true, "every command").ok(workspace.root().display().to_string()));
            checks.push(history(&workspace.history_path(), workspace.root()));
            checks.push(backend_check(&state::state_path(workspace), workspace.root()));
            checks.push(disk(workspace.root()));
        }
        Err(e) => {
            checks.push(Pending::new("workspace", true, "every command").missing(
                e.to_string(),
                "cd path/to/workbench  # the checkout: a Cargo.toml with [workspace], and markets/",
            ));
            checks.push(disk(cwd));
        }
    }
    Report { checks }
}

/// `rustc --version`: required, and at least the workspace's `rust-version`.
pub fn rustc(path: Option<&OsStr>) -> Check {
    toolchain_check(Pending::new("rustc", true, "every command"), path, "rustc")
}

/// `cargo --version`: required, and at least the workspace's `rust-version`.
pub fn cargo(path: Option<&OsStr>) -> Check {
    toolchain_check(Pending::new("cargo", true, "every command"), path, "cargo")
}

fn toolchain_check(check: Pending, path: Option<&OsStr>, program: &str) -> Check {
    match run_tool(path, program, &["--version"], TOOL_TIMEOUT) {
        Ok(stdout) => match tool_version(&stdout) {
            Some(version) if version_at_least(&version, MIN_RUST) => check.ok(version),
            Some(version) => check.missing(format!("{version}, older than {MIN_RUST}"), "rustup update stable"),
            None => check.missing(format!("unexpected version {:?}", stdout.trim()), "rustup update stable"),
        },
        Err(reason) => check.missing(reason, FIX_RUSTUP),
    }
}

/// `cargo llvm-cov --version`: optional (`wb coverage`, `wb check`).
pub fn llvm_cov(path: Option<&OsStr>) -> Check {
    let check = Pending::new("cargo-llvm-cov", false, "wb coverage, wb check");
    match run_tool(path, "cargo", &["llvm-cov", "--version"], TOOL_TIMEOUT) {
        Ok(stdout) => match tool_version(&stdout) {
            Some(version) => check.ok(version),
            None => check.ok(stdout.trim().to_string()),
        },
        Err(reason) if reason.starts_with("cargo ") => check.missing(reason, FIX_LLVM_COV),
        Err(_) => check.missing("not installed", FIX_LLVM_COV),
    }
}

/// `rustup component list --installed` holds `llvm-tools`: optional (`wb coverage`, `wb check`).
pub fn llvm_tools(path: Option<&OsStr>) -> Check {
    let check = Pending::new("llvm-tools", false, "wb coverage, wb check");
    match run_tool(path, "rustup", &["component", "list", "--installed"], TOOL_TIMEOUT) {
        Ok(list) => match installed_llvm_tools(&list) {
            Some(component) => check.ok(component),
            None => check.missing("not installed", FIX_LLVM_TOOLS),
        },
        Err(reason) => check.missing(format!("cannot ask rustup: {reason}"), FIX_LLVM_TOOLS),
    }
}

/// The `llvm-tools` component in `rustup component list --installed`'s output, if listed.
pub fn installed_llvm_tools(list: &str) -> Option<String> {
    list.lines().map(str::trim).find(|line| line.starts_with("llvm-tools")).map(str::to_string)
}

/// The version in a tool's `--version` line: `1.91.0` from `rustc 1.91.0 (f8297e351 2025-10-28)`,
/// `0.6.21` from `cargo-llvm-cov 0.6.21`.
pub fn tool_version(stdout: &str) -> Option<String> {
    let word = stdout.lines().next()?.split_whitespace().nth(1)?;
    word.starts_with(|c: char| c.is_ascii_digit()).then(|| word.to_string())
}

/// Whether `version` (`1.91.0`, `1.92.0-nightly`) is at least `minimum` (`1.88`), comparing numerically.
pub fn version_at_least(version: &str, minimum: &str) -> bool {
    let numbers = |v: &str| -> Vec<u64> {
        v.split(['-', '+']).next().unwrap_or("").split('.').map(|p| p.parse().unwrap_or(0)).collect()
    };
    let (mut have, mut need) = (numbers(version), numbers(minimum));
    let len = have.len().max(need.len());
    have.resize(len, 0);
    need.resize(len, 0);
    have >= need
}

/// The Python search, started in the background (it may run several interpreters).
type PythonSearch = mpsc::Receiver<Result<Python, LocalAwsError>>;

fn spawn_python_search(machine: &Machine) -> PythonSearch {
    let (tx, rx) = mpsc::channel();
    let env = machine.clone();
    std::thread::spawn(move || {
        let _ = tx.send(localstack::find_python_with(|name| match name {
            "PATH" => env.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
            "HOME" => env.home.clone(),
            "PYENV_ROOT" => env.pyenv_root.clone(),
            "WB_PYTHON" => env.wb_python.clone(),
            _ => None,
        }));
    });
    rx
}

/// The search's answer, or `None` when it has not answered by `deadline`.
fn wait_for_python(search: &PythonSearch, deadline: Instant) -> Option<Result<Python, LocalAwsError>> {
    search.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok()
}

/// Python >= 3.13 for LocalStack, from [`localstack::find_python`]'s answer (`None`: it did not answer in time).
pub fn python_check(found: Option<Result<Python, LocalAwsError>>, required: bool) -> Check {
    let check = Pending::new("python", required, "--aws localstack");
    match found {
        Some(Ok(python)) => check.ok(format!("{} ({})", python.version, python.path.display())),
        Some(Err(LocalAwsError::PythonNotFound { tried })) => {
            check.missing(format!("no Python >= {} ({tried})", localstack::MIN_PYTHON), FIX_PYTHON)
        }
        Some(Err(LocalAwsError::WbPythonUnusable { path, reason })) => check.missing(
            format!("WB_PYTHON={} is unusable: {reason}", path.display()),
            "unset WB_PYTHON (or point it at a Python >= 3.13)",
        ),
        Some(Err(other)) => check.missing(other.to_string(), FIX_PYTHON),
        None => check.missing(
            format!("the search did not answer within {} ms", SLOW_PROBE_TIMEOUT.as_millis()),
            "WB_PYTHON=/path/to/python3.13 wb doctor",
        ),
    }
}

/// The LocalStack venv under `state_dir`, current with the pinned lock file; paths shown relative to `root`.
pub fn venv(state_dir: &Path, root: &Path, required: bool) -> Check {
    let check = Pending::new("localstack-venv", required, "--aws localstack");
    let dir = localstack::venv_dir(state_dir);
    let shown = relative(&dir, root);
    if localstack::is_current(&dir) {
        check.ok(format!("{shown} (LocalStack {})", localstack::LOCALSTACK_VERSION))
    } else if dir.exists() {
        check.missing(format!("{shown} is out of date with the lock file"), FIX_VENV)
    } else {
        check.missing(format!("no venv at {shown}"), FIX_VENV)
    }
}

/// Docker's daemon at `host` and the LocalStack image in it (`image`: [`localstack::IMAGE_ENV`]'s value), each
/// answer bounded by `timeout`: `[docker, localstack-image]`.
pub fn docker(host: &str, image: Option<&str>, required: bool, timeout: Duration) -> [Check; 2] {
    let docker = Pending::new("docker", required, "--aws container");
    let image_check = Pending::new("localstack-image", required, "--aws container");
    let answer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime to ask it: {e}"))
        .and_then(|runtime| {
            runtime
                .block_on(async { tokio::time::timeout(timeout, localstack::docker_facts(host, image)).await })
                .map_err(|_| format!("did not answer within {} ms", timeout.as_millis()))
        });
    let unknown = "unknown: Docker is not reachable";
    match answer {
        Ok(Ok(DockerFacts { server_version, image: present })) => {
            let docker = docker.ok(format!("{server_version} at {host}"));
            let image_check = match (present, image) {
                (Some(present), _) => image_check.ok(present),
                (None, Some(configured)) => image_check.missing(
                    format!("{}={configured} is not present", localstack::IMAGE_ENV),
                    format!("docker pull {configured}"),
                ),
                (None, None) => image_check.missing(
                    format!("neither {} nor {} is present", localstack::DEFAULT_IMAGE, localstack::LOCAL_IMAGE),
                    FIX_IMAGE,
                ),
            };
            [docker, image_check]
        }
        Ok(Err(LocalAwsError::DockerUnavailable { reason, .. })) => {
            let fix = docker_fix(&reason);
            [docker.missing(format!("not reachable at {host}: {reason}"), fix), image_check.missing(unknown, FIX_IMAGE)]
        }
        Ok(Err(other)) => [docker.missing(other.to_string(), docker_fix("")), image_check.missing(unknown, FIX_IMAGE)],
        Err(reason) => [
            docker.missing(format!("not answering at {host}: {reason}"), "sudo systemctl restart docker"),
            image_check.missing(unknown, FIX_IMAGE),
        ],
    }
}

/// The command that most likely makes the daemon reachable, from why it was not.
fn docker_fix(reason: &str) -> &'static str {
    if reason.contains("ermission denied") {
        "sudo usermod -aG docker $USER  # then log in again"
    } else {
        "sudo systemctl start docker"
    }
}

/// The run history at `path` (shown relative to `root`): absent is fine (the first run creates it); one that does
/// not open fails, since `wb run` records every run in it.
pub fn history(path: &Path, root: &Path) -> Check {
    let check = Pending::new("history", true, "wb run, wb runs");
    let shown = relative(path, root);
    if !path.exists() {
        return check.ok(format!("none yet ({shown} is created by the first `wb run`)"));
    }
    let opened = History::open(path).and_then(|history| history.run_count());
    let move_away = || format!("mv {} {}.broken", path.display(), path.display());
    match opened {
        Ok(runs) => check.ok(format!(
            "{shown}: {runs} run{}, schema v{}",
            if runs == 1 { "" } else { "s" },
            history::SCHEMA_VERSION
        )),
        Err(HistoryError::Newer { found, known, .. }) => check.missing(
            format!("{shown} has schema v{found}, newer than this wb's v{known}"),
            "git pull && cargo build -p workbench",
        ),
        Err(HistoryError::Open { source, .. } | HistoryError::Sql { source, .. }) => {
            check.missing(format!("{shown} does not open: {source}"), move_away())
        }
        Err(other) => check.missing(format!("{shown}: {other}"), move_away()),
    }
}

/// The backend `wb aws up` left running, from the state file at `path` (shown relative to `root`).
pub fn backend_check(path: &Path, root: &Path) -> Check {
    let check = Pending::new("backend", false, "wb run (reuses it)");
    match state::read(path) {
        Found::Nothing => check.ok("none running (wb run starts the embedded S3 itself)"),
        Found::Running(state) => check.ok(format!(
            "{} at {} ({}, `wb aws serve` pid {})",
            state.backend, state.endpoint, state.version, state.pid
        )),
        Found::Stale(state) => check.warn(
            format!(
                "stale {}: its {} backend's serve process (pid {}) is gone",
                relative(path, root),
                state.backend,
                state.pid
            ),
            Some(FIX_BACKEND.to_string()),
        ),
        Found::Unreadable(reason) => check.warn(reason, Some(FIX_BACKEND.to_string())),
    }
}

/// Free space on the filesystem holding `dir`, from `df -Pk` (POSIX output; rustix's `statvfs` would need its
/// `fs` feature, which rebuilds every crate depending on rustix).
pub fn disk(dir: &Path) -> Check {
    let dir_arg = dir.display().to_string();
    match run_tool(None, "df", &["-Pk", &dir_arg], TOOL_TIMEOUT)
        .and_then(|out| df_available_bytes(&out).ok_or_else(|| format!("unexpected `df -Pk` output {:?}", out.trim())))
    {
        Ok(free) => disk_check(free, dir),
        Err(reason) => Pending::new("disk", false, "builds and caches")
            .warn(format!("cannot read the free space of {}: {reason}", dir.display()), None),
    }
}

/// The available bytes in `df -Pk`'s output: the fourth column (1024-byte blocks) of its second line.
pub fn df_available_bytes(output: &str) -> Option<u64> {
    let line = output.lines().nth(1)?;
    let blocks: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(blocks.saturating_mul(1024))
}

/// The `disk` check for `free` bytes available under `dir`: a warning under [`LOW_DISK_BYTES`].
pub fn disk_check(free: u64, dir: &Path) -> Check {
    let check = Pending::new("disk", false, "builds and caches");
    let found = format!("{} free on {}", bytes_text(free), dir.display());
    if free >= LOW_DISK_BYTES {
        check.ok(found)
    } else {
        check.warn(
            format!("{found}, under {}", bytes_text(LOW_DISK_BYTES)),
            Some("cargo clean  # or free space elsewhere on that filesystem".to_string()),
        )
    }
}

/// `12.3 GiB`, `512.0 MiB`: one decimal, binary units.
pub fn bytes_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= GIB {
        format!("{:.1} GiB", bytes as f64 / GIB as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }
}

/// `path` relative to `root` when inside it.
fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| PathBuf::from(path)).display().to_string()
}

/// Runs `program args` (looked up on `path` when given), bounded by `timeout`; its stdout, or why not.
fn run_tool(path: Option<&OsStr>, program: &str, args: &[&str], timeout: Duration) -> Result<String, String> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("{program} not found on PATH"),
        _ => format!("{program} cannot be run: {e}"),
    })?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{program} did not answer within {} s", timeout.as_secs()));
            }
            Err(e) => return Err(format!("{program} cannot be waited for: {e}")),
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    if status.success() {
        Ok(stdout)
    } else {
        let first = stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no message");
        Err(format!("`{program} {}` failed: {first}", args.join(" ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_the_second_word_of_the_first_line() {
        assert_eq!(tool_version("rustc 1.91.0 (f8297e351 2025-10-28)\n").as_deref(), Some("1.91.0"));
        assert_eq!(tool_version("cargo 1.91.0 (ea2d97820 2025-10-10)").as_deref(), Some("1.91.0"));
        assert_eq!(tool_version("cargo-llvm-cov 0.6.21\n").as_deref(), Some("0.6.21"));
        assert_eq!(tool_version("error: no such command"), None);
        assert_eq!(tool_version(""), None);
    }

    #[test]
    fn versions_compare_numerically_not_as_text() {
        assert!(version_at_least("1.91.0", "1.88"));
        assert!(version_at_least("1.100.0", "1.88"));
        assert!(version_at_least("1.88.0", "1.88"));
        assert!(version_at_least("1.92.0-nightly", "1.91"));
        assert!(!version_at_least("1.87.9", "1.88"));
        assert!(!version_at_least("1.9.0", "1.88"));
    }

    #[test]
    fn llvm_tools_is_found_by_its_component_name() {
        let list =
            "cargo-x86_64-unknown-linux-gnu\nllvm-tools-x86_64-unknown-linux-gnu\nrustc-x86_64-unknown-linux-gnu\n";
        assert_eq!(installed_llvm_tools(list).as_deref(), Some("llvm-tools-x86_64-unknown-linux-gnu"));
        assert_eq!(installed_llvm_tools("cargo-x86_64-unknown-linux-gnu\nrust-std-x86_64-unknown-linux-gnu\n"), None);
    }

    #[test]
    fn df_output_gives_the_available_column_in_bytes() {
        let out = "Filesystem     1024-blocks      Used Available Capacity Mounted on\n\
                   /dev/sda1        102400000  40000000  62400000      40% /\n";
        assert_eq!(df_available_bytes(out), Some(62_400_000 * 1024));
        assert_eq!(df_available_bytes("Filesystem 1024-blocks Used Available Capacity Mounted on\n"), None);
        assert_eq!(df_available_bytes("header\n/dev/sda1 1 2 lots 4% /\n"), None);
    }

    #[test]
    fn disk_warns_below_the_threshold_only() {
        let dir = Path::new("/w");
        let ok = disk_check(LOW_DISK_BYTES, dir);
        assert_eq!((ok.status, ok.found.as_str(), ok.fix), (Status::Ok, "5.0 GiB free on /w", None));
        let low = disk_check(LOW_DISK_BYTES - 1, dir);
        assert_eq!(low.status, Status::Warn);
        assert_eq!(low.found, "5.0 GiB free on /w, under 5.0 GiB");
        let low = disk_check(700 * 1024 * 1024, dir);
        assert_eq!(low.found, "700.0 MiB free on /w, under 5.0 GiB");
        assert!(!low.required, "low disk never fails the doctor");
    }

    #[test]
    fn a_missing_optional_check_warns_and_a_required_one_fails() {
        let optional = Pending::new("x", false, "y").missing("gone", "fix it");
        let required = Pending::new("x", true, "y").missing("gone", "fix it");
        assert_eq!(optional.status, Status::Warn);
        assert_eq!(required.status, Status::Fail);
        assert!(Report { checks: vec![optional.clone()] }.ok());
        assert!(!Report { checks: vec![optional, required] }.ok());
    }

    #[test]
    fn python_search_outcomes_name_the_fix() {
        let slow = python_check(None, false);
        assert_eq!(slow.status, Status::Warn);
        assert_eq!(slow.found, "the search did not answer within 1500 ms");
        let none = python_check(Some(Err(LocalAwsError::PythonNotFound { tried: "a; b".into() })), true);
        assert_eq!((none.status, none.found.as_str()), (Status::Fail, "no Python >= 3.13.0 (a; b)"));
        assert_eq!(none.fix.as_deref(), Some(FIX_PYTHON));
    }
}
