//! BR raw extracts name their columns in Portuguese (`[raw.rename]` in `market.toml`); they are renamed to the
//! canonical names, then parsed by the base with the market's raw format.

use pipeline_core::hooks::base;
use pipeline_core::raw::{ParsedTable, RawTable};
use pipeline_core::{MarketConfig, Result};

/// Renames the Portuguese columns declared in `config.raw.rename`, then normalises as the base does.
pub fn normalize(config: &MarketConfig, mut raw: RawTable) -> Result<ParsedTable> {
    let names = config.raw.renames(raw.table);
    raw.rename(&names)?;
    base::normalize(config, raw)
}
