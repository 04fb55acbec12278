//! `foobar-au`, Australia: the reference market. Canonical raw extracts and the base behaviour of every hook;
//! only its configuration (`market.toml`) and model (`model.toml`) are its own.

use pipeline_core::{Market, MarketDef, Result};

/// The Australian market.
pub struct FoobarAu {
    def: MarketDef,
}

impl FoobarAu {
    /// Market id.
    pub const ID: &'static str = "foobar-au";

    /// Loads the market's configuration and model.
    pub fn load() -> Result<Self> {
        Ok(Self { def: MarketDef::load(Self::ID, include_str!("../market.toml"), include_str!("../model.toml"))? })
    }
}

impl Market for FoobarAu {
    fn def(&self) -> &MarketDef {
        &self.def
    }

    fn sources(&self) -> &'static [pipeline_core::sources::SourceFile] {
        include!(concat!(env!("OUT_DIR"), "/sources.rs"))
    }
}
