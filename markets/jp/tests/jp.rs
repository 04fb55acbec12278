//! foobar-jp against the spec: no `sms_opt_in` column (false for everyone, hook `normalize`), `YYYY/MM/DD` dates
//! and datetimes, integer yen amounts, and no `sms` channel (the validate channel check FAILs on one).

#[path = "../../../pipeline-core/tests/common/mod.rs"]
mod common;

use std::path::Path;

use bytes::Bytes;
use common::*;
use foobar_jp::FoobarJp;
use pipeline_core::raw::{ParsedTable, RawFile, Rejected, read_strings};
use pipeline_core::{CheckResult, CheckStatus, Market, ModelWeights, Stage, Table};
use polars::prelude::*;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn market() -> FoobarJp {
    FoobarJp::load().unwrap()
}

fn raw(table: Table, text: &str) -> RawFile {
    RawFile { table, url: format!("s3://raw/foobar-jp/{}.csv", table.name()), bytes: Bytes::from(text.to_string()) }
}

fn normalize(table: Table, text: &str) -> ParsedTable {
    let m = market();
    m.normalize(read_strings(&raw(table, text), &m.config().raw).unwrap()).unwrap()
}

const CUSTOMERS: &str = "customer_id,segment,region,language,signup_date,email_opt_in,phone_opt_in\n\
                         C1,A,TKY,ja,2021/11/11,true,true\n\
                         C2,C,KNG,en,2019/01/05,false,false\n";
const ORDERS: &str = "order_id,customer_id,order_date,quantity,amount\n\
                      O1,C1,2026/11/01,2,14881\n\
                      O2,C2,2026/10/31,1,500\n";
const INTERACTIONS: &str = "interaction_id,customer_id,channel,ts,opened,clicked\n\
                            I1,C1,visit,2026/11/15 23:59:59,false,true\n";

#[test]
fn jp_declared_override_normalize_is_exactly_the_hook_that_differs() {
    let m = market();
    market_contract::assert_overrides_listed(&m, Path::new(ROOT));
    market_contract::assert_listed_hooks_are_exactly_the_changed_ones(
        &m,
        &[raw(Table::Customers, CUSTOMERS), raw(Table::Orders, ORDERS), raw(Table::Interactions, INTERACTIONS)],
    );
}

#[test]
fn jp_config_and_model_match_the_spec_table() {
    let m = market();
    let c = m.config();
    assert_eq!((c.currency.as_str(), c.fx_to_usd, c.timezone.as_str()), ("JPY", 0.0067, "Asia/Tokyo"));
    assert_eq!(c.languages, ["ja"]);
    assert_eq!(c.channel_priority, ["email", "visit", "call"]);
    assert!(c.quiet_weekdays.is_empty());
    assert_eq!(c.contact_share, 0.30);
    assert_eq!(c.allowed_channels, ["email", "call", "visit", "web"]);
    assert_eq!(
        *m.model(),
        ModelWeights { b: -1.40, w_freq: 0.90, w_mon: 0.20, w_rec: 1.80, w_open: 0.70, w_click: 0.90 }
    );
}

#[test]
fn jp_normalize_sets_sms_opt_in_false_for_every_customer_and_reads_slash_dates() {
    let parsed = normalize(Table::Customers, CUSTOMERS);
    let expected = df!(
        "customer_id" => ["C1", "C2"],
        "segment" => ["A", "C"],
        "region" => ["TKY", "KNG"],
        "language" => ["ja", "en"],
        "signup_date" => [d(2021, 11, 11), d(2019, 1, 5)],
        "email_opt_in" => [true, false],
        "sms_opt_in" => [false, false],
        "phone_opt_in" => [true, false],
        "doi_confirmed" => [true, true],
    )
    .unwrap();
    assert_frame_eq(&parsed.frame, &expected);
}

#[test]
fn jp_normalize_reads_integer_yen_amounts_and_slash_dates() {
    let parsed = normalize(Table::Orders, ORDERS);
    assert_frame_eq(
        &parsed.frame,
        &orders(&[("O1", "C1", d(2026, 11, 1), 2, 14881.0), ("O2", "C2", d(2026, 10, 31), 1, 500.0)]),
    );
}

#[test]
fn jp_normalize_reads_slash_datetimes() {
    let parsed = normalize(Table::Interactions, INTERACTIONS);
    assert_frame_eq(&parsed.frame, &interactions(&[("I1", "C1", "visit", dt(2026, 11, 15, 23, 59, 59), false, true)]));
}

#[test]
fn jp_rejects_iso_dates_naming_the_slash_format() {
    let text = "order_id,customer_id,order_date,quantity,amount\nO1,C1,2026-11-01,2,14881\n";
    assert_eq!(
        normalize(Table::Orders, text).rejected,
        [Rejected {
            line: 2,
            reason: "column 'order_date': cannot parse '2026-11-01' as date (expected %Y/%m/%d)".into(),
            text: "O1,C1,2026-11-01,2,14881".into(),
        }]
    );
}

#[test]
fn jp_monetary_converts_yen_at_0_0067() {
    let c = customers(&[customer("C1"), customer("C2")]);
    let o = orders(&[("O1", "C1", d(2026, 11, 1), 2, 14881.0), ("O2", "C2", d(2026, 11, 2), 1, 500.0)]);
    let out = run(Stage::Features, &market(), as_of(), &feature_inputs(c, o, interactions(&[])));
    // 14881 * 0.0067 = 99.7027 -> 99.70; 500 * 0.0067 = 3.35.
    let expected = df!("customer_id" => ["C1", "C2"], "monetary_90d_usd" => [99.70, 3.35]).unwrap();
    assert_frame_eq(&table(&out, "features").select(["customer_id", "monetary_90d_usd"]).unwrap(), &expected);
}

fn channel_check(channels: &[&'static str]) -> CheckResult {
    let m = market();
    let c = customers(&[customer("C1")]);
    let o = orders(&[("O1", "C1", d(2026, 11, 14), 1, 100.0)]);
    let ids: Vec<String> = (0..channels.len()).map(|k| format!("I{k}")).collect();
    let i = interactions(
        &channels
            .iter()
            .zip(&ids)
            .map(|(ch, id)| (id.as_str(), "C1", *ch, dt(2026, 11, 14, 9, 0, 0), false, false))
            .collect::<Vec<_>>(),
    );
    let inputs =
        inputs(vec![(Stage::Ingest, "customers", c), (Stage::Ingest, "orders", o), (Stage::Ingest, "interactions", i)]);
    let out = run(Stage::Validate, &m, as_of(), &inputs);
    find(&check(Stage::Validate, &m, as_of(), &out), "channel", "interactions.channel").clone()
}

#[test]
fn jp_channel_check_passes_without_sms() {
    assert_eq!(
        channel_check(&["email", "call", "visit", "web"]),
        CheckResult {
            name: "channel".into(),
            subject: "interactions.channel".into(),
            rule: "FAIL if outside email, call, visit, web".into(),
            measured: 0.0,
            status: CheckStatus::Pass,
            message: "every channel is allowed".into(),
            detail: None,
        }
    );
}

#[test]
fn jp_channel_check_fails_on_an_sms_interaction() {
    assert_eq!(
        channel_check(&["email", "sms", "web"]),
        CheckResult {
            name: "channel".into(),
            subject: "interactions.channel".into(),
            rule: "FAIL if outside email, call, visit, web".into(),
            measured: 1.0,
            status: CheckStatus::Fail,
            message: "1 interactions on channels not allowed here: sms".into(),
            detail: None,
        }
    );
}
