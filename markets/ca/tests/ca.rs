//! foobar-ca against the spec: interaction `ts` arrives as UTC ISO-8601 with `Z` and is converted to
//! America/Toronto local time (hook `normalize`), so an evening interaction counts on its local day; content in
//! English and French.

#[path = "../../../pipeline-core/tests/common/mod.rs"]
mod common;

use std::path::Path;

use bytes::Bytes;
use common::*;
use foobar_ca::FoobarCa;
use pipeline_core::hooks::base;
use pipeline_core::raw::{ParsedTable, RawFile, Rejected, read_strings};
use pipeline_core::{Market, ModelWeights, Stage, Table};
use polars::prelude::*;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn market() -> FoobarCa {
    FoobarCa::load().unwrap()
}

fn raw(table: Table, text: &str) -> RawFile {
    RawFile { table, url: format!("s3://raw/foobar-ca/{}.csv", table.name()), bytes: Bytes::from(text.to_string()) }
}

fn normalize(table: Table, text: &str) -> ParsedTable {
    let m = market();
    m.normalize(read_strings(&raw(table, text), &m.config().raw).unwrap()).unwrap()
}

const HEADER: &str = "interaction_id,customer_id,channel,ts,opened,clicked";
const CUSTOMERS: &str = "customer_id,segment,region,language,signup_date,email_opt_in,sms_opt_in,phone_opt_in\n\
                         C1,A,ON,fr,2021-11-11,true,false,true\n";
const ORDERS: &str = "order_id,customer_id,order_date,quantity,amount\nO1,C1,2026-11-01,2,136.58\n";

#[test]
fn ca_declared_override_normalize_is_exactly_the_hook_that_differs() {
    let m = market();
    market_contract::assert_overrides_listed(&m, Path::new(ROOT));
    let interactions = format!("{HEADER}\nI1,C1,visit,2026-11-16T03:15:00Z,false,false\n");
    market_contract::assert_listed_hooks_are_exactly_the_changed_ones(
        &m,
        &[raw(Table::Customers, CUSTOMERS), raw(Table::Orders, ORDERS), raw(Table::Interactions, &interactions)],
    );
}

#[test]
fn ca_config_and_model_match_the_spec_table() {
    let m = market();
    let c = m.config();
    assert_eq!((c.currency.as_str(), c.fx_to_usd, c.timezone.as_str()), ("CAD", 0.73, "America/Toronto"));
    assert_eq!(c.languages, ["en", "fr"]);
    assert_eq!(c.channel_priority, ["email", "call", "sms", "visit"]);
    assert!(c.quiet_weekdays.is_empty());
    assert_eq!(c.contact_share, 0.50);
    assert_eq!(
        *m.model(),
        ModelWeights { b: -1.10, w_freq: 0.85, w_mon: 0.22, w_rec: 1.40, w_open: 1.00, w_click: 1.10 }
    );
}

#[test]
fn ca_normalize_converts_november_utc_to_toronto_est_across_midnight() {
    // 03:15 UTC on the 16th is 22:15 EST (UTC-5) on the 15th.
    let parsed = normalize(Table::Interactions, &format!("{HEADER}\nI1,C1,email,2026-11-16T03:15:00Z,true,false\n"));
    assert_frame_eq(&parsed.frame, &interactions(&[("I1", "C1", "email", dt(2026, 11, 15, 22, 15, 0), true, false)]));
}

#[test]
fn ca_normalize_converts_summer_utc_with_the_edt_offset() {
    // EDT is UTC-4: 16:00 UTC is 12:00, and 03:30 UTC on 1 July is 23:30 on 30 June.
    let text =
        format!("{HEADER}\nI1,C1,sms,2026-07-15T16:00:00Z,false,true\nI2,C1,call,2026-07-01T03:30:00Z,false,false\n");
    let parsed = normalize(Table::Interactions, &text);
    assert_frame_eq(
        &parsed.frame,
        &interactions(&[
            ("I1", "C1", "sms", dt(2026, 7, 15, 12, 0, 0), false, true),
            ("I2", "C1", "call", dt(2026, 6, 30, 23, 30, 0), false, false),
        ]),
    );
}

#[test]
fn ca_normalize_maps_both_utc_hours_around_the_dst_end_to_local_time() {
    // DST ends on Sunday 2026-11-01 at 02:00 EDT = 06:00 UTC: 05:30 UTC is 01:30 EDT, 06:30 UTC is 01:30 EST.
    let text =
        format!("{HEADER}\nI1,C1,web,2026-11-01T05:30:00Z,false,false\nI2,C1,web,2026-11-01T06:30:00Z,false,false\n");
    let parsed = normalize(Table::Interactions, &text);
    assert_frame_eq(
        &parsed.frame,
        &interactions(&[
            ("I1", "C1", "web", dt(2026, 11, 1, 1, 30, 0), false, false),
            ("I2", "C1", "web", dt(2026, 11, 1, 1, 30, 0), false, false),
        ]),
    );
}

#[test]
fn ca_rejects_a_timestamp_without_the_utc_designator() {
    let parsed = normalize(Table::Interactions, &format!("{HEADER}\nI1,C1,web,2026-11-16 03:15:00,false,false\n"));
    assert_eq!(
        parsed.rejected,
        [Rejected {
            line: 2,
            reason: "column 'ts': cannot parse '2026-11-16 03:15:00' as datetime (expected %Y-%m-%dT%H:%M:%SZ)".into(),
            text: "I1,C1,web,2026-11-16 03:15:00,false,false".into(),
        }]
    );
}

#[test]
fn ca_normalize_leaves_customers_and_orders_as_the_base_parses_them() {
    let m = market();
    for (table, text) in [(Table::Customers, CUSTOMERS), (Table::Orders, ORDERS)] {
        let ours = normalize(table, text);
        let base = base::normalize(m.config(), read_strings(&raw(table, text), &m.config().raw).unwrap()).unwrap();
        assert_frame_eq(&ours.frame, &base.frame);
    }
}

#[test]
fn ca_evening_utc_interaction_counts_on_its_local_day_in_features() {
    let m = market();
    let files = vec![
        raw(Table::Customers, CUSTOMERS),
        raw(Table::Orders, ORDERS),
        raw(
            Table::Interactions,
            &format!(
                "{HEADER}\n\
                 I1,C1,web,2026-11-16T03:15:00Z,false,true\n\
                 I2,C1,email,2026-08-18T03:00:00Z,true,true\n\
                 I3,C1,email,2026-11-16T05:00:00Z,true,true\n"
            ),
        ),
    ];
    // I1 is 22:15 on as_of (counts); I2 is 23:00 on as_of - 90 (outside W); I3 is 00:00 the day after as_of.
    let ingested = run(Stage::Ingest, &m, as_of(), &raw_inputs(files));
    let tables = |name: &str| table(&ingested, name).clone();
    let out = run(
        Stage::Features,
        &m,
        as_of(),
        &feature_inputs(tables("customers"), tables("orders"), tables("interactions")),
    );
    let expected = df!(
        "customer_id" => ["C1"],
        "email_open_rate_90d" => [0.0],
        "click_rate_90d" => [1.0],
        "preferred_channel" => ["web"],
    )
    .unwrap();
    assert_frame_eq(
        &table(&out, "features")
            .select(["customer_id", "email_open_rate_90d", "click_rate_90d", "preferred_channel"])
            .unwrap(),
        &expected,
    );
}

#[test]
fn ca_content_is_french_for_french_customers_and_english_otherwise() {
    let m = market();
    let frame = df!("action" => ["offer", "nurture", "winback"], "language" => [Some("fr"), Some("pt"), None]).unwrap();
    let actual =
        frame.lazy().select([m.content(col("action"), col("language")).alias("content_id")]).collect().unwrap();
    let expected = df!("content_id" => ["foobar-offer-fr", "foobar-nurture-en", "foobar-winback-en"]).unwrap();
    assert_frame_eq(&actual, &expected);
}
