//! `wb kpi`: its options.

use std::num::NonZeroUsize;

use clap::Args;

use super::parse::{MarketId, market_parser};

/// Options of `wb kpi`.
#[derive(Debug, Clone, Args)]
pub struct KpiArgs {
    /// Only these markets (repeat the flag); every registered market by default.
    #[arg(long, value_parser = market_parser())]
    pub market: Vec<MarketId>,
    /// How many recent runs the trends cover.
    #[arg(long, value_name = "N", default_value = "20")]
    pub limit: NonZeroUsize,
    /// List the metric names the stages record (what `[quality] history_metrics` and `bands` may name).
    #[arg(long)]
    pub metrics: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}
