//! The base behaviour of every market hook (spec: "Markets" and stage 5), through a market that overrides none.

mod common;

use common::*;
use pipeline_core::hooks::base;
use pipeline_core::{ExportFormat, Market};
use polars::prelude::*;

#[test]
fn base_schedule_is_the_next_day_when_no_weekday_is_quiet() {
    let market = TestMarket::new();
    // Sunday 2026-11-15 -> Monday; Friday 2026-11-20 -> Saturday; Saturday -> Sunday.
    assert_eq!(market.schedule(d(2026, 11, 15)), d(2026, 11, 16));
    assert_eq!(market.schedule(d(2026, 11, 20)), d(2026, 11, 21));
    assert_eq!(market.schedule(d(2026, 11, 21)), d(2026, 11, 22));
    // Across a month and a year end.
    assert_eq!(market.schedule(d(2026, 12, 31)), d(2027, 1, 1));
}

#[test]
fn base_schedule_skips_every_quiet_weekday_in_a_row() {
    let market = TestMarket::with(&[("quiet_weekdays", "[\"Sat\", \"Sun\", \"Mon\"]")]);
    // Friday 2026-11-20: Sat, Sun and Mon are quiet -> Tuesday 2026-11-24.
    assert_eq!(market.schedule(d(2026, 11, 20)), d(2026, 11, 24));
    // Sunday 2026-11-15 (itself quiet): the next day is Monday, quiet -> Tuesday 2026-11-17.
    assert_eq!(market.schedule(d(2026, 11, 15)), d(2026, 11, 17));
    // Tuesday 2026-11-17 -> Wednesday.
    assert_eq!(market.schedule(d(2026, 11, 17)), d(2026, 11, 18));
}

#[test]
fn base_eligible_channels_follow_opt_ins_and_segment_a() {
    let c = customers(&[
        Customer { email: Some(true), ..customer("C1") },
        Customer { sms: Some(true), ..customer("C2") },
        Customer { phone: Some(true), ..customer("C3") },
        Customer { segment: "A", ..customer("C4") },
        Customer { email: None, sms: None, phone: None, ..customer("C5") },
        Customer { email: Some(true), doi: false, ..customer("C6") }, // base email ignores doi_confirmed
    ]);
    let channels = TestMarket::new().eligible_channels();
    let names: Vec<&str> = channels.iter().map(|(ch, _)| *ch).collect();
    assert_eq!(names, ["email", "sms", "call", "visit"], "web is never a contact channel");
    let actual = c
        .lazy()
        .select(
            std::iter::once(col("customer_id"))
                .chain(channels.into_iter().map(|(ch, cond)| cond.alias(ch)))
                .collect::<Vec<_>>(),
        )
        .collect()
        .unwrap();
    let expected = df!(
        "customer_id" => ["C1", "C2", "C3", "C4", "C5", "C6"],
        "email" => [true, false, false, false, false, true],
        "sms" => [false, true, false, false, false, false],
        "call" => [false, false, true, false, false, false],
        "visit" => [false, false, false, true, false, false],
    )
    .unwrap();
    assert_frame_eq(&actual, &expected);
}

#[test]
fn base_content_is_franchise_action_and_listed_language_else_default() {
    let frame = df!(
        "action" => ["offer", "nurture", "winback", "offer"],
        "language" => [Some("fr"), Some("en"), Some("pt"), None],
    )
    .unwrap();
    let market = TestMarket::new(); // languages en (default), fr
    let actual =
        frame.lazy().select([market.content(col("action"), col("language")).alias("content_id")]).collect().unwrap();
    let expected =
        df!("content_id" => ["foobar-offer-fr", "foobar-nurture-en", "foobar-winback-en", "foobar-offer-en"]).unwrap();
    assert_frame_eq(&actual, &expected);
}

#[test]
fn base_export_format_is_comma_and_iso_dates() {
    assert_eq!(TestMarket::new().export_format(), ExportFormat { delimiter: b',', date_format: "%Y-%m-%d".into() });
    assert_eq!(base::export_format(), TestMarket::new().export_format());
}

#[test]
fn market_without_overrides_behaves_as_base_for_every_hook() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let market = TestMarket::new();
    market_contract::assert_overrides_listed(&market, root);
    let customers = "customer_id,segment,region,language,signup_date,email_opt_in,sms_opt_in,phone_opt_in\n\
                     C1,A,R1,en,2024-01-01,true,false,true\n";
    market_contract::assert_listed_hooks_are_exactly_the_changed_ones(
        &market,
        &[raw_file(pipeline_core::Table::Customers, customers)],
    );
}

#[test]

fn market_toml_with_every_weekday_quiet_is_rejected_instead_of_hanging_schedule() {
    let toml = "id = \"foobar-xx\"\ncurrency = \"XXX\"\nfx_to_usd = 0.5\ntimezone = \"UTC\"\nlanguages = [\"en\"]\n\
                channel_priority = [\"email\"]\nregions = [\"N\"]\n\
                quiet_weekdays = [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\", \"Sun\"]\n";
    // Do not call schedule() here: with the bug it never returns.
    let err = pipeline_core::MarketDef::load(ID, toml, MODEL_TOML).expect_err("seven quiet weekdays must be refused");
    let msg = err.to_string();
    assert!(msg.starts_with("invalid market.toml for market foobar-xx: quiet_weekdays"), "{msg}");
}
