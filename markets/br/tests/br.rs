//! foobar-br against the spec: Portuguese column names, `;`, `DD/MM/YYYY`, decimal comma and `S`/`N` in the raw
//! extracts (hook `normalize`), Sunday quiet, and a `;`/`DD/MM/YYYY` export file (hook `export_format`).

#[path = "../../../pipeline-core/tests/common/mod.rs"]
mod common;

use std::path::Path;

use bytes::Bytes;
use common::*;
use foobar_br::FoobarBr;
use pipeline_core::raw::{ParsedTable, RawFile, Rejected, read_strings};
use pipeline_core::{Market, ModelWeights, Stage, Table};
use polars::prelude::*;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn market() -> FoobarBr {
    FoobarBr::load().unwrap()
}

fn raw(table: Table, text: &str) -> RawFile {
    RawFile { table, url: format!("s3://raw/foobar-br/{}.csv", table.name()), bytes: Bytes::from(text.to_string()) }
}

fn normalize(table: Table, text: &str) -> ParsedTable {
    let m = market();
    m.normalize(read_strings(&raw(table, text), &m.config().raw).unwrap()).unwrap()
}

const CUSTOMERS: &str = "id_cliente;segmento;regiao;idioma;data_cadastro;aceita_email;aceita_sms;aceita_telefone\n\
                         C1;A;SP;pt;11/11/2021;S;N;S\n\
                         C2;B;MG;en;05/01/2019;N;S;N\n";
const ORDERS: &str = "id_pedido;id_cliente;data_pedido;quantidade;valor\n\
                      O1;C1;16/05/2026;2;553,89\n\
                      O2;C2;01/12/2026;1;1000\n";
const INTERACTIONS: &str = "id_interacao;id_cliente;canal;data_hora;abriu;clicou\n\
                            I1;C1;email;15/11/2026 23:59:59;S;N\n\
                            I2;C2;visit;01/02/2026 06:00:13;N;S\n";

#[test]
fn br_declared_overrides_normalize_and_export_format_are_exactly_the_hooks_that_differ() {
    let m = market();
    market_contract::assert_overrides_listed(&m, Path::new(ROOT));
    market_contract::assert_listed_hooks_are_exactly_the_changed_ones(
        &m,
        &[raw(Table::Customers, CUSTOMERS), raw(Table::Orders, ORDERS), raw(Table::Interactions, INTERACTIONS)],
    );
}

#[test]
fn br_config_and_model_match_the_spec_table() {
    let m = market();
    let c = m.config();
    assert_eq!((c.currency.as_str(), c.fx_to_usd, c.timezone.as_str()), ("BRL", 0.18, "America/Sao_Paulo"));
    assert_eq!(c.languages, ["pt"]);
    assert_eq!(c.channel_priority, ["sms", "email", "call", "visit"]);
    assert_eq!(c.quiet_weekdays, ["Sun"]);
    assert_eq!(c.contact_share, 0.40);
    assert_eq!(
        *m.model(),
        ModelWeights { b: -1.00, w_freq: 0.70, w_mon: 0.30, w_rec: 1.20, w_open: 0.60, w_click: 1.50 }
    );
}

#[test]
fn br_normalize_renames_portuguese_customer_columns_and_reads_s_n_booleans() {
    let parsed = normalize(Table::Customers, CUSTOMERS);
    let expected = df!(
        "customer_id" => ["C1", "C2"],
        "segment" => ["A", "B"],
        "region" => ["SP", "MG"],
        "language" => ["pt", "en"],
        "signup_date" => [d(2021, 11, 11), d(2019, 1, 5)],
        "email_opt_in" => [true, false],
        "sms_opt_in" => [false, true],
        "phone_opt_in" => [true, false],
        "doi_confirmed" => [true, true],
    )
    .unwrap();
    assert_frame_eq(&parsed.frame, &expected);
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
}

#[test]
fn br_normalize_reads_orders_with_dd_mm_yyyy_dates_and_decimal_comma() {
    let parsed = normalize(Table::Orders, ORDERS);
    assert_frame_eq(
        &parsed.frame,
        &orders(&[("O1", "C1", d(2026, 5, 16), 2, 553.89), ("O2", "C2", d(2026, 12, 1), 1, 1000.0)]),
    );
}

#[test]
fn br_normalize_reads_interactions_with_data_hora_and_canal() {
    let parsed = normalize(Table::Interactions, INTERACTIONS);
    assert_frame_eq(
        &parsed.frame,
        &interactions(&[
            ("I1", "C1", "email", dt(2026, 11, 15, 23, 59, 59), true, false),
            ("I2", "C2", "visit", dt(2026, 2, 1, 6, 0, 13), false, true),
        ]),
    );
}

#[test]
fn br_rejects_iso_dates_and_true_false_tokens_with_the_expected_format() {
    let text = "id_pedido;id_cliente;data_pedido;quantidade;valor\n\
                O1;C1;2026-05-16;2;1,00\n\
                O2;C1;16/05/2026;2;1,0,0\n";
    let parsed = normalize(Table::Orders, text);
    assert_eq!(
        parsed.rejected,
        [
            Rejected {
                line: 2,
                reason: "column 'order_date': cannot parse '2026-05-16' as date (expected %d/%m/%Y)".into(),
                text: "O1;C1;2026-05-16;2;1,00".into(),
            },
            Rejected {
                line: 3,
                reason: "column 'amount': cannot parse '1,0,0' as number".into(),
                text: "O2;C1;16/05/2026;2;1,0,0".into(),
            },
        ]
    );
    let text = "id_interacao;id_cliente;canal;data_hora;abriu;clicou\nI1;C1;email;15/11/2026 10:00:00;true;N\n";
    assert_eq!(
        normalize(Table::Interactions, text).rejected,
        [Rejected {
            line: 2,
            reason: "column 'opened': cannot parse 'true' as boolean (expected one of 'S', 'N')".into(),
            text: "I1;C1;email;15/11/2026 10:00:00;true;N".into(),
        }]
    );
}

#[test]

fn br_missing_column_error_names_the_column_and_header_as_found_in_the_file() {
    let m = market();
    let text = "id_pedido;id_cliente;data_pedido;quantidade\nO1;C1;16/05/2026;2\n";
    let err = m.normalize(read_strings(&raw(Table::Orders, text), &m.config().raw).unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "raw file s3://raw/foobar-br/orders.csv is missing required column 'valor' \
         (header has: id_pedido,id_cliente,data_pedido,quantidade)"
    );
}

#[test]
fn br_schedule_skips_sunday() {
    let m = market();
    // Saturday 2026-11-14: Sunday is quiet -> Monday 2026-11-16.
    assert_eq!(m.schedule(d(2026, 11, 14)), d(2026, 11, 16));
    // Sunday 2026-11-15 (the weekly as_of) -> Monday 2026-11-16.
    assert_eq!(m.schedule(d(2026, 11, 15)), d(2026, 11, 16));
    // Friday 2026-11-20 -> Saturday 2026-11-21 (Saturday is not quiet in BR).
    assert_eq!(m.schedule(d(2026, 11, 20)), d(2026, 11, 21));
}

#[test]
fn br_export_writes_semicolons_and_dd_mm_yyyy_dates() {
    let recs = df!(
        "customer_id" => ["C2", "C1"],
        "action" => ["offer", "winback"],
        "channel" => ["sms", "email"],
        "scheduled_date" => [d(2026, 11, 16), d(2026, 11, 16)],
        "content_id" => ["foobar-offer-pt", "foobar-winback-pt"],
        "propensity" => [0.912345, 0.05],
        "rank" => [1i64, 2],
    )
    .unwrap();
    let out = run(Stage::Export, &market(), as_of(), &inputs(vec![(Stage::Recommend, "recommendations", recs)]));
    let file = out.artifacts.iter().find(|a| a.key == "foobar-br/2026-11-15/recommendations.csv").expect("export file");
    assert_eq!(
        std::str::from_utf8(&file.bytes).unwrap(),
        "customer_id;action;channel;scheduled_date;content_id;propensity;rank\n\
         C2;offer;sms;16/11/2026;foobar-offer-pt;0.912345;1\n\
         C1;winback;email;16/11/2026;foobar-winback-pt;0.050000;2\n"
    );
}
