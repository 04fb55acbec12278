//! What the code declares about itself, gathered once per analysis, so the classification keeps no list of its
//! own: each registered market (`markets::REGISTRY`) with its crate directory (the directory under `markets/` whose
//! `Cargo.toml` package name is the market id) and hook overrides with their files (`Market::overrides`); the
//! registry crate's directory (package `markets`); and per stage its module, hooks, config keys, model and as_of
//! use and raw inputs (`StageSpec`), ordered and chained by `engine::plan`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use pipeline_core::engine::plan;
use pipeline_core::stages::Input;
use pipeline_core::{Hook, Stage};

use crate::error::AffectedError;

/// Directory holding one crate per market, and the registry.
pub const MARKETS_DIR: &str = "markets";
/// Package name of the registry crate.
pub const REGISTRY_PACKAGE: &str = "markets";
/// Directory of the committed raw fixtures, one directory per market id (what `wb run` uploads).
pub const FIXTURES_DIR: &str = "fixtures/data";
/// A market crate's configuration file (embedded by its loader).
pub const MARKET_CONFIG: &str = "market.toml";
/// A market crate's model file (embedded by its loader).
pub const MARKET_MODEL: &str = "model.toml";
/// The base configuration every `market.toml` is merged over, inside pipeline-core (`config::BASE_CONFIG`).
pub const BASE_CONFIG: &str = "base.toml";
/// The raw manifest holding as_of in a market's fixtures (`engine::raw_manifest_key`).
pub const RAW_MANIFEST: &str = "_manifest.json";

/// One registered market as its code declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketDecl {
    /// Market id, e.g. `foobar-br`.
    pub id: String,
    /// Its crate directory from the workspace root, e.g. `markets/br` (None when not found in this checkout).
    pub dir: Option<String>,
    /// Its hook overrides: hook → file from the workspace root.
    pub overrides: Vec<(Hook, String)>,
}

/// Everything the classification reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declarations {
    /// Registered markets, in registry order.
    pub markets: Vec<MarketDecl>,
    /// Crates under `markets/` that are not registered: directory → package name.
    pub unregistered: BTreeMap<String, String>,
    /// The registry crate's directory, e.g. `markets/registry`.
    pub registry_dir: Option<String>,
    /// pipeline-core's directory, e.g. `pipeline-core` (the first component of the stage modules' paths).
    pub core_dir: String,
}

impl Declarations {
    /// Loads every registered market (for its overrides) and finds the crate directories under `root/markets`.
    pub fn load(root: &Path) -> Result<Self, AffectedError> {
        let mut crates = BTreeMap::new();
        let markets_dir = root.join(MARKETS_DIR);
        match std::fs::read_dir(&markets_dir) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let manifest = entry.path().join("Cargo.toml");
                    let Some(name) = package_name(&manifest) else { continue };
                    let dir = format!("{MARKETS_DIR}/{}", entry.file_name().to_string_lossy());
                    crates.insert(dir, name);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(AffectedError::Read { path: markets_dir, source }),
        }
        let mut markets = Vec::new();
        for id in markets::ids() {
            let market = markets::load(id)
                .map_err(|source| AffectedError::Market { market: id.to_string(), source: Box::new(source) })?;
            let overrides = market.overrides().iter().map(|o| (o.hook, o.file.to_string())).collect();
            let dir = crates.iter().find(|(_, name)| name.as_str() == id).map(|(dir, _)| dir.clone());
            markets.push(MarketDecl { id: id.to_string(), dir, overrides });
        }
        let registry_dir = crates.iter().find(|(_, name)| name.as_str() == REGISTRY_PACKAGE).map(|(d, _)| d.clone());
        let unregistered = crates
            .into_iter()
            .filter(|(_, name)| name != REGISTRY_PACKAGE && !markets.iter().any(|m| &m.id == name))
            .collect();
        let core_dir = Stage::Ingest.spec().module.split('/').next().unwrap_or("pipeline-core").to_string();
        Ok(Self { markets, unregistered, registry_dir, core_dir })
    }

    /// Ids of the registered markets, in registry order.
    pub fn market_ids(&self) -> Vec<&str> {
        self.markets.iter().map(|m| m.id.as_str()).collect()
    }

    /// The market whose crate directory holds `path`, with the path inside that directory.
    pub fn market_of<'a>(&self, path: &'a str) -> Option<(&MarketDecl, &'a str)> {
        self.markets.iter().find_map(|m| {
            let dir = m.dir.as_deref()?;
            path.strip_prefix(dir).and_then(|rest| rest.strip_prefix('/')).map(|rest| (m, rest))
        })
    }

    /// The files whose content the classification compares before and after a change (each market's
    /// `market.toml` and `model.toml`, and pipeline-core's `base.toml`): what `wb watch` remembers between saves.
    pub fn compared_files(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .markets
            .iter()
            .filter_map(|m| m.dir.as_deref())
            .flat_map(|dir| [format!("{dir}/{MARKET_CONFIG}"), format!("{dir}/{MARKET_MODEL}")])
            .collect();
        files.push(format!("{}/{BASE_CONFIG}", self.core_dir));
        files
    }

    /// The registered market with this id.
    pub fn market(&self, id: &str) -> Option<&MarketDecl> {
        self.markets.iter().find(|m| m.id == id)
    }
}

/// Every stage, in execution order.
pub fn all_stages() -> BTreeSet<Stage> {
    plan(None).into_iter().collect()
}

/// `stage` and every stage that reads from it, directly or not.
pub fn from_stage(stage: Stage) -> BTreeSet<Stage> {
    plan(None).into_iter().filter(|s| plan(Some(*s)).contains(&stage)).collect()
}

/// The first stage (in execution order) that satisfies `uses`.
fn first(uses: impl Fn(&pipeline_core::stages::StageSpec) -> bool) -> Option<Stage> {
    plan(None).into_iter().find(|s| uses(s.spec()))
}

/// The first stage calling `hook`.
pub fn first_using_hook(hook: Hook) -> Option<Stage> {
    first(|spec| spec.hooks.contains(&hook))
}

/// The first stage reading any of the config `keys`.
pub fn first_reading_config(keys: &[String]) -> Option<Stage> {
    first(|spec| spec.config.iter().any(|k| keys.iter().any(|key| key == k)))
}

/// The first stage reading the model.
pub fn first_using_model() -> Option<Stage> {
    first(|spec| spec.uses_model)
}

/// The first stage using as_of.
pub fn first_using_as_of() -> Option<Stage> {
    first(|spec| spec.uses_as_of)
}

/// The first stage reading the raw file named `file` (e.g. `customers.csv`).
pub fn first_reading_raw(file: &str) -> Option<Stage> {
    first(|spec| spec.inputs.iter().any(|i| matches!(i, Input::Raw(table) if table.raw_file() == file)))
}

/// The base stage whose module is `path`.
pub fn stage_of_module(path: &str) -> Option<Stage> {
    plan(None).into_iter().find(|s| s.spec().module == path)
}

/// The `[package] name` of a `Cargo.toml`, when it has one.
fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let table: toml::Table = text.parse().ok()?;
    table.get("package")?.get("name")?.as_str().map(str::to_string)
}
