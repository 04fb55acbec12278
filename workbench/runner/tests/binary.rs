//! The `wb-runner` binary end to end, in its own process as `wb run --runner` starts it: a real run of a market
//! on the committed fixtures against an embedded S3, whose export is the golden file byte for byte; and the exact
//! error line it prints when started without the supervisor's environment.

use chrono::NaiveDate;
use pipeline_core::stages::BucketKind;
use pipeline_core::stages::export::file_key;
use pipeline_core::{Buckets, Event, RunStatus, Stage};
use workbench_runner::{ENV_BUCKETS, ENV_ENDPOINT, RunnerEnv};
use workbench_tests::{Harness, check_golden_bytes, golden_dir};

const RUNNER: &str = env!("CARGO_BIN_EXE_wb-runner");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_binary_runs_a_market_and_exports_the_golden_file() {
    let h = Harness::start().await;
    h.provision_small("foobar-br").await;
    let env = RunnerEnv { endpoint: h.endpoint.clone(), buckets: Buckets::default() };
    let output = tokio::process::Command::new(RUNNER)
        .args(["runner", "--market", "foobar-br", "--run-id", "golden"])
        .envs(env.vars())
        .output()
        .await
        .expect("wb-runner starts");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    // Every line is an event of the protocol.
    let events: Vec<Event> =
        stdout.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect();

    let Some(Event::RunStarted { run_id, market, stages, as_of }) = events.first() else { panic!("{events:#?}") };
    assert_eq!((run_id.as_str(), market.as_str()), ("golden", "foobar-br"));
    assert_eq!(stages, &Stage::ALL.to_vec());
    let finished: Vec<Stage> = events
        .iter()
        .filter_map(|e| match e {
            Event::StageFinished { record, .. } => Some(record.stage),
            _ => None,
        })
        .collect();
    assert_eq!(finished, Stage::ALL.to_vec());
    let ended = events.iter().find_map(|e| match e {
        Event::RunFinished { status, error, .. } => Some((*status, error.clone())),
        _ => None,
    });
    // The fixtures deliberately hold malformed rows and orphans: the run passes with alerts.
    assert_eq!(ended, Some((RunStatus::Alert, None)));
    assert!(matches!(events.last(), Some(Event::Resources { peak_rss_bytes, .. }) if *peak_rss_bytes > 0));

    let as_of = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap();
    let export = h.object(BucketKind::Exports, &file_key("foobar-br", as_of)).await;
    check_golden_bytes(&golden_dir().join("foobar-br/export/recommendations.csv"), &export, "wb-runner's export");
    h.shutdown().await;
}

#[test]
fn without_the_supervisors_environment_it_says_which_variable_is_missing() {
    let output = std::process::Command::new(RUNNER)
        .args(["runner", "--market", "foobar-au", "--run-id", "r1"])
        // Only the supervisor's variables go: the rest (LLVM_PROFILE_FILE under coverage among them) stays.
        .env_remove(ENV_ENDPOINT)
        .env_remove(ENV_BUCKETS)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_REGION")
        .output()
        .expect("wb-runner starts");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "{\"event\":\"run_finished\",\"run_id\":\"r1\",\"market\":\"foobar-au\",\"status\":\"error\",\"duration_ms\":0,\
         \"error\":\"runner: environment variable WB_S3_ENDPOINT is not set; start runs with `wb run`, which sets it\"}\n"
    );
}

#[test]
fn an_unknown_market_is_refused_with_the_known_ones() {
    let output = std::process::Command::new(RUNNER)
        .args(["runner", "--market", "foobar-zz", "--run-id", "r1"])
        .output()
        .expect("wb-runner starts");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "error: invalid value 'foobar-zz' for '--market <MARKET>': unknown market 'foobar-zz': use one of {}",
            markets::ids().join(", ")
        )),
        "{stderr}"
    );
}
