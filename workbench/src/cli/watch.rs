//! `wb watch`: its options.

use std::path::PathBuf;

use clap::Args;

use crate::services::watch::DEFAULT_DEBOUNCE_MS;

use super::options::{BackendOption, RunnerOptions};
use super::parse::{MarketId, market_parser};

/// Options of `wb watch`.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Only re-run these markets when a change affects them (repeatable; default: every market).
    #[arg(long = "market", value_name = "MARKET", value_parser = market_parser())]
    pub markets: Vec<MarketId>,
    /// How long files must be quiet after an event before the change is handled, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_DEBOUNCE_MS)]
    pub debounce_ms: u64,
    /// Print JSON lines (the watch's own events and the runs' events) instead of text.
    #[arg(long)]
    pub json: bool,
    /// The S3 backend.
    #[command(flatten)]
    pub backend: BackendOption,
    /// The runner and its rebuild.
    #[command(flatten)]
    pub runner: RunnerOptions,
    /// Rebuild and run the release build of the runner (`cargo build --release`, target/release/wb-runner)
    /// instead of the debug one, e.g. for runs on large fixtures.
    #[arg(long)]
    pub release: bool,
    /// Directory holding the runs' raw fixtures, passed to every run as `wb run --fixtures` (default:
    /// fixtures/data in the workspace).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}
