//! Stage cache keys: a hash of everything a stage's output can depend on, so an unchanged stage is skipped and a
//! changed one is never served stale.
//!
//! A key covers, part by part ([`key_material`]):
//! - `src:<path>`: every source file the stage's code can reach, derived from the code ([`crate::sources`]): all of
//!   pipeline-core, and the market files reached from the hooks the stage calls;
//! - `cargo_lock`: the dependency versions;
//! - `config:<key>` for every top-level key of the resolved market config, and `model`: hook code can read any of
//!   them, so no stage is trusted to read only what its spec declares;
//! - `as_of`: every stage can see it;
//! - `upstream:<stage>`: the keys of the stages it reads from;
//! - `raw:<table>`: the ETags of the raw objects it reads (the engine then reads exactly those with If-Match).
//!
//! Speed never trades against soundness here: a part is left out only when the code provably cannot reach it.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::hooks::Market;
use crate::schema::Table;
use crate::sources::CodeSet;
use crate::stages::{Stage, StageSpec};

/// Bumped when the key's composition changes.
const KEY_VERSION: &str = "workbench-stage-key-v2";

/// What goes into one stage's key besides its declaration, market and code.
pub struct KeyInputs<'a> {
    /// as_of of the run.
    pub as_of: chrono::NaiveDate,
    /// Keys of the stages this one reads from.
    pub upstream: &'a [(Stage, String)],
    /// ETags of the raw objects this stage reads.
    pub raw_etags: &'a [(Table, String)],
}

/// What a stage's cache key is made of, part by part: label → a short digest of the part (or, for as_of, upstream
/// keys and raw ETags, the value itself). Labels are those of [`key_material`]. Comparing the parts of two keys says
/// what changed between them (`wb run --dry-run`).
pub type KeyParts = BTreeMap<String, String>;

/// Every part of a stage's key with its full value: label → hex sha256 of the part (or the value itself for
/// `as_of`, `upstream:*` and `raw:*`). See the module docs for the labels.
pub fn key_material(
    spec: &StageSpec,
    market: &dyn Market,
    inputs: &KeyInputs,
    code: &CodeSet,
) -> BTreeMap<String, String> {
    let sha = |bytes: &[u8]| hex::encode(Sha256::digest(bytes));
    let mut parts = BTreeMap::new();
    for (path, bytes) in code.reachable(spec.hooks) {
        parts.insert(format!("src:{path}"), sha(bytes));
    }
    parts.insert("cargo_lock".into(), sha(code.lock));
    if let serde_json::Value::Object(config) = market.config().to_json() {
        for (key, value) in config {
            parts.insert(format!("config:{key}"), sha(value.to_string().as_bytes()));
        }
    }
    parts.insert("model".into(), sha(serde_json::to_string(market.model()).expect("model serialises").as_bytes()));
    parts.insert("as_of".into(), inputs.as_of.to_string());
    for (stage, key) in inputs.upstream {
        parts.insert(format!("upstream:{stage}"), key.clone());
    }
    for (table, etag) in inputs.raw_etags {
        parts.insert(format!("raw:{table}"), etag.clone());
    }
    parts
}

/// The cache key of `spec` for `market` over the code compiled into this binary, 20 hex characters.
pub fn stage_key(spec: &StageSpec, market: &dyn Market, inputs: &KeyInputs) -> String {
    stage_key_over(spec, market, inputs, &CodeSet::compiled(market))
}

/// The cache key over a given code set (tests derive keys from mutated copies of the compiled-in sources).
pub fn stage_key_over(spec: &StageSpec, market: &dyn Market, inputs: &KeyInputs, code: &CodeSet) -> String {
    key_from_material(spec.stage, market.id(), &key_material(spec, market, inputs, code))
}

/// The key of a stage from its material: every part, labelled and length-prefixed, under the key version.
pub fn key_from_material(stage: Stage, market: &str, material: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    let mut part = |label: &str, value: &[u8]| {
        h.update((label.len() as u64).to_le_bytes());
        h.update(label.as_bytes());
        h.update((value.len() as u64).to_le_bytes());
        h.update(value);
    };
    part("version", KEY_VERSION.as_bytes());
    part("market", market.as_bytes());
    part("stage", stage.name().as_bytes());
    for (label, value) in material {
        part(label, value.as_bytes());
    }
    hex::encode(&h.finalize()[..10])
}

/// The parts recorded in a cache marker and shown by dry runs: the material with digests cut to 16 hex characters
/// (values such as as_of, upstream keys and ETags are kept whole).
pub fn key_parts(material: &BTreeMap<String, String>) -> KeyParts {
    material
        .iter()
        .map(|(label, value)| {
            let whole = label == "as_of" || label.starts_with("upstream:") || label.starts_with("raw:");
            let shown = if whole { value.clone() } else { value.chars().take(16).collect() };
            (label.clone(), shown)
        })
        .collect()
}
