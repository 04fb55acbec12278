//! `wb runs` and `wb show` end to end: the real binary reading a real history, in a temp workspace holding one
//! real run (`wb run --market foobar-au`) and synthetic runs recorded through the `History` API (a failed run
//! with checks, an interrupted run, a run whose runner did not build), whose lines are asserted exactly.

mod common;

use std::process::Output;

use common::{Root, describe, stderr, stdout};
use pipeline_core::{CheckResult, CheckStatus, RunStatus, Stage, StageRecord, StageStatus};
use serde_json::{Value, json};
use workbench::history::{History, MarketEnd, NewRun, RunEnd};

/// The time zone `wb` runs in for these tests (UTC+10, no daylight saving), so local times are fixed.
const TZ: &str = "AEST-10";

const FAILED: &str = "20200101T100000000Z-fa11ed01";
const INTERRUPTED: &str = "20200101T110000000Z-1e2b3c04";
const BUILD_FAILED: &str = "20200101T120000000Z-bf0c0d05";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const BUILD_ERROR: &str = "error[E0308]: mismatched types\n --> markets/au/src/hooks.rs:3:5";

fn wb(root: &Root, args: &[&str]) -> Output {
    root.wb().env("TZ", TZ).args(args).output().expect("wb runs")
}

fn new_run(run_id: &str, started_at: &str, markets: &[&str]) -> NewRun {
    NewRun {
        run_id: run_id.into(),
        started_at: started_at.into(),
        command: "wb run --all".into(),
        git_commit: None,
        git_dirty: None,
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

fn check(name: &str, subject: &str, rule: &str, measured: f64, status: CheckStatus, message: &str) -> CheckResult {
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

fn stage(stage: Stage, status: StageStatus, cache_hit: bool, tables: &[(&str, u64)], ms: u64) -> StageRecord {
    StageRecord {
        metrics: Default::default(),
        stage,
        cache_key: format!("k-{stage}"),
        status,
        cache_hit,
        rows: tables.first().map(|t| t.1).unwrap_or(0),
        tables: tables.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
        bytes: 2048,
        duration_ms: ms,
        checks: Vec::new(),
        outputs: Vec::new(),
        produced_by: FAILED.into(),
        error: None,
    }
}

/// Records the three synthetic runs (all in 2020, so older than any real run).
fn record_synthetic_runs(history: &mut History) {
    // A failed run with checks, on LocalStack, from a dirty tree, with a feedback time.
    let failed = NewRun {
        command: "wb run --market foobar-au --stage validate --no-cache --aws localstack".into(),
        git_commit: Some(COMMIT.into()),
        git_dirty: Some(true),
        backend: "localstack".into(),
        stage: Some("validate".into()),
        as_of: Some("2026-11-15".into()),
        no_cache: true,
        ..new_run(FAILED, "2020-01-01T10:00:00.000Z", &["foobar-au"])
    };
    history.begin_run(&failed).unwrap();
    let ingest = stage(Stage::Ingest, StageStatus::Ok, true, &[("customers", 60), ("orders", 120)], 850);
    history.record_stage(FAILED, "foobar-au", 0, &ingest).unwrap();
    let mut validate = stage(Stage::Validate, StageStatus::Fail, false, &[("checks", 2)], 1200);
    validate.checks = vec![
        check(
            "orphans",
            "orders",
            "ALERT if > 0, FAIL if > 1%",
            3.0,
            CheckStatus::Fail,
            "3 of 120 orders (2.5%) have no customer",
        ),
        check(
            "null_share",
            "customers.region",
            "ALERT if > 5%",
            0.0125,
            CheckStatus::Pass,
            "1.25% of customers have no region",
        ),
    ];
    history.record_stage(FAILED, "foobar-au", 1, &validate).unwrap();
    let market = MarketEnd {
        market: "foobar-au".into(),
        status: RunStatus::Fail,
        as_of: Some("2026-11-15".into()),
        error: Some("validate: 1 check failed".into()),
        duration_ms: Some(2100),
        peak_rss_bytes: Some(50 << 20),
    };
    history.finish_market(FAILED, &market).unwrap();
    let end = RunEnd {
        status: RunStatus::Fail,
        endpoint: Some("http://127.0.0.1:4566".into()),
        duration_ms: 2300,
        peak_rss_bytes: Some(80 << 20),
        error: None,
    };
    history.finish_run(FAILED, &end).unwrap();
    history.set_feedback_ms(FAILED, 3400).unwrap();

    // A run whose wb process died mid-way: recorded as running by a process that is gone.
    let mut exited = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = exited.id();
    exited.wait().unwrap();
    let interrupted = NewRun {
        git_commit: Some("89abcdef0123456789abcdef0123456789abcdef".into()),
        git_dirty: Some(false),
        pid: dead_pid,
        pid_start: None,
        ..new_run(INTERRUPTED, "2020-01-01T11:00:00.000Z", &["foobar-au", "foobar-br"])
    };
    history.begin_run(&interrupted).unwrap();
    let ingest = stage(Stage::Ingest, StageStatus::Ok, false, &[("customers", 60)], 640);
    history.record_stage(INTERRUPTED, "foobar-au", 0, &ingest).unwrap();

    // Every market, outside a repository, and the runner did not compile.
    let build = new_run(BUILD_FAILED, "2020-01-01T12:00:00.000Z", &markets::ids());
    history.record_build_failure(&build, BUILD_ERROR, 1500).unwrap();
}

/// A workspace with one real run of foobar-au and the synthetic runs; returns it with the real run's id.
fn workspace_with_runs() -> (Root, String) {
    let root = Root::with_fixtures(&["foobar-au"]);
    let output = wb(&root, &["run", "--market", "foobar-au"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let mut history = root.history();
    let real = history.list_runs(1).unwrap().remove(0).run_id;
    record_synthetic_runs(&mut history);
    (root, real)
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[cfg(target_os = "linux")]
#[test]
fn runs_and_show_print_the_history_as_text_and_json() {
    let (root, real) = workspace_with_runs();

    // wb runs: the real run first (newest), then the synthetic ones, in aligned columns.
    let output = wb(&root, &["runs"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let text = stdout(&output);
    let got = lines(&text);
    assert_eq!(got.len(), 5, "{text}");
    assert_eq!(
        got[0],
        "started              run                           commit    backend     markets              stage     \
         duration  result"
    );
    // Run 3 ran every registered market: `all (N)`.
    let all = format!("all ({})", markets::ids().len());
    let got: Vec<String> = got.iter().map(|line| line.replacen(&all, "all (N)", 1)).collect();
    assert_eq!(
        &got[2..],
        [
            "2020-01-01 22:00:00  20200101T120000000Z-bf0c0d05  -         embedded    all (N)              all       \
             1.5s      build_failed",
            "2020-01-01 21:00:00  20200101T110000000Z-1e2b3c04  89abcde   embedded    foobar-au,foobar-br  all       \
             -         interrupted",
            "2020-01-01 20:00:00  20200101T100000000Z-fa11ed01  0123456*  localstack  foobar-au            validate  \
             2.3s      fail",
        ]
    );
    let history = root.history();
    let real_row = history.run(&real).unwrap().unwrap();
    let cells: Vec<&str> = got[1].split_whitespace().collect();
    assert_eq!(cells[2..7], [real.as_str(), "-", "embedded", "foobar-au", "all"], "{text}");
    assert_eq!(cells[7], workbench::present::report::duration(real_row.duration_ms.unwrap()));
    assert_eq!(cells[8], real_row.status.as_str());
    assert!(["ok", "alert"].contains(&cells[8]), "{text}");
    // Started is local time: this zone is 10 hours ahead of the UTC stored.
    let started = chrono::DateTime::parse_from_rfc3339(&real_row.started_at).unwrap() + chrono::Duration::hours(10);
    assert_eq!(format!("{} {}", cells[0], cells[1]), started.format("%Y-%m-%d %H:%M:%S").to_string());

    // --limit keeps the newest; columns fit what is shown.
    let limited = stdout(&wb(&root, &["runs", "--limit", "2"]));
    let ids: Vec<&str> = lines(&limited)[1..].iter().map(|l| l.split_whitespace().nth(2).unwrap()).collect();
    assert_eq!(ids, [real.as_str(), BUILD_FAILED]);

    // wb runs --json: one array, every field.
    let output = wb(&root, &["runs", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let runs: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(
        runs.iter().map(|r| r["run_id"].as_str().unwrap()).collect::<Vec<_>>(),
        [real.as_str(), BUILD_FAILED, INTERRUPTED, FAILED]
    );
    let mut failed = runs[3].clone();
    assert!(failed["finished_at"].as_str().unwrap().ends_with('Z'));
    failed["finished_at"] = Value::Null;
    assert_eq!(
        failed,
        json!({
            "run_id": FAILED,
            "started_at": "2020-01-01T10:00:00.000Z",
            "finished_at": null,
            "status": "fail",
            "command": "wb run --market foobar-au --stage validate --no-cache --aws localstack",
            "commit": COMMIT,
            "dirty": true,
            "backend": "localstack",
            "endpoint": "http://127.0.0.1:4566",
            "markets": ["foobar-au"],
            "stage": "validate",
            "as_of": "2026-11-15",
            "no_cache": true,
            "duration_ms": 2300,
            "peak_rss_bytes": 80 << 20,
            "feedback_ms": 3400,
            "error": null,
        })
    );
    assert_eq!(runs[2]["status"], "interrupted");
    assert_eq!(runs[2]["duration_ms"], Value::Null);
    assert_eq!((&runs[1]["status"], &runs[1]["error"]), (&json!("build_failed"), &json!(BUILD_ERROR)));
    assert_eq!(runs[1]["markets"], json!(markets::ids()));
    assert_eq!((&runs[1]["commit"], &runs[1]["dirty"]), (&Value::Null, &Value::Null));

    // wb show, by a unique prefix: header, the market, its stages and checks.
    let output = wb(&root, &["show", "20200101T10"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let text = stdout(&output);
    let mut got = lines(&text);
    assert!(got[3].starts_with("finished  20"), "{text}");
    got.remove(3);
    assert_eq!(
        got,
        [
            "run       20200101T100000000Z-fa11ed01",
            "command   wb run --market foobar-au --stage validate --no-cache --aws localstack",
            "started   2020-01-01 20:00:00",
            "commit    0123456789abcdef0123456789abcdef01234567 (dirty)",
            "backend   localstack http://127.0.0.1:4566",
            "status    fail",
            "duration  2.3s",
            "memory    80.0 MiB peak",
            "feedback  3.4s from save to results",
            "",
            "foobar-au: fail in 2.1s, as_of 2026-11-15, 50.0 MiB peak",
            "  error: validate: 1 check failed",
            "  report: s3://reports/foobar-au/20200101T100000000Z-fa11ed01/report.html",
            "  stage     status  time   rows  cache   key         tables",
            "  ingest    ok      850ms  60    cached  k-ingest    customers=60 orders=120",
            "  validate  fail    1.2s   2     ran     k-validate  checks=2",
            "  stage     check                        level  measured  message",
            "  validate  orphans orders               fail   3         3 of 120 orders (2.5%) have no customer",
            "  validate  null_share customers.region  pass   0.0125    1.25% of customers have no region",
        ]
    );

    // wb show --json: the run with markets -> stages -> checks.
    let output = wb(&root, &["show", FAILED, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let shown: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (&shown["run_id"], &shown["status"], &shown["feedback_ms"]),
        (&json!(FAILED), &json!("fail"), &json!(3400))
    );
    let market = &shown["markets"][0];
    assert_eq!(shown["markets"].as_array().unwrap().len(), 1);
    assert_eq!(
        (&market["market"], &market["status"], &market["error"], &market["duration_ms"]),
        (&json!("foobar-au"), &json!("fail"), &json!("validate: 1 check failed"), &json!(2100))
    );
    let stages = market["stages"].as_array().unwrap();
    assert_eq!(
        stages[0],
        json!({
            "stage": "ingest", "status": "ok", "duration_ms": 850, "rows": 60, "bytes": 2048, "cache_hit": true,
            "cache_key": "k-ingest", "produced_by": FAILED, "error": null,
            "tables": {"customers": 60, "orders": 120}, "checks": [],
        })
    );
    assert_eq!(
        stages[1]["checks"],
        json!([
            {"name": "orphans", "subject": "orders", "rule": "ALERT if > 0, FAIL if > 1%", "status": "fail",
             "measured": 3.0, "message": "3 of 120 orders (2.5%) have no customer"},
            {"name": "null_share", "subject": "customers.region", "rule": "ALERT if > 5%", "status": "pass",
             "measured": 0.0125, "message": "1.25% of customers have no region"},
        ])
    );

    // An interrupted run: the market that started shows its stage, the other that it never ran.
    let text = stdout(&wb(&root, &["show", INTERRUPTED]));
    let got = lines(&text);
    assert!(got.contains(&"status    interrupted"), "{text}");
    assert!(got.contains(&"duration  -"), "{text}");
    let markets_part = &got[got.iter().position(|l| l.is_empty()).unwrap()..];
    assert_eq!(
        markets_part,
        [
            "",
            "foobar-au: interrupted",
            "  stage   status  time   rows  cache  key       tables",
            "  ingest  ok      640ms  60    ran    k-ingest  customers=60",
            "",
            "foobar-br: interrupted",
            "  no stage ran",
        ]
    );

    // A build failure, shown from a folder inside the workspace: the compiler's error, indented, and no stage.
    let output = root
        .wb()
        .env("TZ", TZ)
        .current_dir(root.path().join("markets"))
        .args(["show", "20200101T12"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let text = stdout(&output);
    let got = lines(&text);
    assert_eq!(
        got[..3],
        ["run       20200101T120000000Z-bf0c0d05", "command   wb run --all", "started   2020-01-01 22:00:00"]
    );
    assert_eq!(
        got[4..10],
        [
            "commit    - (not in a git repository)",
            "backend   embedded",
            "status    build_failed",
            "duration  1.5s",
            "error     error[E0308]: mismatched types",
            "           --> markets/au/src/hooks.rs:3:5",
        ]
    );
    let registered = markets::ids().len();
    assert_eq!(got.iter().filter(|l| l.ends_with(": build_failed")).count(), registered, "{text}");
    assert_eq!(got.iter().filter(|l| **l == "  no stage ran").count(), registered, "{text}");

    // The real run, as `last`: its six stages ran, with the checks history holds.
    let output = wb(&root, &["show", "last", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let shown: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(shown["run_id"], json!(real));
    assert_eq!(shown["command"], "wb run --market foobar-au");
    let stages = shown["markets"][0]["stages"].as_array().unwrap();
    assert_eq!(
        stages.iter().map(|s| s["stage"].as_str().unwrap()).collect::<Vec<_>>(),
        ["ingest", "validate", "features", "score", "recommend", "export"]
    );
    assert!(stages.iter().all(|s| s["cache_hit"] == false));
    let checks: usize = stages.iter().map(|s| s["checks"].as_array().unwrap().len()).sum();
    assert_eq!(checks, history.run_checks(&real).unwrap().len());
    assert!(checks > 0);
    let text = stdout(&wb(&root, &["show", "last"]));
    assert!(text.starts_with(&format!("run       {real}\ncommand   wb run --market foobar-au\n")), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains("  ran  ")).count(), 6, "{text}");
}

#[test]
fn an_unknown_id_and_an_ambiguous_prefix_are_errors_that_say_what_to_do() {
    let root = Root::empty();
    record_synthetic_runs(&mut root.history());

    let output = wb(&root, &["show", "xyz"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert_eq!(stderr(&output), "error: no run 'xyz' in .workbench/history.sqlite: list runs with `wb runs`\n");
    assert_eq!(stdout(&output), "");
    let output = wb(&root, &["show", "xyz", "--json"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));

    let output = wb(&root, &["show", "2020"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert_eq!(
        stderr(&output),
        "error: run id '2020' is ambiguous: it matches 3 runs: 20200101T120000000Z-bf0c0d05, \
         20200101T110000000Z-1e2b3c04, 20200101T100000000Z-fa11ed01; type more of the id\n"
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn an_empty_history_says_how_to_start_and_creates_nothing() {
    let root = Root::empty();
    let output = wb(&root, &["runs"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(stdout(&output), "no runs yet: start one with `wb run --all`\n");
    let output = wb(&root, &["runs", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(stdout(&output), "[]\n");
    let output = wb(&root, &["show", "last"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert_eq!(stderr(&output), "error: no run 'last' in .workbench/history.sqlite: list runs with `wb runs`\n");
    assert!(!root.path().join(".workbench").exists(), "a read-only command created the state directory");
}

#[test]
fn outside_a_workspace_is_an_error_naming_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let output =
        std::process::Command::new(env!("CARGO_BIN_EXE_wb")).arg("runs").current_dir(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        stderr(&output).starts_with(&format!("error: no workspace found at or above {}", dir.path().display())),
        "{}",
        describe(&output)
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wb"))
        .args(["runs", "--limit", "0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "--limit 0 is refused: {}", describe(&output));
}
