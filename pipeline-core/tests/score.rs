//! The score stage (spec, stage 4): `propensity = 1 / (1 + exp(-z))` rounded to 6 decimals. The test market's
//! model is b = -1.0, w_freq = 0.8, w_mon = 0.25, w_rec = 1.5, w_open = 0.9, w_click = 1.2.

mod common;

use common::*;
use pipeline_core::Stage;
use polars::prelude::*;

/// `1 / (1 + exp(-z))` rounded to 6 decimals, half away from zero.
fn logistic6(z: f64) -> f64 {
    let p = 1.0 / (1.0 + (-z).exp());
    (p * 1e6).round() / 1e6
}

fn feature_rows(rows: &[(&str, i64, i64, f64, f64, f64)]) -> DataFrame {
    df!(
        "customer_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "recency_days" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "frequency_90d" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "monetary_90d_usd" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        "email_open_rate_90d" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        "click_rate_90d" => rows.iter().map(|r| r.5).collect::<Vec<_>>(),
        "tenure_days" => rows.iter().map(|_| 100i64).collect::<Vec<_>>(),
        "preferred_channel" => rows.iter().map(|_| Some("email")).collect::<Vec<_>>(),
    )
    .unwrap()
}

fn score(features: DataFrame) -> DataFrame {
    let out = run(Stage::Score, &TestMarket::new(), as_of(), &inputs(vec![(Stage::Features, "features", features)]));
    table(&out, "scores").clone()
}

#[test]
fn propensity_is_logistic_of_the_weighted_features_rounded_to_6_decimals() {
    let features = feature_rows(&[("C1", 73, 3, 99.0, 0.5, 0.25)]);
    // z = -1 + 0.8 ln 4 + 0.25 ln 100 - 1.5 * 73 / 365 + 0.9 * 0.5 + 1.2 * 0.25
    let z = -1.0 + 0.8 * 4f64.ln() + 0.25 * 100f64.ln() - 1.5 * 0.2 + 0.45 + 0.3;
    let p = logistic6(z);
    assert_eq!(p, 0.846879, "hand check of the expected value itself (z = {z})");
    let mut expected = features.clone();
    expected.with_column(Column::new("propensity".into(), [p])).unwrap();
    assert_frame_eq(&score(features), &expected);
}

#[test]
fn customer_with_all_zero_features_and_no_order_scores_the_intercept_minus_full_recency() {
    let features = feature_rows(&[("C1", 9999, 0, 0.0, 0.0, 0.0)]);
    // z = -1.0 - 1.5 * 365 / 365 = -2.5
    let actual = score(features);
    let expected = df!("customer_id" => ["C1"], "propensity" => [logistic6(-2.5)]).unwrap();
    assert_frame_eq(&actual.select(["customer_id", "propensity"]).unwrap(), &expected);
}

#[test]
fn recency_above_365_days_weighs_as_365() {
    let features = feature_rows(&[
        ("C1", 364, 1, 10.0, 0.0, 0.0),
        ("C2", 365, 1, 10.0, 0.0, 0.0),
        ("C3", 366, 1, 10.0, 0.0, 0.0),
        ("C4", 9999, 1, 10.0, 0.0, 0.0),
    ]);
    let base = -1.0 + 0.8 * 2f64.ln() + 0.25 * 11f64.ln();
    let capped = logistic6(base - 1.5);
    let actual = score(features);
    let expected = df!(
        "customer_id" => ["C1", "C2", "C3", "C4"],
        "propensity" => [logistic6(base - 1.5 * 364.0 / 365.0), capped, capped, capped],
    )
    .unwrap();
    assert_frame_eq(&actual.select(["customer_id", "propensity"]).unwrap(), &expected);
}
