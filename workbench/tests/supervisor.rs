//! The supervisor with stand-in runners (shell scripts through `RunnerCommand`): whatever a runner prints or
//! however it ends, the supervisor reports it as typed updates and never crashes.

#![cfg(unix)]

use std::time::Duration;

use localstack::{Credentials, S3Endpoint};
use markets::MarketId;
use pipeline_core::{Buckets, Event, RunStatus};
use tokio::sync::mpsc;
use workbench::runner::RunnerEnv;
use workbench::services::supervisor::{Cancel, ExitHow, MarketJob, RunnerCommand, Supervisor, Update};

fn env() -> RunnerEnv {
    RunnerEnv {
        endpoint: S3Endpoint { url: "http://127.0.0.1:9".into(), credentials: Credentials::local() },
        buckets: Buckets::default(),
    }
}

fn job(market: &str) -> MarketJob {
    MarketJob {
        market: MarketId::parse(market).unwrap(),
        stage: None,
        as_of: None,
        no_cache: false,
        run_id: "r1".into(),
        previous_rows: None,
        history_file: None,
    }
}

/// A runner that is `sh -c script` (the runner's own arguments become the script's `$0 $1 ...`).
fn script(script: &str) -> RunnerCommand {
    RunnerCommand::new("/bin/sh").with_leading_args(["-c", script])
}

async fn collect(mut rx: mpsc::UnboundedReceiver<Update>) -> Vec<Update> {
    let mut updates = Vec::new();
    while let Some(update) = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("no hang") {
        updates.push(update);
    }
    updates
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stray_lines_and_stderr_are_reported_and_a_runner_without_run_finished_is_an_unfinished_exit() {
    let finished = Event::RunFinished {
        run_id: "r1".into(),
        market: "foobar-au".into(),
        status: RunStatus::Ok,
        duration_ms: 1,
        error: None,
    }
    .to_json_line();
    // The script's `$0` is the `runner` subcommand word; `$1 $2` must be the market the supervisor passed.
    let runner = script(&format!(
        "test \"$1\" = --market && test \"$2\" = foobar-au || exit 9; echo 'not json'; echo '{finished}'; \
         echo 'it broke' >&2; exit 3"
    ));
    let (tx, rx) = mpsc::unbounded_channel();
    let (_cancel, token) = Cancel::new();
    Supervisor::new(runner, env(), 2).spawn(vec![job("foobar-au")], &tx, &token);
    drop(tx);
    let updates = collect(rx).await;

    assert!(matches!(&updates[0], Update::Spawned { .. }), "{updates:?}");
    assert!(updates.iter().any(|u| matches!(u, Update::Stray { line, .. } if line == "not json")), "{updates:?}");
    assert!(
        updates.iter().any(|u| matches!(u, Update::Event { line, event, .. }
            if *line == finished && matches!(**event, Event::RunFinished { .. }))),
        "{updates:?}"
    );
    assert!(updates.iter().any(|u| matches!(u, Update::Stderr { line, .. } if line == "it broke")), "{updates:?}");
    let Some(Update::Exited { exit, .. }) = updates.last() else { panic!("last update is not Exited: {updates:?}") };
    assert_eq!(exit.how, ExitHow::Code(3));
    assert!(exit.finished && !exit.cancelled);
    assert_eq!(exit.stderr_tail, ["it broke"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_that_cannot_start_is_reported_not_fatal() {
    let (tx, rx) = mpsc::unbounded_channel();
    let (_cancel, token) = Cancel::new();
    let runner = RunnerCommand::new("/nonexistent/wb");
    Supervisor::new(runner, env(), 1).spawn(vec![job("foobar-au")], &tx, &token);
    drop(tx);
    let updates = collect(rx).await;
    let [Update::Exited { exit, .. }] = updates.as_slice() else { panic!("{updates:?}") };
    assert!(matches!(&exit.how, ExitHow::SpawnFailed(e) if e.starts_with("/nonexistent/wb: ")), "{exit:?}");
    assert!(exit.describe(&MarketId::parse("foobar-au").unwrap()).starts_with("cannot start the runner for foobar-au"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_kills_running_runners_and_never_starts_queued_ones() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (cancel, token) = Cancel::new();
    Supervisor::new(script("echo started; exec sleep 30"), env(), 1).spawn(
        vec![job("foobar-au"), job("foobar-br")],
        &tx,
        &token,
    );
    drop(tx);
    let mut updates = Vec::new();
    // Wait until the first runner is up (jobs = 1: the second is queued), then cancel.
    while let Some(update) = rx.recv().await {
        let started = matches!(&update, Update::Stray { line, .. } if line == "started");
        updates.push(update);
        if started {
            break;
        }
    }
    cancel.cancel();
    updates.extend(collect(rx).await);

    let exits: Vec<(String, ExitHow, bool)> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Exited { market, exit } => Some((market.to_string(), exit.how.clone(), exit.cancelled)),
            _ => None,
        })
        .collect();
    assert_eq!(exits.len(), 2, "{updates:?}");
    assert!(exits.contains(&("foobar-au".into(), ExitHow::Signal(9), true)), "{exits:?}");
    assert!(exits.contains(&("foobar-br".into(), ExitHow::NotStarted, true)), "{exits:?}");
    let spawned = updates.iter().filter(|u| matches!(u, Update::Spawned { .. })).count();
    assert_eq!(spawned, 1);
}
