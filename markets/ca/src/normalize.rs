//! CA interaction `ts` values are UTC (`2026-11-01T03:15:00Z`); after the base parse they are converted to the
//! market's local time zone and kept naive, like every other market's local timestamps.

use pipeline_core::hooks::base;
use pipeline_core::raw::{ParsedTable, RawTable};
use pipeline_core::{MarketConfig, PipelineError, Result, Table};
use polars::prelude::*;

/// Parses as the base does, then converts interaction timestamps from UTC to local time.
pub fn normalize(config: &MarketConfig, raw: RawTable) -> Result<ParsedTable> {
    let mut parsed = base::normalize(config, raw)?;
    if parsed.table == Table::Interactions {
        parsed.frame = utc_to_local(parsed.frame, &config.timezone).map_err(|e| {
            PipelineError::Other(format!("{}: converting ts from UTC to {}: {e}", config.id, config.timezone))
        })?;
    }
    Ok(parsed)
}

/// Reads naive `ts` as UTC and returns it as naive wall-clock time in `timezone`.
pub fn utc_to_local(frame: DataFrame, timezone: &str) -> PolarsResult<DataFrame> {
    let local = TimeZone::opt_try_new(Some(timezone))?.expect("a zone name was given");
    frame
        .lazy()
        .with_column(
            col("ts")
                .dt()
                .replace_time_zone(Some(TimeZone::UTC), lit("raise"), NonExistent::Raise)
                .dt()
                .convert_time_zone(local)
                .dt()
                .replace_time_zone(None, lit("raise"), NonExistent::Raise),
        )
        .collect()
}
