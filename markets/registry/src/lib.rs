//! The market registry: every market the workbench knows, by id. The list is this crate's dependencies, read
//! by `build.rs`: adding a market is one crate under `markets/` plus one dependency line (`wb new-market` does
//! both; see `markets/README.md`).

use std::fmt;

use pipeline_core::{Market, PipelineError, Result};

/// Loads one market.
pub type Loader = fn() -> Result<Box<dyn Market>>;

include!(concat!(env!("OUT_DIR"), "/registry.rs"));

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
        let err = load("foobar-zz").err().unwrap();
        assert_eq!(err.to_string(), format!("unknown market 'foobar-zz': use one of {}", ids().join(", ")));
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

#[cfg(test)]
mod declared {
    use std::path::Path;

    /// A market crate folder (`markets/<dir>/market.toml`) that the registry does not list would build and be
    /// tested but never run: every such folder must be registered, and nothing else.
    #[test]
    fn the_registry_lists_every_market_folder() {
        let markets = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut on_disk: Vec<String> = std::fs::read_dir(&markets)
            .unwrap()
            .map(|entry| entry.unwrap().path().join("market.toml"))
            .filter(|path| path.is_file())
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap();
                let table: toml::Table = text.parse().unwrap();
                table["id"].as_str().unwrap().to_string()
            })
            .collect();
        on_disk.sort();
        let mut registered = super::ids();
        registered.sort();
        assert_eq!(on_disk, registered);
    }
}
