//! The features stage (spec, stage 3): one row per customer signed up on or before as_of, over the window
//! W = (as_of - 90 days, as_of]. as_of is Sunday 2026-11-15, so as_of - 90 days is 2026-08-17 (excluded) and
//! as_of - 89 days is 2026-08-18 (included). Expected values are worked out by hand from the spec.

mod common;

use common::*;
use pipeline_core::Stage;
use polars::prelude::*;

fn features(market: &TestMarket, c: DataFrame, o: DataFrame, i: DataFrame) -> DataFrame {
    let out = run(Stage::Features, market, as_of(), &feature_inputs(c, o, i));
    table(&out, "features").clone()
}

fn no_orders() -> DataFrame {
    orders(&[])
}

fn no_interactions() -> DataFrame {
    interactions(&[])
}

#[test]
fn customer_signed_up_after_as_of_gets_no_row_and_one_signed_up_on_as_of_does() {
    let c = customers(&[
        Customer { signup: d(2026, 11, 15), ..customer("C1") },
        Customer { signup: d(2026, 11, 16), ..customer("C2") },
    ]);
    let actual = features(&TestMarket::new(), c, no_orders(), no_interactions());
    let expected = df!("customer_id" => ["C1"], "tenure_days" => [0i64]).unwrap();
    assert_frame_eq(&actual.select(["customer_id", "tenure_days"]).unwrap(), &expected);
}

#[test]
fn customer_without_activity_has_recency_9999_zeros_and_null_preferred_channel() {
    let c = customers(&[Customer { signup: d(2026, 11, 5), ..customer("C1") }]);
    let actual = features(&TestMarket::new(), c, no_orders(), no_interactions());
    let expected = df!(
        "customer_id" => ["C1"],
        "recency_days" => [9999i64],
        "frequency_90d" => [0i64],
        "monetary_90d_usd" => [0.0f64],
        "email_open_rate_90d" => [0.0f64],
        "click_rate_90d" => [0.0f64],
        "tenure_days" => [10i64],
        "preferred_channel" => [None::<&str>],
    )
    .unwrap();
    assert_frame_eq(&actual, &expected);
}

#[test]
fn order_window_excludes_as_of_minus_90_includes_as_of_minus_89_and_as_of_and_ignores_later_orders() {
    let c = customers(&[customer("C1")]);
    let o = orders(&[
        ("O1", "C1", d(2026, 8, 17), 1, 1000.0), // as_of - 90: outside W
        ("O2", "C1", d(2026, 8, 18), 1, 10.0),   // as_of - 89: first day of W
        ("O3", "C1", d(2026, 11, 15), 1, 20.0),  // as_of: last day of W
        ("O4", "C1", d(2026, 11, 16), 1, 500.0), // after as_of: ignored
    ]);
    let actual = features(&TestMarket::new(), c, o, no_interactions());
    // frequency: O2 and O3; monetary: (10 + 20) * 0.5 = 15.00.
    let expected = df!("customer_id" => ["C1"], "frequency_90d" => [2i64], "monetary_90d_usd" => [15.0]).unwrap();
    assert_frame_eq(&actual.select(["customer_id", "frequency_90d", "monetary_90d_usd"]).unwrap(), &expected);
}

#[test]
fn recency_counts_from_latest_order_on_or_before_as_of_even_outside_the_window() {
    let c = customers(&[customer("C1"), customer("C2"), customer("C3")]);
    let o = orders(&[
        ("O1", "C1", d(2026, 10, 16), 1, 1.0), // 30 days before as_of
        ("O2", "C1", d(2026, 10, 1), 1, 1.0),
        ("O3", "C1", d(2026, 11, 20), 1, 1.0), // after as_of: ignored, so recency is not negative
        ("O4", "C2", d(2026, 11, 17), 1, 1.0), // only an order after as_of: as if none
        ("O5", "C3", d(2025, 11, 15), 1, 1.0), // 365 days before as_of, outside W
    ]);
    let actual = features(&TestMarket::new(), c, o, no_interactions());
    let expected = df!(
        "customer_id" => ["C1", "C2", "C3"],
        "recency_days" => [30i64, 9999, 365],
        "frequency_90d" => [2i64, 0, 0],
    )
    .unwrap();
    assert_frame_eq(&actual.select(["customer_id", "recency_days", "frequency_90d"]).unwrap(), &expected);
}

#[test]
fn monetary_is_window_sum_times_fx_rounded_to_2_decimals() {
    let market = TestMarket::with(&[("fx_to_usd", "0.65")]);
    let c = customers(&[customer("C1"), customer("C2")]);
    let o = orders(&[
        ("O1", "C1", d(2026, 11, 1), 1, 100.0),
        ("O2", "C1", d(2026, 11, 2), 2, 23.45),
        ("O3", "C2", d(2026, 11, 3), 1, 10.01),
    ]);
    let actual = features(&market, c, o, no_interactions());
    // C1: 123.45 * 0.65 = 80.2425 -> 80.24; C2: 10.01 * 0.65 = 6.5065 -> 6.51.
    let expected = df!("customer_id" => ["C1", "C2"], "monetary_90d_usd" => [80.24, 6.51]).unwrap();
    assert_frame_eq(&actual.select(["customer_id", "monetary_90d_usd"]).unwrap(), &expected);
}

#[test]
fn email_open_rate_counts_email_interactions_in_window_only() {
    let c = customers(&[customer("C1"), customer("C2")]);
    let i = interactions(&[
        ("I1", "C1", "email", dt(2026, 11, 1, 9, 0, 0), true, false),
        ("I2", "C1", "email", dt(2026, 11, 2, 9, 0, 0), false, false),
        ("I3", "C1", "email", dt(2026, 11, 3, 9, 0, 0), true, false),
        ("I4", "C1", "sms", dt(2026, 11, 4, 9, 0, 0), false, false), // not email: not in the rate
        ("I5", "C1", "email", dt(2026, 8, 1, 9, 0, 0), false, false), // before W
        ("I6", "C1", "email", dt(2026, 11, 16, 9, 0, 0), false, false), // after as_of
        ("I7", "C2", "sms", dt(2026, 11, 4, 9, 0, 0), true, true),   // no email at all: 0.0
    ]);
    let actual = features(&TestMarket::new(), c, no_orders(), i);
    let expected = df!("customer_id" => ["C1", "C2"], "email_open_rate_90d" => [2.0 / 3.0, 0.0]).unwrap();
    assert_frame_eq(&actual.select(["customer_id", "email_open_rate_90d"]).unwrap(), &expected);
}

#[test]
fn click_rate_counts_every_interaction_in_window() {
    let c = customers(&[customer("C1")]);
    let i = interactions(&[
        ("I1", "C1", "email", dt(2026, 11, 1, 9, 0, 0), true, true),
        ("I2", "C1", "web", dt(2026, 11, 2, 9, 0, 0), false, true),
        ("I3", "C1", "call", dt(2026, 11, 3, 9, 0, 0), false, false),
        ("I4", "C1", "visit", dt(2026, 11, 4, 9, 0, 0), false, false),
        ("I5", "C1", "web", dt(2026, 8, 17, 12, 0, 0), false, true), // as_of - 90: outside W
        ("I6", "C1", "web", dt(2026, 11, 20, 12, 0, 0), false, true), // after as_of
    ]);
    let actual = features(&TestMarket::new(), c, no_orders(), i);
    let expected = df!("customer_id" => ["C1"], "click_rate_90d" => [0.5]).unwrap();
    assert_frame_eq(&actual.select(["customer_id", "click_rate_90d"]).unwrap(), &expected);
}

#[test]
fn interaction_is_dated_by_local_date_of_ts_at_both_window_edges() {
    let c = customers(&[customer("C1"), customer("C2")]);
    let i = interactions(&[
        ("I1", "C1", "web", dt(2026, 11, 15, 23, 59, 59), false, false), // on as_of: counts
        ("I2", "C1", "email", dt(2026, 11, 16, 0, 0, 0), true, true),    // the day after: does not
        ("I3", "C2", "sms", dt(2026, 8, 17, 23, 59, 59), true, true),    // as_of - 90: does not
        ("I4", "C2", "call", dt(2026, 8, 18, 0, 0, 0), false, false),    // as_of - 89: counts
    ]);
    let actual = features(&TestMarket::new(), c, no_orders(), i);
    let expected = df!(
        "customer_id" => ["C1", "C2"],
        "email_open_rate_90d" => [0.0, 0.0],
        "click_rate_90d" => [0.0, 0.0],
        "preferred_channel" => ["web", "call"],
    )
    .unwrap();
    assert_frame_eq(
        &actual.select(["customer_id", "email_open_rate_90d", "click_rate_90d", "preferred_channel"]).unwrap(),
        &expected,
    );
}

#[test]
fn preferred_channel_is_the_most_used_channel_in_window() {
    let c = customers(&[customer("C1")]);
    let i = interactions(&[
        ("I1", "C1", "email", dt(2026, 11, 1, 9, 0, 0), false, false),
        ("I2", "C1", "sms", dt(2026, 11, 2, 9, 0, 0), false, false),
        ("I3", "C1", "sms", dt(2026, 11, 3, 9, 0, 0), false, false),
        ("I4", "C1", "web", dt(2026, 8, 1, 9, 0, 0), false, false), // three web visits, all before W
        ("I5", "C1", "web", dt(2026, 8, 2, 9, 0, 0), false, false),
        ("I6", "C1", "web", dt(2026, 8, 3, 9, 0, 0), false, false),
    ]);
    let actual = features(&TestMarket::new(), c, no_orders(), i);
    let expected = df!("customer_id" => ["C1"], "preferred_channel" => ["sms"]).unwrap();
    assert_frame_eq(&actual.select(["customer_id", "preferred_channel"]).unwrap(), &expected);
}

#[test]
fn preferred_channel_tie_goes_to_email_then_sms_call_visit_web() {
    let c = customers(&[customer("C1"), customer("C2"), customer("C3"), customer("C4")]);
    let t = |day| dt(2026, 11, day, 9, 0, 0);
    let i = interactions(&[
        // The later channel of each tie comes first in the table, so table order cannot decide.
        ("I1", "C1", "web", t(1), false, false),
        ("I2", "C1", "visit", t(2), false, false),
        ("I3", "C2", "visit", t(1), false, false),
        ("I4", "C2", "call", t(2), false, false),
        ("I5", "C3", "call", t(1), false, false),
        ("I6", "C3", "sms", t(2), false, false),
        ("I7", "C4", "web", t(1), false, false),
        ("I8", "C4", "sms", t(2), false, false),
        ("I9", "C4", "email", t(3), false, false),
    ]);
    let actual = features(&TestMarket::new(), c, no_orders(), i);
    let expected =
        df!("customer_id" => ["C1", "C2", "C3", "C4"], "preferred_channel" => ["visit", "call", "sms", "email"])
            .unwrap();
    assert_frame_eq(&actual.select(["customer_id", "preferred_channel"]).unwrap(), &expected);
}

#[test]
fn tenure_days_counts_days_from_signup_to_as_of() {
    let c = customers(&[
        Customer { signup: d(2026, 1, 1), ..customer("C1") }, // 304 days in Jan..Oct + 14 = 318
        Customer { signup: d(2020, 11, 15), ..customer("C2") }, // 6 * 365 + 1 (2024-02-29) = 2191
    ]);
    let actual = features(&TestMarket::new(), c, no_orders(), no_interactions());
    let expected = df!("customer_id" => ["C1", "C2"], "tenure_days" => [318i64, 2191]).unwrap();
    assert_frame_eq(&actual.select(["customer_id", "tenure_days"]).unwrap(), &expected);
}
