//! The human summary table, rendered from fixed records so its exact text can be asserted.

use std::collections::BTreeMap;

use pipeline_core::{RunStatus, Stage, StageRecord, StageStatus};
use workbench::present::report::{MarketSummary, summary};

fn record(stage: Stage, status: StageStatus, cache_hit: bool, duration_ms: u64) -> StageRecord {
    StageRecord {
        metrics: Default::default(),
        stage,
        cache_key: "k".into(),
        status,
        cache_hit,
        rows: 10,
        tables: BTreeMap::new(),
        bytes: 0,
        duration_ms,
        checks: Vec::new(),
        outputs: Vec::new(),
        produced_by: "r".into(),
        error: None,
    }
}

#[test]
fn summary_table_of_a_full_run_a_cached_run_and_a_dead_runner() {
    let full = Stage::ALL.iter().zip([1250, 90, 310, 45, 60, 20]).map(|(s, d)| record(*s, StageStatus::Ok, false, d));
    let cached = Stage::ALL.iter().map(|s| record(*s, StageStatus::Ok, true, 3));
    let markets = [
        MarketSummary {
            market: "foobar-au".into(),
            status: RunStatus::Ok,
            records: full.collect(),
            duration_ms: 1800,
            error: None,
        },
        MarketSummary {
            market: "foobar-br".into(),
            status: RunStatus::Ok,
            records: cached.collect(),
            duration_ms: 75,
            error: None,
        },
        MarketSummary {
            market: "foobar-jp".into(),
            status: RunStatus::Error,
            records: vec![record(Stage::Ingest, StageStatus::Alert, false, 64_000)],
            duration_ms: 65_500,
            error: Some("the runner for foobar-jp aborted (signal 6) before the run finished\nrunner stderr".into()),
        },
    ];
    assert_eq!(
        summary(&markets, 67_000),
        "\
market     ingest       validate   features   score      recommend  export     result  time
foobar-au  ok 1.2s      ok 90ms    ok 310ms   ok 45ms    ok 60ms    ok 20ms    ok      1.8s
foobar-br  ok cached    ok cached  ok cached  ok cached  ok cached  ok cached  ok      75ms
foobar-jp  alert 1m04s  -          -          -          -          -          error   1m05s
total 1m07s: 3 markets, 13 stages (6 cached)
foobar-jp: the runner for foobar-jp aborted (signal 6) before the run finished
"
    );
}
