//! Shared helpers of the pipeline-core integration tests: a test market defined by inline TOML, builders of
//! canonical frames, and runners for a single stage and its check.

#![allow(dead_code, missing_docs)] // every test binary uses a different subset of these helpers

pub mod market_contract;

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{NaiveDate, NaiveDateTime};
use pipeline_core::raw::RawFile;
use pipeline_core::stages::{StageContext, StageInputs, StageOutput};
use pipeline_core::{CheckResult, Market, MarketDef, Stage, Table};
use polars::prelude::*;

/// Market id of the test market.
pub const ID: &str = "foobar-xx";

/// Model of the test market (the foobar-au weights with another intercept).
pub const MODEL_TOML: &str = "b = -1.0\nw_freq = 0.8\nw_mon = 0.25\nw_rec = 1.5\nw_open = 0.9\nw_click = 1.2\n";

/// Top-level keys of the test market's `market.toml`; [`TestMarket::with`] replaces or adds keys.
const DEFAULTS: [(&str, &str); 7] = [
    ("id", "\"foobar-xx\""),
    ("currency", "\"XXX\""),
    ("fx_to_usd", "0.5"),
    ("timezone", "\"UTC\""),
    ("languages", "[\"en\", \"fr\"]"),
    ("channel_priority", "[\"email\", \"sms\", \"call\", \"visit\"]"),
    ("regions", "[\"N\", \"S\"]"),
];

/// A market that overrides no hook: its config and model come from inline TOML.
pub struct TestMarket {
    def: MarketDef,
}

impl TestMarket {
    /// The test market with the base configuration: `,`, ISO dates, no quiet days, contact_share 0.50.
    pub fn new() -> Self {
        Self::with(&[])
    }

    /// The test market with some top-level `market.toml` keys set (values are TOML, e.g. `("contact_share", "1.0")`,
    /// or an inline table that is merged over the base, e.g. `("raw", "{ delimiter = \";\" }")`).
    pub fn with(settings: &[(&str, &str)]) -> Self {
        let mut keys: Vec<(&str, &str)> = DEFAULTS.to_vec();
        for &(key, value) in settings {
            match keys.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => keys.push((key, value)),
            }
        }
        let toml: String = keys.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        Self { def: MarketDef::load(ID, &toml, MODEL_TOML).expect("test market.toml is valid") }
    }
}

impl Market for TestMarket {
    fn def(&self) -> &MarketDef {
        &self.def
    }

    fn sources(&self) -> &'static [pipeline_core::sources::SourceFile] {
        &[]
    }
}

/// A calendar date.
pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

/// A naive local datetime.
pub fn dt(y: i32, m: u32, day: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
    d(y, m, day).and_hms_opt(h, min, s).expect("valid time")
}

/// Sunday 2026-11-15, the as_of of the committed fixtures.
pub fn as_of() -> NaiveDate {
    d(2026, 11, 15)
}

/// Asserts two frames have the same column names, dtypes and values (nulls equal), showing both when they differ.
#[track_caller]
pub fn assert_frame_eq(actual: &DataFrame, expected: &DataFrame) {
    if let Err(e) = actual.schema_equal(expected) {
        panic!("schema differs: {e}\n{actual}\n!=\n{expected}");
    }
    assert!(actual.equals_missing(expected), "{actual}\n!=\n{expected}");
}

/// One canonical customer row.
#[derive(Clone, Copy)]
pub struct Customer {
    pub id: &'static str,
    pub segment: &'static str,
    pub language: Option<&'static str>,
    pub signup: NaiveDate,
    pub email: Option<bool>,
    pub sms: Option<bool>,
    pub phone: Option<bool>,
    pub doi: bool,
}

/// A customer of segment `B`, language `en`, signed up on 2024-01-01, with no opt-in.
pub fn customer(id: &'static str) -> Customer {
    Customer {
        id,
        segment: "B",
        language: Some("en"),
        signup: d(2024, 1, 1),
        email: Some(false),
        sms: Some(false),
        phone: Some(false),
        doi: true,
    }
}

/// The canonical customers table of `rows` (region is `R1` for every row).
pub fn customers(rows: &[Customer]) -> DataFrame {
    df!(
        "customer_id" => rows.iter().map(|c| c.id).collect::<Vec<_>>(),
        "segment" => rows.iter().map(|c| c.segment).collect::<Vec<_>>(),
        "region" => rows.iter().map(|_| "R1").collect::<Vec<_>>(),
        "language" => rows.iter().map(|c| c.language).collect::<Vec<_>>(),
        "signup_date" => rows.iter().map(|c| c.signup).collect::<Vec<_>>(),
        "email_opt_in" => rows.iter().map(|c| c.email).collect::<Vec<_>>(),
        "sms_opt_in" => rows.iter().map(|c| c.sms).collect::<Vec<_>>(),
        "phone_opt_in" => rows.iter().map(|c| c.phone).collect::<Vec<_>>(),
        "doi_confirmed" => rows.iter().map(|c| c.doi).collect::<Vec<_>>(),
    )
    .unwrap()
}

/// The canonical orders table: `(order_id, customer_id, order_date, quantity, amount)`.
pub fn orders(rows: &[(&str, &str, NaiveDate, i64, f64)]) -> DataFrame {
    df!(
        "order_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "customer_id" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "order_date" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "quantity" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        "amount" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
    )
    .unwrap()
}

/// The canonical interactions table: `(interaction_id, customer_id, channel, ts, opened, clicked)`, with `ts` in
/// microseconds as ingest writes it.
pub fn interactions(rows: &[(&str, &str, &str, NaiveDateTime, bool, bool)]) -> DataFrame {
    df!(
        "interaction_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "customer_id" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "channel" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "ts" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        "opened" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        "clicked" => rows.iter().map(|r| r.5).collect::<Vec<_>>(),
    )
    .unwrap()
    .lazy()
    .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Microseconds, None)))
    .collect()
    .unwrap()
}

/// Stage inputs holding the given earlier-stage tables.
pub fn inputs(tables: Vec<(Stage, &str, DataFrame)>) -> StageInputs {
    StageInputs {
        raw: BTreeMap::new(),
        tables: tables.into_iter().map(|(stage, name, df)| ((stage, name.to_string()), df)).collect(),
    }
}

/// The inputs of the features stage (validate's report is only a gate, so it is an empty frame).
pub fn feature_inputs(customers: DataFrame, orders: DataFrame, interactions: DataFrame) -> StageInputs {
    inputs(vec![
        (Stage::Ingest, "customers", customers),
        (Stage::Ingest, "orders", orders),
        (Stage::Ingest, "interactions", interactions),
        (Stage::Validate, "checks", DataFrame::empty()),
    ])
}

/// Stage inputs holding raw extracts.
pub fn raw_inputs(files: Vec<RawFile>) -> StageInputs {
    StageInputs { raw: files.into_iter().map(|f| (f.table, f)).collect(), tables: BTreeMap::new() }
}

/// A raw extract of the test market at `s3://raw/foobar-xx/{table}.csv`.
pub fn raw_file(table: Table, text: &str) -> RawFile {
    RawFile { table, url: format!("s3://raw/{ID}/{}.csv", table.name()), bytes: Bytes::from(text.to_string()) }
}

/// Runs `stage` for `market` at `as_of` with no cache keys, run id `run-1`.
pub fn run(stage: Stage, market: &dyn Market, as_of: NaiveDate, inputs: &StageInputs) -> StageOutput {
    let keys = BTreeMap::new();
    let ctx = StageContext { market, as_of, run_id: "run-1", cache_keys: &keys };
    (stage.spec().run)(&ctx, inputs).unwrap_or_else(|e| panic!("{stage} failed: {e}"))
}

/// Runs the check of `stage` on `output`.
pub fn check(stage: Stage, market: &dyn Market, as_of: NaiveDate, output: &StageOutput) -> Vec<CheckResult> {
    let keys = BTreeMap::new();
    let ctx = StageContext { market, as_of, run_id: "run-1", cache_keys: &keys };
    (stage.spec().check)(&ctx, output).unwrap_or_else(|e| panic!("check of {stage} failed: {e}"))
}

/// The one output table of a stage run.
pub fn table<'a>(output: &'a StageOutput, name: &str) -> &'a DataFrame {
    output.table(name).unwrap_or_else(|| panic!("no output table {name}"))
}

/// The check named `name` on `subject`; panics when there is not exactly one.
#[track_caller]
pub fn find<'a>(checks: &'a [CheckResult], name: &str, subject: &str) -> &'a CheckResult {
    let found: Vec<&CheckResult> = checks.iter().filter(|c| c.name == name && c.subject == subject).collect();
    assert_eq!(found.len(), 1, "expected one {name} check on {subject}, got {checks:#?}");
    found[0]
}
