//! The cargo the workbench starts (runner builds for `wb watch`, `wb check`, the TUI and `wb diff --against`):
//! `$CARGO` when set (a `wb` started by cargo uses the same toolchain), else `cargo` on the PATH, without the
//! variables Cargo sets for the programs it runs ([`workbench_coverage::run::cargo_run_vars`]), so a build from
//! `cargo run -- watch` reuses what a build from the shell compiled instead of rebuilding every dependency; and
//! the target directory those builds write to ([`target_dir`]).
//!
//! The runner the TUI starts: the small `wb-runner` binary (pipeline, markets, protocol), built from the current
//! sources with `cargo build` before each run, so an edit takes effect without restarting the TUI and recompiles
//! only what the runner holds, not the TUI. Compiler output streams to the log pane line by line; a failed build
//! returns the compiler's error lines. `WB_RUNNER` names a prebuilt `wb` instead (tests, or a workspace without
//! the workbench's sources).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Mutex;

/// A `cargo` command with a clean environment, for tokio.
pub fn command() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for var in workbench_coverage::run::cargo_run_vars() {
        command.env_remove(var);
    }
    command
}

/// The cargo target directory of the workspace at `root`: `$CARGO_TARGET_DIR` (relative to `root` when relative,
/// as cargo reads it from there), else `root/target`. Where the runner binaries the workbench builds end up.
pub fn target_dir(root: &std::path::Path) -> std::path::PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The cargo arguments that rebuild the runner: the small `wb-runner` binary (pipeline, markets, protocol), not
/// `wb`, so a market edit recompiles that market and the runner only; in release with `release` (what `wb watch
/// --release` runs).
pub fn build_args(release: bool) -> Vec<&'static str> {
    let mut args = vec!["build"];
    if release {
        args.push("--release");
    }
    args.extend(["-p", "workbench-runner", "--bin", "wb-runner"]);
    args
}

/// The runner binary the watch runs: `runner` when one was given (`--runner`), else the one [`build_args`]
/// builds in `target` (the cargo target directory): `release/wb-runner` with `release`, else `debug/wb-runner`.
pub fn runner_binary(target: &Path, release: bool, runner: Option<&Path>) -> PathBuf {
    match runner {
        Some(runner) => runner.to_path_buf(),
        None => target
            .join(if release { "release" } else { "debug" })
            .join(format!("wb-runner{}", std::env::consts::EXE_SUFFIX)),
    }
}

/// Environment variable naming a prebuilt runner binary (skips `cargo build`).
pub const ENV_RUNNER: &str = "WB_RUNNER";

/// How many compiler error lines a failed build reports (all of them go to the log).
const ERROR_LINES: usize = 12;

/// Why the runner could not be built. Cloneable: one build serves every request waiting for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// cargo could not be started.
    #[error("cannot start cargo in {}: {reason}; is the Rust toolchain installed?", root.display())]
    Start {
        /// The workspace root cargo was to run in.
        root: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// cargo started but could not be waited for.
    #[error("cargo build could not be waited for: {reason}")]
    Wait {
        /// The operating system's reason.
        reason: String,
    },
    /// cargo failed without a compiler error line.
    #[error("cargo build failed ({status}); see the log")]
    Failed {
        /// cargo's exit status.
        status: String,
    },
    /// The compiler's first error lines (all of them went to the log).
    #[error("{}", errors.join("\n"))]
    Compile {
        /// `error…` and `-->` lines, at most a dozen.
        errors: Vec<String>,
    },
}

/// Where the runner comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunnerSource {
    /// `cargo build -p workbench-runner --bin wb-runner` in this workspace, then `target/debug/wb-runner`.
    Cargo {
        /// The workspace root.
        root: PathBuf,
    },
    /// A prebuilt binary.
    Prebuilt(PathBuf),
}

impl RunnerSource {
    /// `WB_RUNNER` when set; else a cargo build when the workspace holds the runner's sources
    /// (`workbench/runner/`); else this very executable (`wb runner`).
    pub fn detect(root: &Path) -> Self {
        if let Some(path) = std::env::var_os(ENV_RUNNER).filter(|p| !p.is_empty()) {
            return RunnerSource::Prebuilt(PathBuf::from(path));
        }
        if root.join("workbench").join("runner").join("Cargo.toml").is_file() {
            return RunnerSource::Cargo { root: root.to_path_buf() };
        }
        RunnerSource::Prebuilt(std::env::current_exe().unwrap_or_else(|_| PathBuf::from("wb")))
    }
}

/// The outcome of the last build, shared by the requests that waited for it.
#[derive(Debug, Clone)]
struct Built {
    started: Instant,
    result: Result<PathBuf, BuildError>,
}

/// Builds the runner at most once at a time; a request submitted before a build started reuses that build's
/// result, so a burst of requests costs one build.
#[derive(Debug)]
pub struct Builder {
    source: RunnerSource,
    last: Mutex<Option<Built>>,
}

impl Builder {
    /// A builder for `source`.
    pub fn new(source: RunnerSource) -> Self {
        Self { source, last: Mutex::new(None) }
    }

    /// Whether runs need a build first.
    pub fn builds(&self) -> bool {
        matches!(self.source, RunnerSource::Cargo { .. })
    }

    /// The runner binary for a request submitted at `submitted`: reuses a build that started after it, else
    /// builds (sending each output line to `line`). `Err` holds the compiler's error lines.
    pub async fn runner(&self, submitted: Instant, line: impl Fn(String)) -> Result<PathBuf, BuildError> {
        let root = match &self.source {
            RunnerSource::Prebuilt(path) => return Ok(path.clone()),
            RunnerSource::Cargo { root } => root.clone(),
        };
        let mut last = self.last.lock().await;
        if let Some(built) = last.as_ref()
            && built.started >= submitted
        {
            return built.result.clone();
        }
        let started = Instant::now();
        let result = cargo_build(&root, &line).await;
        *last = Some(Built { started, result: result.clone() });
        result
    }
}

/// Runs `cargo build -p workbench-runner --bin wb-runner` in `root`, streaming stderr to `line`; returns the
/// binary's path.
async fn cargo_build(root: &Path, line: &impl Fn(String)) -> Result<PathBuf, BuildError> {
    let mut child = command()
        .args(["build", "-p", "workbench-runner", "--bin", "wb-runner", "--message-format", "json-render-diagnostics"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| BuildError::Start { root: root.to_path_buf(), reason: e.to_string() })?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let artifacts = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        let mut executable = None;
        while let Ok(Some(text)) = lines.next_line().await {
            if let Ok(message) = serde_json::from_str::<serde_json::Value>(&text)
                && message["reason"] == "compiler-artifact"
                && message["target"]["name"] == "wb-runner"
                && let Some(path) = message["executable"].as_str()
            {
                executable = Some(PathBuf::from(path));
            }
        }
        executable
    });
    let mut errors = Vec::new();
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(text)) = lines.next_line().await {
        if (text.starts_with("error") || text.trim_start().starts_with("-->")) && errors.len() < ERROR_LINES {
            errors.push(text.clone());
        }
        line(text);
    }
    let status = child.wait().await.map_err(|e| BuildError::Wait { reason: e.to_string() })?;
    let executable = artifacts.await.ok().flatten();
    match (status.success(), executable) {
        (true, Some(path)) => Ok(path),
        (true, None) => Ok(root.join("target").join("debug").join("wb-runner")),
        (false, _) if errors.is_empty() => Err(BuildError::Failed { status: status.to_string() }),
        (false, _) => Err(BuildError::Compile { errors }),
    }
}
