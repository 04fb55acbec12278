//! `wb run`: its options.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;
use pipeline_core::Stage;

use super::options::BackendOption;
use super::parse::{MarketId, market_parser, parse_date, stage_parser};

/// Options of `wb run`.
#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["markets", "all"]))]
pub struct RunArgs {
    /// Market to run (repeatable), e.g. foobar-au.
    #[arg(long = "market", value_name = "MARKET", value_parser = market_parser())]
    pub markets: Vec<MarketId>,
    /// Run every registered market.
    #[arg(long)]
    pub all: bool,
    /// The stage to reach; the stages it needs run first (default: every stage).
    #[arg(long, value_parser = stage_parser())]
    pub stage: Option<Stage>,
    /// Run date, overriding the raw manifest's as_of.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Recompute every stage even when its cached output is valid.
    #[arg(long)]
    pub no_cache: bool,
    /// Print the runner's events as JSON lines (plus a final summary line) instead of the progress display.
    #[arg(long)]
    pub json: bool,
    /// The S3 backend.
    #[command(flatten)]
    pub backend: BackendOption,
    /// Directory holding `<market>/{customers,orders,interactions}.csv` and `_manifest.json` (default:
    /// fixtures/data in the workspace).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// How many markets run at once (default: `[run] jobs` in workbench.toml, else the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
    /// Run nothing: print per market and stage whether the cache would serve it (and why not), the expected time
    /// from recorded durations, and the total against the 15-minute budget.
    #[arg(long)]
    pub dry_run: bool,
    /// The runner to start per market instead of this wb's own (`wb runner`): a `wb-runner` binary (`cargo build
    /// -p workbench-runner`). `wb watch` rebuilds that small binary after an edit and passes it here.
    #[arg(long, value_name = "PATH")]
    pub runner: Option<PathBuf>,
}

impl RunArgs {
    /// The markets selected, in registry order for `--all`, else in the order given, without repeats.
    pub fn selected_markets(&self) -> Vec<MarketId> {
        if self.all {
            return MarketId::all();
        }
        let mut seen = Vec::new();
        for m in &self.markets {
            if !seen.contains(m) {
                seen.push(m.clone());
            }
        }
        seen
    }
}
