//! `wb run --dry-run` end to end: the real binary plans in runner processes against the embedded S3 of a temp
//! workspace; hits, misses with their reasons, and expected times from the recorded run history.

mod common;

use common::{Root, describe, events, json_lines, stdout, write_minimal_fixture};
use serde_json::Value;

const STAGES: [&str; 6] = ["ingest", "validate", "features", "score", "recommend", "export"];

fn root() -> Root {
    let root = Root::empty();
    let dir = root.market_fixtures("foobar-au");
    std::fs::create_dir_all(&dir).unwrap();
    write_minimal_fixture(&dir);
    root
}

fn dry_run(root: &Root) -> (Vec<Value>, Value) {
    let out = root.run(&["run", "--dry-run", "--market", "foobar-au", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let lines = json_lines(&out);
    let stages: Vec<Value> = events(&lines, "dry_run_stage").into_iter().cloned().collect();
    assert_eq!(stages.iter().map(|s| s["stage"].as_str().unwrap()).collect::<Vec<_>>(), STAGES);
    let summary = lines.last().unwrap().clone();
    assert_eq!(summary["event"], "dry_run_summary");
    (stages, summary)
}

#[test]
fn before_any_run_every_stage_misses_as_never_run_without_history() {
    let root = root();
    let (stages, summary) = dry_run(&root);
    for stage in &stages {
        assert_eq!(stage["market"], "foobar-au");
        assert_eq!(stage["as_of"], common::AS_OF);
        assert_eq!(stage["hit"], false);
        assert_eq!(stage["why"], "never run");
        assert_eq!(stage["compute_ms"], Value::Null);
        assert_eq!(stage["samples"], 0);
    }
    assert_eq!(
        summary,
        serde_json::json!({"event": "dry_run_summary", "expected_ms": 0, "budget_ms": 900000, "stages": 6, "hits": 0,
            "misses": 6, "without_history": 6})
    );
    assert!(root.history().list_runs(10).unwrap().is_empty(), "a dry run records no run");
}

#[test]
fn after_a_run_every_stage_hits_and_a_changed_fixture_misses_from_ingest_with_the_reasons() {
    let root = root();
    let run = root.run(&["run", "--market", "foobar-au"]);
    assert_eq!(run.status.code(), Some(0), "{}", describe(&run));
    let history = root.history();
    let run_id = history.list_runs(1).unwrap()[0].run_id.clone();
    let recorded: Vec<u64> = history.run_stages(&run_id).unwrap().iter().map(|s| s.duration_ms).collect();
    assert_eq!(recorded.len(), 6);

    let (stages, summary) = dry_run(&root);
    let keys: Vec<String> = history.run_stages(&run_id).unwrap().into_iter().map(|s| s.cache_key).collect();
    for (i, stage) in stages.iter().enumerate() {
        assert_eq!(stage["hit"], true, "{stage}");
        assert_eq!(stage["why"], Value::Null);
        assert_eq!(stage["cache_key"], keys[i].as_str());
        assert_eq!(stage["compute_ms"], recorded[i], "{stage}");
        assert_eq!(stage["samples"], 1);
    }
    assert_eq!(summary["hits"], 6);
    assert_eq!(summary["expected_ms"], 0);

    // A changed raw file: ingest misses because of it, every later stage because its upstream changed.
    let customers = root.market_fixtures("foobar-au").join("customers.csv");
    let mut text = std::fs::read_to_string(&customers).unwrap();
    text.push_str("C000061,A,NSW,en,2024-01-05,true,true,true\n");
    std::fs::write(&customers, text).unwrap();
    let (stages, summary) = dry_run(&root);
    let why: Vec<&str> = stages.iter().map(|s| s["why"].as_str().unwrap()).collect();
    assert_eq!(
        why,
        [
            "raw customers.csv changed",
            "upstream ingest changed",
            "upstream ingest, validate changed",
            "upstream features changed",
            "upstream ingest, score changed",
            "upstream recommend changed",
        ]
    );
    assert!(stages.iter().all(|s| s["hit"] == false));
    assert_eq!(summary["expected_ms"], recorded.iter().sum::<u64>());
    assert_eq!(summary["misses"], 6);
    assert_eq!(summary["without_history"], 0);

    // The text form says the same per stage, then the total against the budget.
    let out = root.run(&["run", "--dry-run", "--market", "foobar-au"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "dry run: foobar-au on the embedded S3 backend; nothing runs");
    assert_eq!(lines[1], "foobar-au  as_of 2026-11-15");
    assert!(lines[2].starts_with("  ingest     miss  ") && lines[2].ends_with("  raw customers.csv changed"), "{text}");
    assert!(
        lines[7].starts_with("  export     miss  ") && lines[7].ends_with("  upstream recommend changed"),
        "{text}"
    );
    assert!(lines[8].starts_with("expected ") && lines[8].ends_with("% of the 15-minute budget"), "{text}");
    assert!(lines[8].contains(" for 6 of 6 stages to compute (0 from the cache): "), "{text}");
    assert_eq!(lines.len(), 9, "{text}");
    assert_eq!(root.history().list_runs(10).unwrap().len(), 1, "dry runs record no run");
}
