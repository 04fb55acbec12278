//! A run, orchestrated once for every caller (`wb run`, the TUI, `wb watch`, `wb check`): the run row in history,
//! the backend (started for the run, or the one already up), provisioning, one runner child per market through
//! the [`Supervisor`], the [`Recorder`] applying every update, cancellation through a [`CancelToken`], detection
//! of a backend lost during the run, and the run closed in history. Callers see the run through typed
//! [`RunProgress`] events (each prints or forwards what it shows) and get a [`RunOutcome`] whose [`RunSummary`]
//! is the one definition of the final `{"event": "summary", ...}` line of `wb run --json`.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use localstack::{Backend, LocalAwsError, S3Endpoint};
use pipeline_core::{RunStatus, Stage};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Semaphore, mpsc};

use crate::exit::ExitStatus;
use crate::history::{History, HistoryError, NewRun, RunEnd};
use crate::services::alerts::{self, AlertRequest, AlertSent};
use crate::services::aws::session::{self, Choice, Session};
use crate::services::provision::{self, ProvisionError, Provisioned};
pub use crate::services::recorder::MarketSummary;
use crate::services::recorder::{Applied, Recorder};
use crate::services::reports::{self, ReportRenderer};
use crate::services::supervisor::{CancelToken, MarketJob, RunnerCommand, Supervisor, Update};
use crate::workspace::Workspace;
use markets::MarketId;
use workbench_runner::RunnerEnv;

/// The feedback budget: a full run (and a patch's whole loop) should take at most this long, 15 minutes.
pub const BUDGET_MS: u64 = 15 * 60 * 1000;

/// `850ms`, `1.2s`, `3m05s`.
pub fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// How many markets run at once.
#[derive(Debug, Clone)]
pub enum Jobs {
    /// `[run] jobs` in workbench.toml, else the number of cores.
    Default,
    /// Exactly this many (`wb run --jobs`).
    Limit(NonZeroUsize),
    /// Slots shared with other runs (the TUI's one limit across its requests).
    Shared(Arc<Semaphore>),
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The workspace.
    pub workspace: Workspace,
    /// The run id (see [`new_run_id`]).
    pub run_id: String,
    /// The markets, in the order they start.
    pub markets: Vec<MarketId>,
    /// The stage to reach (`None`: every stage).
    pub stage: Option<Stage>,
    /// as_of override.
    pub as_of: Option<NaiveDate>,
    /// Recompute every stage.
    pub no_cache: bool,
    /// The raw fixtures directory (absolute).
    pub fixtures: PathBuf,
    /// The program that runs markets.
    pub runner: RunnerCommand,
    /// How many markets run at once.
    pub jobs: Jobs,
    /// The command line recorded with the run (who asked for it: `wb run ...`, `wb (tui) run ...`, ...).
    pub command: String,
    /// The HTML renderers of the run's reports (`present::run_report::RENDERER`), published after the run.
    pub reports: ReportRenderer,
}

/// Where the run's S3 comes from.
#[derive(Debug)]
pub enum BackendUse<'a> {
    /// Start (or attach to) a backend for this run, as chosen by [`session::choose`] from `aws`, and shut it down
    /// at the end; `by` names the command in the backend's start-up record.
    Start {
        /// The backend asked for (`--aws`).
        aws: Option<Backend>,
        /// Who starts it.
        by: &'static str,
    },
    /// A backend already up (the TUI session's); provisioning holds `provision_lock` when given, so concurrent
    /// provisionings of one session do not interleave.
    Ready {
        /// Which backend.
        backend: Backend,
        /// Its endpoint.
        endpoint: S3Endpoint,
        /// Held while provisioning.
        provision_lock: Option<&'a Mutex<()>>,
    },
    /// The session's backend did not come up: the run is recorded as failed with `reason` (or as cancelled).
    Unavailable {
        /// Which backend was asked for.
        backend: Backend,
        /// Why it is not there.
        reason: String,
    },
}

/// What stopped a run before its markets ran; all are environment errors.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The run history could not be opened or the run not recorded.
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
    /// The session's backend is not there.
    #[error("{reason}")]
    BackendUnavailable {
        /// Which backend.
        backend: Backend,
        /// Why (it names the backend).
        reason: String,
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

/// A run that stopped before its markets ran: the error, and the run id when the run was recorded (as failed).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct RunFailed {
    /// The run id, when the run row was written before the error (it is closed with the error).
    pub run_id: Option<String>,
    /// What went wrong.
    pub error: RunError,
    /// How long the run took until then.
    pub duration_ms: u64,
}

/// The summary of a run that finished or failed, with the run-wide error to say (the backend lost mid-run, or the
/// error that stopped it before its markets ran), for callers that show a run the way `wb run` does.
pub fn summary_and_error(result: Result<RunOutcome, RunFailed>) -> (RunSummary, Option<String>) {
    match result {
        Ok(outcome) => {
            let error = outcome.summary.error.clone();
            (outcome.summary, error)
        }
        Err(failed) => (failed.summary(), Some(failed.to_string())),
    }
}

impl RunFailed {
    /// The `--json` summary of this failure: status `error`, no markets.
    pub fn summary(&self) -> RunSummary {
        RunSummary::new(
            self.run_id.clone(),
            RunStatus::Error,
            self.duration_ms,
            Vec::new(),
            Some(self.error.to_string()),
        )
    }
}

/// How a backend this run uses came to be there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendOrigin {
    /// Left running by `wb aws up` (served by `wb aws serve` with this pid).
    Shared {
        /// Pid of `wb aws serve`.
        pid: u32,
    },
    /// The embedded S3 another `wb` process owns, attached to.
    Attached {
        /// The owner's pid.
        pid: u32,
        /// The owner's command.
        by: String,
    },
    /// Started by this process.
    Own {
        /// How long the start took.
        startup: Duration,
    },
}

/// What a run reports while it goes, for the caller to print or forward.
#[derive(Debug)]
pub enum RunProgress {
    /// The run is recorded in history under `run_id`, on `backend`.
    Began {
        /// Run id.
        run_id: String,
        /// The backend it uses.
        backend: Backend,
    },
    /// A backend is being started that can take long (LocalStack, container).
    StartingBackend(Backend),
    /// Something the backend start said (attaching to, or waiting for, another process's embedded S3).
    BackendNote(String),
    /// The backend is up.
    BackendUp {
        /// Which backend.
        backend: Backend,
        /// Its URL.
        url: String,
        /// Its version.
        version: String,
        /// Where it comes from.
        origin: BackendOrigin,
    },
    /// The fixtures are in the raw bucket.
    Provisioned {
        /// From where.
        fixtures: PathBuf,
        /// What changed.
        done: Provisioned,
    },
    /// A runner update, after the recorder applied it.
    Runner {
        /// The update.
        update: Update,
        /// What applying it changed.
        applied: Applied,
    },
    /// The token was cancelled while runners ran: they are being stopped.
    Cancelling,
    /// The run history could not be fully written (said once per run).
    HistoryWarning(HistoryError),
    /// The run's alerts: one per market that alerted or failed, as delivered ([`alerts::notify`]); `Err` when they
    /// could not be prepared (the run could not be read back).
    Alerts(Result<Vec<AlertSent>, String>),
    /// Something after the run did not work (its reports were not published, …); the outcome is unchanged.
    Warning(String),
}

/// One market in the [`RunSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryMarket {
    /// Market id.
    pub market: String,
    /// Outcome.
    pub status: RunStatus,
    /// Wall time of the market's run.
    #[serde(default)]
    pub duration_ms: u64,
    /// The error that ended it.
    #[serde(default)]
    pub error: Option<String>,
}

/// The final `{"event": "summary", ...}` line of `wb run --json`, and what `wb watch`, `wb check` and the
/// revision runs of `wb diff` read back. The format is stable: older revisions' lines parse (fields they lack
/// default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Always `"summary"`: a line with another `event` is not a summary.
    pub event: SummaryEvent,
    /// The run id (none when the run could not be recorded).
    #[serde(default)]
    pub run_id: Option<String>,
    /// Overall status.
    pub status: RunStatus,
    /// The exit code of `wb run`.
    #[serde(default)]
    pub exit_code: u8,
    /// Wall time.
    #[serde(default)]
    pub duration_ms: u64,
    /// Peak RSS of the `wb` process itself (runners report theirs in `resources` events).
    #[serde(default)]
    pub peak_rss_bytes: Option<u64>,
    /// Each market's outcome.
    #[serde(default)]
    pub markets: Vec<SummaryMarket>,
    /// A run-wide error (backend lost, environment failed).
    #[serde(default)]
    pub error: Option<String>,
    /// The alerts the run sent (one per market that alerted or failed; see [`alerts::notify`]); left out when
    /// none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<AlertSent>,
    /// Why the run's alerts could not be prepared, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts_error: Option<String>,
    /// What did not work after the run without changing its outcome (reports not published, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl RunSummary {
    /// A summary taken now (for the peak RSS).
    pub fn new(
        run_id: Option<String>,
        status: RunStatus,
        duration_ms: u64,
        markets: Vec<SummaryMarket>,
        error: Option<String>,
    ) -> Self {
        Self {
            event: SummaryEvent::Summary,
            run_id,
            status,
            exit_code: ExitStatus::of_run(status).code(),
            duration_ms,
            peak_rss_bytes: crate::sys::peak_rss_bytes(),
            markets,
            error,
            alerts: Vec::new(),
            alerts_error: None,
            warnings: Vec::new(),
        }
    }

    /// The JSON line.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("summary serialises")
    }

    /// Parses a line; `None` for anything that is not a summary line.
    pub fn parse(line: &str) -> Option<Self> {
        serde_json::from_str(line).ok()
    }
}

/// The `event` of a [`RunSummary`] line: only `"summary"` parses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SummaryEvent {
    /// `"summary"`.
    #[default]
    #[serde(rename = "summary")]
    Summary,
}

/// How a run ended once its markets ran (or it was cancelled before they did).
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The summary (`summary.error` is the run-wide error, e.g. the backend was lost).
    pub summary: RunSummary,
    /// Each market's outcome with its stage records, for the summary table.
    pub markets: Vec<MarketSummary>,
}

/// The command line a run records for its origin `by` (`wb (watch)`, `wb (check)`, `wb (tui)`): the `wb run` that
/// would do the same, e.g. `wb (watch) run --market foobar-br --stage export`.
pub fn command_line(by: &str, markets: &[MarketId], stage: Option<Stage>) -> String {
    let mut command = vec![format!("{by} run")];
    for market in markets {
        command.extend(["--market".to_string(), market.to_string()]);
    }
    if let Some(stage) = stage {
        command.extend(["--stage".to_string(), stage.name().to_string()]);
    }
    command.join(" ")
}

/// A run id: UTC start time to the millisecond plus the process id, e.g. `20261115T101500123Z-4f2a`.
pub fn new_run_id() -> String {
    format!("{}-{:x}", chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ"), std::process::id())
}

/// The history row a request begins with, on `backend`.
pub fn new_run(request: &RunRequest, backend: Backend) -> NewRun {
    let git = crate::git::state(request.workspace.root());
    NewRun {
        run_id: request.run_id.clone(),
        started_at: crate::history::now(),
        command: request.command.clone(),
        git_commit: git.as_ref().map(|g| g.commit.clone()),
        git_dirty: git.as_ref().map(|g| g.dirty),
        backend: backend.to_string(),
        endpoint: None,
        markets: request.markets.iter().map(MarketId::to_string).collect(),
        stage: request.stage.map(|s| s.name().to_string()),
        as_of: request.as_of.map(|d| d.to_string()),
        no_cache: request.no_cache,
        pid: std::process::id(),
        pid_start: crate::sys::process_start_ticks(std::process::id()),
    }
}

/// Runs `request` on `backend` until every market ended or `cancel` stopped it, reporting through `progress`.
/// A run cancelled before its markets ran is recorded and returned as cancelled. `Err` is a run stopped by its
/// environment (history, backend, provisioning); it is recorded when its run row was written. Needs a
/// multi-thread tokio runtime.
pub async fn run(
    request: RunRequest,
    backend: BackendUse<'_>,
    mut cancel: CancelToken,
    mut progress: impl FnMut(RunProgress) + Send,
) -> Result<RunOutcome, RunFailed> {
    let started = Instant::now();
    let failed = |run_id: Option<&str>, error: RunError| RunFailed {
        run_id: run_id.map(str::to_string),
        error,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let mut history = History::open(&request.workspace.history_path()).map_err(|e| failed(None, e.into()))?;
    let (backend_name, source) = match backend {
        BackendUse::Start { aws, by } => {
            let choice = session::choose(&request.workspace, aws).await;
            (choice.backend(), Source::Start(choice, by))
        }
        BackendUse::Ready { backend, endpoint, provision_lock } => (backend, Source::Ready(endpoint, provision_lock)),
        BackendUse::Unavailable { backend, reason } => (backend, Source::Unavailable(backend, reason)),
    };
    history.begin_run(&new_run(&request, backend_name)).map_err(|e| failed(None, e.into()))?;
    let mut run = Run { history, recorder: Recorder::new(request.run_id.clone(), &request.markets), warned: false };
    progress(RunProgress::Began { run_id: request.run_id.clone(), backend: backend_name });

    let prepared = tokio::select! {
        biased;
        () = cancel.cancelled() => None,
        prepared = prepare(&request, source, &mut progress) => Some(prepared),
    };
    let (session, endpoint) = match prepared {
        Some(Ok(prepared)) => prepared,
        Some(Err(error)) if !cancel.is_cancelled() => {
            let duration_ms = started.elapsed().as_millis() as u64;
            let end = RunEnd {
                status: RunStatus::Error,
                endpoint: None,
                duration_ms,
                peak_rss_bytes: crate::sys::peak_rss_bytes(),
                error: Some(error.to_string()),
            };
            if let Err(e) = run.history.finish_run(&request.run_id, &end) {
                run.warn(e, &mut progress);
            }
            return Err(failed(Some(&request.run_id), error));
        }
        _ => {
            run.recorder.cancel();
            return Ok(run.finish(None, started, None, &mut progress));
        }
    };

    let mut jobs = Vec::with_capacity(request.markets.len());
    for market in &request.markets {
        let previous_rows = run.history.previous_rows(market.as_str()).unwrap_or_else(|e| {
            run.warn(e, &mut progress);
            None
        });
        let history_file = if std::env::var_os(ENV_NO_HISTORY_CHECKS).is_some() {
            None
        } else {
            match write_run_history(&run.history, &request, market) {
                Ok(file) => Some(file),
                Err(e) => {
                    run.warn(e, &mut progress);
                    None
                }
            }
        };
        jobs.push(MarketJob {
            market: market.clone(),
            stage: request.stage,
            as_of: request.as_of,
            no_cache: request.no_cache,
            run_id: request.run_id.clone(),
            previous_rows,
            history_file,
        });
    }
    let env = RunnerEnv { endpoint: endpoint.clone(), buckets: request.workspace.settings().buckets.clone() };
    let supervisor = match &request.jobs {
        Jobs::Shared(slots) => Supervisor::new(request.runner.clone(), env, 1).with_slots(Arc::clone(slots)),
        Jobs::Limit(n) => Supervisor::new(request.runner.clone(), env, n.get()),
        Jobs::Default => {
            let n = request.workspace.settings().run.jobs.map(NonZeroUsize::get);
            let n = n.unwrap_or_else(|| std::thread::available_parallelism().map(NonZeroUsize::get).unwrap_or(1));
            Supervisor::new(request.runner.clone(), env, n)
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    supervisor.spawn(jobs, &tx, &cancel);
    drop(tx);
    loop {
        tokio::select! {
            update = rx.recv() => match update {
                Some(update) => {
                    let (applied, written) = run.recorder.apply(&mut run.history, &update);
                    if let Err(e) = written {
                        run.warn(e, &mut progress);
                    }
                    progress(RunProgress::Runner { update, applied });
                }
                None => break,
            },
            () = cancel.cancelled(), if !run.recorder.is_cancelled() => {
                run.recorder.cancel();
                progress(RunProgress::Cancelling);
            }
        }
    }
    let lost = if run.recorder.status() == RunStatus::Error {
        let reason = session::answers(&endpoint).await.err();
        reason.map(|reason| session::lost_message(backend_name, &endpoint.url, &reason))
    } else {
        None
    };
    let mut outcome = run.finish(Some(endpoint.url.clone()), started, lost, &mut progress);
    let reports_bucket = &request.workspace.settings().buckets.reports;
    let published = match reports::objects(&run.history, &request.run_id, request.reports) {
        Ok(objects) => reports::write(&endpoint, reports_bucket, objects).await.map(drop),
        Err(e) => Err(e),
    };
    if let Err(e) = published {
        outcome.summary.warnings.push(format!("reports not published: {e}"));
        progress(RunProgress::Warning(format!("reports not published: {e}")));
    }
    for market in &request.markets {
        let _ = std::fs::remove_file(history_file_path(&request, market));
        let keep = markets::load(market.as_str()).map(|m| m.config().quality.retention_runs as usize);
        if let Ok(keep) = keep
            && let Err(e) = run.history.prune_metrics(market.as_str(), keep)
        {
            run.warn(e, &mut progress);
        }
    }
    // Alerts (issue 19): one message per market run that alerted or failed, through SES or the outbox.
    let outbox = alerts::outbox_dir(&request.workspace);
    let alert_request = AlertRequest {
        run_id: &request.run_id,
        backend: backend_name,
        endpoint: &endpoint,
        outbox: &outbox,
        reports_bucket,
    };
    match alerts::notify(&run.history, alert_request).await {
        Ok(sent) => outcome.summary.alerts = sent,
        Err(e) => outcome.summary.alerts_error = Some(e.to_string()),
    }
    progress(RunProgress::Alerts(match &outcome.summary.alerts_error {
        Some(e) => Err(e.clone()),
        None => Ok(outcome.summary.alerts.clone()),
    }));
    if let Some(session) = session {
        session.shutdown().await;
    }
    Ok(outcome)
}

/// Set (to anything) to leave the history and drift checks out of a run: the runners get no run history. What
/// `just bench` compares a full run against to measure what those checks cost.
pub const ENV_NO_HISTORY_CHECKS: &str = "WB_NO_HISTORY_CHECKS";

/// Where a market's run history file for its runner goes: `.workbench/tmp/{run_id}-{market}.history.json`.
fn history_file_path(request: &RunRequest, market: &MarketId) -> std::path::PathBuf {
    request.workspace.state_dir().join("tmp").join(format!("{}-{market}.history.json", request.run_id))
}

/// Writes `market`'s earlier successful runs and drift baselines for its runner's history checks.
fn write_run_history(history: &History, request: &RunRequest, market: &MarketId) -> Result<PathBuf, HistoryError> {
    let run_history = history.run_history(market.as_str())?;
    let path = history_file_path(request, market);
    let dir = path.parent().expect("the file has a folder");
    std::fs::create_dir_all(dir).map_err(|source| HistoryError::Dir { path: dir.to_path_buf(), source })?;
    let json = serde_json::to_vec(&run_history).expect("run history serialises");
    std::fs::write(&path, json).map_err(|source| HistoryError::Dir { path: path.clone(), source })?;
    Ok(path)
}

/// Starts the backend (or attaches to the running one, or takes the one given) and provisions it; a backend it
/// started is shut down again when provisioning fails. Returns the session it started, if any.
async fn prepare(
    request: &RunRequest,
    source: Source<'_>,
    progress: &mut (impl FnMut(RunProgress) + Send),
) -> Result<(Option<Session>, S3Endpoint), RunError> {
    let workspace = &request.workspace;
    let buckets = &workspace.settings().buckets;
    let index = workspace.fixture_index_path();
    match source {
        Source::Start(choice, by) => {
            provision::check_fixtures(&request.fixtures, &request.markets)?;
            let backend = choice.backend();
            if matches!(choice, Choice::Own(Backend::LocalStack | Backend::Container)) {
                progress(RunProgress::StartingBackend(backend));
            }
            // What the start says (attaching to, or waiting for, another process's embedded S3) is reported as it
            // comes.
            let (note_tx, mut notes) = mpsc::unbounded_channel();
            let note = move |note: String| drop(note_tx.send(note));
            let start = Session::start_with(workspace, choice, by, &note);
            tokio::pin!(start);
            let started = loop {
                tokio::select! {
                    started = &mut start => break started,
                    Some(note) = notes.recv() => progress(RunProgress::BackendNote(note)),
                }
            };
            while let Ok(note) = notes.try_recv() {
                progress(RunProgress::BackendNote(note));
            }
            let running = started.map_err(|source| RunError::Backend { backend, source })?;
            let endpoint = running.endpoint();
            let origin = match &running {
                Session::Shared(state) => BackendOrigin::Shared { pid: state.pid },
                Session::Attached(owner, _) => BackendOrigin::Attached { pid: owner.pid, by: owner.by.clone() },
                Session::Own(..) => BackendOrigin::Own { startup: running.startup() },
            };
            progress(RunProgress::BackendUp {
                backend,
                url: endpoint.url.clone(),
                version: running.version().to_string(),
                origin,
            });
            match provision::provision(&endpoint, buckets, &request.fixtures, &request.markets, &index).await {
                Ok(done) => {
                    progress(RunProgress::Provisioned { fixtures: request.fixtures.clone(), done });
                    Ok((Some(running), endpoint))
                }
                Err(e) => {
                    running.shutdown().await;
                    Err(e.into())
                }
            }
        }
        Source::Ready(endpoint, provision_lock) => {
            provision::check_fixtures(&request.fixtures, &request.markets)?;
            let _guard = match provision_lock {
                Some(lock) => Some(lock.lock().await),
                None => None,
            };
            let done = provision::provision(&endpoint, buckets, &request.fixtures, &request.markets, &index).await?;
            progress(RunProgress::Provisioned { fixtures: request.fixtures.clone(), done });
            Ok((None, endpoint))
        }
        Source::Unavailable(backend, reason) => Err(RunError::BackendUnavailable { backend, reason }),
    }
}

/// A [`BackendUse`] with the backend to start chosen.
enum Source<'a> {
    Start(Choice, &'static str),
    Ready(S3Endpoint, Option<&'a Mutex<()>>),
    Unavailable(Backend, String),
}

/// The run's history and recorder.
struct Run {
    history: History,
    recorder: Recorder,
    warned: bool,
}

impl Run {
    fn warn(&mut self, e: HistoryError, progress: &mut impl FnMut(RunProgress)) {
        if !self.warned {
            self.warned = true;
            progress(RunProgress::HistoryWarning(e));
        }
    }

    /// Closes the run in history; `error` is a run-wide error (the backend was lost).
    fn finish(
        &mut self,
        endpoint: Option<String>,
        started: Instant,
        error: Option<String>,
        progress: &mut impl FnMut(RunProgress),
    ) -> RunOutcome {
        let status = self.recorder.final_status(error.as_deref());
        let duration_ms = started.elapsed().as_millis() as u64;
        if let Err(e) = self.recorder.finish(&mut self.history, endpoint, duration_ms, error.clone()) {
            self.warn(e, progress);
        }
        let markets = self.recorder.summaries();
        let lines = markets
            .iter()
            .map(|m| SummaryMarket {
                market: m.market.clone(),
                status: m.status,
                duration_ms: m.duration_ms,
                error: m.error.clone(),
            })
            .collect();
        let summary = RunSummary::new(Some(self.recorder.run_id().to_string()), status, duration_ms, lines, error);
        RunOutcome { summary, markets }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time_and_carry_the_pid() {
        let id = new_run_id();
        assert!(id.ends_with(&format!("-{:x}", std::process::id())), "{id}");
        assert_eq!(id.find('Z'), Some(18), "{id}");
    }

    #[test]
    fn the_summary_line_keeps_its_format_and_round_trips() {
        let summary = RunSummary {
            event: SummaryEvent::Summary,
            run_id: Some("r1".into()),
            status: RunStatus::Fail,
            exit_code: 1,
            duration_ms: 1234,
            peak_rss_bytes: Some(42),
            markets: vec![SummaryMarket {
                market: "foobar-au".into(),
                status: RunStatus::Fail,
                duration_ms: 1000,
                error: Some("boom".into()),
            }],
            error: None,
            alerts: Vec::new(),
            alerts_error: None,
            warnings: Vec::new(),
        };
        let line = summary.to_json_line();
        assert_eq!(
            line,
            r#"{"event":"summary","run_id":"r1","status":"fail","exit_code":1,"duration_ms":1234,"peak_rss_bytes":42,"markets":[{"market":"foobar-au","status":"fail","duration_ms":1000,"error":"boom"}],"error":null}"#
        );
        assert_eq!(RunSummary::parse(&line), Some(summary));
        assert_eq!(RunSummary::parse(r#"{"event":"run_finished","status":"ok"}"#), None);
        // An older revision's minimal line still parses.
        let old = RunSummary::parse(r#"{"event":"summary","run_id":null,"status":"error","error":"x"}"#).unwrap();
        assert_eq!(old.error.as_deref(), Some("x"));
    }
}
