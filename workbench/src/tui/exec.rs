//! The TUI's imperative shell: carries out the app's [`Effect`]s on tokio tasks and reports back as [`Msg`]s,
//! so the event loop never waits on IO. It owns the S3 backend for the session (started once, or the one
//! `wb aws up` left running), builds the runner, runs requests through the [`Supervisor`] with one shared limit on
//! how many markets run at once, and records every run in history (a build failure too).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use localstack::Backend;
use pipeline_core::events::LogLevel;
use pipeline_core::{RunStatus, Stage};
use tokio::sync::{Mutex, Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::history::History;
use crate::history::RunDetail;
use crate::services::aws::session::{self, Session};
use crate::services::build::{Builder, RunnerSource};
use crate::services::kpi::Kpis;
use crate::services::reports;
use crate::services::runs::{self, BackendUse, Jobs, RunProgress, RunRequest};
use crate::services::supervisor::{Cancel, RunnerCommand};
use crate::tui::app::{CellHistory, CellStatus, Effect, Header, LogLine, Msg, Request};
use crate::tui::screens::coverage::CoverageLoad;
use crate::workspace::Workspace;
use markets::MarketId;
use workbench_runner::RunnerEnv;

/// How often the header's repository facts are refreshed.
const HEADER_EVERY: Duration = Duration::from_secs(3);

/// The backend as the requests see it: starting, up at an endpoint, or failed.
#[derive(Debug, Clone)]
enum BackendState {
    Starting,
    Up(Backend, localstack::S3Endpoint),
    Failed(String),
}

/// Carries out effects.
pub struct Executor {
    shared: Arc<Shared>,
    planner: Option<JoinHandle<()>>,
    watcher: Option<JoinHandle<()>>,
    cancels: HashMap<u64, Cancel>,
    /// Runs and diffs: waited for (briefly) on quit, so cancelled runs are recorded.
    tasks: Vec<JoinHandle<()>>,
    /// The backend start, the header refresh and the history load: aborted on quit.
    background: Vec<JoinHandle<()>>,
    session: Arc<Mutex<Option<Session>>>,
}

/// What every task needs.
struct Shared {
    workspace: Workspace,
    msgs: mpsc::UnboundedSender<Msg>,
    builder: Builder,
    slots: Arc<Semaphore>,
    backend: watch::Receiver<BackendState>,
    provision: Mutex<()>,
    /// The backend asked for (the one `wb aws up` left running may differ; runs record the one they used).
    requested: Backend,
}

impl Executor {
    /// Starts the session's background work (backend, header refresh, history load) and returns the executor.
    /// `jobs` limits how many markets run at once across all requests.
    pub fn start(
        workspace: Workspace,
        aws: Option<Backend>,
        source: RunnerSource,
        jobs: usize,
        msgs: mpsc::UnboundedSender<Msg>,
    ) -> Self {
        let (backend_tx, backend_rx) = watch::channel(BackendState::Starting);
        let session: Arc<Mutex<Option<Session>>> = Arc::new(Mutex::new(None));
        let shared = Arc::new(Shared {
            workspace: workspace.clone(),
            msgs: msgs.clone(),
            builder: Builder::new(source),
            slots: Arc::new(Semaphore::new(jobs.max(1))),
            backend: backend_rx,
            provision: Mutex::new(()),
            requested: aws.or_else(|| workspace.backend()).unwrap_or(Backend::Embedded),
        });
        let mut background = Vec::new();
        background.push(tokio::spawn(start_backend(
            workspace.clone(),
            aws,
            Arc::clone(&session),
            backend_tx,
            msgs.clone(),
        )));
        background.push(tokio::spawn(refresh_header(workspace.clone(), msgs.clone())));
        let history = workspace.history_path();
        background.push(tokio::spawn(async move {
            let loaded = tokio::task::spawn_blocking(move || load_cells(&history)).await;
            match loaded {
                Ok(Ok((cells, last_full))) => {
                    let _ = msgs.send(Msg::CellHistory(cells));
                    let _ = msgs.send(Msg::Header(Header { last_full_run_ms: last_full, ..Header::default() }));
                }
                Ok(Err(e)) => {
                    let _ = msgs.send(Msg::Log(log("wb", LogLevel::Error, format!("run history: {e}"))));
                }
                Err(_) => {}
            }
        }));
        let planner = Some(tokio::spawn(check_stale(Arc::clone(&shared))));
        Self { shared, planner, watcher: None, cancels: HashMap::new(), tasks: Vec::new(), background, session }
    }

    /// Carries out one effect (never blocks: the work runs on tasks).
    pub fn execute(&mut self, effect: Effect) {
        match effect {
            Effect::Start { id, request } => {
                let (cancel, token) = Cancel::new();
                self.cancels.insert(id, cancel);
                let shared = Arc::clone(&self.shared);
                self.tasks.retain(|t| !t.is_finished());
                self.tasks.push(tokio::spawn(async move {
                    let (status, error) = run_request(&shared, id, request, token).await;
                    let _ = shared.msgs.send(Msg::RunEnded { id, status, error });
                }));
            }
            Effect::Cancel(ids) => {
                for id in ids {
                    if let Some(cancel) = self.cancels.get(&id) {
                        cancel.cancel();
                    }
                }
            }
            Effect::LoadRuns => {
                let (path, msgs) = (self.shared.workspace.history_path(), self.shared.msgs.clone());
                tokio::task::spawn_blocking(move || {
                    let msg = match History::open(&path).and_then(|h| h.list_runs(200)) {
                        Ok(runs) => Msg::Runs(runs),
                        Err(e) => Msg::Log(log("wb", LogLevel::Error, format!("run history: {e}"))),
                    };
                    let _ = msgs.send(msg);
                });
            }
            Effect::LoadRun(run_id) => {
                let (path, msgs) = (self.shared.workspace.history_path(), self.shared.msgs.clone());
                let ws = &self.shared.workspace;
                let (bucket, s3_dir) = (ws.settings().buckets.reports.clone(), ws.s3_dir());
                tokio::task::spawn_blocking(move || {
                    let msg = match load_detail(&path, &run_id) {
                        Ok(Some(detail)) => {
                            let links = reports::links(&detail, &bucket, &s3_dir);
                            let _ = msgs.send(Msg::Detail(Box::new(detail)));
                            Msg::ReportLinks { run_id, links }
                        }
                        Ok(None) => Msg::Log(log("wb", LogLevel::Error, format!("no run {run_id} in history"))),
                        Err(e) => Msg::Log(log("wb", LogLevel::Error, format!("run history: {e}"))),
                    };
                    let _ = msgs.send(msg);
                });
            }
            Effect::OpenReport(path) => {
                let msgs = self.shared.msgs.clone();
                tokio::task::spawn_blocking(move || {
                    if let Err(message) = open_in_browser(&path) {
                        let _ = msgs.send(Msg::Log(log("wb", LogLevel::Warn, message)));
                    }
                });
            }
            Effect::LoadKpis => {
                let (path, msgs) = (self.shared.workspace.history_path(), self.shared.msgs.clone());
                let thresholds = self.shared.workspace.settings().coverage;
                tokio::task::spawn_blocking(move || {
                    let loaded =
                        History::open(&path).and_then(|h| Kpis::load(&h, thresholds, crate::services::kpi::WINDOW));
                    let msg = match loaded {
                        Ok(kpis) => Msg::Kpis(Box::new(kpis)),
                        Err(e) => Msg::Log(log("wb", LogLevel::Error, format!("KPIs: {e}"))),
                    };
                    let _ = msgs.send(msg);
                });
            }
            Effect::LoadOutbox => {
                let (dir, msgs) =
                    (crate::services::alerts::outbox_dir(&self.shared.workspace), self.shared.msgs.clone());
                tokio::task::spawn_blocking(move || {
                    let listed = crate::services::alerts::list_outbox(&dir).map_err(|e| e.to_string());
                    let _ = msgs.send(Msg::Outbox(listed));
                });
            }
            Effect::LoadMail(file) => {
                let (dir, msgs) =
                    (crate::services::alerts::outbox_dir(&self.shared.workspace), self.shared.msgs.clone());
                tokio::task::spawn_blocking(move || {
                    let read = crate::services::alerts::read_outbox(&dir, &file);
                    let _ = msgs.send(Msg::Mail(read.map(Box::new).map_err(|e| e.to_string())));
                });
            }
            Effect::CheckStale => {
                if self.planner.as_ref().is_none_or(|p| p.is_finished()) {
                    self.planner = Some(tokio::spawn(check_stale(Arc::clone(&self.shared))));
                }
            }
            Effect::Watch(on) => {
                if let Some(task) = self.watcher.take() {
                    task.abort();
                }
                if on {
                    let (root, msgs) = (self.shared.workspace.root().to_path_buf(), self.shared.msgs.clone());
                    let quiet = Duration::from_millis(crate::services::watch::DEFAULT_DEBOUNCE_MS);
                    self.watcher =
                        Some(tokio::spawn(async move { crate::tui::watch::watch(&root, quiet, msgs).await }));
                }
            }
            Effect::RecordFeedback { run_id, ms } => {
                let (path, msgs) = (self.shared.workspace.history_path(), self.shared.msgs.clone());
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = History::open(&path).and_then(|mut h| h.set_feedback_ms(&run_id, ms)) {
                        let _ = msgs.send(Msg::Log(log("wb", LogLevel::Warn, format!("run history: {e}"))));
                    }
                });
            }
            Effect::LoadDiff(request) => {
                let shared = Arc::clone(&self.shared);
                self.tasks.retain(|t| !t.is_finished());
                self.tasks.push(tokio::spawn(async move {
                    // The session's backend: a diff never starts a second one (nor prints over the screen).
                    let (workspace, msgs) = (&shared.workspace, shared.msgs.clone());
                    let endpoint = backend_ready(&shared).await.ok().map(|(_, endpoint)| endpoint);
                    let result = crate::services::diff::compare(workspace, &request.query(), endpoint).await;
                    let result = result.map(Box::new).map_err(|e| e.to_string());
                    let _ = msgs.send(Msg::Diff { request, result });
                }));
            }
            Effect::LoadCoverage => {
                let (workspace, msgs) = (self.shared.workspace.clone(), self.shared.msgs.clone());
                tokio::task::spawn_blocking(move || {
                    let load = load_coverage(&workspace);
                    let _ = msgs.send(Msg::Coverage(Box::new(load)));
                });
            }
            Effect::ReloadLastFullRun => {
                let (path, msgs) = (self.shared.workspace.history_path(), self.shared.msgs.clone());
                tokio::task::spawn_blocking(move || {
                    let msg = match load_cells(&path) {
                        Ok((_, last_full_run_ms)) => Msg::Header(Header { last_full_run_ms, ..Header::default() }),
                        Err(e) => Msg::Log(log("wb", LogLevel::Error, format!("run history: {e}"))),
                    };
                    let _ = msgs.send(msg);
                });
            }
            Effect::Quit => {
                for cancel in self.cancels.values() {
                    cancel.cancel();
                }
            }
        }
    }

    /// Cancels every run, waits (up to `grace`) for the runs to be recorded, and stops the backend it started.
    pub async fn shutdown(mut self, grace: Duration) {
        if let Some(task) = self.planner.take() {
            task.abort();
        }
        if let Some(task) = self.watcher.take() {
            task.abort();
        }
        for task in self.background.drain(..) {
            task.abort();
        }
        for cancel in self.cancels.values() {
            cancel.cancel();
        }
        let deadline = tokio::time::Instant::now() + grace;
        for task in self.tasks.drain(..) {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                abort.abort();
            }
        }
        if let Some(session) = self.session.lock().await.take() {
            session.shutdown().await;
        }
    }
}

/// Loads and analyses the workspace's coverage reports (the [`crate::services::coverage`] service) as the coverage
/// screen takes them.
pub fn load_coverage(workspace: &Workspace) -> CoverageLoad {
    crate::services::coverage::load_workspace(workspace).into()
}

fn log(source: &str, level: LogLevel, text: String) -> LogLine {
    LogLine { source: source.to_string(), level, text }
}

async fn start_backend(
    workspace: Workspace,
    aws: Option<Backend>,
    slot: Arc<Mutex<Option<Session>>>,
    state: watch::Sender<BackendState>,
    msgs: mpsc::UnboundedSender<Msg>,
) {
    let (choice, note) = session::choose_with_note(&workspace, aws).await;
    if let Some(note) = note {
        let _ = msgs.send(Msg::Log(log("wb", LogLevel::Warn, note)));
    }
    let backend = choice.backend();
    let _ = msgs.send(Msg::Header(Header { backend: Some(backend.to_string()), ..Header::default() }));
    // A first LocalStack start creates its venv: say so in the log (not on stderr, under the screen) and create
    // it here, so the session start finds it ready and prints nothing.
    let state_dir = workspace.state_dir();
    if matches!(choice, session::Choice::Own(Backend::LocalStack)) && session::venv_needs_creation(&state_dir) {
        let _ = msgs.send(Msg::Log(log("wb", LogLevel::Info, session::VENV_MESSAGE.to_string())));
        let created = tokio::task::spawn_blocking(move || localstack::ensure_venv(&state_dir)).await;
        if let Ok(Err(e)) = created {
            let message = format!("cannot start the {backend} S3 backend: {e}");
            state.send_replace(BackendState::Failed(message.clone()));
            let _ = msgs.send(Msg::Backend(Err(message)));
            return;
        }
    }
    // Attaching to (or waiting for) another process's embedded S3 is said in the log pane, not on stderr.
    let note_msgs = msgs.clone();
    let say = move |note: String| {
        let _ = note_msgs.send(Msg::Log(log("wb", LogLevel::Info, note)));
    };
    match Session::start_with(&workspace, choice, "wb (tui)", &say).await {
        Ok(running) => {
            let url = running.endpoint().url.clone();
            let _ = msgs.send(Msg::Log(log(
                "wb",
                LogLevel::Info,
                format!("S3 {backend} at {url} ({}, up in {:?})", running.version(), running.startup()),
            )));
            state.send_replace(BackendState::Up(running.backend(), running.endpoint()));
            *slot.lock().await = Some(running);
            let _ = msgs.send(Msg::Backend(Ok(url)));
        }
        Err(e) => {
            let message = format!("cannot start the {backend} S3 backend: {e}");
            state.send_replace(BackendState::Failed(message.clone()));
            let _ = msgs.send(Msg::Backend(Err(message)));
        }
    }
}

async fn refresh_header(workspace: Workspace, msgs: mpsc::UnboundedSender<Msg>) {
    let root = workspace.root().to_path_buf();
    loop {
        let dir = root.clone();
        if let Ok(Some(status)) = tokio::task::spawn_blocking(move || crate::git::repo_status(&dir)).await {
            let header = Header {
                repo: Some(status.name.clone()),
                branch: Some(status.branch_label().to_string()),
                head: status.short_commit.clone(),
                changed_files: Some(status.changed_files),
                ..Header::default()
            };
            if msgs.send(Msg::Header(header)).is_err() {
                return;
            }
        } else if msgs.is_closed() {
            return;
        }
        tokio::time::sleep(HEADER_EVERY).await;
    }
}

/// Builds the runner, then runs the request through the run service on the session's backend and slots;
/// returns its status and run-wide error. A build failure is recorded too.
async fn run_request(
    shared: &Shared,
    id: u64,
    request: Request,
    mut token: crate::services::supervisor::CancelToken,
) -> (RunStatus, Option<String>) {
    let started = Instant::now();
    let run_id = format!("{}-{id}", runs::new_run_id());

    // 1. The runner, built from the current sources.
    if shared.builder.builds() {
        let _ = shared.msgs.send(Msg::BuildStarted);
    }
    let msgs = shared.msgs.clone();
    let built = shared.builder.runner(started, move |line| drop(msgs.send(Msg::BuildLine(line)))).await;
    if shared.builder.builds() {
        let result = built.as_ref().map(|_| ()).map_err(ToString::to_string);
        let _ = shared.msgs.send(Msg::BuildFinished { requests: vec![id], result });
    }
    let ws = &shared.workspace;
    let run_request = |runner: RunnerCommand| RunRequest {
        workspace: ws.clone(),
        run_id: run_id.clone(),
        markets: request.markets.clone(),
        stage: request.stage,
        as_of: None,
        no_cache: false,
        fixtures: ws.default_fixtures_dir(),
        runner,
        jobs: Jobs::Shared(Arc::clone(&shared.slots)),
        command: command_line(&request),
        reports: crate::present::run_report::RENDERER,
    };
    let runner = match built {
        Ok(path) => RunnerCommand::new(path),
        Err(error) => {
            // The run row of a run that never started: the runner is not part of it.
            let new_run = runs::new_run(&run_request(RunnerCommand::new("")), shared.requested);
            let recorded = History::open(&ws.history_path()).and_then(|mut history| {
                history.record_build_failure(&new_run, &error.to_string(), started.elapsed().as_millis() as u64)
            });
            if let Err(e) = recorded {
                let _ = shared.msgs.send(Msg::Log(log("wb", LogLevel::Error, format!("run history: {e}"))));
            }
            return (RunStatus::Error, None);
        }
    };

    // 2. The session's backend (waited for), then the run service: history, fixtures, one runner per market.
    let endpoint = tokio::select! {
        endpoint = backend_ready(shared) => endpoint,
        () = token.cancelled() => Err("cancelled before the backend was up".to_string()),
    };
    let backend = match endpoint {
        Ok((backend, endpoint)) => BackendUse::Ready { backend, endpoint, provision_lock: Some(&shared.provision) },
        Err(reason) => BackendUse::Unavailable { backend: shared.requested, reason },
    };
    let msgs = shared.msgs.clone();
    let progress = move |progress: RunProgress| match progress {
        RunProgress::Began { run_id, .. } => drop(msgs.send(Msg::RunStarted { id, run_id })),
        RunProgress::Runner { update, .. } => drop(msgs.send(Msg::Runner { id, update: Box::new(update) })),
        RunProgress::HistoryWarning(e) => {
            drop(msgs.send(Msg::Log(log("wb", LogLevel::Warn, format!("run history: {e}")))));
        }
        RunProgress::BackendNote(note) => drop(msgs.send(Msg::Log(log("wb", LogLevel::Info, note)))),
        RunProgress::Alerts(Ok(sent)) => {
            let (lines, warnings) = crate::present::outbox::alert_lines(&sent);
            for line in lines {
                drop(msgs.send(Msg::Log(log("wb", LogLevel::Info, line))));
            }
            for warning in warnings {
                drop(msgs.send(Msg::Log(log("wb", LogLevel::Warn, warning))));
            }
        }
        RunProgress::Alerts(Err(e)) => {
            drop(msgs.send(Msg::Log(log("wb", LogLevel::Warn, format!("no alerts sent: {e}")))))
        }
        RunProgress::Warning(warning) => drop(msgs.send(Msg::Log(log("wb", LogLevel::Warn, warning)))),
        _ => {}
    };
    match runs::run(run_request(runner), backend, token, progress).await {
        Ok(outcome) => (outcome.summary.status, outcome.summary.error),
        Err(failed) => (RunStatus::Error, Some(failed.to_string())),
    }
}

/// Plans every market with the runner built from the current sources and reports the cells the cache would
/// not serve ([`Msg::Stale`]): their inputs or code changed since they ran.
async fn check_stale(shared: Arc<Shared>) {
    let Ok((_, endpoint)) = backend_ready(&shared).await else { return };
    let msgs = shared.msgs.clone();
    let built = shared.builder.runner(Instant::now(), move |line| drop(msgs.send(Msg::BuildLine(line)))).await;
    let Ok(runner) = built else { return };
    let ws = &shared.workspace;
    let markets = MarketId::all();
    {
        let _guard = shared.provision.lock().await;
        let (fixtures, index) = (ws.default_fixtures_dir(), ws.fixture_index_path());
        let present: Vec<MarketId> = markets.iter().filter(|m| fixtures.join(m.as_str()).is_dir()).cloned().collect();
        if crate::services::provision::provision(&endpoint, &ws.settings().buckets, &fixtures, &present, &index)
            .await
            .is_err()
        {
            return;
        }
    }
    let env = RunnerEnv { endpoint, buckets: ws.settings().buckets.clone() };
    let runner = RunnerCommand::new(runner);
    let mut stale = Vec::new();
    for market in &markets {
        let target = crate::services::plan::PlanTarget::default();
        match crate::services::plan::plan(&runner, &env, market, target, &Default::default()).await {
            Ok(lines) => {
                stale.extend(lines.into_iter().filter(|l| !l.planned.hit).map(|l| (l.market, l.planned.stage)))
            }
            Err(e) => {
                let _ = shared.msgs.send(Msg::Log(log("wb", LogLevel::Warn, format!("{market}: not planned: {e}"))));
            }
        }
    }
    let _ = shared.msgs.send(Msg::Stale(stale));
}

async fn backend_ready(shared: &Shared) -> Result<(Backend, localstack::S3Endpoint), String> {
    let mut state = shared.backend.clone();
    loop {
        match state.borrow_and_update().clone() {
            BackendState::Up(backend, endpoint) => return Ok((backend, endpoint)),
            BackendState::Failed(e) => return Err(e),
            BackendState::Starting => {}
        }
        if state.changed().await.is_err() {
            return Err("the backend task ended".to_string());
        }
    }
}

/// The command line a TUI request is recorded with.
fn command_line(request: &Request) -> String {
    runs::command_line("wb (tui)", &request.markets, request.stage)
}

/// The last recorded state of every cell, and the duration of the last full run
/// ([`crate::history::RunRow::is_full`], the rule the KPI screen counts full runs by).
fn load_cells(path: &std::path::Path) -> Result<(Vec<CellHistory>, Option<u64>), crate::history::HistoryError> {
    let history = History::open(path)?;
    let cells = history
        .latest_stage_states()?
        .into_iter()
        .filter_map(|state| {
            let stage = state.stage.parse::<Stage>().ok()?;
            let status = CellStatus::of_stage(state.status, state.cache_hit);
            Some(CellHistory { market: state.market, stage, status, duration_ms: state.duration_ms })
        })
        .collect();
    let last_full = history.last_full_run(&markets::ids())?.and_then(|run| run.duration_ms);
    Ok((cells, last_full))
}

fn load_detail(path: &std::path::Path, run_id: &str) -> Result<Option<RunDetail>, crate::history::HistoryError> {
    History::open(path)?.run_detail(run_id)
}

/// Opens `path` with `$BROWSER` (when set), else `xdg-open`, without waiting for it; the error names the file
/// and the program.
fn open_in_browser(path: &std::path::Path) -> Result<(), String> {
    if !path.is_file() {
        return Err(format!("report {} does not exist: the run's reports were not published", path.display()));
    }
    let program = std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty()).unwrap_or_else(|| "xdg-open".into());
    let child = std::process::Command::new(&program)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {program} to open {}: {e}; set $BROWSER", path.display()))?;
    // Reaped on its own thread so the browser can outlive this call without becoming a zombie.
    std::thread::spawn(move || {
        let mut child = child;
        let _ = child.wait();
    });
    Ok(())
}
