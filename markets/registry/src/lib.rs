//! The market registry: every market the workbench knows, by id. Adding a market is one crate under `markets/`
//! plus one line in [`REGISTRY`] (see `markets/README.md`).

use std::fmt;

use pipeline_core::{Market, PipelineError, Result};

/// Loads one market.
pub type Loader = fn() -> Result<Box<dyn Market>>;

/// Every market, by id, in display order.
pub const REGISTRY: &[(&str, Loader)] = &[
    (foobar_au::FoobarAu::ID, || Ok(Box::new(foobar_au::FoobarAu::load()?))),
    (foobar_br::FoobarBr::ID, || Ok(Box::new(foobar_br::FoobarBr::load()?))),
    (foobar_ca::FoobarCa::ID, || Ok(Box::new(foobar_ca::FoobarCa::load()?))),
    (foobar_jp::FoobarJp::ID, || Ok(Box::new(foobar_jp::FoobarJp::load()?))),
    (foobar_de::FoobarDe::ID, || Ok(Box::new(foobar_de::FoobarDe::load()?))),
];

/// Ids of every registered market.
pub fn ids() -> Vec<&'static str> {
    REGISTRY.iter().map(|(id, _)| *id).collect()
}

/// Loads a market by id; an unknown id is an error listing the known ones.
pub fn load(id: &str) -> Result<Box<dyn Market>> {
    let (_, loader) = REGISTRY
        .iter()
        .find(|(known, _)| *known == id)
        .ok_or_else(|| PipelineError::Other(format!("unknown market '{id}': use one of {}", ids().join(", "))))?;
    loader()
}

/// Loads every market.
pub fn load_all() -> Result<Vec<Box<dyn Market>>> {
    REGISTRY.iter().map(|(_, loader)| loader()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_market_loads_and_registers_under_its_own_id() {
        for (id, loader) in REGISTRY {
            assert_eq!(loader().unwrap().id(), *id);
        }
    }

    #[test]
    fn unknown_market_lists_the_known_ones() {
        let err = load("foobar-xx").err().unwrap();
        assert_eq!(
            err.to_string(),
            "unknown market 'foobar-xx': use one of foobar-au, foobar-br, foobar-ca, foobar-jp, foobar-de"
        );
    }
}

/// A registered market id, checked against the registry when parsed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MarketId(String);

impl MarketId {
    /// Checks `id` against the registry; the error lists the known markets.
    pub fn parse(id: &str) -> std::result::Result<Self, String> {
        let known = ids();
        if known.contains(&id) {
            Ok(Self(id.to_string()))
        } else {
            Err(format!("unknown market '{id}': use one of {}", known.join(", ")))
        }
    }

    /// Every registered market, in registry order.
    pub fn all() -> Vec<Self> {
        ids().into_iter().map(|id| Self(id.to_string())).collect()
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MarketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
