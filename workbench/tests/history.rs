//! Run history against a real SQLite file: what a run records, the row-count baseline, interrupted runs.

mod common;

use std::collections::BTreeMap;

use pipeline_core::{CheckResult, RunStatus, Stage, StageRecord, StageStatus};
use workbench::history::{History, MarketEnd, NewRun, RunEnd, Status};

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
        metrics: Default::default(),
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
    assert_eq!(history.run("r1").unwrap().unwrap().status, Status::Running);

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
    assert_eq!(run.status, Status::Done(RunStatus::Cancelled));
    assert_eq!((run.git_commit.as_deref(), run.git_dirty), (Some("abc123"), Some(true)));
    assert_eq!(run.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!((run.duration_ms, run.peak_rss_bytes), (Some(70), Some(7 << 20)));
    assert_eq!(run.markets, ["foobar-au", "foobar-br"]);
    assert!(run.finished_at.is_some());

    let markets = history.run_markets("r1").unwrap();
    assert_eq!(markets.len(), 2);
    assert_eq!((markets[0].market.as_str(), markets[0].status), ("foobar-au", Status::Done(RunStatus::Alert)));
    assert_eq!(markets[0].peak_rss_bytes, Some(5 << 20));
    // A market that never ended takes the run's status.
    assert_eq!((markets[1].market.as_str(), markets[1].status), ("foobar-br", Status::Done(RunStatus::Cancelled)));

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
    assert_eq!(status("dead"), Status::Interrupted);
    assert_eq!(status("reused"), Status::Interrupted);
    assert_eq!(status("alive"), Status::Running);
    assert_eq!(history.run_markets("dead").unwrap()[0].status, Status::Interrupted);
    assert!(history.run("dead").unwrap().unwrap().finished_at.is_some());
}

#[test]
fn a_build_failure_is_recorded_whole_and_is_no_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join("history.sqlite")).unwrap();
    record_run(&mut history, "r1", "2026-11-20T10:00:00.000Z", "foobar-au", RunStatus::Ok, 100);
    let run = new_run("r2", "2026-11-20T11:00:00.000Z", &["foobar-au", "foobar-br"]);
    let error = "error[E0308]: mismatched types\n --> markets/au/src/hooks.rs:3:5";
    history.record_build_failure(&run, error, 1500).unwrap();

    let row = history.run("r2").unwrap().unwrap();
    assert_eq!(row.status, Status::BuildFailed);
    assert_eq!((row.error.as_deref(), row.duration_ms), (Some(error), Some(1500)));
    assert!(row.finished_at.is_some());
    assert_eq!(row.markets, ["foobar-au", "foobar-br"]);
    let markets = history.run_markets("r2").unwrap();
    assert_eq!(
        markets.iter().map(|m| (m.market.as_str(), m.status)).collect::<Vec<_>>(),
        [("foobar-au", Status::BuildFailed), ("foobar-br", Status::BuildFailed)]
    );
    assert!(history.run_stages("r2").unwrap().is_empty());
    // Stored under its own name, and the row-count baseline is still the last run that ran.
    let stored: String = rusqlite::Connection::open(dir.path().join("history.sqlite"))
        .unwrap()
        .query_row("SELECT status FROM runs WHERE run_id = 'r2'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, "build_failed");
    assert_eq!(history.previous_rows("foobar-au").unwrap().unwrap()["orders"], 100);
    // A build failure is finished: reopening leaves it alone.
    drop(history);
    let history = History::open(&dir.path().join("history.sqlite")).unwrap();
    assert_eq!(history.run("r2").unwrap().unwrap().status, Status::BuildFailed);
}

#[test]
fn run_ids_resolve_from_a_full_id_a_unique_prefix_or_last() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join("history.sqlite")).unwrap();
    assert_eq!(history.resolve_run_id("last").unwrap(), None);
    record_run(&mut history, "20261120T100000000Z-a1", "2026-11-20T10:00:00.000Z", "foobar-au", RunStatus::Ok, 1);
    record_run(&mut history, "20261120T110000000Z-b2", "2026-11-20T11:00:00.000Z", "foobar-au", RunStatus::Ok, 1);
    record_run(&mut history, "20261120T110000000Z-b20", "2026-11-20T11:30:00.000Z", "foobar-au", RunStatus::Ok, 1);
    record_run(&mut history, "x_1", "2026-11-20T09:00:00.000Z", "foobar-au", RunStatus::Ok, 1);

    let resolve = |what: &str| history.resolve_run_id(what).unwrap();
    assert_eq!(resolve("last").as_deref(), Some("20261120T110000000Z-b20"));
    assert_eq!(resolve("20261120T100000000Z-a1").as_deref(), Some("20261120T100000000Z-a1"));
    assert_eq!(resolve("20261120T10").as_deref(), Some("20261120T100000000Z-a1"));
    // A full id wins over being the prefix of a longer one.
    assert_eq!(resolve("20261120T110000000Z-b2").as_deref(), Some("20261120T110000000Z-b2"));
    assert_eq!(resolve("20261120T110000000Z-b20").as_deref(), Some("20261120T110000000Z-b20"));
    assert_eq!(resolve("nope"), None);
    assert_eq!(resolve(""), None);
    // `_` and `%` are plain characters, not LIKE wildcards.
    assert_eq!(resolve("x_"), Some("x_1".to_string()));
    assert_eq!(resolve("x%"), None);

    let err = history.resolve_run_id("20261120T1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "run id '20261120T1' is ambiguous: it matches 3 runs: 20261120T110000000Z-b20, 20261120T110000000Z-b2, \
         20261120T100000000Z-a1; type more of the id"
    );
}

#[test]
fn run_detail_reads_a_run_with_its_markets_stages_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join("history.sqlite")).unwrap();
    assert_eq!(history.run_detail("r1").unwrap(), None);
    history.begin_run(&new_run("r1", "2026-11-20T10:00:00.000Z", &["foobar-au", "foobar-br"])).unwrap();
    let alert = CheckResult::count_share("orphans", "orders", 3, 1000, 0.01, "orders");
    history.record_stage("r1", "foobar-br", 0, &ingest(7)).unwrap();
    history.record_stage("r1", "foobar-au", 0, &ingest(100)).unwrap();
    history
        .record_stage("r1", "foobar-au", 1, &record(Stage::Validate, StageStatus::Alert, &[("checks", 1)], vec![alert]))
        .unwrap();

    let detail = history.run_detail("r1").unwrap().unwrap();
    assert_eq!(detail.run, history.run("r1").unwrap().unwrap());
    assert_eq!(detail.markets, history.run_markets("r1").unwrap());
    // By market in selection order, then execution order.
    assert_eq!(
        detail.stages.iter().map(|s| (s.market.as_str(), s.stage.as_str())).collect::<Vec<_>>(),
        [("foobar-au", "ingest"), ("foobar-au", "validate"), ("foobar-br", "ingest")]
    );
    assert_eq!(detail.stages_of("foobar-br").map(|s| s.rows).collect::<Vec<_>>(), [10]);
    assert_eq!(detail.checks_of("foobar-au", "validate").map(|c| c.subject.as_str()).collect::<Vec<_>>(), ["orders"]);
    assert_eq!(detail.checks_of("foobar-au", "ingest").count(), 0);
}

#[test]
fn feedback_time_is_set_on_a_run_and_an_unknown_run_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    let mut history = History::open(&path).unwrap();
    record_run(&mut history, "r1", "2026-11-20T10:00:00.000Z", "foobar-au", RunStatus::Ok, 100);
    assert_eq!(history.run("r1").unwrap().unwrap().feedback_ms, None);
    history.set_feedback_ms("r1", 4321).unwrap();
    assert_eq!(history.run("r1").unwrap().unwrap().feedback_ms, Some(4321));
    let err = history.set_feedback_ms("r9", 1).unwrap_err();
    assert_eq!(err.to_string(), format!("no run 'r9' in {}: list runs with `wb runs`", path.display()));
}

/// The schema of the first migration, frozen as it shipped: databases written by the first `wb` look like this.
const SCHEMA_V1: &str = r#"
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, command TEXT NOT NULL,
    git_commit TEXT, git_dirty INTEGER, backend TEXT NOT NULL, endpoint TEXT, markets TEXT NOT NULL, stage TEXT,
    as_of TEXT, no_cache INTEGER NOT NULL, pid INTEGER NOT NULL, pid_start INTEGER, duration_ms INTEGER,
    peak_rss_bytes INTEGER, error TEXT
);
CREATE INDEX runs_started ON runs (started_at);
CREATE TABLE run_markets (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE, market TEXT NOT NULL, status TEXT NOT NULL,
    as_of TEXT, error TEXT, duration_ms INTEGER, peak_rss_bytes INTEGER, PRIMARY KEY (run_id, market)
);
CREATE INDEX run_markets_market ON run_markets (market, status);
CREATE TABLE stage_runs (
    run_id TEXT NOT NULL, market TEXT NOT NULL, stage TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
    cache_hit INTEGER NOT NULL, cache_key TEXT NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL, produced_by TEXT NOT NULL, error TEXT, PRIMARY KEY (run_id, market, stage),
    FOREIGN KEY (run_id, market) REFERENCES run_markets (run_id, market) ON DELETE CASCADE
);
CREATE TABLE stage_tables (
    run_id TEXT NOT NULL, market TEXT NOT NULL, stage TEXT NOT NULL, table_name TEXT NOT NULL, rows INTEGER NOT NULL,
    PRIMARY KEY (run_id, market, stage, table_name),
    FOREIGN KEY (run_id, market, stage) REFERENCES stage_runs (run_id, market, stage) ON DELETE CASCADE
);
CREATE TABLE checks (
    run_id TEXT NOT NULL, market TEXT NOT NULL, stage TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL,
    subject TEXT NOT NULL, rule TEXT NOT NULL, measured REAL NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (run_id, market, stage, seq),
    FOREIGN KEY (run_id, market, stage) REFERENCES stage_runs (run_id, market, stage) ON DELETE CASCADE
);
PRAGMA user_version = 1;
INSERT INTO runs (run_id, started_at, finished_at, status, command, git_commit, git_dirty, backend, markets,
    no_cache, pid, duration_ms)
VALUES ('old', '2026-11-01T08:00:00.000Z', '2026-11-01T08:01:00.000Z', 'alert', 'wb run --market foobar-au',
    'abc', 0, 'embedded', '["foobar-au"]', 0, 1, 60000);
INSERT INTO run_markets (run_id, market, status, as_of) VALUES ('old', 'foobar-au', 'alert', '2026-11-01');
INSERT INTO stage_runs VALUES ('old', 'foobar-au', 'ingest', 0, 'ok', 0, 'k', 42, 10, 5, 'old', NULL);
INSERT INTO stage_tables VALUES ('old', 'foobar-au', 'ingest', 'orders', 42);
"#;

#[test]
fn a_database_of_the_first_schema_is_migrated_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    rusqlite::Connection::open(&path).unwrap().execute_batch(SCHEMA_V1).unwrap();

    let mut history = History::open(&path).unwrap();
    let run = history.run("old").unwrap().unwrap();
    assert_eq!(run.status, Status::Done(RunStatus::Alert));
    assert_eq!((run.git_commit.as_deref(), run.duration_ms, run.feedback_ms), (Some("abc"), Some(60000), None));
    assert_eq!(history.run_stages("old").unwrap()[0].tables, BTreeMap::from([("orders".into(), 42)]));
    assert_eq!(history.previous_rows("foobar-au").unwrap(), Some(BTreeMap::from([("orders".into(), 42)])));
    history.set_feedback_ms("old", 900).unwrap();
    assert_eq!(history.run("old").unwrap().unwrap().feedback_ms, Some(900));
    drop(history);

    let version: i64 =
        rusqlite::Connection::open(&path).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, 4);
    // Opening again neither re-applies a migration nor loses the value; the test and coverage table is there,
    // and so is the metrics table (empty for the old run).
    let history = History::open(&path).unwrap();
    assert_eq!(history.run("old").unwrap().unwrap().feedback_ms, Some(900));
    assert_eq!(history.quality_runs(5).unwrap(), Vec::new());
    assert_eq!(history.run_metrics("old", "foobar-au").unwrap(), BTreeMap::new());
}

#[test]
fn many_connections_opening_a_new_history_at_once_migrate_it_once() {
    // Regression: two connections could both read version 0 of a new database and both apply the migrations
    // ("table runs already exists").
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".workbench/history.sqlite");
    let opened: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || History::open(&path).map(|_| ()).map_err(|e| e.to_string()))
        })
        .collect();
    for handle in opened {
        assert_eq!(handle.join().unwrap(), Ok(()));
    }
    assert_eq!(History::open(&path).unwrap().list_runs(1).unwrap(), Vec::new());
}
