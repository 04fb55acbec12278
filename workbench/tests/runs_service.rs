//! The run service in process: a real runner child per market (this package's `wb`), the embedded S3 and SQLite,
//! in a temp workspace; and the `wb run --json` summary line read back through the one `RunSummary` type.

mod common;

use common::{Root, describe, stdout};
use markets::MarketId;
use pipeline_core::{Event, RunStatus};
use workbench::history::HistoryStatus;
use workbench::services::runs::{self, BackendUse, Jobs, RunProgress, RunRequest, RunSummary};
use workbench::services::supervisor::{Cancel, RunnerCommand, Update};
use workbench::workspace::Workspace;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_token_stops_the_runners_and_records_the_run_as_cancelled() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let workspace = Workspace::open(root.path()).unwrap();
    // Each stage waits a second after finishing, so the cancellation lands mid-run.
    let runner = RunnerCommand::new("env").with_leading_args([
        "-u",
        "WB_RUNNER_ABORT_AFTER_STAGE",
        "WB_RUNNER_STAGE_DELAY_MS=1000",
        env!("CARGO_BIN_EXE_wb"),
    ]);
    let request = RunRequest {
        fixtures: workspace.default_fixtures_dir(),
        workspace,
        run_id: runs::new_run_id(),
        markets: vec![MarketId::parse("foobar-au").unwrap()],
        stage: None,
        as_of: None,
        no_cache: true,
        runner,
        jobs: Jobs::Default,
        command: "runs_service test".into(),
        reports: workbench::present::run_report::RENDERER,
    };
    let run_id = request.run_id.clone();
    let (cancel, token) = Cancel::new();
    let (stages_tx, mut stages) = tokio::sync::mpsc::unbounded_channel();
    let progress = move |progress: RunProgress| {
        if let RunProgress::Runner { update: Update::Event { event, .. }, .. } = &progress
            && matches!(**event, Event::StageFinished { .. })
        {
            let _ = stages_tx.send(());
        }
    };
    let backend = BackendUse::Start { aws: None, by: "runs_service test" };
    let run = tokio::spawn(runs::run(request, backend, token, progress));
    stages.recv().await.expect("a stage finishes");
    cancel.cancel();
    let outcome = run.await.unwrap().expect("the run is recorded");

    assert_eq!(outcome.summary.status, RunStatus::Cancelled);
    assert_eq!(outcome.summary.run_id.as_deref(), Some(run_id.as_str()));
    assert_eq!(outcome.summary.markets[0].status, RunStatus::Cancelled);
    let history = root.history();
    let recorded = history.run(&run_id).unwrap().expect("the run is in history");
    assert_eq!(recorded.status, HistoryStatus::Done(RunStatus::Cancelled));
    assert!(history.run_stages(&run_id).unwrap().len() < 6, "the run stopped before its last stage");
    // What the service returns is what `wb run --json` prints: it reads back as the same value.
    assert_eq!(RunSummary::parse(&outcome.summary.to_json_line()), Some(outcome.summary));
}

#[test]
fn the_summary_line_of_wb_run_json_round_trips_through_run_summary() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let output = root.run(&["run", "--market", "foobar-au", "--stage", "ingest", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let text = stdout(&output);
    let line = text.lines().last().unwrap();
    let summary = RunSummary::parse(line).expect("the last line is the summary");
    assert_eq!(summary.to_json_line(), line);
    assert_eq!(RunSummary::parse(&summary.to_json_line()), Some(summary.clone()));
    assert!(matches!(summary.status, RunStatus::Ok | RunStatus::Alert), "{summary:?}");
    assert_eq!(summary.markets.len(), 1);
    assert_eq!(summary.markets[0].market, "foobar-au");
}
