//! The stage framework: each stage declares its inputs, outputs, the hooks and config it uses, and its check;
//! the engine orders stages by their inputs, runs each, runs its check, and stops on FAIL.
//!
//! Stage functions are pure: they take frames and return frames, check results and artifacts. All IO is the
//! engine's, so every stage runs the same against any S3 backend and can be tested with in-memory frames.

pub mod export;
pub mod features;
pub mod ingest;
pub mod recommend;
pub mod score;
pub mod validate;

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::checks::CheckResult;
use crate::error::{PipelineError, Result};
use crate::hooks::{Hook, Market};
use crate::raw::{RawFile, Rejected};
use crate::schema::Table;

/// The six stages of the reference pipeline, in spec order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Raw CSV → canonical tables (hook `normalize`).
    Ingest,
    /// Quality checks on the canonical tables; a FAIL stops the run.
    Validate,
    /// One row of RFM and engagement features per customer.
    Features,
    /// Logistic propensity per customer.
    Score,
    /// Action, channel, content, schedule and rank per customer.
    Recommend,
    /// The CRM file and its manifest.
    Export,
}

impl Stage {
    /// All stages in spec order.
    pub const ALL: [Stage; 6] =
        [Stage::Ingest, Stage::Validate, Stage::Features, Stage::Score, Stage::Recommend, Stage::Export];

    /// The stage's name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Validate => "validate",
            Stage::Features => "features",
            Stage::Score => "score",
            Stage::Recommend => "recommend",
            Stage::Export => "export",
        }
    }

    /// The stage's declaration.
    pub fn spec(self) -> &'static StageSpec {
        match self {
            Stage::Ingest => &ingest::SPEC,
            Stage::Validate => &validate::SPEC,
            Stage::Features => &features::SPEC,
            Stage::Score => &score::SPEC,
            Stage::Recommend => &recommend::SPEC,
            Stage::Export => &export::SPEC,
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Stage {
    type Err = PipelineError;

    fn from_str(s: &str) -> Result<Self> {
        Stage::ALL.into_iter().find(|st| st.name() == s).ok_or_else(|| {
            PipelineError::Other(format!("unknown stage '{s}': use one of {}", Stage::ALL.map(|s| s.name()).join(", ")))
        })
    }
}

/// Something a stage reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A raw extract from the raw bucket.
    Raw(Table),
    /// A table another stage wrote.
    Output(Stage, &'static str),
}

/// A stage's declaration: what it reads and writes, which hooks and config it depends on, and its code.
pub struct StageSpec {
    /// Which stage.
    pub stage: Stage,
    /// What it reads; also orders the stages and chains the cache keys.
    pub inputs: &'static [Input],
    /// The tables it writes to the work bucket.
    pub outputs: &'static [&'static str],
    /// Names of the quality checks that run after it.
    pub checks: &'static [&'static str],
    /// Market hooks it calls.
    pub hooks: &'static [Hook],
    /// Top-level keys of the resolved market config it reads.
    pub config: &'static [&'static str],
    /// Whether it reads the market's model weights.
    pub uses_model: bool,
    /// Whether its result depends on as_of.
    pub uses_as_of: bool,
    /// Source of the stage's module, hashed into its cache key.
    pub source: &'static str,
    /// Path of the stage's module from the workspace root (the file `source` is read from), so tools that map
    /// changed files to stages (`wb affected`) need no list of their own.
    pub module: &'static str,
    /// The stage's computation.
    pub run: fn(&StageContext, &StageInputs) -> Result<StageOutput>,
    /// The quality check that runs right after it.
    pub check: fn(&StageContext, &StageOutput) -> Result<Vec<CheckResult>>,
}

/// What a stage knows about the run it is part of.
pub struct StageContext<'a> {
    /// The market.
    pub market: &'a dyn Market,
    /// The run date.
    pub as_of: NaiveDate,
    /// The run id (quarantine paths carry it).
    pub run_id: &'a str,
    /// Cache keys of this stage and every stage before it (the export manifest lists them).
    pub cache_keys: &'a BTreeMap<Stage, String>,
}

impl StageContext<'_> {
    /// The market id.
    pub fn market_id(&self) -> &str {
        self.market.id()
    }
}

/// The data a stage reads, as declared by its [`Input`]s.
#[derive(Default)]
pub struct StageInputs {
    /// Raw extracts by table.
    pub raw: BTreeMap<Table, RawFile>,
    /// Tables from earlier stages by (stage, table name).
    pub tables: BTreeMap<(Stage, String), DataFrame>,
}

impl StageInputs {
    /// A table an earlier stage wrote; the engine guarantees declared inputs are present.
    pub fn table(&self, stage: Stage, name: &str) -> Result<&DataFrame> {
        self.tables.get(&(stage, name.to_string())).ok_or_else(|| {
            PipelineError::Other(format!("input {stage}/{name} was not loaded: declare it in the stage's inputs"))
        })
    }

    /// A raw extract.
    pub fn raw(&self, table: Table) -> Result<&RawFile> {
        self.raw.get(&table).ok_or_else(|| PipelineError::Other(format!("raw input {table} was not loaded")))
    }
}

/// Which bucket an artifact goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketKind {
    /// Source extracts.
    Raw,
    /// Stage outputs.
    Work,
    /// Files for the CRM loader.
    Exports,
    /// Rejected raw rows.
    Quarantine,
}

/// A file a stage writes outside its work tables (export file, manifest, quarantine).
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Target bucket.
    pub bucket: BucketKind,
    /// Object key within it.
    pub key: String,
    /// Content.
    pub bytes: Bytes,
}

/// What a stage produced.
#[derive(Default)]
pub struct StageOutput {
    /// Work tables by name, as declared in the spec's outputs.
    pub tables: Vec<(String, DataFrame)>,
    /// Other files to write.
    pub artifacts: Vec<Artifact>,
    /// Rejected raw rows by table (ingest only).
    pub rejected: BTreeMap<Table, (Vec<Rejected>, u64)>,
    /// Checks the stage computed itself (validate's checks are its work).
    pub checks: Vec<CheckResult>,
    /// Row count for stages without work tables (export).
    pub rows: Option<u64>,
}

impl StageOutput {
    /// The row count people see for the stage: its first table's height.
    pub fn rows(&self) -> u64 {
        self.rows.unwrap_or_else(|| self.tables.first().map(|(_, df)| df.height() as u64).unwrap_or(0))
    }

    /// A named output table.
    pub fn table(&self, name: &str) -> Option<&DataFrame> {
        self.tables.iter().find(|(n, _)| n == name).map(|(_, df)| df)
    }
}

/// A check function for stages whose only checks are the ones they computed.
pub fn own_checks(_: &StageContext, output: &StageOutput) -> Result<Vec<CheckResult>> {
    Ok(output.checks.clone())
}

/// Days since 1970-01-01 of a date, the integer form date arithmetic uses in the stages.
pub fn epoch_days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")).num_days() as i32
}
