//! DE customers extracts must carry `doi_confirmed`: it gates email (see `eligible_channels.rs`), so a file
//! without it fails ingest naming the column instead of taking the base default (true) for everyone.

use pipeline_core::raw::{ParsedTable, RawTable, parse_columns};
use pipeline_core::schema::{ColumnSpec, ColumnType};
use pipeline_core::{MarketConfig, Result};

/// Parses the canonical columns, with `doi_confirmed` required.
pub fn normalize(config: &MarketConfig, raw: RawTable) -> Result<ParsedTable> {
    let columns: Vec<ColumnSpec> = raw
        .table
        .columns()
        .into_iter()
        .map(|c| if c.name == "doi_confirmed" { ColumnSpec::required("doi_confirmed", ColumnType::Bool) } else { c })
        .collect();
    parse_columns(raw, &columns, &config.raw)
}
