//! `just bench-diff`: generates two recommendation-like frames of 1,000,000 rows with known differences, diffs
//! them (keyed join, changed counts, samples, statistics, mixes), checks the counts and prints the time. The
//! target is under 2 s in a release build.
//!
//! `cargo bench -p workbench-diff --bench diff -- [ROWS]` (default 1,000,000).

use std::time::Instant;

use pipeline_core::Stage;
use polars::prelude::*;
use workbench_diff::{Side, StageOptions, TablePair, diff_stage};

const ACTIONS: [&str; 3] = ["offer", "nurture", "winback"];
const CHANNELS: [&str; 4] = ["email", "sms", "call", "visit"];

/// Rows `ids`, with every 10th row's propensity moved by 0.01 and every 100th row's channel changed when
/// `changed` is set. Rows are written in reverse order when `reverse` is set (the join must not rely on order).
fn frame(ids: impl Iterator<Item = usize>, changed: bool, reverse: bool) -> DataFrame {
    let mut ids: Vec<usize> = ids.collect();
    if reverse {
        ids.reverse();
    }
    let customer: Vec<String> = ids.iter().map(|i| format!("C{i:07}")).collect();
    let action: Vec<&str> = ids.iter().map(|i| ACTIONS[i % 3]).collect();
    let channel: Vec<&str> = ids.iter().map(|i| CHANNELS[(i + usize::from(changed && i % 100 == 0)) % 4]).collect();
    let propensity: Vec<f64> = ids
        .iter()
        .map(|i| ((i * 7919) % 1_000_000) as f64 / 1e6 + if changed && i % 10 == 0 { 0.01 } else { 0.0 })
        .collect();
    let rank: Vec<i64> = ids.iter().map(|i| *i as i64 + 1).collect();
    let content: Vec<String> = ids.iter().map(|i| format!("foobar-{}-en", ACTIONS[i % 3])).collect();
    df!(
        "customer_id" => customer,
        "action" => action,
        "channel" => channel,
        "content_id" => content,
        "propensity" => propensity,
        "rank" => rank,
    )
    .expect("frame builds")
}

fn main() {
    let rows: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let (removed, added) = (rows / 1000, rows / 500);
    let generated = Instant::now();
    // A: 0..rows. B: the first `removed` ids gone, `added` new ids after the last, changes as in `frame`.
    let a = frame(0..rows, false, false);
    let b = frame(removed..rows + added, true, true);
    println!("generated two frames of {} and {} rows in {:.2?}", a.height(), b.height(), generated.elapsed());
    let expected_changed = (removed..rows).filter(|i| i % 10 == 0).count() as u64;

    let tables = [TablePair { table: "recommendations".into(), a, b }];
    let started = Instant::now();
    let diff =
        diff_stage(Stage::Recommend, Side::named("a", "a"), Side::named("b", "b"), &tables, &StageOptions::default())
            .expect("the frames diff");
    let elapsed = started.elapsed();

    let keyed = &diff.tables[0].keyed;
    assert_eq!(
        (keyed.added, keyed.removed, keyed.changed),
        (added as u64, removed as u64, expected_changed),
        "the diff finds the generated differences"
    );
    let per_column: Vec<String> = keyed.columns.iter().map(|c| format!("{} {}", c.column, c.changed)).collect();
    println!(
        "diff of {rows} rows: {} added, {} removed, {} changed ({}), {} unchanged",
        keyed.added,
        keyed.removed,
        keyed.changed,
        per_column.join(", "),
        keyed.unchanged
    );
    println!("diff time: {:.3} s (target < 2 s in release)", elapsed.as_secs_f64());
}
