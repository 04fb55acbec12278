//! JP customers have no `sms_opt_in` column: Japan has no sms channel, so it is false for every customer.

use pipeline_core::raw::{ParsedTable, RawTable, parse_columns};
use pipeline_core::schema::ColumnSpec;
use pipeline_core::{MarketConfig, Result};

/// Parses the canonical columns, with `sms_opt_in` optional and false when absent.
pub fn normalize(config: &MarketConfig, raw: RawTable) -> Result<ParsedTable> {
    let columns: Vec<ColumnSpec> = raw
        .table
        .columns()
        .into_iter()
        .map(|c| if c.name == "sms_opt_in" { ColumnSpec::with_default("sms_opt_in", false) } else { c })
        .collect();
    parse_columns(raw, &columns, &config.raw)
}
