//! `wb runs` and `wb show`: its options.

use std::num::NonZeroUsize;

use clap::Args;

/// Options of `wb runs`.
#[derive(Debug, Clone, Args)]
pub struct RunsArgs {
    /// How many runs to list, newest first.
    #[arg(long, value_name = "N", default_value = "20")]
    pub limit: NonZeroUsize,
    /// Print one JSON array of runs (every field) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `wb show`.
#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The run: its id, a unique prefix of it, or `last` for the newest run.
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
    /// Print one JSON object (the run with its markets, their stages and those stages' checks) instead of text.
    #[arg(long)]
    pub json: bool,
}
