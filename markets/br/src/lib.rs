//! `foobar-br`, Brazil: Portuguese column names in the raw extracts (hook `normalize`) and a `;`/`DD/MM/YYYY`
//! export file (hook `export_format`). Delimiter, date formats, decimal comma and `S`/`N` booleans are config.

mod export_format;
mod normalize;

use pipeline_core::raw::{ParsedTable, RawTable};
use pipeline_core::{ExportFormat, Hook, HookOverride, Market, MarketDef, Result};

/// The Brazilian market.
pub struct FoobarBr {
    def: MarketDef,
}

impl FoobarBr {
    /// Market id.
    pub const ID: &'static str = "foobar-br";

    /// Loads the market's configuration and model.
    pub fn load() -> Result<Self> {
        Ok(Self { def: MarketDef::load(Self::ID, include_str!("../market.toml"), include_str!("../model.toml"))? })
    }
}

const OVERRIDES: &[HookOverride] = &[
    HookOverride { hook: Hook::Normalize, file: "markets/br/src/normalize.rs", source: include_str!("normalize.rs") },
    HookOverride {
        hook: Hook::ExportFormat,
        file: "markets/br/src/export_format.rs",
        source: include_str!("export_format.rs"),
    },
];

impl Market for FoobarBr {
    fn def(&self) -> &MarketDef {
        &self.def
    }

    fn sources(&self) -> &'static [pipeline_core::sources::SourceFile] {
        include!(concat!(env!("OUT_DIR"), "/sources.rs"))
    }

    fn overrides(&self) -> &'static [HookOverride] {
        OVERRIDES
    }

    fn normalize(&self, raw: RawTable) -> Result<ParsedTable> {
        normalize::normalize(self.config(), raw)
    }

    fn export_format(&self) -> ExportFormat {
        export_format::export_format()
    }
}
