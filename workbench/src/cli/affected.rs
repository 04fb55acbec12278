//! `wb affected`: its options.

use clap::Args;

use workbench_affected::DEFAULT_BASE;

/// Options of `wb affected`.
#[derive(Debug, Clone, Args)]
pub struct AffectedArgs {
    /// The branch (or tag, or commit) this work started from; changes count from its merge base with HEAD.
    #[arg(long, value_name = "BRANCH", default_value = DEFAULT_BASE)]
    pub base: String,
    /// Print one JSON object (changes with their cells and reasons, cells per market) instead of text.
    #[arg(long)]
    pub json: bool,
}
