//! The data quality checks (spec: "Data quality checks"), each shown passing and firing at its levels, with the
//! exact status, measured value and message. Thresholds are the base defaults: parse errors and orphans FAIL above
//! 1%, null share ALERTs above 5%, freshness 14 days, row count ±50%.

mod common;

use std::collections::BTreeMap;

use common::*;
use pipeline_core::engine::row_count_checks;
use pipeline_core::stages::StageOutput;
use pipeline_core::{CheckResult, CheckStatus, Stage, Table};
use polars::prelude::*;

fn result(name: &str, subject: &str, rule: &str, measured: f64, status: CheckStatus, message: &str) -> CheckResult {
    CheckResult {
        name: name.into(),
        subject: subject.into(),
        rule: rule.into(),
        measured,
        status,
        message: message.into(),
        detail: None,
    }
}

use CheckStatus::{Alert, Fail, Pass};

// ---------------------------------------------------------------------------------------------------------------
// ingest: parse_errors

const CUSTOMERS_HEADER: &str = "customer_id,segment,region,language,signup_date,email_opt_in,sms_opt_in,phone_opt_in";

/// Runs ingest on a customers extract of `good` good lines and `bad` lines with a bad date, and returns the
/// parse_errors check on customers.
fn parse_errors(good: usize, bad: usize) -> CheckResult {
    let mut customers = format!("{CUSTOMERS_HEADER}\n");
    for i in 0..good {
        customers.push_str(&format!("C{i:03},A,R1,en,2024-01-01,true,false,false\n"));
    }
    for i in 0..bad {
        customers.push_str(&format!("X{i:03},A,R1,en,2024-13-01,true,false,false\n"));
    }
    let files = vec![
        raw_file(Table::Customers, &customers),
        raw_file(Table::Orders, "order_id,customer_id,order_date,quantity,amount\nO1,C000,2026-11-01,1,1.0\n"),
        raw_file(
            Table::Interactions,
            "interaction_id,customer_id,channel,ts,opened,clicked\nI1,C000,email,2026-11-01 09:00:00,true,false\n",
        ),
    ];
    let market = TestMarket::new();
    let out = run(Stage::Ingest, &market, as_of(), &raw_inputs(files));
    let checks = check(Stage::Ingest, &market, as_of(), &out);
    assert_eq!(checks.len(), 3, "one parse_errors check per table: {checks:#?}");
    for other in ["orders", "interactions"] {
        assert_eq!(find(&checks, "parse_errors", other).status, Pass);
    }
    find(&checks, "parse_errors", "customers").clone()
}

const PARSE_RULE: &str = "ALERT if > 0, FAIL if > 1%";

#[test]
fn parse_errors_pass_when_no_line_is_quarantined() {
    assert_eq!(
        parse_errors(100, 0),
        result("parse_errors", "customers", PARSE_RULE, 0.0, Pass, "0 of 100 lines quarantined (0.000%)")
    );
}

#[test]
fn parse_errors_alert_at_exactly_1_percent_of_lines() {
    assert_eq!(
        parse_errors(99, 1),
        result("parse_errors", "customers", PARSE_RULE, 1.0, Alert, "1 of 100 lines quarantined (1.000%)")
    );
}

#[test]
fn parse_errors_fail_above_1_percent_of_lines() {
    assert_eq!(
        parse_errors(99, 2),
        result("parse_errors", "customers", PARSE_RULE, 2.0, Fail, "2 of 101 lines quarantined (1.980%)")
    );
}

// ---------------------------------------------------------------------------------------------------------------
// validate

/// Twenty customers C01..C20 with every column set, one order each on as_of - 1 and one email interaction each:
/// every validate check passes on these.
fn valid() -> (DataFrame, DataFrame, DataFrame) {
    let ids: Vec<&'static str> = (1..=20).map(|i| &*format!("C{i:02}").leak()).collect();
    let c = customers(&ids.iter().map(|id| customer(id)).collect::<Vec<_>>());
    let o: Vec<(String, &str)> = ids.iter().map(|id| (format!("O{id}"), *id)).collect();
    let o = orders(&o.iter().map(|(oid, id)| (oid.as_str(), *id, d(2026, 11, 14), 1, 10.0)).collect::<Vec<_>>());
    let i: Vec<(String, &str)> = ids.iter().map(|id| (format!("I{id}"), *id)).collect();
    let i = interactions(
        &i.iter()
            .map(|(iid, id)| (iid.as_str(), *id, "email", dt(2026, 11, 14, 9, 0, 0), true, false))
            .collect::<Vec<_>>(),
    );
    (c, o, i)
}

fn validate_with(market: &TestMarket, c: DataFrame, o: DataFrame, i: DataFrame) -> Vec<CheckResult> {
    let inputs =
        inputs(vec![(Stage::Ingest, "customers", c), (Stage::Ingest, "orders", o), (Stage::Ingest, "interactions", i)]);
    let out = run(Stage::Validate, market, as_of(), &inputs);
    let checks = check(Stage::Validate, market, as_of(), &out);
    assert_eq!(checks, out.checks, "validate's check reports the checks it computed");
    checks
}

fn validate(c: DataFrame, o: DataFrame, i: DataFrame) -> Vec<CheckResult> {
    validate_with(&TestMarket::new(), c, o, i)
}

/// Replaces column `name` of `df` with `values`.
fn set<T>(mut df: DataFrame, name: &str, values: T) -> DataFrame
where
    Series: NamedFrom<T, [Option<&'static str>]>,
{
    df.with_column(Column::new(name.into(), values)).unwrap();
    df
}

/// `n` orders of customer C01 (O001..) on as_of - 1, plus `orphans` orders of customer X99.
fn orders_with_orphans(n: usize, orphans: usize) -> DataFrame {
    let ids: Vec<String> = (0..n + orphans).map(|i| format!("O{i:03}")).collect();
    let rows: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(k, id)| (id.as_str(), if k < n { "C01" } else { "X99" }, d(2026, 11, 14), 1, 1.0))
        .collect();
    orders(&rows)
}

/// `n` interactions of customer C01 on as_of - 1, plus `orphans` interactions of customer X99.
fn interactions_with_orphans(n: usize, orphans: usize) -> DataFrame {
    let ids: Vec<String> = (0..n + orphans).map(|i| format!("I{i:03}")).collect();
    let rows: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            (id.as_str(), if k < n { "C01" } else { "X99" }, "email", dt(2026, 11, 14, 9, 0, 0), false, false)
        })
        .collect();
    interactions(&rows)
}

#[test]
fn validate_runs_every_spec_check_once_per_subject_and_all_pass_on_clean_tables() {
    let (c, o, i) = valid();
    let checks = validate(c, o, i);
    let mut expected: Vec<(String, String)> = vec![
        ("customer_id".into(), "customers.customer_id".into()),
        ("orphans".into(), "orders".into()),
        ("orphans".into(), "interactions".into()),
        ("amount".into(), "orders.amount".into()),
        ("quantity".into(), "orders.quantity".into()),
        ("amount_max".into(), "orders.amount".into()),
        ("quantity_max".into(), "orders.quantity".into()),
    ];
    for table in Table::ALL {
        for column in table.columns() {
            expected.push(("null_share".into(), format!("{}.{}", table.name(), column.name)));
        }
    }
    expected.push(("channel".into(), "interactions.channel".into()));
    expected.push(("freshness".into(), "orders.order_date".into()));
    let actual: Vec<(String, String)> = checks.iter().map(|c| (c.name.clone(), c.subject.clone())).collect();
    assert_eq!(actual, expected);
    assert!(checks.iter().all(|c| c.status == Pass), "{checks:#?}");
}

const ID_RULE: &str = "FAIL if not unique or null";

#[test]
fn customer_id_check_passes_when_ids_are_unique_and_set() {
    let (c, o, i) = valid();
    assert_eq!(
        *find(&validate(c, o, i), "customer_id", "customers.customer_id"),
        result("customer_id", "customers.customer_id", ID_RULE, 0.0, Pass, "0 null and 0 duplicate customer ids")
    );
}

#[test]
fn customer_id_check_fails_on_a_duplicate_id() {
    let (c, o, i) = valid();
    let mut ids: Vec<Option<&str>> = (1..=20).map(|k| Some(&*format!("C{k:02}").leak())).collect();
    ids[19] = Some("C01"); // C20 becomes a second C01
    let c = set(c, "customer_id", ids);
    assert_eq!(
        *find(&validate(c, o, i), "customer_id", "customers.customer_id"),
        result(
            "customer_id",
            "customers.customer_id",
            ID_RULE,
            1.0,
            Fail,
            "0 null and 1 duplicate customer ids: C01 (2 rows)"
        )
    );
}

#[test]
fn customer_id_check_fails_on_a_null_id() {
    let (c, o, i) = valid();
    let mut ids: Vec<Option<&str>> = (1..=20).map(|k| Some(&*format!("C{k:02}").leak())).collect();
    ids[19] = None;
    let c = set(c, "customer_id", ids);
    assert_eq!(
        *find(&validate(c, o, i), "customer_id", "customers.customer_id"),
        result("customer_id", "customers.customer_id", ID_RULE, 1.0, Fail, "1 null and 0 duplicate customer ids")
    );
}

#[test]
fn customer_id_check_names_the_first_five_duplicates_and_counts_the_rest() {
    // C01..C07 each appear twice (C08..C14 renamed), C01 a third time (C15): 8 duplicate rows, 7 repeated ids.
    let (c, o, i) = valid();
    let mut ids: Vec<Option<&str>> = (1..=20).map(|k| Some(&*format!("C{k:02}").leak())).collect();
    for k in 0..7 {
        ids[7 + k] = ids[k];
    }
    ids[14] = Some("C01");
    let c = set(c, "customer_id", ids);
    assert_eq!(
        *find(&validate(c, o, i), "customer_id", "customers.customer_id"),
        result(
            "customer_id",
            "customers.customer_id",
            ID_RULE,
            8.0,
            Fail,
            "0 null and 8 duplicate customer ids: C01 (3 rows), C02 (2 rows), C03 (2 rows), C04 (2 rows), \
             C05 (2 rows) and 2 more"
        )
    );
}

const ORPHAN_RULE: &str = "ALERT if > 0, FAIL if > 1%";

#[test]
fn orphans_pass_when_every_order_and_interaction_has_a_customer() {
    let (c, _, _) = valid();
    let checks = validate(c, orders_with_orphans(100, 0), interactions_with_orphans(100, 0));
    let msg = "0 of 100 rows with a customer_id not in customers (0.000%)";
    assert_eq!(*find(&checks, "orphans", "orders"), result("orphans", "orders", ORPHAN_RULE, 0.0, Pass, msg));
    assert_eq!(
        *find(&checks, "orphans", "interactions"),
        result("orphans", "interactions", ORPHAN_RULE, 0.0, Pass, msg)
    );
}

#[test]
fn orphan_orders_alert_at_1_percent() {
    let (c, _, i) = valid();
    assert_eq!(
        *find(&validate(c, orders_with_orphans(99, 1), i), "orphans", "orders"),
        result(
            "orphans",
            "orders",
            ORPHAN_RULE,
            1.0,
            Alert,
            "1 of 100 rows with a customer_id not in customers (1.000%)"
        )
    );
}

#[test]
fn orphan_orders_fail_above_1_percent() {
    let (c, _, i) = valid();
    assert_eq!(
        *find(&validate(c, orders_with_orphans(98, 2), i), "orphans", "orders"),
        result(
            "orphans",
            "orders",
            ORPHAN_RULE,
            2.0,
            Fail,
            "2 of 100 rows with a customer_id not in customers (2.000%)"
        )
    );
}

#[test]
fn orphan_interactions_alert_at_1_percent() {
    let (c, o, _) = valid();
    assert_eq!(
        *find(&validate(c, o, interactions_with_orphans(99, 1)), "orphans", "interactions"),
        result(
            "orphans",
            "interactions",
            ORPHAN_RULE,
            1.0,
            Alert,
            "1 of 100 rows with a customer_id not in customers (1.000%)"
        )
    );
}

#[test]
fn orphan_interactions_fail_above_1_percent() {
    let (c, o, _) = valid();
    assert_eq!(
        *find(&validate(c, o, interactions_with_orphans(98, 2)), "orphans", "interactions"),
        result(
            "orphans",
            "interactions",
            ORPHAN_RULE,
            2.0,
            Fail,
            "2 of 100 rows with a customer_id not in customers (2.000%)"
        )
    );
}

#[test]
fn amount_check_passes_at_zero() {
    let (c, _, i) = valid();
    let o = orders(&[("O1", "C01", d(2026, 11, 14), 1, 0.0), ("O2", "C02", d(2026, 11, 14), 1, 5.0)]);
    assert_eq!(
        *find(&validate(c, o, i), "amount", "orders.amount"),
        result("amount", "orders.amount", "FAIL if any amount < 0", 0.0, Pass, "0 orders with amount < 0")
    );
}

#[test]
fn amount_check_fails_on_a_negative_amount() {
    let (c, _, i) = valid();
    let o = orders(&[("O1", "C01", d(2026, 11, 14), 1, -0.01), ("O2", "C02", d(2026, 11, 14), 1, 5.0)]);
    assert_eq!(
        *find(&validate(c, o, i), "amount", "orders.amount"),
        result("amount", "orders.amount", "FAIL if any amount < 0", 1.0, Fail, "1 orders with amount < 0: O1 (-0.01)")
    );
}

#[test]
fn quantity_check_passes_at_one() {
    let (c, _, i) = valid();
    let o = orders(&[("O1", "C01", d(2026, 11, 14), 1, 1.0)]);
    assert_eq!(
        *find(&validate(c, o, i), "quantity", "orders.quantity"),
        result("quantity", "orders.quantity", "FAIL if any quantity < 1", 0.0, Pass, "0 orders with quantity < 1")
    );
}

#[test]
fn quantity_check_fails_on_zero_or_negative_quantity() {
    let (c, _, i) = valid();
    let o = orders(&[
        ("O1", "C01", d(2026, 11, 14), 0, 1.0),
        ("O2", "C02", d(2026, 11, 14), -1, 1.0),
        ("O3", "C03", d(2026, 11, 14), 1, 1.0),
    ]);
    assert_eq!(
        *find(&validate(c, o, i), "quantity", "orders.quantity"),
        result(
            "quantity",
            "orders.quantity",
            "FAIL if any quantity < 1",
            2.0,
            Fail,
            "2 orders with quantity < 1: O1 (0), O2 (-1)"
        )
    );
}

/// Twenty regions with the first `nulls` unset.
fn regions(nulls: usize) -> Vec<Option<&'static str>> {
    (0..20).map(|k| if k < nulls { None } else { Some("R1") }).collect()
}

#[test]
fn null_share_passes_at_5_percent() {
    let (c, o, i) = valid();
    let c = set(c, "region", regions(1));
    assert_eq!(
        *find(&validate(c, o, i), "null_share", "customers.region"),
        result("null_share", "customers.region", "ALERT if > 5%", 0.05, Pass, "5.000% null")
    );
}

#[test]
fn null_share_alerts_above_5_percent() {
    let (c, o, i) = valid();
    let c = set(c, "region", regions(2));
    let checks = validate(c, o, i);
    assert_eq!(
        *find(&checks, "null_share", "customers.region"),
        result("null_share", "customers.region", "ALERT if > 5%", 0.1, Alert, "10.000% null")
    );
    let others: Vec<&CheckResult> = checks.iter().filter(|c| c.status != Pass).collect();
    assert_eq!(others.len(), 1, "only customers.region fires: {others:#?}");
}

const CHANNEL_RULE_ALL: &str = "FAIL if outside email, sms, call, visit, web";

#[test]
fn channel_check_passes_when_every_channel_is_allowed() {
    let (c, o, _) = valid();
    let i = interactions(&[
        ("I1", "C01", "email", dt(2026, 11, 1, 9, 0, 0), false, false),
        ("I2", "C01", "sms", dt(2026, 11, 1, 9, 0, 0), false, false),
        ("I3", "C01", "call", dt(2026, 11, 1, 9, 0, 0), false, false),
        ("I4", "C01", "visit", dt(2026, 11, 1, 9, 0, 0), false, false),
        ("I5", "C01", "web", dt(2026, 11, 1, 9, 0, 0), false, false),
    ]);
    assert_eq!(
        *find(&validate(c, o, i), "channel", "interactions.channel"),
        result("channel", "interactions.channel", CHANNEL_RULE_ALL, 0.0, Pass, "every channel is allowed")
    );
}

#[test]
fn channel_check_fails_on_channels_outside_the_allowed_set() {
    let market = TestMarket::with(&[("allowed_channels", "[\"email\", \"call\", \"visit\", \"web\"]")]);
    let (c, o, _) = valid();
    let i = interactions(&[
        ("I1", "C01", "sms", dt(2026, 11, 1, 9, 0, 0), false, false),
        ("I2", "C01", "fax", dt(2026, 11, 1, 9, 0, 0), false, false),
        ("I3", "C02", "sms", dt(2026, 11, 1, 9, 0, 0), false, false),
        ("I4", "C01", "email", dt(2026, 11, 1, 9, 0, 0), false, false),
    ]);
    assert_eq!(
        *find(&validate_with(&market, c, o, i), "channel", "interactions.channel"),
        result(
            "channel",
            "interactions.channel",
            "FAIL if outside email, call, visit, web",
            3.0,
            Fail,
            "3 interactions on channels not allowed here: fax, sms"
        )
    );
}

#[test]

fn channel_check_fails_on_a_null_channel() {
    let (c, o, _) = valid();
    let i = interactions(&[
        ("I1", "C01", "email", dt(2026, 11, 1, 9, 0, 0), false, false),
        ("I2", "C01", "email", dt(2026, 11, 1, 9, 0, 0), false, false),
    ]);
    let i = set(i, "channel", [Some("email"), None]);
    assert_eq!(
        *find(&validate(c, o, i), "channel", "interactions.channel"),
        result(
            "channel",
            "interactions.channel",
            CHANNEL_RULE_ALL,
            1.0,
            Fail,
            "1 interactions on channels not allowed here: <null>"
        )
    );
}

const FRESH_RULE: &str = "ALERT if latest order_date < as_of - 14 days";

#[test]
fn freshness_passes_when_latest_order_is_14_days_before_as_of() {
    let (c, _, i) = valid();
    let o = orders(&[("O1", "C01", d(2026, 11, 1), 1, 1.0), ("O2", "C02", d(2026, 10, 1), 1, 1.0)]);
    assert_eq!(
        *find(&validate(c, o, i), "freshness", "orders.order_date"),
        result("freshness", "orders.order_date", FRESH_RULE, 14.0, Pass, "latest order is 14 days before as_of")
    );
}

#[test]
fn freshness_alerts_when_latest_order_on_or_before_as_of_is_15_days_old() {
    let (c, _, i) = valid();
    // The order after as_of does not make the data fresh.
    let o = orders(&[("O1", "C01", d(2026, 10, 31), 1, 1.0), ("O2", "C02", d(2026, 11, 16), 1, 1.0)]);
    assert_eq!(
        *find(&validate(c, o, i), "freshness", "orders.order_date"),
        result("freshness", "orders.order_date", FRESH_RULE, 15.0, Alert, "latest order is 15 days before as_of")
    );
}

#[test]
fn freshness_alerts_when_no_order_is_on_or_before_as_of() {
    let (c, _, i) = valid();
    let o = orders(&[("O1", "C01", d(2026, 11, 16), 1, 1.0)]);
    assert_eq!(
        *find(&validate(c, o, i), "freshness", "orders.order_date"),
        result("freshness", "orders.order_date", FRESH_RULE, f64::INFINITY, Alert, "no order on or before as_of")
    );
}

// ---------------------------------------------------------------------------------------------------------------
// row_count against the previous successful run (evaluated by the engine)

const ROW_RULE: &str = "ALERT if outside ±50% of the previous successful run";

fn counts(customers: u64, orders: u64, interactions: u64) -> BTreeMap<String, u64> {
    [("customers", customers), ("orders", orders), ("interactions", interactions)]
        .into_iter()
        .map(|(t, n)| (t.to_string(), n))
        .collect()
}

#[test]
fn row_count_passes_without_a_previous_successful_run() {
    assert_eq!(
        row_count_checks(&counts(10, 20, 30), None, 0.5),
        [
            result("row_count", "customers", ROW_RULE, 0.0, Pass, "10 rows; no previous successful run"),
            result("row_count", "orders", ROW_RULE, 0.0, Pass, "20 rows; no previous successful run"),
            result("row_count", "interactions", ROW_RULE, 0.0, Pass, "30 rows; no previous successful run"),
        ]
    );
}

#[test]
fn row_count_passes_within_50_percent_of_the_previous_run_inclusive() {
    assert_eq!(
        row_count_checks(&counts(150, 50, 100), Some(&counts(100, 100, 100)), 0.5),
        [
            result(
                "row_count",
                "customers",
                ROW_RULE,
                0.5,
                Pass,
                "150 rows, 100 in the previous successful run (+50.0%)"
            ),
            result("row_count", "orders", ROW_RULE, -0.5, Pass, "50 rows, 100 in the previous successful run (-50.0%)"),
            result(
                "row_count",
                "interactions",
                ROW_RULE,
                0.0,
                Pass,
                "100 rows, 100 in the previous successful run (+0.0%)"
            ),
        ]
    );
}

#[test]
fn row_count_alerts_outside_50_percent_of_the_previous_run() {
    assert_eq!(
        row_count_checks(&counts(151, 49, 100), Some(&counts(100, 100, 100)), 0.5),
        [
            result(
                "row_count",
                "customers",
                ROW_RULE,
                0.51,
                Alert,
                "151 rows, 100 in the previous successful run (+51.0%)"
            ),
            result(
                "row_count",
                "orders",
                ROW_RULE,
                -0.51,
                Alert,
                "49 rows, 100 in the previous successful run (-51.0%)"
            ),
            result(
                "row_count",
                "interactions",
                ROW_RULE,
                0.0,
                Pass,
                "100 rows, 100 in the previous successful run (+0.0%)"
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------------------------------
// score: propensity_range

fn propensity_range(values: &[Option<f64>]) -> CheckResult {
    let scores =
        df!("customer_id" => (0..values.len()).map(|k| format!("C{k}")).collect::<Vec<_>>(), "propensity" => values)
            .unwrap();
    let out = StageOutput { tables: vec![("scores".into(), scores)], ..Default::default() };
    let checks = check(Stage::Score, &TestMarket::new(), as_of(), &out);
    assert_eq!(checks.len(), 1);
    checks[0].clone()
}

const RANGE_RULE: &str = "FAIL if outside [0, 1] or null";

#[test]
fn propensity_range_passes_within_0_and_1_inclusive() {
    assert_eq!(
        propensity_range(&[Some(0.0), Some(0.5), Some(1.0)]),
        result(
            "propensity_range",
            "scores.propensity",
            RANGE_RULE,
            0.0,
            Pass,
            "0 of 3 propensities outside [0, 1] or null"
        )
    );
}

#[test]
fn propensity_range_fails_on_values_outside_0_1_and_nulls() {
    assert_eq!(
        propensity_range(&[Some(1.000001), Some(-0.1), None, Some(0.5), Some(f64::NAN)]),
        result(
            "propensity_range",
            "scores.propensity",
            RANGE_RULE,
            4.0,
            Fail,
            "4 of 5 propensities outside [0, 1] or null"
        )
    );
}

// ---------------------------------------------------------------------------------------------------------------
// recommend: has_recommendations

fn has_recommendations(n: usize) -> Vec<CheckResult> {
    let recs = df!("customer_id" => (0..n).map(|k| format!("C{k}")).collect::<Vec<_>>()).unwrap();
    let out = StageOutput { tables: vec![("recommendations".into(), recs)], ..Default::default() };
    check(Stage::Recommend, &TestMarket::new(), as_of(), &out)
}

#[test]
fn has_recommendations_passes_with_one_recommendation() {
    assert_eq!(
        has_recommendations(1),
        [result("has_recommendations", "recommendations", "ALERT if none", 1.0, Pass, "1 recommendations")]
    );
}

#[test]
fn has_recommendations_alerts_when_there_is_none() {
    assert_eq!(
        has_recommendations(0),
        [result("has_recommendations", "recommendations", "ALERT if none", 0.0, Alert, "0 recommendations")]
    );
}

// ---------------------------------------------------------------------------------------------------------------
// validate: plausibility bounds of amount and quantity (base: ALERT above 1,000,000 / 100, FAIL above 1e9 / 10,000)

const AMOUNT_MAX_RULE: &str = "ALERT if any amount > 1000000, FAIL if any amount > 1000000000";
const QUANTITY_MAX_RULE: &str = "ALERT if any quantity > 100, FAIL if any quantity > 10000";

fn with_orders(rows: &[(&str, &str, chrono::NaiveDate, i64, f64)]) -> Vec<CheckResult> {
    let (c, _, i) = valid();
    validate(c, orders(rows), i)
}

#[test]
fn amount_max_passes_at_the_alert_bound() {
    let checks = with_orders(&[("O1", "C01", d(2026, 11, 14), 1, 1_000_000.0)]);
    assert_eq!(
        *find(&checks, "amount_max", "orders.amount"),
        result("amount_max", "orders.amount", AMOUNT_MAX_RULE, 0.0, Pass, "0 orders with amount > 1000000")
    );
}

#[test]
fn amount_max_alerts_above_the_alert_bound_naming_the_order() {
    let checks = with_orders(&[("O1", "C01", d(2026, 11, 14), 1, 5.0), ("O2", "C02", d(2026, 11, 14), 1, 1_000_000.5)]);
    assert_eq!(
        *find(&checks, "amount_max", "orders.amount"),
        result(
            "amount_max",
            "orders.amount",
            AMOUNT_MAX_RULE,
            1.0,
            Alert,
            "1 orders with amount > 1000000 (0 > 1000000000): O2 (1000000.5)"
        )
    );
}

#[test]
fn an_amount_of_1e12_fails_validate_naming_the_order() {
    let checks = with_orders(&[
        ("O1", "C01", d(2026, 11, 14), 1, 2_000_000.0),
        ("O2", "C02", d(2026, 11, 14), 1, 1e12),
        ("O3", "C03", d(2026, 11, 14), 1, 9.99),
    ]);
    assert_eq!(
        *find(&checks, "amount_max", "orders.amount"),
        result(
            "amount_max",
            "orders.amount",
            AMOUNT_MAX_RULE,
            2.0,
            Fail,
            "2 orders with amount > 1000000 (1 > 1000000000): O1 (2000000), O2 (1000000000000)"
        )
    );
}

#[test]
fn quantity_max_passes_alerts_and_fails_at_the_base_bounds() {
    let at = |q: i64| {
        let checks = with_orders(&[("O7", "C01", d(2026, 11, 14), q, 1.0)]);
        find(&checks, "quantity_max", "orders.quantity").clone()
    };
    assert_eq!(
        at(100),
        result("quantity_max", "orders.quantity", QUANTITY_MAX_RULE, 0.0, Pass, "0 orders with quantity > 100")
    );
    assert_eq!(
        at(101),
        result(
            "quantity_max",
            "orders.quantity",
            QUANTITY_MAX_RULE,
            1.0,
            Alert,
            "1 orders with quantity > 100 (0 > 10000): O7 (101)"
        )
    );
    assert_eq!(
        at(10_001),
        result(
            "quantity_max",
            "orders.quantity",
            QUANTITY_MAX_RULE,
            1.0,
            Fail,
            "1 orders with quantity > 100 (1 > 10000): O7 (10001)"
        )
    );
}

#[test]
fn amount_max_bounds_come_from_the_market_config() {
    let market = TestMarket::with(&[("checks", "{ amount_alert_max = 5.0, amount_fail_max = 50.0 }")]);
    let (c, _, i) = valid();
    let o = orders(&[("O1", "C01", d(2026, 11, 14), 1, 10.0), ("O2", "C02", d(2026, 11, 14), 1, 60.0)]);
    assert_eq!(
        *find(&validate_with(&market, c, o, i), "amount_max", "orders.amount"),
        result(
            "amount_max",
            "orders.amount",
            "ALERT if any amount > 5, FAIL if any amount > 50",
            2.0,
            Fail,
            "2 orders with amount > 5 (1 > 50): O1 (10), O2 (60)"
        )
    );
}
