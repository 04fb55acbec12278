//! The diff engine on small frames whose differences are worked out by hand in each test.

use pipeline_core::Stage;
use polars::prelude::*;
use workbench_diff::model::{Cell, ColumnChanges, ColumnType, TypeChange, ValueCount};
use workbench_diff::{DiffError, DiffOptions, Labeled, Side, StageOptions, TablePair, diff_stage, diff_tables};

/// A: C1..C4. B: C1 removed, C5 added; C2's channel changed and its propensity moved by 1e-7; C3 unchanged (its
/// channel null on both sides); C4's action, propensity and rank changed. `content_id` only in A, `segment` only
/// in B, `rank` i64 in A and f64 in B.
fn frames() -> (DataFrame, DataFrame) {
    let a = df!(
        "customer_id" => ["C1", "C2", "C3", "C4"],
        "action" => ["offer", "nurture", "winback", "offer"],
        "channel" => [Some("email"), Some("sms"), None, Some("call")],
        "propensity" => [0.9, 0.5, 0.2, 0.8],
        "rank" => [1i64, 2, 3, 4],
        "content_id" => ["x-offer", "x-nurture", "x-winback", "x-offer"],
    )
    .unwrap();
    let b = df!(
        "customer_id" => ["C4", "C2", "C3", "C5"],
        "action" => ["nurture", "nurture", "winback", "offer"],
        "channel" => [Some("call"), Some("email"), None, Some("sms")],
        "propensity" => [0.6, 0.5000001, 0.2, 0.95],
        "rank" => [1.0f64, 2.0, 3.0, 4.0],
        "segment" => ["A", "B", "C", "A"],
    )
    .unwrap();
    (a, b)
}

fn changes(pairs: &[(&str, u64)]) -> Vec<ColumnChanges> {
    pairs.iter().map(|(c, n)| ColumnChanges { column: c.to_string(), changed: *n }).collect()
}

fn cell(column: &str, a: Option<&str>, b: Option<&str>, changed: bool) -> Cell {
    Cell { column: column.into(), a: a.map(str::to_string), b: b.map(str::to_string), changed }
}

#[test]
fn keyed_diff_counts_added_removed_changed_and_changes_per_column() {
    let (a, b) = frames();
    let d = diff_tables("recs", Labeled::new("a", &a), Labeled::new("b", &b), &DiffOptions::on_keys(&["customer_id"]))
        .unwrap();
    assert_eq!((d.rows.a, d.rows.b, d.rows.delta()), (4, 4, 0));
    let k = &d.keyed;
    assert_eq!((k.added, k.removed, k.changed, k.unchanged), (1, 1, 2, 1));
    assert_eq!(k.columns, changes(&[("action", 1), ("channel", 1), ("propensity", 2), ("rank", 1)]));
    assert_eq!(k.added_keys, [["C5"]]);
    assert_eq!(k.removed_keys, [["C1"]]);
    assert_eq!(k.samples.len(), 2);
    assert_eq!(k.samples[0].key, ["C2"]);
    assert_eq!(
        k.samples[0].cells,
        [
            cell("action", Some("nurture"), Some("nurture"), false),
            cell("channel", Some("sms"), Some("email"), true),
            cell("propensity", Some("0.5"), Some("0.5000001"), true),
            cell("rank", Some("2"), Some("2"), false),
        ]
    );
    assert_eq!(k.samples[1].key, ["C4"]);
    let marked: Vec<&str> = k.samples[1].cells.iter().filter(|c| c.changed).map(|c| c.column.as_str()).collect();
    assert_eq!(marked, ["action", "propensity", "rank"]);
    assert_eq!(k.samples[1].cells[3], cell("rank", Some("4"), Some("1"), true));
}

#[test]
fn schema_diff_lists_one_sided_columns_and_type_changes() {
    let (a, b) = frames();
    let d = diff_tables("recs", Labeled::new("a", &a), Labeled::new("b", &b), &DiffOptions::on_keys(&["customer_id"]))
        .unwrap();
    assert_eq!(d.schema.only_in_a, [ColumnType { column: "content_id".into(), dtype: "str".into() }]);
    assert_eq!(d.schema.only_in_b, [ColumnType { column: "segment".into(), dtype: "str".into() }]);
    assert_eq!(d.schema.type_changes, [TypeChange { column: "rank".into(), a: "i64".into(), b: "f64".into() }]);
}

#[test]
fn tolerance_hides_small_numeric_moves_only() {
    let (a, b) = frames();
    let options = DiffOptions { tolerance: 1e-3, ..DiffOptions::on_keys(&["customer_id"]) };
    let d = diff_tables("recs", Labeled::new("a", &a), Labeled::new("b", &b), &options).unwrap();
    // C2's propensity moved by 1e-7 (now equal); C2 still changed through its channel.
    assert_eq!(d.keyed.columns, changes(&[("action", 1), ("channel", 1), ("propensity", 1), ("rank", 1)]));
    assert_eq!((d.keyed.changed, d.keyed.unchanged), (2, 1));
    assert_eq!(d.keyed.samples[0].cells[2], cell("propensity", Some("0.5"), Some("0.5000001"), false));
}

#[test]
fn a_null_against_a_value_is_a_change_and_null_against_null_is_not() {
    let a = df!("id" => [1i64, 2, 3], "v" => [Some(1.0), None, None]).unwrap();
    let b = df!("id" => [1i64, 2, 3], "v" => [None, Some(2.0), None]).unwrap();
    for tolerance in [0.0, 0.5] {
        let options = DiffOptions { tolerance, ..DiffOptions::on_keys(&["id"]) };
        let d = diff_tables("t", Labeled::new("a", &a), Labeled::new("b", &b), &options).unwrap();
        assert_eq!((d.keyed.changed, d.keyed.unchanged), (2, 1), "tolerance {tolerance}");
        assert_eq!(d.keyed.samples[0].cells, [cell("v", Some("1"), None, true)]);
        assert_eq!(d.keyed.samples[1].cells, [cell("v", None, Some("2"), true)]);
    }
}

#[test]
fn multi_column_keys_match_on_every_key_column() {
    let a = df!("check" => ["orphans", "orphans", "amount"], "subject" => ["orders", "interactions", "orders.amount"],
        "measured" => [60.0, 81.0, 0.0])
    .unwrap();
    let b = df!("check" => ["orphans", "orphans", "freshness"], "subject" => ["interactions", "orders", "orders"],
        "measured" => [80.0, 60.0, 3.0])
    .unwrap();
    let d = diff_tables(
        "checks",
        Labeled::new("a", &a),
        Labeled::new("b", &b),
        &DiffOptions::on_keys(&["check", "subject"]),
    )
    .unwrap();
    assert_eq!((d.keyed.added, d.keyed.removed, d.keyed.changed, d.keyed.unchanged), (1, 1, 1, 1));
    assert_eq!(d.keyed.added_keys, [["freshness", "orders"]]);
    assert_eq!(d.keyed.removed_keys, [["amount", "orders.amount"]]);
    assert_eq!(d.keyed.samples[0].key, ["orphans", "interactions"]);
    assert_eq!(d.keyed.samples[0].cells, [cell("measured", Some("81"), Some("80"), true)]);
}

#[test]
fn column_statistics_are_side_by_side() {
    let (a, b) = frames();
    let d = diff_tables("recs", Labeled::new("a", &a), Labeled::new("b", &b), &DiffOptions::on_keys(&["customer_id"]))
        .unwrap();
    let names: Vec<&str> = d.stats.iter().map(|s| s.column.as_str()).collect();
    assert_eq!(names, ["customer_id", "action", "channel", "propensity", "rank", "content_id", "segment"]);
    let action = &d.stats[1];
    let (sa, sb) = (action.a.as_ref().unwrap(), action.b.as_ref().unwrap());
    assert_eq!((sa.distinct, sa.min.as_deref(), sa.max.as_deref()), (3, Some("nurture"), Some("winback")));
    let top = |pairs: &[(&str, u64)]| -> Vec<ValueCount> {
        pairs.iter().map(|(v, n)| ValueCount { value: v.to_string(), count: *n }).collect()
    };
    assert_eq!(sa.top, top(&[("offer", 2), ("nurture", 1), ("winback", 1)]));
    assert_eq!(sb.top, top(&[("nurture", 2), ("offer", 1), ("winback", 1)]));
    let channel = d.stats[2].a.as_ref().unwrap();
    assert_eq!((channel.nulls, channel.null_share, channel.distinct), (1, 0.25, 3));
    assert!(channel.top.is_empty(), "every non-null value is distinct: {:?}", channel.top);
    let propensity = d.stats[3].b.as_ref().unwrap();
    assert_eq!(propensity.mean, Some((0.6 + 0.5000001 + 0.2 + 0.95) / 4.0));
    assert_eq!((propensity.min.as_deref(), propensity.max.as_deref()), (Some("0.2"), Some("0.95")));
    assert!(d.stats[5].b.is_none() && d.stats[6].a.is_none());
}

#[test]
fn recommend_diffs_add_the_action_and_channel_mix() {
    let (a, b) = frames();
    let tables = [TablePair { table: "recommendations".into(), a, b }];
    let d =
        diff_stage(Stage::Recommend, Side::named("a", "m1"), Side::named("b", "m2"), &tables, &StageOptions::default())
            .unwrap();
    assert_eq!(d.mixes.len(), 2);
    let action: Vec<(&str, u64, u64)> = d.mixes[0].values.iter().map(|r| (r.value.as_str(), r.a, r.b)).collect();
    assert_eq!(action, [("nurture", 1, 2), ("offer", 2, 1), ("winback", 1, 1)]);
    assert_eq!(d.mixes[0].values[1].a_share, 0.5);
    let channel: Vec<(&str, u64, u64)> = d.mixes[1].values.iter().map(|r| (r.value.as_str(), r.a, r.b)).collect();
    assert_eq!(channel, [("call", 1, 1), ("email", 1, 1), ("null", 1, 1), ("sms", 1, 1)]);
    let features = diff_stage(
        Stage::Features,
        Side::named("a", "m1"),
        Side::named("b", "m2"),
        &[TablePair { table: "features".into(), a: frames().0, b: frames().1 }],
        &StageOptions::default(),
    )
    .unwrap();
    assert!(features.mixes.is_empty());
}

#[test]
fn a_key_missing_on_one_side_is_named_with_the_columns_there_are() {
    let (a, b) = frames();
    let err = diff_tables(
        "recs",
        Labeled::new("foobar-au", &a),
        Labeled::new("foobar-br", &b),
        &DiffOptions::on_keys(&["segment"]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot diff recs on key segment: foobar-au has no column segment (it has customer_id, action, channel, \
         propensity, rank, content_id); pass --key with columns both sides have"
    );
}

#[test]
fn keys_of_different_types_are_incompatible() {
    let a = df!("id" => ["1", "2"], "v" => [1, 2]).unwrap();
    let b = df!("id" => [1i64, 2], "v" => [1, 2]).unwrap();
    let err =
        diff_tables("t", Labeled::new("foobar-au", &a), Labeled::new("foobar-br", &b), &DiffOptions::on_keys(&["id"]))
            .unwrap_err();
    assert!(matches!(err, DiffError::KeyTypes { .. }));
    assert_eq!(
        err.to_string(),
        "cannot diff t on key id: it is str in foobar-au but i64 in foobar-br; pass --key with columns of the same \
         type on both sides"
    );
}

#[test]
fn keys_that_repeat_are_refused_with_an_example() {
    let a = df!("id" => ["C2", "C1", "C2", "C1", "C3"], "v" => [1, 2, 3, 4, 5]).unwrap();
    let b = df!("id" => ["C1"], "v" => [1]).unwrap();
    let err =
        diff_tables("t", Labeled::new("foobar-au", &a), Labeled::new("foobar-br", &b), &DiffOptions::on_keys(&["id"]))
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot diff t on key id: 2 key value(s) occur more than once in foobar-au (e.g. C1); pass --key with the \
         columns that identify one row"
    );
}

#[test]
fn identical_frames_have_no_differences() {
    let (a, _) = frames();
    let d = diff_tables("t", Labeled::new("a", &a), Labeled::new("b", &a), &DiffOptions::on_keys(&["customer_id"]))
        .unwrap();
    assert!(d.schema.is_empty());
    assert_eq!((d.keyed.added, d.keyed.removed, d.keyed.changed, d.keyed.unchanged), (0, 0, 0, 4));
    assert!(d.keyed.samples.is_empty() && d.keyed.added_keys.is_empty());
    assert!(d.keyed.columns.iter().all(|c| c.changed == 0));
}

#[test]
fn the_markdown_rendering_marks_changed_cells() {
    let (a, b) = frames();
    let tables = [TablePair { table: "recommendations".into(), a, b }];
    let d = diff_stage(
        Stage::Recommend,
        Side::named("foobar-au", "foobar-au"),
        Side::named("foobar-br", "foobar-br"),
        &tables,
        &StageOptions::default(),
    )
    .unwrap();
    insta::assert_snapshot!("small_recommend_markdown", workbench_diff::render::markdown(&d));
    insta::assert_snapshot!("small_recommend_text", workbench_diff::render::text(&d));
    let json: serde_json::Value = serde_json::from_str(&workbench_diff::render::json(&d)).unwrap();
    assert_eq!(json["tables"][0]["keyed"]["changed"], 2);
    assert_eq!(json["mixes"][0]["column"], "action");
}
