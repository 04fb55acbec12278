//! `wb coverage`: its options.

use std::path::PathBuf;

use clap::Args;

use workbench_affected::DEFAULT_BASE;

/// Options of `wb coverage`.
#[derive(Debug, Clone, Args)]
pub struct CoverageArgs {
    /// Print one JSON object (summary per crate and file, patch coverage, hook matrix, thresholds) instead of text.
    #[arg(long)]
    pub json: bool,
    /// The branch (or tag, or commit) this work started from; changed lines count from its merge base with HEAD.
    #[arg(long, value_name = "BRANCH", default_value = DEFAULT_BASE)]
    pub base: String,
    /// Read this LCOV file instead of running `cargo llvm-cov` (offline; no regions unless --llvm-json is given).
    #[arg(long, value_name = "PATH")]
    pub lcov: Option<PathBuf>,
    /// With --lcov: a `cargo llvm-cov report --json --summary-only` export to read regions from.
    #[arg(long, value_name = "PATH", requires = "lcov")]
    pub llvm_json: Option<PathBuf>,
}
