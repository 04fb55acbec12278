//! `wb run` end to end: the real binary, runner processes, the embedded S3 and SQLite, in a temp workspace.

mod common;

use common::{AS_OF, Root, describe, events, json_lines, stderr, stdout};
use pipeline_core::RunStatus;
use workbench::history::{Level, Status};

const STAGES: [&str; 6] = ["ingest", "validate", "features", "score", "recommend", "export"];

fn cache_hits(lines: &[serde_json::Value]) -> Vec<bool> {
    events(lines, "stage_finished").iter().map(|e| e["record"]["cache_hit"].as_bool().unwrap()).collect()
}

#[test]
fn a_run_exports_then_serves_every_stage_from_cache_and_no_cache_recomputes() {
    let root = Root::with_fixtures(&["foobar-au"]);

    let first = root.run(&["run", "--market", "foobar-au", "--json"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let lines = json_lines(&first);
    let finished: Vec<&str> =
        events(&lines, "stage_finished").iter().map(|e| e["record"]["stage"].as_str().unwrap()).collect();
    assert_eq!(finished, STAGES);
    assert_eq!(cache_hits(&lines), [false; 6]);
    let run_finished = events(&lines, "run_finished");
    assert_eq!(run_finished.len(), 1);
    assert!(["ok", "alert"].contains(&run_finished[0]["status"].as_str().unwrap()));
    assert_eq!(events(&lines, "resources").len(), 1);
    let summary = lines.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["exit_code"], 0);
    assert_eq!(summary["status"], run_finished[0]["status"]);
    assert!(summary["peak_rss_bytes"].as_u64().unwrap() > 0);

    let export = root.object_file("exports", &format!("foobar-au/{AS_OF}/recommendations.csv"));
    assert!(export.is_file(), "{} is not a plain file", export.display());
    let csv = std::fs::read_to_string(&export).unwrap();
    assert!(csv.starts_with("customer_id,action,channel,scheduled_date,content_id,propensity,rank\n"), "{csv}");

    let second = root.run(&["run", "--market", "foobar-au", "--json"]);
    assert_eq!(second.status.code(), Some(0), "{}", describe(&second));
    assert_eq!(cache_hits(&json_lines(&second)), [true; 6]);

    let third = root.run(&["run", "--market", "foobar-au", "--json", "--no-cache"]);
    assert_eq!(third.status.code(), Some(0), "{}", describe(&third));
    assert_eq!(cache_hits(&json_lines(&third)), [false; 6]);

    let history = root.history();
    let runs = history.list_runs(10).unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r.finished_at.is_some() && r.backend == "embedded" && r.markets == ["foobar-au"]));
    assert!(runs[0].no_cache && !runs[1].no_cache);
    let stages = history.run_stages(&runs[1].run_id).unwrap();
    assert_eq!(stages.iter().map(|s| s.stage.as_str()).collect::<Vec<_>>(), STAGES);
    assert!(stages.iter().all(|s| s.cache_hit));
    // The second run compared its row counts with the first: the first run's counts were passed to it.
    let row_count: Vec<_> =
        history.run_checks(&runs[1].run_id).unwrap().into_iter().filter(|c| c.name == "row_count").collect();
    assert_eq!(row_count.len(), 3);
    assert!(row_count.iter().all(|c| c.message.contains("in the previous successful run")), "{row_count:?}");
}

#[test]
fn the_human_display_shows_each_stage_and_a_summary_and_skips_unchanged_fixtures() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let first = root.run(&["run", "--market", "foobar-au", "--stage", "features"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let text = stdout(&first);
    assert!(text.contains(": 4 uploaded, 0 unchanged"), "{text}");
    for stage in ["ingest", "validate", "features"] {
        assert!(text.lines().any(|l| l.starts_with(&format!("foobar-au  {stage:<9}  "))), "{stage}: {text}");
    }
    assert!(!text.contains("foobar-au  score"), "{text}");
    assert!(text.contains("\nmarket     ingest"), "{text}");
    assert!(text.contains("total "), "{text}");

    let second = root.run(&["run", "--market", "foobar-au", "--stage", "features"]);
    let text = stdout(&second);
    assert!(text.contains(": 0 uploaded, 4 unchanged"), "{text}");
    assert!(text.contains("(3 cached)"), "{text}");
}

/// Replaces every 20th data line of the orders file with an unparseable one: 5% > the 1% FAIL level.
fn corrupt_orders(root: &Root) {
    let path = root.market_fixtures("foobar-au").join("orders.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, line)| if i > 0 && i % 20 == 0 { "this is not an order line".to_string() } else { line.to_string() })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn more_than_one_percent_malformed_orders_fail_the_run_with_exit_1_and_are_recorded() {
    let root = Root::with_fixtures(&["foobar-au"]);
    corrupt_orders(&root);
    let output = root.run(&["run", "--market", "foobar-au"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let text = stdout(&output);
    assert!(text.contains("fail: parse_errors orders: "), "{text}");
    assert!(text.contains("quarantine: s3://quarantine/foobar-au/"), "{text}");
    assert!(text.contains("foobar-au  => fail in "), "{text}");

    let history = root.history();
    let run = &history.list_runs(1).unwrap()[0];
    assert_eq!(run.status, Status::Done(RunStatus::Fail));
    let markets = history.run_markets(&run.run_id).unwrap();
    assert_eq!(markets[0].status, Status::Done(RunStatus::Fail));
    assert_eq!(markets[0].as_of.as_deref(), Some(AS_OF));
    let checks = history.run_checks(&run.run_id).unwrap();
    assert!(checks.iter().any(|c| c.name == "parse_errors" && c.subject == "orders" && c.status == Level::Fail));
    let stages = history.run_stages(&run.run_id).unwrap();
    assert_eq!(stages.iter().map(|s| s.stage.as_str()).collect::<Vec<_>>(), ["ingest"]);
    assert_eq!(history.previous_rows("foobar-au").unwrap(), None, "a failed run is no baseline");
}

#[test]
fn a_missing_required_column_fails_naming_the_file_and_the_column() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let path = root.market_fixtures("foobar-au").join("orders.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let (header, rest) = text.split_once('\n').unwrap();
    std::fs::write(&path, format!("{}\n{rest}", header.replace("amount", "amount_local"))).unwrap();

    let output = root.run(&["run", "--market", "foobar-au", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let lines = json_lines(&output);
    let finished = events(&lines, "run_finished");
    assert_eq!(finished[0]["status"], "fail");
    let error = finished[0]["error"].as_str().unwrap();
    assert!(error.contains("raw file s3://raw/foobar-au/orders.csv is missing required column 'amount'"), "{error}");
    assert_eq!(lines.last().unwrap()["exit_code"], 1);
    let history = root.history();
    assert_eq!(history.list_runs(1).unwrap()[0].status, Status::Done(RunStatus::Fail));
}

#[test]
fn unknown_market_is_a_usage_error_listing_the_markets() {
    let output = Root::empty().run(&["run", "--market", "foobar-zz"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: invalid value 'foobar-zz' for '--market <MARKET>': unknown market 'foobar-zz': use one of {}\n\n\
             For more information, try '--help'.\n",
            markets::ids().join(", ")
        )
    );
}

#[test]
fn unknown_stage_is_a_usage_error_listing_the_stages() {
    let output = Root::empty().run(&["run", "--market", "foobar-au", "--stage", "feature"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: invalid value 'feature' for '--stage <STAGE>': unknown stage 'feature': use one of ingest, \
         validate, features, score, recommend, export\n\nFor more information, try '--help'.\n"
    );
}

#[test]
fn a_bad_as_of_is_a_usage_error_showing_the_format() {
    let output = Root::empty().run(&["run", "--market", "foobar-au", "--as-of", "15/11/2026"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: invalid value '15/11/2026' for '--as-of <YYYY-MM-DD>': '15/11/2026' is not a date (input contains \
         invalid characters): use YYYY-MM-DD, e.g. 2026-11-15\n\nFor more information, try '--help'.\n"
    );
}

#[test]
fn missing_fixtures_exit_2_naming_the_path_and_the_generate_command_and_are_recorded() {
    let root = Root::empty();
    let output = root.run(&["run", "--market", "foobar-au"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let dir = root.path().join("fixtures").join("data");
    assert_eq!(
        stderr(&output),
        format!(
            "error: fixtures directory {} does not exist: run `cargo run -p fixtures -- generate` or pass \
             --fixtures DIR\n",
            dir.display()
        )
    );
    let run = &root.history().list_runs(1).unwrap()[0];
    assert_eq!(run.status, Status::Done(RunStatus::Error));
    assert!(run.error.as_deref().unwrap().contains("does not exist"));

    std::fs::create_dir_all(&dir).unwrap();
    let output = root.run(&["run", "--market", "foobar-au", "--json"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        stderr(&output).starts_with(&format!(
            "error: no fixtures for market foobar-au: {} does not exist; run `cargo run -p fixtures -- generate`",
            dir.join("foobar-au").display()
        )),
        "{}",
        describe(&output)
    );
    let summary = json_lines(&output).pop().unwrap();
    assert_eq!((summary["event"].as_str(), summary["exit_code"].as_u64()), (Some("summary"), Some(2)));
}

#[test]
fn a_runner_that_dies_mid_run_makes_the_market_an_error_and_is_recorded() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let output = root
        .wb()
        .args(["run", "--market", "foobar-au", "--json"])
        .env("WB_RUNNER_ABORT_AFTER_STAGE", "features")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let lines = json_lines(&output);
    let finished: Vec<&str> =
        events(&lines, "stage_finished").iter().map(|e| e["record"]["stage"].as_str().unwrap()).collect();
    assert_eq!(finished, ["ingest", "validate", "features"]);
    let run_finished = events(&lines, "run_finished");
    assert_eq!(run_finished.len(), 1, "wb reports the end the runner could not");
    assert_eq!(run_finished[0]["status"], "error");
    let error = run_finished[0]["error"].as_str().unwrap();
    assert!(error.starts_with("the runner for foobar-au aborted (signal 6) before the run finished"), "{error}");
    assert_eq!(lines.last().unwrap()["status"], "error");

    let history = root.history();
    let run = &history.list_runs(1).unwrap()[0];
    assert_eq!(run.status, Status::Done(RunStatus::Error));
    let market = &history.run_markets(&run.run_id).unwrap()[0];
    assert_eq!(market.status, Status::Done(RunStatus::Error));
    assert!(market.error.as_deref().unwrap().contains("aborted (signal 6)"));
    assert_eq!(history.run_stages(&run.run_id).unwrap().len(), 3);
}

#[test]
fn markets_run_in_parallel_runners_and_all_selects_every_market() {
    let root = Root::with_fixtures(&["foobar-au", "foobar-br"]);
    let output = root.run(&["run", "--market", "foobar-au", "--market", "foobar-br", "--stage", "ingest", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let lines = json_lines(&output);
    let mut markets: Vec<&str> = events(&lines, "run_finished").iter().map(|e| e["market"].as_str().unwrap()).collect();
    markets.sort();
    assert_eq!(markets, ["foobar-au", "foobar-br"]);

    // --all needs every market's fixtures: the first missing one is named.
    let output = root.run(&["run", "--all", "--stage", "ingest"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(stderr(&output).starts_with("error: no fixtures for market foobar-ca: "), "{}", describe(&output));
}

#[cfg(unix)]
#[test]
fn ctrl_c_kills_the_runners_records_the_run_as_cancelled_and_exits_130() {
    use std::io::{BufRead, BufReader};

    let root = Root::with_fixtures(&["foobar-au"]);
    let mut child = root.wb().args(["run", "--market", "foobar-au", "--json", "--no-cache"]).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 && !line.contains("\"stage_started\"") {
        line.clear();
    }
    assert!(line.contains("\"stage_started\""), "no stage started");
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let rest: Vec<String> = stdout.lines().map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    let summary: serde_json::Value = serde_json::from_str(rest.last().unwrap()).unwrap();
    assert_eq!(summary["status"], "cancelled");

    let history = root.history();
    let run = &history.list_runs(1).unwrap()[0];
    assert_eq!(run.status, Status::Done(RunStatus::Cancelled));
    assert_eq!(history.run_markets(&run.run_id).unwrap()[0].status, Status::Done(RunStatus::Cancelled));
}

#[test]
fn a_minimal_canonical_fixture_runs_end_to_end() {
    let root = Root::empty();
    let dir = root.market_fixtures("foobar-au");
    std::fs::create_dir_all(&dir).unwrap();
    common::write_minimal_fixture(&dir);
    let output = root.run(&["run", "--market", "foobar-au", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(events(&json_lines(&output), "stage_finished").len(), 6);
}

#[test]
fn runner_starts_the_given_runner_program_per_market_and_a_missing_one_is_named() {
    let root = Root::with_fixtures(&["foobar-au"]);
    // A runner program that notes its command line, then runs this wb's own runner (`wb-runner` takes the same
    // `runner ...` command line).
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    let script = dir.path().join("runner.sh");
    workbench_testkit::write_executable(
        &script,
        &format!("#!/bin/sh\necho \"$@\" >> '{}'\nexec '{}' \"$@\"\n", calls.display(), env!("CARGO_BIN_EXE_wb")),
    );

    let output = root.run(&["run", "--market", "foobar-au", "--json", "--runner", script.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let lines = json_lines(&output);
    assert_eq!(events(&lines, "stage_finished").len(), 6);
    let run_id = events(&lines, "run_started")[0]["run_id"].as_str().unwrap().to_string();
    // The runner gets the market's run history for the history and drift checks in a file, removed after the run.
    let history = root.path().join(format!(".workbench/tmp/{run_id}-foobar-au.history.json"));
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        format!("runner --market foobar-au --run-id {run_id} --history {}\n", history.display())
    );
    assert!(!history.exists(), "{} is removed after the run", history.display());

    let missing = dir.path().join("wb-runner");
    let output = root.run(&["run", "--market", "foobar-au", "--runner", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "error: --runner {}: no such file; build it with `cargo build -p workbench-runner --bin wb-runner`\n",
            missing.display()
        )
    );
}
