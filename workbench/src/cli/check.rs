//! `wb check`: its options.

use std::path::PathBuf;

use clap::Args;

use workbench_affected::DEFAULT_BASE;

use super::options::{BackendOption, RunnerOptions};

/// Options of `wb check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The branch (or tag, or commit) this work started from; changes count from its merge base with HEAD.
    #[arg(long, value_name = "BRANCH", default_value = DEFAULT_BASE)]
    pub base: String,
    /// Print the JSON report on stdout (progress and test output go to stderr).
    #[arg(long)]
    pub json: bool,
    /// The S3 backend.
    #[command(flatten)]
    pub backend: BackendOption,
    /// Run every package's tests, not only those the change touches.
    #[arg(long)]
    pub all_tests: bool,
    /// Do not run the tests: read coverage from this LCOV tracefile (offline; the scope is still reported).
    #[arg(long, value_name = "FILE")]
    pub lcov: Option<PathBuf>,
    /// With --lcov: a `cargo llvm-cov report --json --summary-only` export (regions).
    #[arg(long, value_name = "FILE", requires = "lcov")]
    pub llvm_json: Option<PathBuf>,
    /// Do not diff the outputs against the base (which builds and runs the base revision once).
    #[arg(long)]
    pub no_diff: bool,
    /// The runner and its rebuild.
    #[command(flatten)]
    pub runner: RunnerOptions,
}
