//! `wb run`: start the backend (or use the one `wb aws up` left running), provision it, start one runner per
//! market through the [`Supervisor`], and own the run's state in one loop: print progress (or the events as JSON
//! lines), record history, handle Ctrl-C, and turn the outcome into an exit code. A backend that stops answering
//! during the run is named in the run's error.

use std::path::{Path, PathBuf};
use std::time::Instant;

use localstack::{Backend, LocalAwsError, RetryLog};
use pipeline_core::events::LogLevel;
use pipeline_core::{Buckets, Event, RunStatus};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::cli::RunArgs;
use crate::exit::ExitStatus;
use crate::history::{History, HistoryError, NewRun, RunEnd};
use crate::present::output::say;
use crate::present::report;
use crate::runner::RunnerEnv;
use crate::services::aws::session::{self, Choice, Session};
use crate::services::provision::{self, ProvisionError};
use crate::services::recorder::{Applied, Recorder};
use crate::services::supervisor::{Cancel, MarketJob, RunnerCommand, Supervisor, Update};
use crate::workspace::{Workspace, WorkspaceError};
use markets::MarketId;

/// What stopped a run before its markets ran; all are environment errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No workspace, or a bad `workbench.toml`.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The run history could not be opened.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The backend did not start (for `endpoint`: nothing answers at `AWS_ENDPOINT_URL`; its error names the
    /// backend, the endpoint and what to do).
    #[error("{}", backend_error(*backend, source))]
    Backend {
        /// Which backend.
        backend: Backend,
        /// Why.
        #[source]
        source: LocalAwsError,
    },
    /// Buckets or fixtures could not be provisioned.
    #[error(transparent)]
    Provision(#[from] ProvisionError),
}

fn backend_error(backend: Backend, source: &LocalAwsError) -> String {
    match backend {
        Backend::Endpoint => source.to_string(),
        _ => format!("cannot start the {backend} S3 backend: {source}"),
    }
}

/// How `wb run` is invoked: its options, the runner program and the command line to record.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Options.
    pub args: RunArgs,
    /// The program that runs markets.
    pub runner: RunnerCommand,
    /// The command line as typed, for history.
    pub command_line: String,
}

/// Runs `wb run` from the current directory and returns the exit code. Needs a multi-thread tokio runtime.
pub async fn run(invocation: Invocation) -> ExitStatus {
    if invocation.args.dry_run {
        return crate::services::plan::run(&invocation).await;
    }
    let started = Instant::now();
    let json = invocation.args.json;
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => return environment_error(json, None, &e.into(), started),
    };
    let mut history = match History::open(&workspace.history_path()) {
        Ok(history) => history,
        Err(e) => return environment_error(json, None, &e.into(), started),
    };
    let markets = invocation.args.selected_markets();
    // Retries of this process's own requests (provisioning); the runners report theirs as log events.
    RetryLog::global().on_retry(|retry| eprintln!("warning: {retry}"));
    let choice = session::choose(&workspace, invocation.args.aws).await;
    let backend = choice.backend();
    let run_id = new_run_id();
    let git = crate::git::state(workspace.root());
    let new_run = NewRun {
        run_id: run_id.clone(),
        started_at: crate::history::now(),
        command: invocation.command_line.clone(),
        git_commit: git.as_ref().map(|g| g.commit.clone()),
        git_dirty: git.as_ref().map(|g| g.dirty),
        backend: backend.to_string(),
        endpoint: None,
        markets: markets.iter().map(MarketId::to_string).collect(),
        stage: invocation.args.stage.map(|s| s.name().to_string()),
        as_of: invocation.args.as_of.map(|d| d.to_string()),
        no_cache: invocation.args.no_cache,
        pid: std::process::id(),
        pid_start: crate::sys::process_start_ticks(std::process::id()),
    };
    if let Err(e) = history.begin_run(&new_run) {
        return environment_error(json, None, &e.into(), started);
    }

    let mut run = Run {
        json,
        history,
        buckets: workspace.settings().buckets.clone(),
        width: markets.iter().map(|m| m.as_str().len()).max().unwrap_or(0),
        recorder: Recorder::new(run_id, &markets),
        history_warned: false,
    };
    if !json {
        let names: Vec<&str> = markets.iter().map(MarketId::as_str).collect();
        run.say(&format!("run {}: {} on the {backend} S3 backend", run.run_id(), names.join(", ")));
    }
    let fixtures = invocation.args.fixtures.clone().map(absolute).unwrap_or_else(|| workspace.default_fixtures_dir());
    // Ctrl-C is handled from here on: a backend that takes long to start can be cancelled too.
    let mut interrupt = std::pin::pin!(interrupted());
    let prepared = tokio::select! {
        prepared = prepare(&workspace, choice, &fixtures, &markets, &run) => Some(prepared),
        () = &mut interrupt => None,
    };
    let backend_running = match prepared {
        Some(Ok(running)) => running,
        Some(Err(e)) => return run.abort(&e, started),
        None => {
            run.cancel();
            return run.finish(None, started, None);
        }
    };
    let endpoint = backend_running.endpoint();

    let jobs_count = invocation
        .args
        .jobs
        .or(workspace.settings().run.jobs)
        .map(|n| n.get())
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let mut jobs = Vec::with_capacity(markets.len());
    for market in &markets {
        let previous_rows = run.history.previous_rows(market.as_str()).unwrap_or_else(|e| {
            run.warn_history(&e);
            None
        });
        jobs.push(MarketJob {
            market: market.clone(),
            stage: invocation.args.stage,
            as_of: invocation.args.as_of,
            no_cache: invocation.args.no_cache,
            run_id: run.run_id().to_string(),
            previous_rows,
        });
    }
    let supervisor = Supervisor::new(
        invocation.runner.clone(),
        RunnerEnv { endpoint: endpoint.clone(), buckets: run.buckets.clone() },
        jobs_count,
    );
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (cancel, token) = Cancel::new();
    supervisor.spawn(jobs, &tx, &token);
    drop(tx);

    loop {
        tokio::select! {
            update = rx.recv() => match update {
                Some(update) => run.apply(update),
                None => break,
            },
            () = &mut interrupt, if !run.is_cancelled() => {
                run.cancel();
                cancel.cancel();
                if !json {
                    run.say("cancelling: stopping the runners");
                }
            }
        }
    }
    let lost = if run.recorder.status() == RunStatus::Error {
        session::answers(&endpoint).await.err().map(|reason| session::lost_message(backend, &endpoint.url, &reason))
    } else {
        None
    };
    let code = run.finish(Some(endpoint.url.clone()), started, lost);
    backend_running.shutdown().await;
    code
}

/// Starts the backend (or attaches to the running one) and provisions it; a backend it started is shut down
/// again when provisioning fails.
async fn prepare(
    workspace: &Workspace,
    choice: Choice,
    fixtures: &Path,
    markets: &[MarketId],
    run: &Run,
) -> Result<Session, RunError> {
    provision::check_fixtures(fixtures, markets)?;
    let backend = choice.backend();
    if !run.json && matches!(choice, Choice::Own(Backend::LocalStack | Backend::Container)) {
        run.say(&format!("starting the {backend} backend (a first start can take a few minutes)"));
    }
    // Every backend keeps its state under `.workbench/` (the embedded one in `.workbench/s3`).
    let running =
        Session::start(workspace, choice, "wb run").await.map_err(|source| RunError::Backend { backend, source })?;
    let endpoint = running.endpoint();
    if !run.json {
        match &running {
            Session::Shared(state) => run.say(&format!(
                "S3 at {} ({}; the {backend} backend `wb aws up` left running, `wb aws serve` pid {})",
                endpoint.url,
                running.version(),
                state.pid
            )),
            Session::Attached(owner, _) => run.say(&format!(
                "S3 at {} ({}; the embedded backend of pid {} ({}), attached)",
                endpoint.url,
                running.version(),
                owner.pid,
                owner.by
            )),
            Session::Own(..) => {
                let startup = report::duration(running.startup().as_millis() as u64);
                run.say(&format!("S3 at {} ({}, up in {startup})", endpoint.url, running.version()));
            }
        }
    }
    match provision::provision(&endpoint, &run.buckets, fixtures, markets, &workspace.fixture_index_path()).await {
        Ok(done) => {
            if !run.json {
                run.say(&format!(
                    "fixtures from {}: {} uploaded, {} unchanged{}",
                    fixtures.display(),
                    done.uploaded.len(),
                    done.unchanged.len(),
                    if done.removed.is_empty() { String::new() } else { format!(", {} removed", done.removed.len()) }
                ));
            }
            Ok(running)
        }
        Err(e) => {
            running.shutdown().await;
            Err(e.into())
        }
    }
}

/// Resolves on Ctrl-C (and on SIGTERM on Unix).
pub(crate) async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

/// A run id: UTC start time to the millisecond plus the process id, e.g. `20261115T101500123Z-4f2a`.
pub fn new_run_id() -> String {
    format!("{}-{:x}", chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ"), std::process::id())
}

/// An error before anything was recorded: say it, print a JSON summary when asked, exit 2.
fn environment_error(json: bool, run_id: Option<&str>, e: &RunError, started: Instant) -> ExitStatus {
    eprintln!("error: {e}");
    if json {
        let summary = Summary::new(run_id, RunStatus::Error, started, Vec::new(), Some(e.to_string()));
        say(&summary.to_json_line());
    }
    ExitStatus::Error
}

/// The run's state, owned by the loop in [`run`]: the [`Recorder`] (markets and history) plus printing.
struct Run {
    json: bool,
    history: History,
    buckets: Buckets,
    width: usize,
    recorder: Recorder,
    history_warned: bool,
}

impl Run {
    fn run_id(&self) -> &str {
        self.recorder.run_id()
    }

    fn say(&self, line: &str) {
        say(line);
    }

    fn warn_history(&mut self, e: &HistoryError) {
        if !self.history_warned {
            eprintln!("warning: run history not fully recorded: {e}");
            self.history_warned = true;
        }
    }

    fn cancel(&mut self) {
        self.recorder.cancel();
    }

    fn is_cancelled(&self) -> bool {
        self.recorder.is_cancelled()
    }

    fn apply(&mut self, update: Update) {
        let (applied, written) = self.recorder.apply(&mut self.history, &update);
        if let Err(e) = written {
            self.warn_history(&e);
        }
        let (json, width) = (self.json, self.width);
        match update {
            Update::Event { market, event, line } => {
                if json {
                    say(&line);
                    return;
                }
                match *event {
                    Event::RunStarted { stages, as_of, .. } => {
                        let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
                        say(&format!("{market:<width$}  as_of {as_of}: {}", names.join(" → ")));
                    }
                    Event::StageFinished { record, .. } => {
                        for line in report::stage_lines(market.as_str(), width, &record, &self.buckets.quarantine) {
                            say(&line);
                        }
                    }
                    Event::Log { stage: None, level: LogLevel::Warn | LogLevel::Error, message, .. } => {
                        say(&format!("{market:<width$}  {message}"));
                    }
                    _ => {}
                }
            }
            Update::Stray { market, line } => {
                if json {
                    let event =
                        Event::Log { market: market.to_string(), stage: None, level: LogLevel::Info, message: line };
                    say(&event.to_json_line());
                } else {
                    say(&format!("{market:<width$}  | {line}"));
                }
            }
            Update::Stderr { market, line } => eprintln!("[{market}] {line}"),
            Update::Spawned { .. } => {}
            Update::Exited { market, .. } => {
                let Applied::MarketEnded { end, said_by_runner } = applied else { return };
                if json && !said_by_runner {
                    // The runner could not say how it ended: say it for it, so every market's stream ends alike.
                    let event = Event::RunFinished {
                        run_id: self.run_id().to_string(),
                        market: market.to_string(),
                        status: end.status,
                        duration_ms: end.duration_ms.unwrap_or(0),
                        error: end.error.clone(),
                    };
                    say(&event.to_json_line());
                }
                if !json {
                    let lines = report::market_lines(
                        market.as_str(),
                        width,
                        end.status,
                        end.duration_ms.unwrap_or(0),
                        end.error.as_deref(),
                    );
                    for line in lines {
                        say(&line);
                    }
                }
            }
        }
    }

    /// Closes the run: history, summary, exit code. `error` is a run-wide error (the backend was lost), said on
    /// stderr and recorded.
    fn finish(&mut self, endpoint: Option<String>, started: Instant, error: Option<String>) -> ExitStatus {
        let status = self.recorder.final_status(error.as_deref());
        let duration_ms = started.elapsed().as_millis() as u64;
        if let Some(error) = &error {
            eprintln!("error: {error}");
        }
        if let Err(e) = self.recorder.finish(&mut self.history, endpoint, duration_ms, error.clone()) {
            self.warn_history(&e);
        }
        let summaries = self.recorder.summaries();
        if self.json {
            let markets = summaries
                .iter()
                .map(|m| MarketLine {
                    market: m.market.clone(),
                    status: m.status,
                    duration_ms: m.duration_ms,
                    error: m.error.clone(),
                })
                .collect();
            say(&Summary::new(Some(self.run_id()), status, started, markets, error).to_json_line());
        } else {
            say("");
            print!("{}", report::summary(&summaries, duration_ms));
            say(&format!("{}: {}", status.as_str(), next_step(status, self.run_id())));
        }
        ExitStatus::of_run(status)
    }

    /// Records a run that stopped before its markets ran, and exits 2.
    fn abort(&mut self, e: &RunError, started: Instant) -> ExitStatus {
        let end = RunEnd {
            status: RunStatus::Error,
            endpoint: None,
            duration_ms: started.elapsed().as_millis() as u64,
            peak_rss_bytes: crate::sys::peak_rss_bytes(),
            error: Some(e.to_string()),
        };
        let run_id = self.run_id().to_string();
        if let Err(history) = self.history.finish_run(&run_id, &end) {
            self.warn_history(&history);
        }
        environment_error(self.json, Some(&run_id), e, started)
    }
}

/// What to do after a run with this status.
fn next_step(status: RunStatus, run_id: &str) -> String {
    match status {
        RunStatus::Ok => format!("every check passed (run {run_id})"),
        RunStatus::Alert => format!("passed with alerts: review the alerts above (run {run_id})"),
        RunStatus::Fail => {
            format!("a check or stage failed on the data: fix the input or the rules above (run {run_id})")
        }
        RunStatus::Error => format!("the environment failed: see the errors above, fix, and re-run (run {run_id})"),
        RunStatus::Cancelled => format!("cancelled (run {run_id})"),
    }
}

/// The final `{"event": "summary", ...}` line of `--json`.
#[derive(Debug, Serialize)]
struct Summary {
    event: &'static str,
    run_id: Option<String>,
    status: RunStatus,
    exit_code: u8,
    duration_ms: u64,
    /// Peak RSS of the `wb` process itself (runners report theirs in `resources` events).
    peak_rss_bytes: Option<u64>,
    markets: Vec<MarketLine>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct MarketLine {
    market: String,
    status: RunStatus,
    duration_ms: u64,
    error: Option<String>,
}

impl Summary {
    fn new(
        run_id: Option<&str>,
        status: RunStatus,
        started: Instant,
        markets: Vec<MarketLine>,
        error: Option<String>,
    ) -> Self {
        Self {
            event: "summary",
            run_id: run_id.map(str::to_string),
            status,
            exit_code: ExitStatus::of_run(status).code(),
            duration_ms: started.elapsed().as_millis() as u64,
            peak_rss_bytes: crate::sys::peak_rss_bytes(),
            markets,
            error,
        }
    }

    fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("summary serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_worst_status() {
        let codes = [RunStatus::Ok, RunStatus::Alert, RunStatus::Fail, RunStatus::Error, RunStatus::Cancelled]
            .map(|s| ExitStatus::of_run(s).code());
        assert_eq!(codes, [0, 0, 1, 2, 130]);
    }

    #[test]
    fn run_ids_sort_by_time_and_carry_the_pid() {
        let id = new_run_id();
        assert!(id.ends_with(&format!("-{:x}", std::process::id())), "{id}");
        assert_eq!(id.find('Z'), Some(18), "{id}");
    }
}
