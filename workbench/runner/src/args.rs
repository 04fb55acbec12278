//! The runner's command line (`wb runner ...` and `wb-runner runner ...` take the same arguments) and the typed
//! values it is parsed into: markets are checked against the registry, stages and dates are parsed here, so the
//! rest of the runner, and of the workbench, never handles raw strings.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use clap::Args;
use pipeline_core::Stage;

pub use markets::MarketId;

/// Options of the hidden `wb runner`; the S3 endpoint, credentials and bucket names come from the environment
/// (see [`crate`]).
#[derive(Debug, Clone, Args)]
pub struct RunnerArgs {
    /// The market to run.
    #[arg(long, value_parser = MarketId::parse)]
    pub market: MarketId,
    /// The stage to reach.
    #[arg(long, value_parser = parse_stage)]
    pub stage: Option<Stage>,
    /// Run date override.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Recompute every stage.
    #[arg(long)]
    pub no_cache: bool,
    /// Run id (quarantine paths and history use it).
    #[arg(long)]
    pub run_id: String,
    /// Ingest row counts of the previous successful run, as a JSON object `{"orders": 15262, ...}`.
    #[arg(long, value_name = "JSON", value_parser = parse_previous_rows)]
    pub previous_rows: Option<PreviousRows>,
    /// The market's earlier successful runs, their metrics and the drift baselines, as a JSON file written by
    /// the control plane from run history (`pipeline_core::quality::RunHistory`); without it the history and
    /// drift checks are left out.
    #[arg(long, value_name = "FILE")]
    pub history: Option<std::path::PathBuf>,
    /// Plan only (`wb run --dry-run`): print one JSON line per planned stage with its key, whether the cache
    /// would serve it and what the key is made of; run nothing.
    #[arg(long)]
    pub plan: bool,
    /// With --plan: the last recorded key per stage, as a JSON object `{"ingest": "...", ...}`; the parts recorded
    /// in those keys' markers are printed beside the current ones.
    #[arg(long, value_name = "JSON", value_parser = parse_previous_keys)]
    pub previous_keys: Option<PreviousKeys>,
}

/// The last recorded cache key per stage, as passed to a planning runner.
pub type PreviousKeys = BTreeMap<Stage, String>;

/// Row counts per ingest table, as passed to the runner.
pub type PreviousRows = BTreeMap<String, u64>;

/// Parses a stage name; the error lists the stages.
pub fn parse_stage(s: &str) -> Result<Stage, String> {
    s.parse::<Stage>().map_err(|e| e.to_string())
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("'{s}' is not a date ({e}): use YYYY-MM-DD, e.g. 2026-11-15"))
}

/// Parses a JSON object of cache keys per stage (`--previous-keys`).
pub fn parse_previous_keys(s: &str) -> Result<PreviousKeys, String> {
    serde_json::from_str(s).map_err(|e| format!("expected a JSON object of cache keys per stage: {e}"))
}

/// Parses a JSON object of row counts per ingest table (`--previous-rows`).
pub fn parse_previous_rows(s: &str) -> Result<PreviousRows, String> {
    serde_json::from_str(s).map_err(|e| format!("expected a JSON object of row counts per table: {e}"))
}
