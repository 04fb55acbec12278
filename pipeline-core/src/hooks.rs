//! The market hook trait: what a market may change about the base pipeline, and the base behaviour of each hook.
//!
//! A market crate implements [`Market`], returns its [`MarketDef`] (config and model), and overrides only the
//! hooks whose behaviour differs, listing each override in [`Market::overrides`] with the source file that holds it.
//! The market's sources ([`Market::sources`]) reached from a hook are part of the cache key of every stage that
//! calls the hook, so editing an override re-runs exactly those stages (see [`crate::sources`]).

use chrono::{Datelike, Days, NaiveDate};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{MarketConfig, ModelWeights};
use crate::error::Result;
use crate::raw::{ParsedTable, RawTable, parse_columns};
use crate::schema::Table;

/// Source of the base hooks (the explorer and the hook contract tests show it; cache keys hash all of
/// pipeline-core, see [`crate::sources`]).
pub const BASE_SOURCE: &str = include_str!("hooks.rs");

/// The hooks a market may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// Raw extract → canonical table (names, formats, time zones, missing columns).
    Normalize,
    /// Which contact channels a customer may be reached on.
    EligibleChannels,
    /// The content id of a recommendation.
    Content,
    /// The date a recommendation is scheduled for.
    Schedule,
    /// Delimiter and date format of the export file.
    ExportFormat,
}

impl Hook {
    /// Every hook, in stage order of first use.
    pub const ALL: [Hook; 5] =
        [Hook::Normalize, Hook::EligibleChannels, Hook::Content, Hook::Schedule, Hook::ExportFormat];

    /// The hook's name, as in the spec.
    pub fn name(self) -> &'static str {
        match self {
            Hook::Normalize => "normalize",
            Hook::EligibleChannels => "eligible_channels",
            Hook::Content => "content",
            Hook::Schedule => "schedule",
            Hook::ExportFormat => "export_format",
        }
    }
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One hook a market overrides: where the override lives and its source text.
#[derive(Debug, Clone, Copy)]
pub struct HookOverride {
    /// The hook.
    pub hook: Hook,
    /// Path of the source file from the workspace root, e.g. `markets/br/src/normalize.rs`.
    pub file: &'static str,
    /// The file's text (from `include_str!`), hashed into cache keys.
    pub source: &'static str,
}

/// A market's loaded definition: its resolved configuration and model weights.
#[derive(Debug, Clone)]
pub struct MarketDef {
    /// `market.toml` merged over the base.
    pub config: MarketConfig,
    /// `model.toml`.
    pub model: ModelWeights,
}

impl MarketDef {
    /// Loads a market's configuration and model from the texts of its `market.toml` and `model.toml`.
    pub fn load(market: &str, market_toml: &str, model_toml: &str) -> Result<Self> {
        let config = MarketConfig::resolve(market, market_toml)?;
        if config.id != market {
            return Err(crate::PipelineError::Config {
                market: market.into(),
                file: "market.toml".into(),
                message: format!("id is {:?} but the crate registers {market:?}", config.id),
            });
        }
        Ok(Self { config, model: ModelWeights::parse(market, model_toml)? })
    }
}

/// How the export file is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFormat {
    /// Field delimiter.
    pub delimiter: u8,
    /// strftime format of `scheduled_date`.
    pub date_format: String,
}

/// A market: its definition plus the hooks of the pipeline it may override. Every hook has the base behaviour by
/// default, implemented by the functions in [`base`].
pub trait Market: Send + Sync {
    /// The market's configuration and model.
    fn def(&self) -> &MarketDef;

    /// Every file of the market's crate as compiled, for the stage cache keys (see [`crate::sources`]): a
    /// market's `build.rs` calls `workspace_sources::embed("pipeline_core::sources::SourceFile")` and this returns
    /// `include!(concat!(env!("OUT_DIR"), "/sources.rs"))`. A market that returns too little gets stale caches, so
    /// there is no default.
    fn sources(&self) -> &'static [crate::sources::SourceFile];

    /// The hooks this market overrides, with their source files. Must list exactly the overridden methods.
    fn overrides(&self) -> &'static [HookOverride] {
        &[]
    }

    /// Market id, e.g. `foobar-br`.
    fn id(&self) -> &str {
        &self.def().config.id
    }

    /// Resolved configuration.
    fn config(&self) -> &MarketConfig {
        &self.def().config
    }

    /// Model weights.
    fn model(&self) -> &ModelWeights {
        &self.def().model
    }

    /// Raw text table → canonical typed table. Base: parse the canonical columns with the market's raw format.
    fn normalize(&self, raw: RawTable) -> Result<ParsedTable> {
        base::normalize(self.config(), raw)
    }

    /// For each contact channel, the condition over customer columns under which it may be used.
    fn eligible_channels(&self) -> Vec<(&'static str, Expr)> {
        base::eligible_channels()
    }

    /// The content id of a recommendation, from the `action` and customer `language` expressions.
    fn content(&self, action: Expr, language: Expr) -> Expr {
        base::content(self.config(), action, language)
    }

    /// The date recommendations for the run of `as_of` are scheduled for.
    fn schedule(&self, as_of: NaiveDate) -> NaiveDate {
        base::schedule(self.config(), as_of)
    }

    /// How the export file is written.
    fn export_format(&self) -> ExportFormat {
        base::export_format()
    }
}

/// The source text that implements `hook` for `market`: the override's file, or the base hooks.
pub fn hook_source(market: &dyn Market, hook: Hook) -> &'static str {
    market.overrides().iter().find(|o| o.hook == hook).map(|o| o.source).unwrap_or(BASE_SOURCE)
}

/// A market as one stage sees it: every hook call is checked against the hooks the stage declares, because the
/// stage's cache key covers only the market code reached from those hooks ([`crate::sources`]). A call to an
/// undeclared hook still answers (hooks return plain values), but is recorded, and [`DeclaredHooks::verify`] then
/// fails the stage with the fix.
pub struct DeclaredHooks<'a> {
    inner: &'a dyn Market,
    stage: crate::stages::Stage,
    declared: &'a [Hook],
    undeclared: std::sync::Mutex<Vec<Hook>>,
}

impl<'a> DeclaredHooks<'a> {
    /// `market` for `stage`, which declares `declared`.
    pub fn new(market: &'a dyn Market, stage: crate::stages::Stage, declared: &'a [Hook]) -> Self {
        Self { inner: market, stage, declared, undeclared: std::sync::Mutex::new(Vec::new()) }
    }

    fn called(&self, hook: Hook) {
        if !self.declared.contains(&hook) {
            self.undeclared.lock().unwrap_or_else(|e| e.into_inner()).push(hook);
        }
    }

    /// Fails when the stage called a hook its spec does not declare.
    pub fn verify(&self) -> Result<()> {
        let mut called = self.undeclared.lock().unwrap_or_else(|e| e.into_inner()).clone();
        called.sort();
        called.dedup();
        if called.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = called.iter().map(|h| h.name()).collect();
        Err(crate::PipelineError::Other(format!(
            "stage {} called hook(s) {} that its StageSpec does not declare, so its cache key would miss that \
             code: add them to `hooks` in pipeline-core/src/stages/{}.rs",
            self.stage,
            names.join(", "),
            self.stage
        )))
    }
}

impl Market for DeclaredHooks<'_> {
    fn def(&self) -> &MarketDef {
        self.inner.def()
    }

    fn sources(&self) -> &'static [crate::sources::SourceFile] {
        self.inner.sources()
    }

    fn overrides(&self) -> &'static [HookOverride] {
        self.inner.overrides()
    }

    fn id(&self) -> &str {
        self.inner.id()
    }

    fn config(&self) -> &MarketConfig {
        self.inner.config()
    }

    fn model(&self) -> &ModelWeights {
        self.inner.model()
    }

    fn normalize(&self, raw: RawTable) -> Result<ParsedTable> {
        self.called(Hook::Normalize);
        self.inner.normalize(raw)
    }

    fn eligible_channels(&self) -> Vec<(&'static str, Expr)> {
        self.called(Hook::EligibleChannels);
        self.inner.eligible_channels()
    }

    fn content(&self, action: Expr, language: Expr) -> Expr {
        self.called(Hook::Content);
        self.inner.content(action, language)
    }

    fn schedule(&self, as_of: NaiveDate) -> NaiveDate {
        self.called(Hook::Schedule);
        self.inner.schedule(as_of)
    }

    fn export_format(&self) -> ExportFormat {
        self.called(Hook::ExportFormat);
        self.inner.export_format()
    }
}

/// The base behaviour of every hook, callable by overrides that extend it.
pub mod base {
    use super::*;

    /// Parses the canonical columns of the table with the market's raw format.
    pub fn normalize(config: &MarketConfig, raw: RawTable) -> Result<ParsedTable> {
        let table: Table = raw.table;
        parse_columns(raw, &table.columns(), &config.raw)
    }

    /// `email` if email_opt_in; `sms` if sms_opt_in; `call` if phone_opt_in; `visit` if segment is `A`.
    pub fn eligible_channels() -> Vec<(&'static str, Expr)> {
        vec![
            ("email", col("email_opt_in").fill_null(lit(false))),
            ("sms", col("sms_opt_in").fill_null(lit(false))),
            ("call", col("phone_opt_in").fill_null(lit(false))),
            ("visit", col("segment").eq(lit("A")).fill_null(lit(false))),
        ]
    }

    /// `{franchise}-{action}-{lang}`, lang the customer's language when the market lists it, else the default.
    pub fn content(config: &MarketConfig, action: Expr, language: Expr) -> Expr {
        let listed = config
            .languages
            .iter()
            .map(|l| language.clone().eq(lit(l.as_str())))
            .reduce(|a, b| a.or(b))
            .expect("a market lists at least one language");
        let lang = when(listed.fill_null(lit(false))).then(language).otherwise(lit(config.default_language()));
        lit(format!("{}-", config.franchise)) + action + lit("-") + lang
    }

    /// The first date after `as_of` whose weekday is not a quiet weekday.
    pub fn schedule(config: &MarketConfig, as_of: NaiveDate) -> NaiveDate {
        let quiet = config.quiet_days();
        let mut day = as_of;
        loop {
            day = day + Days::new(1);
            if !quiet.contains(&day.weekday()) {
                return day;
            }
        }
    }

    /// `,` and ISO dates.
    pub fn export_format() -> ExportFormat {
        ExportFormat { delimiter: b',', date_format: "%Y-%m-%d".into() }
    }
}
