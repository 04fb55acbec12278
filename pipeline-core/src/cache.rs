//! Stage cache keys: a hash of everything a stage's output depends on, so an unchanged stage is skipped and a
//! changed one is never served stale. A key covers the stage's code and the framework's, the source of every
//! market hook the stage calls, the config keys and model it reads, as_of when it uses it, the keys of the stages
//! it reads from, and for ingest the raw objects' ETags.

use sha2::{Digest, Sha256};

use crate::hooks::{Market, hook_source};
use crate::schema::Table;
use crate::stages::{Stage, StageSpec};

/// Framework sources: a change to any of them changes every key.
pub const FRAMEWORK_SOURCES: [&str; 7] = [
    include_str!("engine.rs"),
    include_str!("io.rs"),
    include_str!("cache.rs"),
    include_str!("stages/mod.rs"),
    include_str!("checks.rs"),
    include_str!("schema.rs"),
    include_str!("config.rs"),
];

/// Sources specific to the ingest stage beyond its module (the raw reader).
pub const INGEST_SOURCES: [&str; 1] = [include_str!("raw.rs")];

/// Bumped when the key's composition changes.
const KEY_VERSION: &str = "workbench-stage-key-v1";

/// What goes into one stage's key besides its declaration and market.
pub struct KeyInputs<'a> {
    /// as_of of the run.
    pub as_of: chrono::NaiveDate,
    /// Keys of the stages this one reads from.
    pub upstream: &'a [(Stage, String)],
    /// ETags of the raw objects this stage reads.
    pub raw_etags: &'a [(Table, String)],
}

/// The cache key of `spec` for `market`, 20 hex characters.
pub fn stage_key(spec: &StageSpec, market: &dyn Market, inputs: &KeyInputs) -> String {
    let mut h = Sha256::new();
    let mut part = |label: &str, value: &[u8]| {
        h.update(label.as_bytes());
        h.update((value.len() as u64).to_le_bytes());
        h.update(value);
    };
    part("version", KEY_VERSION.as_bytes());
    part("market", market.id().as_bytes());
    part("stage", spec.stage.name().as_bytes());
    for source in FRAMEWORK_SOURCES {
        part("framework", source.as_bytes());
    }
    part("stage_source", spec.source.as_bytes());
    if spec.stage == Stage::Ingest {
        for source in INGEST_SOURCES {
            part("ingest_source", source.as_bytes());
        }
    }
    for hook in spec.hooks {
        part(hook.name(), hook_source(market, *hook).as_bytes());
    }
    let config = market.config().to_json();
    for key in spec.config {
        part(key, config.get(*key).map(|v| v.to_string()).unwrap_or_default().as_bytes());
    }
    if spec.uses_model {
        part("model", serde_json::to_string(market.model()).expect("model serialises").as_bytes());
    }
    if spec.uses_as_of {
        part("as_of", inputs.as_of.to_string().as_bytes());
    }
    for (stage, key) in inputs.upstream {
        part(stage.name(), key.as_bytes());
    }
    for (table, etag) in inputs.raw_etags {
        part(table.name(), etag.as_bytes());
    }
    hex::encode(&h.finalize()[..10])
}
