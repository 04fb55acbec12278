//! Stage 6, export: `s3://{exports}/{market}/{as_of}/recommendations.csv` in rank order with propensity printed
//! with 6 decimals, in the market's export format (hook `export_format`), plus `manifest.json` with the market,
//! as_of, row count, the file's sha256 and every stage's cache key.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Artifact, BucketKind, Input, Stage, StageContext, StageInputs, StageOutput, StageSpec, own_checks};
use crate::error::{PolarsContext, Result};
use crate::hooks::Hook;

/// Declaration of the export stage.
pub static SPEC: StageSpec = StageSpec {
    stage: Stage::Export,
    inputs: &[Input::Output(Stage::Recommend, "recommendations")],
    outputs: &[],
    checks: &[],
    hooks: &[Hook::ExportFormat],
    config: &[],
    uses_model: false,
    uses_as_of: true,
    source: include_str!("export.rs"),
    module: "pipeline-core/src/stages/export.rs",
    run,
    check: own_checks,
};

/// The export manifest written beside the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportManifest {
    /// Market id.
    pub market: String,
    /// Run date.
    pub as_of: String,
    /// Data rows in the file.
    pub rows: u64,
    /// Hex sha256 of the file's bytes.
    pub sha256: String,
    /// Cache key of every stage that led to the file.
    pub cache_keys: BTreeMap<String, String>,
}

/// Key of the export file in the exports bucket.
pub fn file_key(market: &str, as_of: chrono::NaiveDate) -> String {
    format!("{market}/{as_of}/recommendations.csv")
}

/// Key of the export manifest in the exports bucket.
pub fn manifest_key(market: &str, as_of: chrono::NaiveDate) -> String {
    format!("{market}/{as_of}/manifest.json")
}

/// Hex sha256 of bytes, as the manifest records it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn run(ctx: &StageContext, inputs: &StageInputs) -> Result<StageOutput> {
    let m = ctx.market_id();
    let mut df = inputs
        .table(Stage::Recommend, "recommendations")?
        .sort(["rank"], SortMultipleOptions::default())
        .ctx(m, Stage::Export)?;
    let format = ctx.market.export_format();
    let mut csv = Vec::new();
    CsvWriter::new(&mut csv)
        .with_separator(format.delimiter)
        .with_date_format(Some(format.date_format.as_str().into()))
        .with_float_precision(Some(6))
        .finish(&mut df)
        .ctx(m, Stage::Export)?;
    let manifest = ExportManifest {
        market: m.to_string(),
        as_of: ctx.as_of.to_string(),
        rows: df.height() as u64,
        sha256: sha256_hex(&csv),
        cache_keys: ctx.cache_keys.iter().map(|(s, k)| (s.name().to_string(), k.clone())).collect(),
    };
    let manifest = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    Ok(StageOutput {
        artifacts: vec![
            Artifact { bucket: BucketKind::Exports, key: file_key(m, ctx.as_of), bytes: csv.into() },
            Artifact { bucket: BucketKind::Exports, key: manifest_key(m, ctx.as_of), bytes: manifest.into() },
        ],
        rows: Some(df.height() as u64),
        ..Default::default()
    })
}
