//! Stage 4, score: the logistic propensity of each customer from the market's model weights,
//! `propensity = 1 / (1 + exp(-z))` rounded to 6 decimals (half away from zero).

use polars::prelude::*;

use super::{Input, Stage, StageContext, StageInputs, StageOutput, StageSpec};
use crate::checks::CheckResult;
use crate::error::{PolarsContext, Result};

/// Declaration of the score stage.
pub static SPEC: StageSpec = StageSpec {
    stage: Stage::Score,
    inputs: &[Input::Output(Stage::Features, "features")],
    outputs: &["scores"],
    checks: &["propensity_range"],
    hooks: &[],
    config: &[],
    uses_model: true,
    uses_as_of: false,
    source: include_str!("score.rs"),
    module: "pipeline-core/src/stages/score.rs",
    run,
    check,
};

fn run(ctx: &StageContext, inputs: &StageInputs) -> Result<StageOutput> {
    let w = ctx.market.model();
    let f = |name: &str| col(name).cast(DataType::Float64);
    let z = lit(w.b) + lit(w.w_freq) * f("frequency_90d").log1p() + lit(w.w_mon) * f("monetary_90d_usd").log1p()
        - lit(w.w_rec) * f("recency_days").clip_max(lit(365.0)) / lit(365.0)
        + lit(w.w_open) * f("email_open_rate_90d")
        + lit(w.w_click) * f("click_rate_90d");
    let propensity = (lit(1.0) / (lit(1.0) + (-z).exp())).round(6, RoundMode::HalfAwayFromZero);
    let scores = inputs
        .table(Stage::Features, "features")?
        .clone()
        .lazy()
        .with_column(propensity.alias("propensity"))
        .collect()
        .ctx(ctx.market_id(), Stage::Score)?;
    Ok(StageOutput { tables: vec![("scores".into(), scores)], ..Default::default() })
}

/// `propensity` within [0, 1] and not null, else FAIL.
fn check(ctx: &StageContext, out: &StageOutput) -> Result<Vec<CheckResult>> {
    let scores = out.table("scores").expect("score writes scores");
    let p = scores.column("propensity").ctx(ctx.market_id(), Stage::Score)?.f64().ctx(ctx.market_id(), Stage::Score)?;
    let bad = p.iter().filter(|v| !v.is_some_and(|v| (0.0..=1.0).contains(&v))).count();
    Ok(vec![CheckResult::fail_if(
        "propensity_range",
        "scores.propensity",
        "FAIL if outside [0, 1] or null",
        bad as f64,
        bad > 0,
        format!("{bad} of {} propensities outside [0, 1] or null", scores.height()),
    )])
}
