//! `foobar-de`, Germany: email needs double opt-in (`doi_confirmed`, hook `eligible_channels`), so the customers
//! extract must carry that column (hook `normalize`); `;`, `DD.MM.YYYY` and decimal commas are config; nothing
//! is scheduled on weekends.

mod eligible_channels;
mod normalize;

use pipeline_core::raw::{ParsedTable, RawTable};
use pipeline_core::{Hook, HookOverride, Market, MarketDef, Result};
use polars::prelude::Expr;

/// The German market.
pub struct FoobarDe {
    def: MarketDef,
}

impl FoobarDe {
    /// Market id.
    pub const ID: &'static str = "foobar-de";

    /// Loads the market's configuration and model.
    pub fn load() -> Result<Self> {
        Ok(Self { def: MarketDef::load(Self::ID, include_str!("../market.toml"), include_str!("../model.toml"))? })
    }
}

const OVERRIDES: &[HookOverride] = &[
    HookOverride { hook: Hook::Normalize, file: "markets/de/src/normalize.rs", source: include_str!("normalize.rs") },
    HookOverride {
        hook: Hook::EligibleChannels,
        file: "markets/de/src/eligible_channels.rs",
        source: include_str!("eligible_channels.rs"),
    },
];

impl Market for FoobarDe {
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

    fn eligible_channels(&self) -> Vec<(&'static str, Expr)> {
        eligible_channels::eligible_channels()
    }
}
