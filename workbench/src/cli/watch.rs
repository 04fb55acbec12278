//! `wb watch`: its options.

use std::path::PathBuf;

use clap::Args;
use localstack::Backend;

use crate::services::watch::DEFAULT_DEBOUNCE_MS;

use super::parse::{MarketId, parse_backend};

/// Options of `wb watch`.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Only re-run these markets when a change affects them (repeatable; default: every market).
    #[arg(long = "market", value_name = "MARKET", value_parser = MarketId::parse)]
    pub markets: Vec<MarketId>,
    /// How long files must be quiet after an event before the change is handled, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_DEBOUNCE_MS)]
    pub debounce_ms: u64,
    /// Print JSON lines (the watch's own events and the runs' events) instead of text.
    #[arg(long)]
    pub json: bool,
    /// S3 backend of the runs (as `wb run --aws`).
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    pub aws: Option<Backend>,
    /// No effect, kept so existing command lines still parse: the runs are made in process by the run service,
    /// so no wb binary is started (`wb watch --json` still reports it in `watch_ready`).
    #[arg(long, value_name = "PATH", hide = true)]
    pub wb: Option<PathBuf>,
    /// The runner binary the runs start per market (`wb run --runner`; default: the workspace's
    /// target/debug/wb-runner, or target/release/wb-runner with --release, rebuilt on every change). Any program
    /// that takes `runner` and its arguments will do, `wb` itself included.
    #[arg(long, value_name = "PATH")]
    pub runner: Option<PathBuf>,
    /// Do not rebuild before running: use the runner binary as it is.
    #[arg(long)]
    pub no_build: bool,
    /// Rebuild and run the release build of the runner (`cargo build --release`, target/release/wb-runner)
    /// instead of the debug one, e.g. for runs on large fixtures.
    #[arg(long)]
    pub release: bool,
    /// Directory holding the runs' raw fixtures, passed to every run as `wb run --fixtures` (default:
    /// fixtures/data in the workspace).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}
