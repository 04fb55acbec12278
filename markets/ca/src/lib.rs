//! `foobar-ca`, Canada: interaction timestamps arrive in UTC and are converted to America/Toronto local time
//! (hook `normalize`), so an evening interaction counts on its local day. English and French content.

mod normalize;

use pipeline_core::raw::{ParsedTable, RawTable};
use pipeline_core::{Hook, HookOverride, Market, MarketDef, Result};

/// The Canadian market.
pub struct FoobarCa {
    def: MarketDef,
}

impl FoobarCa {
    /// Market id.
    pub const ID: &'static str = "foobar-ca";

    /// Loads the market's configuration and model.
    pub fn load() -> Result<Self> {
        Ok(Self { def: MarketDef::load(Self::ID, include_str!("../market.toml"), include_str!("../model.toml"))? })
    }
}

const OVERRIDES: &[HookOverride] = &[HookOverride {
    hook: Hook::Normalize,
    file: "markets/ca/src/normalize.rs",
    source: include_str!("normalize.rs"),
}];

impl Market for FoobarCa {
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
}
