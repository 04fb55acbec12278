//! Running `cargo llvm-cov` over the workspace tests: one instrumented run (`--no-report`), then the LCOV
//! tracefile and the JSON summary export from it. The cargo program is `$WB_CARGO` when set (else `cargo`), so
//! a missing tool can be shown without uninstalling anything.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::CoverageError;

/// Environment variable naming the cargo program to run instead of `cargo`.
pub const CARGO_ENV: &str = "WB_CARGO";

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

    /// Runs the workspace tests instrumented in `root`, then writes the LCOV and JSON reports under
    /// [`OUTPUT_DIR`]. Test output goes to the terminal.
    pub fn run(&self, root: &Path) -> Result<Outputs, CoverageError> {
        self.check()?;
        let dir = root.join(OUTPUT_DIR);
        std::fs::create_dir_all(&dir).map_err(|source| CoverageError::Read { path: dir.clone(), source })?;
        let outputs = Outputs { lcov: dir.join("lcov.info"), json: dir.join("coverage.json") };
        let lcov = outputs.lcov.to_string_lossy().into_owned();
        let json = outputs.json.to_string_lossy().into_owned();
        let steps: [&[&str]; 3] = [
            &["llvm-cov", "--workspace", "--no-report"],
            &["llvm-cov", "report", "--lcov", "--output-path", &lcov],
            &["llvm-cov", "report", "--json", "--summary-only", "--output-path", &json],
        ];
        for args in steps {
            let command = format!("{} {}", self.program.to_string_lossy(), args.join(" "));
            let status = Command::new(&self.program)
                .args(args)
                .current_dir(root)
                .stdin(Stdio::null())
                .status()
                .map_err(|e| CoverageError::ToolMissing { detail: format!("cannot start `{command}`: {e}") })?;
            if !status.success() {
                return Err(CoverageError::ToolFailed { command, status: status.to_string() });
            }
        }
        Ok(outputs)
    }
}
