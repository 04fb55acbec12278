//! Stage 3, features: one row per customer who signed up on or before as_of, with RFM and engagement features
//! over the 90-day window `(as_of - 90 days, as_of]`. Rows dated after as_of are ignored; interactions are dated by
//! the local date of `ts`.
//!
//! Money is summed exactly: amounts become integer cents, are multiplied by `fx_to_usd` in millionths, and the
//! result is rounded half away from zero to cents. So `monetary_90d_usd` is the decimal answer (144.70 AUD × 0.65 =
//! 94.055 → 94.06) and does not depend on the order in which floats are added.

use polars::prelude::*;

use super::{Input, Stage, StageContext, StageInputs, StageOutput, StageSpec, epoch_days, own_checks};
use crate::error::{PolarsContext, Result};
use crate::schema::CHANNELS;

/// Length of the feature window in days.
pub const WINDOW_DAYS: i32 = 90;

/// `recency_days` of a customer with no order on or before as_of.
pub const NO_ORDER_RECENCY: i64 = 9999;

/// Declaration of the features stage.
pub static SPEC: StageSpec = StageSpec {
    stage: Stage::Features,
    inputs: &[
        Input::Output(Stage::Ingest, "customers"),
        Input::Output(Stage::Ingest, "orders"),
        Input::Output(Stage::Ingest, "interactions"),
        // The gate: features runs only after validate passed.
        Input::Output(Stage::Validate, "checks"),
    ],
    outputs: &["features"],
    checks: &[],
    hooks: &[],
    config: &["fx_to_usd"],
    uses_model: false,
    uses_as_of: true,
    source: include_str!("features.rs"),
    module: "pipeline-core/src/stages/features.rs",
    run,
    check: own_checks,
};

fn run(ctx: &StageContext, inputs: &StageInputs) -> Result<StageOutput> {
    let m = ctx.market_id();
    let as_of = epoch_days(ctx.as_of);
    let window_start = as_of - WINDOW_DAYS;
    let fx_millionths = (ctx.market.config().fx_to_usd * 1e6).round() as i64;
    let in_window = |day: Expr| day.clone().gt(lit(window_start)).and(day.lt_eq(lit(as_of)));

    let customers = inputs
        .table(Stage::Ingest, "customers")?
        .clone()
        .lazy()
        .filter(col("signup_date").cast(DataType::Int32).lt_eq(lit(as_of)))
        .select([col("customer_id"), col("signup_date").cast(DataType::Int32).alias("signup_day")]);
    let orders = inputs
        .table(Stage::Ingest, "orders")?
        .clone()
        .lazy()
        .with_column(col("order_date").cast(DataType::Int32).alias("day"))
        .filter(col("day").lt_eq(lit(as_of)));
    let interactions = inputs
        .table(Stage::Ingest, "interactions")?
        .clone()
        .lazy()
        .with_column(col("ts").dt().date().cast(DataType::Int32).alias("day"))
        .filter(in_window(col("day")));

    let last_order = orders.clone().group_by([col("customer_id")]).agg([col("day").max().alias("last_order_day")]);
    let window_orders = orders
        .filter(in_window(col("day")))
        .group_by([col("customer_id")])
        .agg([len().cast(DataType::Int64).alias("frequency_90d"), cents(col("amount")).sum().alias("cents_90d")]);
    let email =
        interactions.clone().filter(col("channel").eq(lit("email"))).group_by([col("customer_id")]).agg([(col(
            "opened",
        )
        .cast(DataType::Float64)
        .sum()
            / len().cast(DataType::Float64))
        .alias("email_open_rate_90d")]);
    let clicks =
        interactions.clone().group_by([col("customer_id")]).agg([(col("clicked").cast(DataType::Float64).sum()
            / len().cast(DataType::Float64))
        .alias("click_rate_90d")]);
    let channel_rank = CHANNELS.iter().enumerate().rev().fold(lit(CHANNELS.len() as i32), |otherwise, (i, ch)| {
        when(col("channel").eq(lit(*ch))).then(lit(i as i32)).otherwise(otherwise)
    });
    let preferred = interactions
        .group_by([col("customer_id"), col("channel")])
        .agg([len().alias("n")])
        .with_column(channel_rank.alias("channel_rank"))
        .group_by([col("customer_id")])
        .agg([col("channel")
            .sort_by(
                [col("n"), col("channel_rank")],
                SortMultipleOptions::default().with_order_descending_multi([true, false]),
            )
            .first()
            .alias("preferred_channel")]);

    let left = |lf: LazyFrame, other: LazyFrame| {
        lf.join(other, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Left))
    };
    let mut joined = customers;
    for other in [last_order, window_orders, email, clicks, preferred] {
        joined = left(joined, other);
    }
    let features = joined
        .select([
            col("customer_id"),
            when(col("last_order_day").is_null())
                .then(lit(NO_ORDER_RECENCY))
                .otherwise((lit(as_of) - col("last_order_day")).cast(DataType::Int64))
                .alias("recency_days"),
            col("frequency_90d").fill_null(lit(0i64)),
            usd_from_cents(col("cents_90d"), fx_millionths).fill_null(lit(0.0)).alias("monetary_90d_usd"),
            col("email_open_rate_90d").fill_null(lit(0.0)),
            col("click_rate_90d").fill_null(lit(0.0)),
            (lit(as_of) - col("signup_day")).cast(DataType::Int64).alias("tenure_days"),
            col("preferred_channel"),
        ])
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()
        .ctx(m, Stage::Features)?;
    Ok(StageOutput { tables: vec![("features".into(), features)], ..Default::default() })
}

/// An amount in currency units as integer cents (amounts carry at most two decimals).
fn cents(amount: Expr) -> Expr {
    (amount * lit(100.0)).round(0, RoundMode::HalfAwayFromZero).cast(DataType::Int64)
}

/// `cents × fx` in USD, rounded half away from zero to cents. The product is exact in integers; the one division
/// by 10^6 is exact enough for any customer total below 10^9 cents that the rounding sees the true decimal value.
fn usd_from_cents(cents: Expr, fx_millionths: i64) -> Expr {
    ((cents * lit(fx_millionths)).cast(DataType::Float64) / lit(1e6)).round(0, RoundMode::HalfAwayFromZero) / lit(100.0)
}
