//! foobar-au against the spec: the reference market, canonical raw extracts and the base behaviour of every hook;
//! only its configuration and model are its own.

#[path = "../../../pipeline-core/tests/common/mod.rs"]
mod common;

use std::path::Path;

use bytes::Bytes;
use common::*;
use foobar_au::FoobarAu;
use pipeline_core::raw::{RawFile, read_strings};
use pipeline_core::{Market, ModelWeights, Stage, Table};
use polars::prelude::*;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn market() -> FoobarAu {
    FoobarAu::load().unwrap()
}

fn raw(table: Table, text: &str) -> RawFile {
    RawFile { table, url: format!("s3://raw/foobar-au/{}.csv", table.name()), bytes: Bytes::from(text.to_string()) }
}

const CUSTOMERS: &str = "customer_id,segment,region,language,signup_date,email_opt_in,sms_opt_in,phone_opt_in\n\
                         C1,C,NSW,en,2021-11-11,true,false,true\n";
const ORDERS: &str = "order_id,customer_id,order_date,quantity,amount\nO1,C1,2026-11-01,2,153.38\n";
const INTERACTIONS: &str = "interaction_id,customer_id,channel,ts,opened,clicked\n\
                            I1,C1,visit,2026-11-15 23:59:59,false,false\n";

#[test]
fn au_overrides_no_hook_and_behaves_as_base_for_every_hook() {
    let m = market();
    market_contract::assert_overrides_listed(&m, Path::new(ROOT));
    market_contract::assert_listed_hooks_are_exactly_the_changed_ones(
        &m,
        &[raw(Table::Customers, CUSTOMERS), raw(Table::Orders, ORDERS), raw(Table::Interactions, INTERACTIONS)],
    );
}

#[test]
fn au_config_and_model_match_the_spec_table() {
    let m = market();
    let c = m.config();
    assert_eq!((c.currency.as_str(), c.fx_to_usd, c.timezone.as_str()), ("AUD", 0.65, "Australia/Sydney"));
    assert_eq!(c.languages, ["en"]);
    assert_eq!(c.channel_priority, ["email", "sms", "call", "visit"]);
    assert!(c.quiet_weekdays.is_empty());
    assert_eq!(c.contact_share, 0.50);
    assert_eq!(c.allowed_channels, ["email", "sms", "call", "visit", "web"]);
    assert_eq!(
        *m.model(),
        ModelWeights { b: -1.20, w_freq: 0.80, w_mon: 0.25, w_rec: 1.50, w_open: 0.90, w_click: 1.20 }
    );
}

#[test]
fn au_normalize_reads_the_canonical_extract_with_doi_confirmed_true() {
    let m = market();
    let parsed = m.normalize(read_strings(&raw(Table::Customers, CUSTOMERS), &m.config().raw).unwrap()).unwrap();
    let expected = df!(
        "customer_id" => ["C1"],
        "segment" => ["C"],
        "region" => ["NSW"],
        "language" => ["en"],
        "signup_date" => [d(2021, 11, 11)],
        "email_opt_in" => [true],
        "sms_opt_in" => [false],
        "phone_opt_in" => [true],
        "doi_confirmed" => [true],
    )
    .unwrap();
    assert_frame_eq(&parsed.frame, &expected);
}

#[test]
fn au_propensity_uses_the_au_weights() {
    let features = df!(
        "customer_id" => ["C1"],
        "recency_days" => [14i64],
        "frequency_90d" => [2i64],
        "monetary_90d_usd" => [199.39],
        "email_open_rate_90d" => [0.5],
        "click_rate_90d" => [0.1],
        "tenure_days" => [1830i64],
        "preferred_channel" => [Some("visit")],
    )
    .unwrap();
    let out = run(Stage::Score, &market(), as_of(), &inputs(vec![(Stage::Features, "features", features)]));
    // z = -1.20 + 0.80 ln 3 + 0.25 ln 200.39 - 1.50 * 14 / 365 + 0.90 * 0.5 + 1.20 * 0.1
    let z = -1.20 + 0.80 * 3f64.ln() + 0.25 * 200.39f64.ln() - 1.50 * 14.0 / 365.0 + 0.45 + 0.12;
    let p = ((1.0 / (1.0 + (-z).exp())) * 1e6).round() / 1e6;
    let expected = df!("customer_id" => ["C1"], "propensity" => [p]).unwrap();
    assert_frame_eq(&table(&out, "scores").select(["customer_id", "propensity"]).unwrap(), &expected);
}

#[test]
fn au_schedules_the_day_after_as_of_every_weekday() {
    let m = market();
    // No quiet weekday: Friday 2026-11-20 -> Saturday, Saturday -> Sunday, Sunday 2026-11-15 -> Monday.
    assert_eq!(m.schedule(d(2026, 11, 20)), d(2026, 11, 21));
    assert_eq!(m.schedule(d(2026, 11, 21)), d(2026, 11, 22));
    assert_eq!(m.schedule(d(2026, 11, 15)), d(2026, 11, 16));
}
