//! Running `cargo llvm-cov` over the tests: one instrumented run (`--no-report`) over the whole workspace or the
//! packages given, then the LCOV tracefile and the JSON summary export from it. The test output is shown as it
//! comes (on stdout or stderr, as the caller wants) and read on the way for the test counts ([`TestLog`]), so
//! failing tests are reported as failed tests, not as a tool error. The cargo program is `$WB_CARGO` when set
//! (else `cargo`), so a missing tool can be shown without uninstalling anything.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::CoverageError;
use crate::test_results::TestLog;

/// Environment variable naming the cargo program to run instead of `cargo`.
pub const CARGO_ENV: &str = "WB_CARGO";

/// The variables Cargo sets for the programs it runs (`cargo run`, tests, benches) that must not reach a cargo
/// started from one of them: a build script that watches one (ring's watches `CARGO_MANIFEST_DIR`) would see
/// another value than in a build from the shell, and every crate above it, polars included, would be rebuilt,
/// then rebuilt again by the next build from the shell.
pub fn cargo_run_vars() -> Vec<OsString> {
    const EXACT: [&str; 7] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
    ];
    std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| {
            let name = name.to_string_lossy();
            EXACT.contains(&name.as_ref()) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
        })
        .collect()
}

/// Where the reports go, under the workspace root.
pub const OUTPUT_DIR: &str = ".workbench/coverage";

/// The report files of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    /// The LCOV tracefile.
    pub lcov: PathBuf,
    /// The `--json --summary-only` export (per-file regions).
    pub json: PathBuf,
}

/// Which tests run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestScope {
    /// Every workspace member (`--workspace`).
    Workspace,
    /// These packages only (`-p a -p b`).
    Packages(Vec<String>),
}

impl TestScope {
    /// The cargo arguments selecting the scope.
    pub fn cargo_args(&self) -> Vec<String> {
        match self {
            TestScope::Workspace => vec!["--workspace".to_string()],
            TestScope::Packages(packages) => packages.iter().flat_map(|p| ["-p".to_string(), p.clone()]).collect(),
        }
    }
}

/// Where the test output is shown while it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Tests' stdout on stdout, cargo's messages on stderr (as a plain `cargo test`).
    Terminal,
    /// Everything on stderr, so stdout stays clean for a JSON report.
    Stderr,
    /// Nothing shown (read only).
    Quiet,
}

/// How to run the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// Which packages' tests.
    pub scope: TestScope,
    /// Run every test binary even when one fails (`--no-fail-fast`), so the counts cover all of them.
    pub no_fail_fast: bool,
    /// Where the output goes.
    pub echo: Echo,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { scope: TestScope::Workspace, no_fail_fast: true, echo: Echo::Terminal }
    }
}

/// The outcome of one instrumented test run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    /// The report files.
    pub outputs: Outputs,
    /// What the test output said: counts and failing tests.
    pub tests: TestLog,
    /// The test command as run, e.g. `cargo llvm-cov --no-report --no-fail-fast -p foobar-au`.
    pub command: String,
}

/// The `cargo llvm-cov` runner.
#[derive(Debug, Clone)]
pub struct CargoLlvmCov {
    /// The cargo program.
    pub program: OsString,
}

impl CargoLlvmCov {
    /// Uses `$WB_CARGO`, else `cargo`.
    pub fn from_env() -> Self {
        Self { program: std::env::var_os(CARGO_ENV).unwrap_or_else(|| "cargo".into()) }
    }

    /// Checks `cargo llvm-cov --version` works; the error says the exact commands that install it.
    pub fn check(&self) -> Result<(), CoverageError> {
        let output =
            Command::new(&self.program).args(["llvm-cov", "--version"]).stdin(Stdio::null()).output().map_err(|e| {
                CoverageError::ToolMissing { detail: format!("cannot start {}: {e}", self.program.to_string_lossy()) }
            })?;
        if output.status.success() {
            Ok(())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let detail = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("no output").trim().to_string();
            Err(CoverageError::ToolMissing {
                detail: format!("`{} llvm-cov --version` failed: {detail}", self.program.to_string_lossy()),
            })
        }
    }

    /// Runs the tests of `options.scope` instrumented in `root`, then writes the LCOV and JSON reports under
    /// [`OUTPUT_DIR`]. Failing tests are not an error: they are in the returned [`TestLog`] (the reports still
    /// cover what ran). A run that fails with no failing test (a build error, a crashed test binary) is
    /// [`CoverageError::ToolFailed`].
    pub fn run(&self, root: &Path, options: &RunOptions) -> Result<TestRun, CoverageError> {
        self.check()?;
        let dir = root.join(OUTPUT_DIR);
        std::fs::create_dir_all(&dir).map_err(|source| CoverageError::Read { path: dir.clone(), source })?;
        let outputs = Outputs { lcov: dir.join("lcov.info"), json: dir.join("coverage.json") };
        let mut test_args = vec!["llvm-cov".to_string(), "--no-report".to_string()];
        if options.no_fail_fast {
            test_args.push("--no-fail-fast".to_string());
        }
        test_args.extend(options.scope.cargo_args());
        let command = self.command_line(&test_args);
        let (status, tests) = self.run_teed(root, &test_args, options.echo, &command)?;
        if !status.success() && tests.counts.failed == 0 {
            return Err(CoverageError::ToolFailed { command, status: status.to_string() });
        }
        let lcov = outputs.lcov.to_string_lossy().into_owned();
        let json = outputs.json.to_string_lossy().into_owned();
        let reports: [&[&str]; 2] = [
            &["llvm-cov", "report", "--lcov", "--output-path", &lcov],
            &["llvm-cov", "report", "--json", "--summary-only", "--output-path", &json],
        ];
        for args in reports {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let report_command = self.command_line(&args);
            let (status, _) = self.run_teed(root, &args, options.echo, &report_command)?;
            if !status.success() {
                return Err(CoverageError::ToolFailed { command: report_command, status: status.to_string() });
            }
        }
        Ok(TestRun { outputs, tests, command })
    }

    fn command_line(&self, args: &[String]) -> String {
        format!("{} {}", self.program.to_string_lossy(), args.join(" "))
    }

    /// Runs the program with `args` in `root`, its stdout and stderr shown per `echo` and read for test results.
    fn run_teed(
        &self,
        root: &Path,
        args: &[String],
        echo: Echo,
        command: &str,
    ) -> Result<(std::process::ExitStatus, TestLog), CoverageError> {
        let mut cargo = Command::new(&self.program);
        for var in cargo_run_vars() {
            cargo.env_remove(var);
        }
        let mut child = cargo
            .args(args)
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| CoverageError::ToolMissing { detail: format!("cannot start `{command}`: {e}") })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let out_target = match echo {
            Echo::Terminal => Target::Stdout,
            Echo::Stderr => Target::Stderr,
            Echo::Quiet => Target::Nowhere,
        };
        let err_target = if echo == Echo::Quiet { Target::Nowhere } else { Target::Stderr };
        let from_stderr = std::thread::spawn(move || tee(stderr, err_target));
        let mut tests = tee(stdout, out_target);
        tests.merge(from_stderr.join().unwrap_or_default());
        let status = child
            .wait()
            .map_err(|e| CoverageError::ToolMissing { detail: format!("cannot wait for `{command}`: {e}") })?;
        Ok((status, tests))
    }
}

#[derive(Clone, Copy)]
enum Target {
    Stdout,
    Stderr,
    Nowhere,
}

/// Copies `from` line by line to `target` and reads each line for test results.
fn tee(from: impl Read, target: Target) -> TestLog {
    let mut log = TestLog::default();
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let _ = match target {
            Target::Stdout => std::io::stdout().lock().write_all(&line),
            Target::Stderr => std::io::stderr().lock().write_all(&line),
            Target::Nowhere => Ok(()),
        };
        log.feed(String::from_utf8_lossy(&line).trim_end_matches(['\n', '\r']));
    }
    log
}
