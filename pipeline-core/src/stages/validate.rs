//! Stage 2, validate: the spec's quality checks on the canonical tables. Its output is the check report itself;
//! a FAIL stops the run here. (The row-count check against the previous successful run needs run history, so
//! the engine evaluates it on every run, cached or not: see `engine::row_count_checks`.)

use chrono::Days;
use polars::prelude::*;

use super::{Input, Stage, StageContext, StageInputs, StageOutput, StageSpec, epoch_days, own_checks};
use crate::checks::{CheckResult, CheckStatus, NAMED_OFFENDERS, name_offenders};
use crate::error::{PolarsContext, Result};
use crate::schema::Table;

/// Declaration of the validate stage.
pub static SPEC: StageSpec = StageSpec {
    stage: Stage::Validate,
    inputs: &[
        Input::Output(Stage::Ingest, "customers"),
        Input::Output(Stage::Ingest, "orders"),
        Input::Output(Stage::Ingest, "interactions"),
    ],
    outputs: &["checks"],
    checks: &[
        "customer_id",
        "orphans",
        "amount",
        "quantity",
        "amount_max",
        "quantity_max",
        "null_share",
        "channel",
        "freshness",
        "row_count",
    ],
    hooks: &[],
    config: &["allowed_channels", "checks"],
    uses_model: false,
    uses_as_of: true,
    source: include_str!("validate.rs"),
    module: "pipeline-core/src/stages/validate.rs",
    run,
    check: own_checks,
};

fn run(ctx: &StageContext, inputs: &StageInputs) -> Result<StageOutput> {
    let m = ctx.market_id();
    let config = ctx.market.config();
    let thresholds = &config.checks;
    let customers = inputs.table(Stage::Ingest, "customers")?;
    let orders = inputs.table(Stage::Ingest, "orders")?;
    let interactions = inputs.table(Stage::Ingest, "interactions")?;
    let mut checks = Vec::new();

    // customers.customer_id unique and not null; duplicates are named with how many rows each has.
    let ids = customers.column("customer_id").ctx(m, Stage::Validate)?.as_materialized_series();
    let nulls = ids.null_count() as u64;
    let duplicates = (ids.len() as u64 - nulls) - ids.drop_nulls().n_unique().ctx(m, Stage::Validate)? as u64;
    let mut message = format!("{nulls} null and {duplicates} duplicate customer ids");
    if duplicates > 0 {
        let repeated = customers
            .clone()
            .lazy()
            .filter(col("customer_id").is_not_null())
            .group_by([col("customer_id")])
            .agg([len().alias("rows")])
            .filter(col("rows").gt(lit(1)))
            .sort(["customer_id"], SortMultipleOptions::default())
            .collect()
            .ctx(m, Stage::Validate)?;
        let keys = repeated.column("customer_id").ctx(m, Stage::Validate)?.str().ctx(m, Stage::Validate)?;
        let rows = repeated.column("rows").ctx(m, Stage::Validate)?.cast(&DataType::UInt64).ctx(m, Stage::Validate)?;
        let rows = rows.u64().ctx(m, Stage::Validate)?;
        let shown: Vec<String> = (0..repeated.height().min(NAMED_OFFENDERS))
            .map(|i| format!("{} ({} rows)", keys.get(i).unwrap_or_default(), rows.get(i).unwrap_or_default()))
            .collect();
        message.push_str(&format!(": {}", name_offenders(&shown, repeated.height())));
    }
    checks.push(CheckResult::fail_if(
        "customer_id",
        "customers.customer_id",
        "FAIL if not unique or null",
        (nulls + duplicates) as f64,
        nulls + duplicates > 0,
        message,
    ));

    // Orphan orders and interactions.
    for (table, frame) in [(Table::Orders, orders), (Table::Interactions, interactions)] {
        let orphans = frame
            .clone()
            .lazy()
            .join(
                customers.clone().lazy().select([col("customer_id")]),
                [col("customer_id")],
                [col("customer_id")],
                JoinArgs::new(JoinType::Anti),
            )
            .collect()
            .ctx(m, Stage::Validate)?
            .height() as u64;
        checks.push(CheckResult::count_share(
            "orphans",
            table.name(),
            orphans,
            frame.height() as u64,
            thresholds.orphans_fail_share,
            "rows with a customer_id not in customers",
        ));
    }

    // orders.amount >= 0 and orders.quantity >= 1, naming the first offending orders.
    for (name, column, bound) in [("amount", "amount", 0.0), ("quantity", "quantity", 1.0)] {
        let bad = orders_where(orders, col(column).cast(DataType::Float64).lt(lit(bound)), column, m)?;
        let mut message = format!("{} orders with {column} < {bound}", bad.0);
        if bad.0 > 0 {
            message.push_str(&format!(": {}", name_offenders(&bad.1, bad.0)));
        }
        checks.push(CheckResult::fail_if(
            name,
            &format!("orders.{column}"),
            &format!("FAIL if any {column} < {bound}"),
            bad.0 as f64,
            bad.0 > 0,
            message,
        ));
    }

    // Plausibility: an amount or quantity far above any real order (a unit or decimal error, an 1e12 in the
    // extract) ALERTs above the first bound and FAILs above the second, naming the first offending orders.
    let bounds = [
        ("amount_max", "amount", thresholds.amount_alert_max, thresholds.amount_fail_max),
        ("quantity_max", "quantity", thresholds.quantity_alert_max as f64, thresholds.quantity_fail_max as f64),
    ];
    for (name, column, alert_max, fail_max) in bounds {
        let value = || col(column).cast(DataType::Float64);
        let (alerts, shown) = orders_where(orders, value().gt(lit(alert_max)), column, m)?;
        let fails = orders_where(orders, value().gt(lit(fail_max)), column, m)?.0;
        let status = if fails > 0 {
            CheckStatus::Fail
        } else if alerts > 0 {
            CheckStatus::Alert
        } else {
            CheckStatus::Pass
        };
        let mut message = format!("{alerts} orders with {column} > {alert_max}");
        if alerts > 0 {
            message.push_str(&format!(" ({fails} > {fail_max}): {}", name_offenders(&shown, alerts)));
        }
        checks.push(CheckResult {
            name: name.into(),
            subject: format!("orders.{column}"),
            rule: format!("ALERT if any {column} > {alert_max}, FAIL if any {column} > {fail_max}"),
            measured: alerts as f64,
            status,
            message,
            detail: None,
        });
    }

    // Null share of every canonical column.
    for (table, frame) in [(Table::Customers, customers), (Table::Orders, orders), (Table::Interactions, interactions)]
    {
        for column in frame.columns() {
            let share = if frame.height() == 0 { 0.0 } else { column.null_count() as f64 / frame.height() as f64 };
            checks.push(CheckResult::alert_if(
                "null_share",
                &format!("{}.{}", table.name(), column.name()),
                &format!("ALERT if > {}%", thresholds.null_share_alert * 100.0),
                share,
                share > thresholds.null_share_alert,
                format!("{:.3}% null", share * 100.0),
            ));
        }
    }

    // Interaction channels outside the market's allowed set.
    let allowed = Series::new("allowed".into(), config.allowed_channels.clone());
    let outside = interactions
        .clone()
        .lazy()
        .filter(col("channel").is_in(lit(allowed).implode(true), false).fill_null(lit(false)).not())
        .collect()
        .ctx(m, Stage::Validate)?;
    let mut seen: Vec<String> = outside
        .column("channel")
        .ctx(m, Stage::Validate)?
        .str()
        .ctx(m, Stage::Validate)?
        .iter()
        .map(|c| c.unwrap_or("<null>").to_string())
        .collect();
    seen.sort();
    seen.dedup();
    checks.push(CheckResult::fail_if(
        "channel",
        "interactions.channel",
        &format!("FAIL if outside {}", config.allowed_channels.join(", ")),
        outside.height() as f64,
        outside.height() > 0,
        if seen.is_empty() {
            "every channel is allowed".into()
        } else {
            format!("{} interactions on channels not allowed here: {}", outside.height(), seen.join(", "))
        },
    ));

    // Freshness: latest order on or before as_of is at least as_of - N days.
    let as_of = epoch_days(ctx.as_of);
    let latest = orders
        .clone()
        .lazy()
        .select([col("order_date")
            .cast(DataType::Int32)
            .filter(col("order_date").cast(DataType::Int32).lt_eq(lit(as_of)))
            .max()])
        .collect()
        .ctx(m, Stage::Validate)?
        .column("order_date")
        .ctx(m, Stage::Validate)?
        .i32()
        .ctx(m, Stage::Validate)?
        .get(0);
    let limit = ctx.as_of - Days::new(thresholds.freshness_days as u64);
    let age = latest.map(|d| (as_of - d) as f64).unwrap_or(f64::INFINITY);
    checks.push(CheckResult::alert_if(
        "freshness",
        "orders.order_date",
        &format!("ALERT if latest order_date < as_of - {} days", thresholds.freshness_days),
        age,
        latest.is_none_or(|d| d < epoch_days(limit)),
        match latest {
            Some(_) => format!("latest order is {age} days before as_of"),
            None => "no order on or before as_of".into(),
        },
    ));

    Ok(StageOutput {
        tables: vec![("checks".into(), report(&checks).ctx(m, Stage::Validate)?)],
        checks,
        ..Default::default()
    })
}

/// How many orders match `filter`, and the first of them as `order_id (value of column)`, in file order.
fn orders_where(orders: &DataFrame, filter: Expr, column: &str, m: &str) -> Result<(usize, Vec<String>)> {
    let matching = orders
        .clone()
        .lazy()
        .filter(filter)
        .select([col("order_id"), col(column).cast(DataType::Float64)])
        .collect()
        .ctx(m, Stage::Validate)?;
    let ids = matching.column("order_id").ctx(m, Stage::Validate)?.str().ctx(m, Stage::Validate)?;
    let values = matching.column(column).ctx(m, Stage::Validate)?.f64().ctx(m, Stage::Validate)?;
    let shown = (0..matching.height().min(NAMED_OFFENDERS))
        .map(|i| {
            let value = values.get(i).map_or("null".to_string(), |v| v.to_string());
            format!("{} ({value})", ids.get(i).unwrap_or("<null>"))
        })
        .collect();
    Ok((matching.height(), shown))
}

/// The check report as a table: the validate stage's output and golden file.
pub fn report(checks: &[CheckResult]) -> PolarsResult<DataFrame> {
    df!(
        "check" => checks.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        "subject" => checks.iter().map(|c| c.subject.as_str()).collect::<Vec<_>>(),
        "rule" => checks.iter().map(|c| c.rule.as_str()).collect::<Vec<_>>(),
        "measured" => checks.iter().map(|c| c.measured).collect::<Vec<_>>(),
        "status" => checks.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(),
        "message" => checks.iter().map(|c| c.message.as_str()).collect::<Vec<_>>(),
    )
}
