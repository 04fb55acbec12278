//! One changed file → the cells it may change and why, from the [`Declarations`] only.
//!
//! The rules, first match wins:
//! 1. documentation (`*.md`, `docs/`) → nothing;
//! 2. a market's hook override file (`Market::overrides`) → that market, from the first stage calling the hook;
//! 3. a base stage module (`StageSpec::module`) → that stage and every stage reading from it, every market;
//! 4. `fixtures/data/<market>/`: a raw table → that market from the first stage reading it; `_manifest.json`
//!    (as_of) → from the first stage using as_of; any other file → every stage;
//! 5. a market crate: `market.toml` → from the first stage reading a changed top-level key (values compared, so a
//!    comment changes nothing); `model.toml` → from the first stage reading the model, when a weight changed;
//!    `tests/`, `benches/` → nothing; any other file (`lib.rs`, helpers, `Cargo.toml`) → every stage, since
//!    every stage may call it;
//! 6. the registry crate, pipeline-core outside its stage modules, tests and benches, the root `Cargo.toml` and
//!    `Cargo.lock` → every stage of every market; `pipeline-core/base.toml` → every market from the first stage
//!    reading a changed key;
//! 7. anything else (`workbench/`, `localstack/`, `tests/`, the fixture generator and golden files, CI and tool
//!    files, a crate under `markets/` that is not registered) → nothing: it does not change a stage's output.
//!    `wb watch` still rebuilds the runner for such a change.

use std::collections::BTreeSet;

use pipeline_core::{Hook, Stage};
use serde::Serialize;

use crate::changes::FileStatus;
use crate::declarations::{
    BASE_CONFIG, Declarations, FIXTURES_DIR, MARKET_CONFIG, MARKET_MODEL, RAW_MANIFEST, all_stages,
    first_reading_config, first_reading_raw, first_using_as_of, first_using_hook, first_using_model, from_stage,
    stage_of_module,
};
use crate::{Cells, stage_list};

/// What kind of file changed, as the classification understood it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// A market's override of a hook.
    HookOverride {
        /// Market id.
        market: String,
        /// The hook.
        hook: Hook,
    },
    /// Other code of a market crate.
    MarketCode {
        /// Market id.
        market: String,
    },
    /// A market's `market.toml`.
    MarketConfig {
        /// Market id.
        market: String,
        /// Top-level keys whose values changed (empty when the file could not be compared).
        keys: Vec<String>,
    },
    /// A market's `model.toml`.
    MarketModel {
        /// Market id.
        market: String,
    },
    /// A market's raw fixture.
    Fixture {
        /// Market id.
        market: String,
        /// File name inside the market's fixture directory.
        file: String,
    },
    /// A base stage module in pipeline-core.
    StageModule {
        /// The stage.
        stage: Stage,
    },
    /// pipeline-core's `base.toml`.
    BaseConfig {
        /// Top-level keys whose values changed (empty when the file could not be compared).
        keys: Vec<String>,
    },
    /// Framework or shared code: every stage of every market.
    Framework,
    /// Does not change any stage's output.
    NoEffect,
}

/// One changed file with the cells it may change and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Path from the workspace root.
    pub path: String,
    /// How it changed.
    pub status: FileStatus,
    /// What kind of file it is.
    #[serde(flatten)]
    pub kind: ChangeKind,
    /// Market → stages it may change.
    pub cells: Cells,
    /// Why, e.g. `overrides hook schedule of foobar-br, first used by stage recommend`.
    pub reason: String,
    /// One line: `markets/br/src/schedule.rs changed → foobar-br: recommend, export`.
    pub summary: String,
}

/// Which markets a verdict applies to.
enum Scope {
    Market(String),
    Every,
    Nothing,
}

struct Verdict {
    kind: ChangeKind,
    scope: Scope,
    stages: BTreeSet<Stage>,
    reason: String,
}

impl Verdict {
    fn nothing(reason: impl Into<String>) -> Self {
        Self { kind: ChangeKind::NoEffect, scope: Scope::Nothing, stages: BTreeSet::new(), reason: reason.into() }
    }

    fn everything(reason: impl Into<String>) -> Self {
        Self { kind: ChangeKind::Framework, scope: Scope::Every, stages: all_stages(), reason: reason.into() }
    }
}

/// Classifies one changed file; `before` is its content at the base (None if added), `after` in the working tree
/// (None if deleted). The contents matter only for `market.toml`, `model.toml` and `base.toml`.
pub fn classify(
    decl: &Declarations,
    path: &str,
    status: FileStatus,
    before: Option<&[u8]>,
    after: Option<&[u8]>,
) -> Change {
    let verdict = verdict(decl, path, before, after);
    let mut cells = Cells::new();
    if !verdict.stages.is_empty() {
        match &verdict.scope {
            Scope::Market(market) => {
                cells.insert(market.clone(), verdict.stages.clone());
            }
            Scope::Every => {
                for id in decl.market_ids() {
                    cells.insert(id.to_string(), verdict.stages.clone());
                }
            }
            Scope::Nothing => {}
        }
    }
    let targets = match (&verdict.scope, cells.is_empty()) {
        (_, true) | (Scope::Nothing, _) => "nothing".to_string(),
        (Scope::Market(market), false) => format!("{market}: {}", stage_list(&verdict.stages)),
        (Scope::Every, false) => format!("every market: {}", stage_list(&verdict.stages)),
    };
    Change {
        path: path.to_string(),
        status,
        summary: format!("{path} {} → {targets}", status.verb()),
        kind: verdict.kind,
        cells,
        reason: verdict.reason,
    }
}

fn verdict(decl: &Declarations, path: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> Verdict {
    if path.ends_with(".md") || path.starts_with("docs/") {
        return Verdict::nothing("documentation does not affect stage outputs");
    }
    for market in &decl.markets {
        if let Some((hook, _)) = market.overrides.iter().find(|(_, file)| file == path) {
            return hook_override(&market.id, *hook);
        }
    }
    if let Some(stage) = stage_of_module(path) {
        return Verdict {
            kind: ChangeKind::StageModule { stage },
            scope: Scope::Every,
            stages: from_stage(stage),
            reason: format!("base module of stage {stage}, used by every market"),
        };
    }
    if let Some(rest) = path.strip_prefix(FIXTURES_DIR).and_then(|r| r.strip_prefix('/')) {
        return fixture(decl, rest);
    }
    if let Some((market, rest)) = decl.market_of(path) {
        return market_file(&market.id, rest, before, after);
    }
    let under = |dir: &str| path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'));
    if decl.registry_dir.as_deref().is_some_and(under) {
        return Verdict::everything("the market registry: every stage of every market may change");
    }
    if let Some((dir, name)) = decl.unregistered.iter().find(|(dir, _)| under(dir)) {
        return Verdict::nothing(format!(
            "crate `{name}` ({dir}) is not a registered market, so no run uses it: add it to \
             markets/registry/Cargo.toml (`wb new-market` does)"
        ));
    }
    if let Some(rest) = path.strip_prefix(decl.core_dir.as_str()).and_then(|r| r.strip_prefix('/')) {
        if rest == BASE_CONFIG {
            return base_config(before, after);
        }
        if rest.starts_with("tests/") || rest.starts_with("benches/") {
            return Verdict::nothing("tests do not affect stage outputs");
        }
        return Verdict::everything("pipeline-core framework code: every stage of every market may change");
    }
    if path == "Cargo.toml" || path == "Cargo.lock" {
        return Verdict::everything(
            "the workspace manifest or lock file: dependency versions may change every stage of every market",
        );
    }
    let top = path.split('/').next().unwrap_or(path);
    Verdict::nothing(match top {
        "workbench" => "workbench code does not affect stage outputs (it runs the stages)",
        "localstack" => "local AWS backends do not affect stage outputs",
        "tests" => "tests do not affect stage outputs",
        "fixtures" => "the fixture generator and golden outputs do not affect stage outputs",
        _ => "not an input of any stage",
    })
}

fn hook_override(market: &str, hook: Hook) -> Verdict {
    let kind = ChangeKind::HookOverride { market: market.to_string(), hook };
    let scope = Scope::Market(market.to_string());
    match first_using_hook(hook) {
        Some(stage) => Verdict {
            kind,
            scope,
            stages: from_stage(stage),
            reason: format!("overrides hook {hook} of {market}, first used by stage {stage}"),
        },
        None => Verdict {
            kind,
            scope,
            stages: BTreeSet::new(),
            reason: format!("overrides hook {hook} of {market}, which no stage calls"),
        },
    }
}

fn fixture(decl: &Declarations, rest: &str) -> Verdict {
    let Some((market, file)) = rest.split_once('/') else {
        return Verdict::nothing("not an input of any stage");
    };
    if decl.market(market).is_none() {
        return Verdict::nothing(format!("fixtures of `{market}`, which is not a registered market"));
    }
    let kind = ChangeKind::Fixture { market: market.to_string(), file: file.to_string() };
    let scope = Scope::Market(market.to_string());
    let (first, reason) = if file == RAW_MANIFEST {
        let first = first_using_as_of();
        let reason = first.map(|s| format!("as_of manifest of {market}, first used by stage {s}"));
        (first, reason)
    } else if let Some(stage) = first_reading_raw(file) {
        (Some(stage), Some(format!("raw {file} of {market}, first read by stage {stage}")))
    } else {
        (None, None)
    };
    match (first, reason) {
        (Some(stage), Some(reason)) => Verdict { kind, scope, stages: from_stage(stage), reason },
        _ => Verdict {
            kind,
            scope,
            stages: all_stages(),
            reason: format!("fixture of {market}: every stage may change"),
        },
    }
}

fn market_file(market: &str, rest: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> Verdict {
    let scope = Scope::Market(market.to_string());
    if rest == MARKET_CONFIG {
        let (keys, stages, reason) = config_change(&format!("{MARKET_CONFIG} of {market}"), before, after);
        return Verdict { kind: ChangeKind::MarketConfig { market: market.to_string(), keys }, scope, stages, reason };
    }
    if rest == MARKET_MODEL {
        let kind = ChangeKind::MarketModel { market: market.to_string() };
        let first = first_using_model();
        return match (changed_keys(before, after), first) {
            (Ok(keys), _) if keys.is_empty() => Verdict {
                kind,
                scope,
                stages: BTreeSet::new(),
                reason: format!("{MARKET_MODEL} of {market} changed but no weight did (comments or layout)"),
            },
            (_, Some(stage)) => Verdict {
                kind,
                scope,
                stages: from_stage(stage),
                reason: format!("model of {market}, first read by stage {stage}"),
            },
            (_, None) => Verdict {
                kind,
                scope,
                stages: BTreeSet::new(),
                reason: format!("model of {market}, which no stage reads"),
            },
        };
    }
    if rest.starts_with("tests/") || rest.starts_with("benches/") {
        return Verdict::nothing("tests do not affect stage outputs");
    }
    let file = rest.rsplit('/').next().unwrap_or(rest);
    Verdict {
        kind: ChangeKind::MarketCode { market: market.to_string() },
        scope,
        stages: all_stages(),
        reason: format!("{file} of {market} overrides no hook, and any stage may use it: every stage may change"),
    }
}

fn base_config(before: Option<&[u8]>, after: Option<&[u8]>) -> Verdict {
    let (keys, stages, reason) = config_change("base config", before, after);
    Verdict {
        kind: ChangeKind::BaseConfig { keys },
        scope: Scope::Every,
        stages,
        reason: format!("{reason}, for every market"),
    }
}

/// Changed keys of a config file, the stages from the first one reading any of them, and why.
fn config_change(what: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> (Vec<String>, BTreeSet<Stage>, String) {
    match changed_keys(before, after) {
        Err(why) => (Vec::new(), all_stages(), format!("{what} {why}: every stage may change")),
        Ok(keys) if keys.is_empty() => {
            (keys, BTreeSet::new(), format!("{what} changed but no value did (comments or layout)"))
        }
        Ok(keys) => {
            let plural = if keys.len() == 1 { "key" } else { "keys" };
            let names = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            match first_reading_config(&keys) {
                Some(stage) => {
                    let reason = format!("{what}: {plural} {names} changed, first read by stage {stage}");
                    (keys, from_stage(stage), reason)
                }
                None => (keys, BTreeSet::new(), format!("{what}: {plural} {names} changed, read by no stage")),
            }
        }
    }
}

/// Top-level keys whose values differ between two TOML texts, sorted; Err says why they cannot be compared.
fn changed_keys(before: Option<&[u8]>, after: Option<&[u8]>) -> Result<Vec<String>, String> {
    let parse = |bytes: Option<&[u8]>, missing: &str| -> Result<toml::Table, String> {
        let bytes = bytes.ok_or_else(|| missing.to_string())?;
        let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8".to_string())?;
        text.parse::<toml::Table>().map_err(|e| {
            format!("does not parse ({})", e.message().lines().next().unwrap_or("invalid TOML").trim_end_matches('.'))
        })
    };
    let before = parse(before, "was added")?;
    let after = parse(after, "was deleted")?;
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    Ok(keys.into_iter().filter(|k| before.get(*k) != after.get(*k)).cloned().collect())
}
