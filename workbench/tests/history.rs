//! Run history against a real SQLite file: what a run records, the row-count baseline, interrupted runs.

mod common;

use std::collections::BTreeMap;

use pipeline_core::{CheckResult, RunStatus, Stage, StageRecord, StageStatus};
use workbench::history::{History, HistoryStatus, MarketEnd, NewRun, RunEnd};

fn new_run(run_id: &str, started_at: &str, markets: &[&str]) -> NewRun {
    NewRun {
        run_id: run_id.into(),
        started_at: started_at.into(),
        command: "wb run --market foobar-au".into(),
        git_commit: Some("abc123".into()),
        git_dirty: Some(true),
        backend: "embedded".into(),
        endpoint: None,
        markets: markets.iter().map(|m| m.to_string()).collect(),
        stage: None,
        as_of: None,
        no_cache: false,
        pid: std::process::id(),
        pid_start: workbench::sys::process_start_ticks(std::process::id()),
    }
}

fn record(stage: Stage, status: StageStatus, tables: &[(&str, u64)], checks: Vec<CheckResult>) -> StageRecord {
    StageRecord {
        stage,
        cache_key: format!("key-{stage}"),
        status,
        cache_hit: false,
        rows: tables.first().map(|t| t.1).unwrap_or(0),
        tables: tables.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
        bytes: 1000,
        duration_ms: 12,
        checks,
        outputs: Vec::new(),
        produced_by: "r".into(),
        error: None,
    }
}

fn ingest(orders: u64) -> StageRecord {
    record(Stage::Ingest, StageStatus::Ok, &[("customers", 10), ("orders", orders)], Vec::new())
}

/// Records a whole single-market run ending with `status`.
fn record_run(history: &mut History, run_id: &str, started_at: &str, market: &str, status: RunStatus, orders: u64) {
    history.begin_run(&new_run(run_id, started_at, &[market])).unwrap();
    history.record_stage(run_id, market, 0, &ingest(orders)).unwrap();
    let end = MarketEnd {
        market: market.into(),
        status,
        as_of: Some("2026-11-15".into()),
        error: None,
        duration_ms: Some(50),
        peak_rss_bytes: Some(1 << 20),
    };
    history.finish_market(run_id, &end).unwrap();
    let run_end = RunEnd {
        status,
        endpoint: Some("http://127.0.0.1:1".into()),
        duration_ms: 60,
        peak_rss_bytes: None,
        error: None,
    };
    history.finish_run(run_id, &run_end).unwrap();
}

#[test]
fn a_run_is_recorded_with_its_markets_stages_tables_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join(".workbench/history.sqlite")).unwrap();
    history.begin_run(&new_run("r1", "2026-11-20T10:00:00.000Z", &["foobar-au", "foobar-br"])).unwrap();
    assert_eq!(history.run("r1").unwrap().unwrap().status, HistoryStatus::Running);

    let alert = CheckResult::count_share("orphans", "orders", 3, 1000, 0.01, "orders");
    let pass = CheckResult::count_share("orphans", "interactions", 0, 1000, 0.01, "interactions");
    history.record_stage("r1", "foobar-au", 0, &ingest(100)).unwrap();
    history
        .record_stage(
            "r1",
            "foobar-au",
            1,
            &record(Stage::Validate, StageStatus::Alert, &[("checks", 2)], vec![alert, pass]),
        )
        .unwrap();
    let end = MarketEnd {
        market: "foobar-au".into(),
        status: RunStatus::Alert,
        as_of: Some("2026-11-15".into()),
        error: None,
        duration_ms: Some(40),
        peak_rss_bytes: Some(5 << 20),
    };
    history.finish_market("r1", &end).unwrap();
    let run_end = RunEnd {
        status: RunStatus::Cancelled,
        endpoint: Some("http://127.0.0.1:9000".into()),
        duration_ms: 70,
        peak_rss_bytes: Some(7 << 20),
        error: None,
    };
    history.finish_run("r1", &run_end).unwrap();

    let run = history.run("r1").unwrap().unwrap();
    assert_eq!(run.status, HistoryStatus::Done(RunStatus::Cancelled));
    assert_eq!((run.git_commit.as_deref(), run.git_dirty), (Some("abc123"), Some(true)));
    assert_eq!(run.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!((run.duration_ms, run.peak_rss_bytes), (Some(70), Some(7 << 20)));
    assert_eq!(run.markets, ["foobar-au", "foobar-br"]);
    assert!(run.finished_at.is_some());

    let markets = history.run_markets("r1").unwrap();
    assert_eq!(markets.len(), 2);
    assert_eq!((markets[0].market.as_str(), markets[0].status), ("foobar-au", HistoryStatus::Done(RunStatus::Alert)));
    assert_eq!(markets[0].peak_rss_bytes, Some(5 << 20));
    // A market that never ended takes the run's status.
    assert_eq!(
        (markets[1].market.as_str(), markets[1].status),
        ("foobar-br", HistoryStatus::Done(RunStatus::Cancelled))
    );

    let stages = history.run_stages("r1").unwrap();
    assert_eq!(stages.iter().map(|s| s.stage.as_str()).collect::<Vec<_>>(), ["ingest", "validate"]);
    assert_eq!(stages[0].tables, BTreeMap::from([("customers".into(), 10), ("orders".into(), 100)]));
    assert_eq!((stages[1].status.as_str(), stages[1].cache_key.as_str()), ("alert", "key-validate"));

    let checks = history.run_checks("r1").unwrap();
    assert_eq!(
        checks.iter().map(|c| (c.subject.as_str(), c.status.as_str(), c.measured)).collect::<Vec<_>>(),
        [("orders", "alert", 3.0), ("interactions", "pass", 0.0)]
    );
    assert_eq!(checks[0].rule, "ALERT if > 0, FAIL if > 1%");
    assert_eq!(history.list_runs(10).unwrap().len(), 1);
}

#[test]
fn previous_rows_are_the_ingest_counts_of_the_latest_successful_run_of_the_market() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join("history.sqlite")).unwrap();
    assert_eq!(history.previous_rows("foobar-au").unwrap(), None);
    record_run(&mut history, "r1", "2026-11-20T10:00:00.000Z", "foobar-au", RunStatus::Ok, 100);
    record_run(&mut history, "r2", "2026-11-20T11:00:00.000Z", "foobar-au", RunStatus::Alert, 110);
    record_run(&mut history, "r3", "2026-11-20T12:00:00.000Z", "foobar-au", RunStatus::Fail, 5);
    record_run(&mut history, "r4", "2026-11-20T13:00:00.000Z", "foobar-au", RunStatus::Error, 6);
    record_run(&mut history, "r5", "2026-11-20T14:00:00.000Z", "foobar-br", RunStatus::Ok, 999);
    assert_eq!(
        history.previous_rows("foobar-au").unwrap(),
        Some(BTreeMap::from([("customers".into(), 10), ("orders".into(), 110)]))
    );
    assert_eq!(history.previous_rows("foobar-br").unwrap().unwrap()["orders"], 999);
    assert_eq!(history.previous_rows("foobar-jp").unwrap(), None);

    let runs = history.list_runs(3).unwrap();
    assert_eq!(runs.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(), ["r5", "r4", "r3"]);
}

#[cfg(target_os = "linux")]
#[test]
fn a_running_run_whose_process_is_gone_becomes_interrupted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    let mut history = History::open(&path).unwrap();

    let mut exited = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = exited.id();
    exited.wait().unwrap();
    let dead = NewRun { pid: dead_pid, pid_start: None, ..new_run("dead", "2026-11-20T10:00:00.000Z", &["foobar-au"]) };
    history.begin_run(&dead).unwrap();
    // Same pid as this process but another start time: the pid was reused, the run's process is gone.
    let reused = NewRun {
        pid_start: new_run("x", "", &[]).pid_start.map(|t| t + 1),
        ..new_run("reused", "2026-11-20T10:01:00.000Z", &["foobar-au"])
    };
    history.begin_run(&reused).unwrap();
    history.begin_run(&new_run("alive", "2026-11-20T10:02:00.000Z", &["foobar-au"])).unwrap();
    drop(history);

    let history = History::open(&path).unwrap();
    let status = |id: &str| history.run(id).unwrap().unwrap().status;
    assert_eq!(status("dead"), HistoryStatus::Interrupted);
    assert_eq!(status("reused"), HistoryStatus::Interrupted);
    assert_eq!(status("alive"), HistoryStatus::Running);
    assert_eq!(history.run_markets("dead").unwrap()[0].status, HistoryStatus::Interrupted);
    assert!(history.run("dead").unwrap().unwrap().finished_at.is_some());
}
