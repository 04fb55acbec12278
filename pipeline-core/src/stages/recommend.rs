//! Stage 5, recommend: per customer an action from the propensity, a contact channel the customer is eligible
//! for (hook `eligible_channels`), a content id (hook `content`) and a date (hook `schedule`); then ranked by
//! propensity descending, customer_id ascending, keeping the first `floor(contact_share * n)` rows.

use polars::prelude::*;

use super::{Input, Stage, StageContext, StageInputs, StageOutput, StageSpec, epoch_days};
use crate::checks::CheckResult;
use crate::error::{PolarsContext, Result};
use crate::hooks::Hook;

/// Propensity at or above which the action is `offer`.
pub const OFFER_FROM: f64 = 0.70;
/// Propensity at or above which (and below [`OFFER_FROM`]) the action is `nurture`.
pub const NURTURE_FROM: f64 = 0.40;
/// Recency in days above which a low-propensity customer gets `winback`.
pub const WINBACK_AFTER_DAYS: i64 = 180;

/// Declaration of the recommend stage.
pub static SPEC: StageSpec = StageSpec {
    stage: Stage::Recommend,
    inputs: &[Input::Output(Stage::Score, "scores"), Input::Output(Stage::Ingest, "customers")],
    outputs: &["recommendations"],
    checks: &["has_recommendations"],
    hooks: &[Hook::EligibleChannels, Hook::Content, Hook::Schedule],
    config: &["channel_priority", "contact_share", "languages", "franchise", "quiet_weekdays"],
    uses_model: false,
    uses_as_of: true,
    source: include_str!("recommend.rs"),
    module: "pipeline-core/src/stages/recommend.rs",
    run,
    check,
};

/// The columns of the recommendations table and of the export file, in order.
pub const COLUMNS: [&str; 7] =
    ["customer_id", "action", "channel", "scheduled_date", "content_id", "propensity", "rank"];

fn run(ctx: &StageContext, inputs: &StageInputs) -> Result<StageOutput> {
    let m = ctx.market_id();
    let config = ctx.market.config();
    let p = || col("propensity");
    let action = when(p().gt_eq(lit(OFFER_FROM)))
        .then(lit("offer"))
        .when(p().gt_eq(lit(NURTURE_FROM)))
        .then(lit("nurture"))
        .when(col("recency_days").gt(lit(WINBACK_AFTER_DAYS)))
        .then(lit("winback"))
        .otherwise(lit("none"));

    // A channel is eligible when the market's hook allows it and the market contacts customers on it at all.
    let eligible: Vec<(&str, Expr)> = ctx
        .market
        .eligible_channels()
        .into_iter()
        .filter(|(ch, _)| config.channel_priority.iter().any(|p| p == ch))
        .collect();
    let is_eligible = |ch: &str| col(format!("eligible_{ch}"));
    let mut channel = lit(NULL).cast(DataType::String);
    for ch in config.channel_priority.iter().rev() {
        if eligible.iter().any(|(e, _)| e == ch) {
            channel = when(is_eligible(ch)).then(lit(ch.as_str())).otherwise(channel);
        }
    }
    for (ch, _) in eligible.iter().rev() {
        channel = when(col("preferred_channel").eq(lit(*ch)).fill_null(lit(false)).and(is_eligible(ch)))
            .then(lit(*ch))
            .otherwise(channel);
    }

    let scheduled = epoch_days(ctx.market.schedule(ctx.as_of));
    let customers = inputs.table(Stage::Ingest, "customers")?.clone().lazy();
    let candidates = inputs
        .table(Stage::Score, "scores")?
        .clone()
        .lazy()
        .join(customers, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Inner))
        .with_column(action.alias("action"))
        .filter(col("action").neq(lit("none")))
        .with_columns(
            eligible.iter().map(|(ch, cond)| cond.clone().alias(format!("eligible_{ch}"))).collect::<Vec<_>>(),
        )
        .with_column(channel.alias("channel"))
        .filter(col("channel").is_not_null())
        .select([
            col("customer_id"),
            col("action"),
            col("channel"),
            lit(scheduled).cast(DataType::Date).alias("scheduled_date"),
            ctx.market.content(col("action"), col("language")).alias("content_id"),
            col("propensity"),
        ])
        .sort_by_exprs(
            [col("propensity"), col("customer_id")],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()
        .ctx(m, Stage::Recommend)?;
    let keep = candidates.height() as u64 * config.contact_share_bp() / 10_000;
    let ranked = candidates
        .head(Some(keep as usize))
        .lazy()
        .with_row_index("rank", Some(1))
        .select(COLUMNS.map(|c| if c == "rank" { col(c).cast(DataType::Int64) } else { col(c) }))
        .collect()
        .ctx(m, Stage::Recommend)?;
    Ok(StageOutput { tables: vec![("recommendations".into(), ranked)], ..Default::default() })
}

/// At least one recommendation, else ALERT.
fn check(_: &StageContext, out: &StageOutput) -> Result<Vec<CheckResult>> {
    let n = out.rows();
    Ok(vec![CheckResult::alert_if(
        "has_recommendations",
        "recommendations",
        "ALERT if none",
        n as f64,
        n == 0,
        format!("{n} recommendations"),
    )])
}
