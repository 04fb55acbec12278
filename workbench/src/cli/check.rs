//! `wb check`: its options.

use std::path::PathBuf;

use clap::Args;
use localstack::Backend;

use workbench_affected::DEFAULT_BASE;

use super::parse::parse_backend;

/// Options of `wb check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The branch (or tag, or commit) this work started from; changes count from its merge base with HEAD.
    #[arg(long, value_name = "BRANCH", default_value = DEFAULT_BASE)]
    pub base: String,
    /// Print the JSON report on stdout (progress and test output go to stderr).
    #[arg(long)]
    pub json: bool,
    /// S3 backend of the runs and diffs (as `wb run --aws`).
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    pub aws: Option<Backend>,
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
    /// No effect, kept so existing command lines still parse: the runs are made in process by the run service,
    /// so no wb binary is started.
    #[arg(long, value_name = "PATH", hide = true)]
    pub wb: Option<PathBuf>,
    /// The runner binary the runs start per market (`wb run --runner`; default: the workspace's
    /// target/debug/wb-runner, rebuilt first). Any program taking `runner` and its arguments will do, `wb` too.
    #[arg(long, value_name = "PATH")]
    pub runner: Option<PathBuf>,
    /// Do not rebuild the runner: use the runner binary as it is.
    #[arg(long)]
    pub no_build: bool,
}
