//! Stage 1, ingest: raw CSV extracts → the three canonical tables, through the market's `normalize` hook.
//! Unparseable rows go to `s3://{quarantine}/{market}/{run_id}/{table}.csv` with line number and reason.

use polars::prelude::*;

use super::{Artifact, BucketKind, Input, Stage, StageContext, StageInputs, StageOutput, StageSpec};
use crate::checks::CheckResult;
use crate::error::{PolarsContext, Result};
use crate::hooks::Hook;
use crate::raw::{Rejected, read_strings};
use crate::schema::Table;

/// Declaration of the ingest stage.
pub static SPEC: StageSpec = StageSpec {
    stage: Stage::Ingest,
    inputs: &[Input::Raw(Table::Customers), Input::Raw(Table::Orders), Input::Raw(Table::Interactions)],
    outputs: &["customers", "orders", "interactions"],
    checks: &["parse_errors"],
    hooks: &[Hook::Normalize],
    config: &["raw", "timezone", "checks"],
    uses_model: false,
    uses_as_of: false,
    source: include_str!("ingest.rs"),
    module: "pipeline-core/src/stages/ingest.rs",
    run,
    check,
};

fn run(ctx: &StageContext, inputs: &StageInputs) -> Result<StageOutput> {
    let mut out = StageOutput::default();
    for table in Table::ALL {
        let raw = read_strings(inputs.raw(table)?, &ctx.market.config().raw)?;
        let parsed = ctx.market.normalize(raw)?;
        if !parsed.rejected.is_empty() {
            out.artifacts.push(Artifact {
                bucket: BucketKind::Quarantine,
                key: format!("{}/{}/{}.csv", ctx.market_id(), ctx.run_id, table.name()),
                bytes: quarantine_csv(&parsed.rejected).ctx(ctx.market_id(), Stage::Ingest)?.into(),
            });
        }
        out.rejected.insert(table, (parsed.rejected, parsed.data_lines));
        out.tables.push((table.name().to_string(), parsed.frame));
    }
    Ok(out)
}

/// `parse_errors` per table: ALERT if any row was quarantined, FAIL above the share in config (default 1%).
fn check(ctx: &StageContext, out: &StageOutput) -> Result<Vec<CheckResult>> {
    let fail_share = ctx.market.config().checks.parse_errors_fail_share;
    Ok(out
        .rejected
        .iter()
        .map(|(table, (rejected, lines))| {
            CheckResult::count_share(
                "parse_errors",
                table.name(),
                rejected.len() as u64,
                *lines,
                fail_share,
                "lines quarantined",
            )
        })
        .collect())
}

/// The quarantine file: one row per rejected raw row with its line number, reason and original text.
pub fn quarantine_csv(rejected: &[Rejected]) -> PolarsResult<Vec<u8>> {
    let mut df = df!(
        "line" => rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
        "reason" => rejected.iter().map(|r| r.reason.as_str()).collect::<Vec<_>>(),
        "raw_line" => rejected.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(),
    )?;
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf).finish(&mut df)?;
    Ok(buf)
}
