//! The recommend stage (spec, stage 5): action bands, eligible channels, channel choice, content id, schedule,
//! ranking and the contact share. as_of is Sunday 2026-11-15; the test market has no quiet day, so recommendations
//! are scheduled for Monday 2026-11-16. Unless a test says otherwise, contact_share is 1.0 so every row is kept.

mod common;

use chrono::NaiveDate;
use common::*;
use pipeline_core::Stage;
use polars::prelude::*;

/// Scores: `(customer_id, propensity, recency_days, preferred_channel)`.
fn scores(rows: &[(&str, f64, i64, Option<&str>)]) -> DataFrame {
    df!(
        "customer_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "recency_days" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "preferred_channel" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        "propensity" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
    )
    .unwrap()
}

fn recommend(market: &TestMarket, customers: DataFrame, scores: DataFrame) -> DataFrame {
    let inputs = inputs(vec![(Stage::Score, "scores", scores), (Stage::Ingest, "customers", customers)]);
    let out = run(Stage::Recommend, market, as_of(), &inputs);
    table(&out, "recommendations").clone()
}

fn keep_all() -> TestMarket {
    TestMarket::with(&[("contact_share", "1.0")])
}

/// Expected recommendations `(customer_id, action, channel, content_id, propensity)` in rank order, ranks 1..n.
fn recs(rows: &[(&str, &str, &str, &str, f64)], scheduled: NaiveDate) -> DataFrame {
    df!(
        "customer_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "action" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "channel" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "scheduled_date" => rows.iter().map(|_| scheduled).collect::<Vec<_>>(),
        "content_id" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        "propensity" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        "rank" => (1..=rows.len() as i64).collect::<Vec<_>>(),
    )
    .unwrap()
}

fn monday() -> NaiveDate {
    d(2026, 11, 16)
}

/// A customer opted in to email only (segment B, language en).
fn emailable(id: &'static str) -> Customer {
    Customer { email: Some(true), ..customer(id) }
}

#[test]
fn propensity_0_70_is_offer_and_just_below_is_nurture() {
    let c = customers(&[emailable("C1"), emailable("C2")]);
    let s = scores(&[("C1", 0.70, 10, None), ("C2", 0.699999, 10, None)]);
    let expected = recs(
        &[("C1", "offer", "email", "foobar-offer-en", 0.70), ("C2", "nurture", "email", "foobar-nurture-en", 0.699999)],
        monday(),
    );
    assert_frame_eq(&recommend(&keep_all(), c, s), &expected);
}

#[test]
fn propensity_0_40_is_nurture_even_when_lapsed_and_just_below_is_winback() {
    let c = customers(&[emailable("C1"), emailable("C2")]);
    let s = scores(&[("C1", 0.40, 200, None), ("C2", 0.399999, 200, None)]);
    let expected = recs(
        &[
            ("C1", "nurture", "email", "foobar-nurture-en", 0.40),
            ("C2", "winback", "email", "foobar-winback-en", 0.399999),
        ],
        monday(),
    );
    assert_frame_eq(&recommend(&keep_all(), c, s), &expected);
}

#[test]
fn low_propensity_is_winback_only_above_180_days_recency_else_dropped() {
    let c = customers(&[emailable("C1"), emailable("C2"), emailable("C3"), emailable("C4")]);
    let s = scores(&[("C1", 0.2, 181, None), ("C2", 0.2, 180, None), ("C3", 0.1, 9999, None), ("C4", 0.0, 0, None)]);
    let expected = recs(
        &[("C1", "winback", "email", "foobar-winback-en", 0.2), ("C3", "winback", "email", "foobar-winback-en", 0.1)],
        monday(),
    );
    assert_frame_eq(&recommend(&keep_all(), c, s), &expected);
}

#[test]
fn customer_with_no_eligible_channel_is_dropped() {
    let c = customers(&[
        customer("C1"),                                                     // segment B, no opt-in
        Customer { segment: "A", ..customer("C2") },                        // segment A: visit
        Customer { email: None, sms: None, phone: None, ..customer("C3") }, // unknown opt-ins are not opt-ins
    ]);
    let s = scores(&[("C1", 0.9, 10, Some("email")), ("C2", 0.8, 10, Some("email")), ("C3", 0.7, 10, Some("email"))]);
    let expected = recs(&[("C2", "offer", "visit", "foobar-offer-en", 0.8)], monday());
    assert_frame_eq(&recommend(&keep_all(), c, s), &expected);
}

#[test]
fn preferred_channel_is_used_when_eligible() {
    let c = customers(&[Customer { sms: Some(true), phone: Some(true), ..emailable("C1") }]);
    let s = scores(&[("C1", 0.9, 10, Some("call"))]);
    let expected = recs(&[("C1", "offer", "call", "foobar-offer-en", 0.9)], monday());
    assert_frame_eq(&recommend(&keep_all(), c, s), &expected);
}

#[test]
fn ineligible_preferred_channel_falls_back_to_first_eligible_in_market_priority() {
    let market = TestMarket::with(&[
        ("contact_share", "1.0"),
        ("channel_priority", "[\"call\", \"visit\", \"sms\", \"email\"]"),
    ]);
    let c = customers(&[
        Customer { segment: "A", phone: Some(true), ..emailable("C1") }, // email, call, visit
        Customer { sms: Some(true), ..emailable("C2") },                 // email, sms
        Customer { segment: "A", sms: Some(true), ..customer("C3") },    // sms, visit
    ]);
    let s = scores(&[("C1", 0.9, 10, None), ("C2", 0.8, 10, Some("call")), ("C3", 0.7, 10, Some("email"))]);
    let expected = recs(
        &[
            ("C1", "offer", "call", "foobar-offer-en", 0.9),
            ("C2", "offer", "sms", "foobar-offer-en", 0.8),
            ("C3", "offer", "visit", "foobar-offer-en", 0.7),
        ],
        monday(),
    );
    assert_frame_eq(&recommend(&market, c, s), &expected);
}

#[test]
fn web_is_never_a_contact_channel() {
    let c = customers(&[emailable("C1"), customer("C2")]);
    let s = scores(&[("C1", 0.9, 10, Some("web")), ("C2", 0.8, 10, Some("web"))]);
    let expected = recs(&[("C1", "offer", "email", "foobar-offer-en", 0.9)], monday());
    assert_frame_eq(&recommend(&keep_all(), c, s), &expected);
}

#[test]
fn content_id_uses_the_customer_language_when_listed_else_the_default() {
    let c = customers(&[
        Customer { language: Some("fr"), ..emailable("C1") },
        Customer { language: Some("de"), ..emailable("C2") },
        Customer { language: None, ..emailable("C3") },
        Customer { language: Some("en"), ..emailable("C4") },
    ]);
    let s = scores(&[("C1", 0.9, 10, None), ("C2", 0.8, 10, None), ("C3", 0.5, 10, None), ("C4", 0.1, 200, None)]);
    let expected = recs(
        &[
            ("C1", "offer", "email", "foobar-offer-fr", 0.9),
            ("C2", "offer", "email", "foobar-offer-en", 0.8),
            ("C3", "nurture", "email", "foobar-nurture-en", 0.5),
            ("C4", "winback", "email", "foobar-winback-en", 0.1),
        ],
        monday(),
    );
    assert_frame_eq(&recommend(&keep_all(), c, s), &expected);
}

#[test]
fn ranking_is_propensity_descending_then_customer_id_ascending_from_rank_1() {
    let c = customers(&[emailable("C1"), emailable("C2"), emailable("C3"), emailable("C4")]);
    let s = scores(&[("C3", 0.8, 10, None), ("C1", 0.5, 10, None), ("C4", 0.5, 10, None), ("C2", 0.8, 10, None)]);
    let expected = recs(
        &[
            ("C2", "offer", "email", "foobar-offer-en", 0.8),
            ("C3", "offer", "email", "foobar-offer-en", 0.8),
            ("C1", "nurture", "email", "foobar-nurture-en", 0.5),
            ("C4", "nurture", "email", "foobar-nurture-en", 0.5),
        ],
        monday(),
    );
    assert_frame_eq(&recommend(&keep_all(), c, s), &expected);
}

#[test]
fn keeps_floor_of_contact_share_times_rows_left_after_dropping() {
    let market = TestMarket::with(&[("contact_share", "0.40")]);
    let ids = ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"];
    let mut rows: Vec<Customer> = ids.iter().map(|id| emailable(id)).collect();
    rows[8] = customer("C9"); // no eligible channel: dropped
    let c = customers(&rows);
    let s = scores(&[
        ("C1", 0.91, 10, None),
        ("C2", 0.92, 10, None),
        ("C3", 0.93, 10, None),
        ("C4", 0.50, 10, None),
        ("C5", 0.51, 10, None),
        ("C6", 0.30, 200, None),
        ("C7", 0.31, 200, None),
        ("C8", 0.10, 10, None), // action none: dropped
        ("C9", 0.99, 10, None),
    ]);
    // 7 rows are left: floor(0.40 * 7) = floor(2.8) = 2 (9 would have given 3).
    let expected = recs(
        &[("C3", "offer", "email", "foobar-offer-en", 0.93), ("C2", "offer", "email", "foobar-offer-en", 0.92)],
        monday(),
    );
    assert_frame_eq(&recommend(&market, c, s), &expected);
}

#[test]
fn contact_share_0_35_of_100_rows_keeps_35() {
    let market = TestMarket::with(&[("contact_share", "0.35")]);
    let ids: Vec<&'static str> = (0..100).map(|i| &*format!("C{i:03}").leak()).collect();
    let c = customers(&ids.iter().map(|id| emailable(id)).collect::<Vec<_>>());
    let s = scores(&ids.iter().map(|id| (*id, 0.9, 10, None)).collect::<Vec<_>>());
    let actual = recommend(&market, c, s);
    let expected = df!(
        "customer_id" => ids[..35].to_vec(),
        "rank" => (1..=35i64).collect::<Vec<_>>(),
    )
    .unwrap();
    assert_frame_eq(&actual.select(["customer_id", "rank"]).unwrap(), &expected);
}

#[test]
fn scheduled_date_is_the_first_day_after_as_of_that_is_not_quiet() {
    let market = TestMarket::with(&[("contact_share", "1.0"), ("quiet_weekdays", "[\"Mon\"]")]);
    let c = customers(&[emailable("C1")]);
    let s = scores(&[("C1", 0.9, 10, None)]);
    // as_of Sunday 2026-11-15; Monday is quiet: Tuesday 2026-11-17.
    let expected = recs(&[("C1", "offer", "email", "foobar-offer-en", 0.9)], d(2026, 11, 17));
    assert_frame_eq(&recommend(&market, c, s), &expected);
}
