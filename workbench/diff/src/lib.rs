//! Diffs between stage outputs, and the market explorer.
//!
//! A pure core over polars frames: [`engine::diff_tables`] compares two tables on their key columns (schema,
//! row counts, added/removed/changed rows, changed values per column with a numeric tolerance, sampled changed
//! rows with the changed cells marked, per-column statistics); [`diff_stage`] does it for every table of a stage
//! and adds the action and channel mix for `recommend` and `export`. [`explore`] describes markets (hook
//! overrides with file and line, resolved config, model weights, raw format) and compares two of them.
//!
//! Results are plain typed data ([`model`], [`explore`]) that serialise to JSON; renderings are separate
//! ([`render`], [`explore_render`], on the small [`doc`] model), so a TUI can draw the same results its own way.
//! Where the frames come from (S3, run history, git revisions) is the workbench's business, not this crate's.

pub mod doc;
pub mod engine;
pub mod error;
pub mod explore;
pub mod explore_render;
pub mod model;
pub mod render;
pub mod stats;
pub mod value;

use pipeline_core::Stage;
use polars::prelude::DataFrame;

pub use engine::{DiffOptions, Labeled, diff_tables};
pub use error::DiffError;
pub use model::{Side, StageDiff, TableDiff};

/// Columns whose value mix is compared for stages that recommend (`recommend`, `export`).
pub const MIX_COLUMNS: [&str; 2] = ["action", "channel"];

/// The columns that identify a row of `table` of `stage`: the id of ingest's orders and interactions, check and
/// subject of validate's checks, `customer_id` everywhere else.
pub fn default_keys(stage: Stage, table: &str) -> Vec<String> {
    let keys: &[&str] = match (stage, table) {
        (Stage::Ingest, "orders") => &["order_id"],
        (Stage::Ingest, "interactions") => &["interaction_id"],
        (Stage::Validate, _) => &["check", "subject"],
        _ => &["customer_id"],
    };
    keys.iter().map(|k| k.to_string()).collect()
}

/// How a stage's tables are compared.
#[derive(Debug, Clone, PartialEq)]
pub struct StageOptions {
    /// Key columns for every table, replacing [`default_keys`].
    pub keys: Option<Vec<String>>,
    /// Absolute tolerance for numeric columns (0: exact).
    pub tolerance: f64,
    /// How many changed rows and added/removed keys to sample per table.
    pub sample_rows: usize,
    /// How many most frequent values to list per column.
    pub top_values: usize,
}

impl Default for StageOptions {
    fn default() -> Self {
        Self { keys: None, tolerance: 0.0, sample_rows: 10, top_values: 5 }
    }
}

/// One table of a stage on both sides.
#[derive(Debug, Clone)]
pub struct TablePair {
    /// Table name.
    pub table: String,
    /// Side A's frame.
    pub a: DataFrame,
    /// Side B's frame.
    pub b: DataFrame,
}

/// Diffs every table of `stage` between sides `a` and `b`; for `recommend` and `export` also the mix of
/// [`MIX_COLUMNS`] in the first table.
pub fn diff_stage(
    stage: Stage,
    a: Side,
    b: Side,
    tables: &[TablePair],
    options: &StageOptions,
) -> Result<StageDiff, DiffError> {
    let mut diffs = Vec::with_capacity(tables.len());
    for pair in tables {
        let table_options = DiffOptions {
            keys: options.keys.clone().unwrap_or_else(|| default_keys(stage, &pair.table)),
            tolerance: options.tolerance,
            sample_rows: options.sample_rows,
            top_values: options.top_values,
        };
        let (la, lb) = (Labeled::new(&a.label, &pair.a), Labeled::new(&b.label, &pair.b));
        diffs.push(diff_tables(&pair.table, la, lb, &table_options)?);
    }
    let mut mixes = Vec::new();
    if matches!(stage, Stage::Recommend | Stage::Export)
        && let Some(pair) = tables.first()
    {
        let (la, lb) = (Labeled::new(&a.label, &pair.a), Labeled::new(&b.label, &pair.b));
        for column in MIX_COLUMNS {
            let mix = stats::mix(column, la, lb)
                .map_err(|source| DiffError::polars(&pair.table, &format!("counting the {column} mix"), source))?;
            mixes.extend(mix);
        }
    }
    Ok(StageDiff { stage: stage.name().to_string(), a, b, tables: diffs, mixes })
}
