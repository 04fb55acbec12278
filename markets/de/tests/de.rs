//! foobar-de against the spec: email needs double opt-in (`doi_confirmed`, hook `eligible_channels`), `;`,
//! `DD.MM.YYYY` / `DD.MM.YYYY HH:MM:SS` and decimal commas in the raw extracts, Saturday and Sunday quiet.

#[path = "../../../pipeline-core/tests/common/mod.rs"]
mod common;

use std::path::Path;

use bytes::Bytes;
use common::*;
use foobar_de::FoobarDe;
use pipeline_core::raw::{ParsedTable, RawFile, Rejected, read_strings};
use pipeline_core::{Market, ModelWeights, Stage, Table};
use polars::prelude::*;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn market() -> FoobarDe {
    FoobarDe::load().unwrap()
}

fn raw(table: Table, text: &str) -> RawFile {
    RawFile { table, url: format!("s3://raw/foobar-de/{}.csv", table.name()), bytes: Bytes::from(text.to_string()) }
}

fn normalize(table: Table, text: &str) -> ParsedTable {
    let m = market();
    m.normalize(read_strings(&raw(table, text), &m.config().raw).unwrap()).unwrap()
}

const CUSTOMERS: &str = "customer_id;segment;region;language;signup_date;email_opt_in;sms_opt_in;phone_opt_in;doi_confirmed\n\
                         C1;A;BY;de;11.11.2021;true;false;true;false\n\
                         C2;C;NW;en;05.01.2019;true;true;false;true\n";
const CUSTOMERS_WITHOUT_DOI: &str = "customer_id;segment;region;language;signup_date;email_opt_in;sms_opt_in;phone_opt_in\n\
                                     C1;A;BY;de;11.11.2021;true;false;true\n";
const ORDERS: &str = "order_id;customer_id;order_date;quantity;amount\n\
                      O1;C1;16.05.2026;2;92,31\n\
                      O2;C2;01.11.2026;1;1000\n";
const INTERACTIONS: &str = "interaction_id;customer_id;channel;ts;opened;clicked\n\
                            I1;C1;email;15.11.2026 23:59:59;true;false\n\
                            I2;C2;call;01.02.2026 06:00:13;false;true\n";

#[test]
fn de_declared_overrides_normalize_and_eligible_channels_are_exactly_the_hooks_that_differ() {
    let m = market();
    market_contract::assert_overrides_listed(&m, Path::new(ROOT));
    market_contract::assert_listed_hooks_are_exactly_the_changed_ones(
        &m,
        &[
            raw(Table::Customers, CUSTOMERS),
            raw(Table::Orders, ORDERS),
            raw(Table::Interactions, INTERACTIONS),
            // The base takes a missing doi_confirmed as true; DE requires the column.
            raw(Table::Customers, CUSTOMERS_WITHOUT_DOI),
        ],
    );
}

#[test]
fn de_config_and_model_match_the_spec_table() {
    let m = market();
    let c = m.config();
    assert_eq!((c.currency.as_str(), c.fx_to_usd, c.timezone.as_str()), ("EUR", 1.08, "Europe/Berlin"));
    assert_eq!(c.languages, ["de"]);
    assert_eq!(c.channel_priority, ["email", "call", "visit", "sms"]);
    assert_eq!(c.quiet_weekdays, ["Sat", "Sun"]);
    assert_eq!(c.contact_share, 0.35);
    assert_eq!(
        *m.model(),
        ModelWeights { b: -1.30, w_freq: 0.75, w_mon: 0.28, w_rec: 1.60, w_open: 1.10, w_click: 1.00 }
    );
}

#[test]
fn de_email_is_eligible_only_with_doi_confirmed() {
    let c = df!(
        "customer_id" => ["C1", "C2", "C3", "C4"],
        "segment" => ["A", "B", "B", "B"],
        "email_opt_in" => [true, true, true, false],
        "sms_opt_in" => [true, false, false, false],
        "phone_opt_in" => [false, true, false, false],
        "doi_confirmed" => [Some(false), Some(true), None, Some(true)],
    )
    .unwrap();
    let exprs: Vec<Expr> = market().eligible_channels().into_iter().map(|(ch, cond)| cond.alias(ch)).collect();
    let actual = c.lazy().select(exprs).collect().unwrap();
    let expected = df!(
        "email" => [false, true, false, false],
        "sms" => [true, false, false, false],
        "call" => [false, true, false, false],
        "visit" => [true, false, false, false],
    )
    .unwrap();
    assert_frame_eq(&actual, &expected);
}

#[test]
fn de_customer_with_email_opt_in_but_no_doi_gets_another_channel_or_is_dropped() {
    let no_doi = |id| Customer { email: Some(true), doi: false, ..customer(id) };
    let mut rows = vec![
        Customer { phone: Some(true), ..no_doi("D1") }, // email (preferred) not eligible: call
        no_doi("D2"),                                   // nothing else: dropped
        Customer { doi: true, phone: Some(true), ..no_doi("D3") }, // doi: email
        Customer { sms: Some(true), ..no_doi("D4") },   // sms, the only channel left
        Customer { segment: "A", ..no_doi("D5") },      // visit
    ];
    // Eight lower-ranked customers reachable by phone, so that floor(0.35 * 12) = 4 rows are kept.
    let fillers = ["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8"];
    rows.extend(fillers.iter().map(|id| Customer { phone: Some(true), ..customer(id) }));
    let mut scores: Vec<(&str, f64)> = vec![("D1", 0.95), ("D2", 0.99), ("D3", 0.94), ("D4", 0.93), ("D5", 0.92)];
    scores.extend(fillers.iter().map(|id| (*id, 0.5)));
    let scores = df!(
        "customer_id" => scores.iter().map(|s| s.0).collect::<Vec<_>>(),
        "recency_days" => scores.iter().map(|_| 10i64).collect::<Vec<_>>(),
        "preferred_channel" => scores.iter().map(|_| Some("email")).collect::<Vec<_>>(),
        "propensity" => scores.iter().map(|s| s.1).collect::<Vec<_>>(),
    )
    .unwrap();
    let inputs = inputs(vec![(Stage::Score, "scores", scores), (Stage::Ingest, "customers", customers(&rows))]);
    let out = run(Stage::Recommend, &market(), as_of(), &inputs);
    // Language en is not a DE language: content falls back to de. Sunday as_of -> Monday 2026-11-16.
    let expected = df!(
        "customer_id" => ["D1", "D3", "D4", "D5"],
        "action" => ["offer"; 4],
        "channel" => ["call", "email", "sms", "visit"],
        "scheduled_date" => [d(2026, 11, 16); 4],
        "content_id" => ["foobar-offer-de"; 4],
        "propensity" => [0.95, 0.94, 0.93, 0.92],
        "rank" => [1i64, 2, 3, 4],
    )
    .unwrap();
    assert_frame_eq(table(&out, "recommendations"), &expected);
}

#[test]
fn de_customers_carry_doi_confirmed_and_dotted_dates() {
    let parsed = normalize(Table::Customers, CUSTOMERS);
    let expected = df!(
        "customer_id" => ["C1", "C2"],
        "segment" => ["A", "C"],
        "region" => ["BY", "NW"],
        "language" => ["de", "en"],
        "signup_date" => [d(2021, 11, 11), d(2019, 1, 5)],
        "email_opt_in" => [true, true],
        "sms_opt_in" => [false, true],
        "phone_opt_in" => [true, false],
        "doi_confirmed" => [false, true],
    )
    .unwrap();
    assert_frame_eq(&parsed.frame, &expected);
}

#[test]

fn de_customers_without_doi_confirmed_column_fail_naming_file_and_column() {
    let m = market();
    let text = "customer_id;segment;region;language;signup_date;email_opt_in;sms_opt_in;phone_opt_in\n\
                C1;A;BY;de;11.11.2021;true;false;true\n";
    let result = m.normalize(read_strings(&raw(Table::Customers, text), &m.config().raw).unwrap());
    assert_eq!(
        result.map(|p| p.frame).unwrap_err().to_string(),
        "raw file s3://raw/foobar-de/customers.csv is missing required column 'doi_confirmed' \
         (header has: customer_id,segment,region,language,signup_date,email_opt_in,sms_opt_in,phone_opt_in)"
    );
}

#[test]
fn de_orders_read_dd_mm_yyyy_dates_and_decimal_comma() {
    let text = format!("{ORDERS}O3;C1;2026-11-01;1;1,00\n");
    let parsed = normalize(Table::Orders, &text);
    assert_frame_eq(
        &parsed.frame,
        &orders(&[("O1", "C1", d(2026, 5, 16), 2, 92.31), ("O2", "C2", d(2026, 11, 1), 1, 1000.0)]),
    );
    assert_eq!(
        parsed.rejected,
        [Rejected {
            line: 4,
            reason: "column 'order_date': cannot parse '2026-11-01' as date (expected %d.%m.%Y)".into(),
            text: "O3;C1;2026-11-01;1;1,00".into(),
        }]
    );
}

#[test]
fn de_interactions_read_dd_mm_yyyy_hh_mm_ss() {
    let parsed = normalize(Table::Interactions, INTERACTIONS);
    assert_frame_eq(
        &parsed.frame,
        &interactions(&[
            ("I1", "C1", "email", dt(2026, 11, 15, 23, 59, 59), true, false),
            ("I2", "C2", "call", dt(2026, 2, 1, 6, 0, 13), false, true),
        ]),
    );
}

#[test]
fn de_schedule_skips_saturday_and_sunday() {
    let m = market();
    // Friday 2026-11-20 -> Monday 2026-11-23; Saturday 2026-11-21 -> Monday; Sunday 2026-11-15 -> Monday 2026-11-16.
    assert_eq!(m.schedule(d(2026, 11, 20)), d(2026, 11, 23));
    assert_eq!(m.schedule(d(2026, 11, 21)), d(2026, 11, 23));
    assert_eq!(m.schedule(d(2026, 11, 15)), d(2026, 11, 16));
    // Thursday 2026-11-19 -> Friday.
    assert_eq!(m.schedule(d(2026, 11, 19)), d(2026, 11, 20));
}
