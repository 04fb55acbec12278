//! `foobar-jp`, Japan: raw customers carry no `sms_opt_in` column and Japan has no sms channel (hook
//! `normalize` sets it false); `YYYY/MM/DD` dates and integer yen amounts are config.

mod normalize;

use pipeline_core::raw::{ParsedTable, RawTable};
use pipeline_core::{Hook, HookOverride, Market, MarketDef, Result};

/// The Japanese market.
pub struct FoobarJp {
    def: MarketDef,
}

impl FoobarJp {
    /// Market id.
    pub const ID: &'static str = "foobar-jp";

    /// Loads the market's configuration and model.
    pub fn load() -> Result<Self> {
        Ok(Self { def: MarketDef::load(Self::ID, include_str!("../market.toml"), include_str!("../model.toml"))? })
    }
}

const OVERRIDES: &[HookOverride] = &[HookOverride {
    hook: Hook::Normalize,
    file: "markets/jp/src/normalize.rs",
    source: include_str!("normalize.rs"),
}];

impl Market for FoobarJp {
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
