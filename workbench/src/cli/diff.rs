//! `wb diff` and `wb explore`: their options.

use clap::Args;
use pipeline_core::Stage;

use super::options::BackendOption;
use super::parse::{MarketId, market_parser, stage_parser};

/// Options of `wb diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The stage whose outputs are compared.
    #[arg(long, value_parser = stage_parser())]
    pub stage: Stage,
    /// Two markets to compare, A then B, e.g. `foobar-au foobar-br`.
    #[arg(value_name = "MARKET", value_parser = market_parser(), num_args = 0..=2, conflicts_with = "market")]
    pub markets: Vec<MarketId>,
    /// The market whose latest output (B) is compared with `--against` (A).
    #[arg(long, value_parser = market_parser(), requires = "against")]
    pub market: Option<MarketId>,
    /// What `--market` is compared with: a run id (or unique prefix, or `last`), a git revision, or `base` (the
    /// merge base with the main branch). A revision that has not been run is built and run in a worktree.
    #[arg(long, value_name = "RUN_ID|REV|base", requires = "market")]
    pub against: Option<String>,
    /// Key column matching rows (repeatable; default: the stage's key, e.g. customer_id).
    #[arg(long = "key", value_name = "COLUMN")]
    pub keys: Vec<String>,
    /// Compare only this output table (default: every table of the stage).
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    /// Numbers within this absolute difference count as equal (default 0: exact).
    #[arg(long, value_name = "ABS", default_value_t = 0.0)]
    pub tolerance: f64,
    /// How many changed rows (and added and removed keys) to show per table.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub sample: usize,
    /// Print the diff as JSON.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the diff as Markdown (for a review).
    #[arg(long)]
    pub markdown: bool,
    /// The S3 backend.
    #[command(flatten)]
    pub backend: BackendOption,
}

/// Options of `wb explore`.
#[derive(Debug, Clone, Args)]
pub struct ExploreArgs {
    /// The market to show (default: every market at a glance).
    #[arg(value_name = "MARKET", value_parser = market_parser())]
    pub market: Option<MarketId>,
    /// A second market to show side by side with the first, differences marked.
    #[arg(long, value_name = "MARKET", value_parser = market_parser(), requires = "market")]
    pub against: Option<MarketId>,
    /// Print JSON.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print Markdown.
    #[arg(long)]
    pub markdown: bool,
}
