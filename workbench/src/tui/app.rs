//! The TUI's state and everything that changes it: one [`App`] owned by the event loop, changed only by
//! [`App::handle`] with a [`Msg`] (a key, a worker's report, a tick), which returns the [`Effect`]s for the shell
//! to carry out (start a run, cancel, load history). Nothing here does IO, so every behaviour is testable by
//! feeding messages and reading the state.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};
use pipeline_core::events::LogLevel;
use pipeline_core::{Event, RunStatus, Stage, StageStatus};

use crate::history::{RunDetail, RunRow};
use crate::services::alerts::{OutboxEntry, OutboxMessage};
use crate::services::kpi::Kpis;
use crate::services::reports::ReportLink;
use crate::services::supervisor::Update;
use crate::tui::keys::{self, Action, Key, Screen};
use crate::tui::palette;
use crate::tui::screens::coverage::{CoverageLoad, CoverageScreen};
use crate::tui::screens::diff::{DiffRequest, DiffScreen};
use crate::tui::screens::explorer::ExplorerScreen;
pub use crate::tui::screens::matrix::{Cell, CellStatus};
use crate::tui::screens::outbox::OutboxScreen;
use crate::tui::screens::run_detail::RunDetailView;
use crate::tui::screens::{Outcome, matrix, run_detail, runs};
use markets::MarketId;

pub use crate::tui::screens::PAGE;
/// How many log lines are kept.
pub const LOG_CAPACITY: usize = 5000;

/// The last recorded state of a cell, loaded from history at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellHistory {
    /// Market.
    pub market: String,
    /// Stage.
    pub stage: Stage,
    /// Its last status.
    pub status: CellStatus,
    /// Its last duration.
    pub duration_ms: u64,
}

/// What to run: markets and the stage to reach (`None`: every stage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The markets, in order.
    pub markets: Vec<MarketId>,
    /// The stage to reach.
    pub stage: Option<Stage>,
}

impl Request {
    /// The cells the request computes or serves from the cache.
    pub fn cells(&self) -> Vec<(MarketId, Stage)> {
        let stages = pipeline_core::engine::plan(self.stage);
        self.markets.iter().flat_map(|m| stages.iter().map(move |s| (m.clone(), *s))).collect()
    }

    /// How the log and the status line name it: `foobar-au: score`, `all markets: every stage`.
    pub fn label(&self) -> String {
        let markets = if self.markets.len() == MarketId::all().len() && self.markets.len() > 1 {
            "all markets".to_string()
        } else {
            self.markets.iter().map(MarketId::as_str).collect::<Vec<_>>().join(", ")
        };
        let stage = self.stage.map(|s| s.name().to_string()).unwrap_or_else(|| "every stage".to_string());
        format!("{markets}: {stage}")
    }
}

/// A request the shell is working on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    /// Its id (also the tag of its messages).
    pub id: u64,
    /// What it runs.
    pub request: Request,
    /// Its run id once the runner is built and the run recorded.
    pub run_id: Option<String>,
}

/// A log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Where it came from: a market, `build` or `wb`.
    pub source: String,
    /// Level.
    pub level: LogLevel,
    /// Text.
    pub text: String,
}

/// The repository and backend, for the header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// Repository name.
    pub repo: Option<String>,
    /// Branch (or `detached`).
    pub branch: Option<String>,
    /// HEAD short hash.
    pub head: Option<String>,
    /// Changed files (staged, unstaged, untracked).
    pub changed_files: Option<usize>,
    /// Backend name, e.g. `embedded`.
    pub backend: Option<String>,
    /// Endpoint URL once the backend is up; a message while it starts or when it failed.
    pub endpoint: Option<String>,
    /// Duration of the last full run (every market, every stage).
    pub last_full_run_ms: Option<u64>,
}

impl Header {
    /// Takes the facts `new` knows (its `Some` fields) and keeps the others: the repository refresh, the backend
    /// start and the history load each know only some of them.
    pub fn merge(&mut self, new: Header) {
        let Header { repo, branch, head, changed_files, backend, endpoint, last_full_run_ms } = new;
        self.repo = repo.or(self.repo.take());
        self.branch = branch.or(self.branch.take());
        self.head = head.or(self.head.take());
        self.changed_files = changed_files.or(self.changed_files);
        self.backend = backend.or(self.backend.take());
        self.endpoint = endpoint.or(self.endpoint.take());
        self.last_full_run_ms = last_full_run_ms.or(self.last_full_run_ms);
    }
}

/// A debounced batch of saved files, as the watch mode reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// One line per changed file: what it touches and why.
    pub summaries: Vec<String>,
    /// Per affected market, its last affected stage (running up to it re-runs exactly the affected cells).
    pub runs: Vec<(String, Stage)>,
    /// Every affected cell.
    pub cells: Vec<(String, Stage)>,
    /// When the first file event of the batch arrived (the feedback time counts from it).
    pub first_event: Instant,
}

/// An overlay drawn over the current screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    /// The keys of the current screen.
    Help,
    /// The command palette: the query and the selected match.
    Palette {
        /// What was typed.
        query: String,
        /// Index into the matches.
        selected: usize,
    },
}

/// What the workers and the terminal tell the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// Time passed (spinners).
    Tick,
    /// The header's repository and backend facts.
    Header(Header),
    /// The backend is up at this endpoint, or failed with this message.
    Backend(Result<String, String>),
    /// Last recorded state of the cells.
    CellHistory(Vec<CellHistory>),
    /// Which cells would not be served from the cache now (market, stage): inputs or code changed since they
    /// ran. Ignored while runs are active (the shell plans again when they end).
    Stale(Vec<(String, Stage)>),
    /// The runner build for requests started.
    BuildStarted,
    /// A line of the build's output.
    BuildLine(String),
    /// The build ended; `Err` holds the compiler's error summary. The requests it was for fail with it.
    BuildFinished {
        /// The requests waiting for it.
        requests: Vec<u64>,
        /// Built, or why not.
        result: Result<(), String>,
    },
    /// A request's run was recorded under this id and its runners are starting.
    RunStarted {
        /// Request id.
        id: u64,
        /// Run id.
        run_id: String,
    },
    /// An update from one of a request's runners.
    Runner {
        /// Request id.
        id: u64,
        /// The update.
        update: Box<Update>,
    },
    /// A request is over.
    RunEnded {
        /// Request id.
        id: u64,
        /// Outcome.
        status: RunStatus,
        /// Run-wide error (backend lost, provisioning failed).
        error: Option<String>,
    },
    /// The run history list.
    Runs(Vec<RunRow>),
    /// One run's details.
    Detail(Box<RunDetail>),
    /// The report links of the run `run_id` (sent after its [`Msg::Detail`]).
    ReportLinks {
        /// The run.
        run_id: String,
        /// One per market that has a report.
        links: Vec<ReportLink>,
    },
    /// The quality KPIs aggregated from the history (the KPI screen).
    Kpis(Box<Kpis>),
    /// A line for the log from the shell itself.
    Log(LogLine),
    /// Watch mode saw saved files.
    Changed(Changed),
    /// A diff the diff screen asked for, or why it could not be computed.
    Diff {
        /// What was asked.
        request: DiffRequest,
        /// The diff, or the error to show.
        result: Result<Box<workbench_diff::StageDiff>, String>,
    },
    /// The coverage reports, loaded and analysed (or why not).
    Coverage(Box<CoverageLoad>),
    /// The outbox's messages, newest first (or why they could not be listed).
    Outbox(Result<Vec<OutboxEntry>, String>),
    /// The outbox message asked for (or why it could not be read).
    Mail(Result<Box<OutboxMessage>, String>),
    /// The terminal's size (at start and after a resize): how many lines the screens show, to clamp scrolling.
    Resize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Build the runner and run the request (tagged `id`).
    Start {
        /// Request id.
        id: u64,
        /// What to run.
        request: Request,
    },
    /// Cancel these active requests.
    Cancel(Vec<u64>),
    /// Load the run history list.
    LoadRuns,
    /// Load one run's details.
    LoadRun(String),
    /// Open a report file in the browser (`$BROWSER`, else `xdg-open`).
    OpenReport(PathBuf),
    /// Aggregate the quality KPIs of the recent runs (the KPI screen).
    LoadKpis,
    /// Plan every market (cache hit or miss per stage) to find the stale cells.
    CheckStale,
    /// Start (true) or stop (false) watching the workspace's files.
    Watch(bool),
    /// Record the feedback time (save → results) with a run.
    RecordFeedback {
        /// Run id.
        run_id: String,
        /// Milliseconds from the first save to the results.
        ms: u64,
    },
    /// Compute a diff (reads both outputs through S3; may build and run another revision).
    LoadDiff(DiffRequest),
    /// Load and analyse the coverage reports of `.workbench/coverage/` (see `services::coverage::load_workspace`).
    LoadCoverage,
    /// List the outbox (`.workbench/outbox/`).
    LoadOutbox,
    /// Read this outbox message (a file name in the outbox).
    LoadMail(String),
    /// Load the duration of the last full run from the history again (a run ended: it may have been one).
    ReloadLastFullRun,
    /// Quit: cancel what runs, restore the terminal.
    Quit,
}

/// The whole state of the TUI.
#[derive(Debug, Clone)]
pub struct App {
    /// Markets (rows).
    pub markets: Vec<MarketId>,
    /// Cells by (market index, stage index).
    pub cells: Vec<[Cell; 6]>,
    /// Selected row and column.
    pub cursor: (usize, usize),
    /// Current screen.
    pub screen: Screen,
    /// Overlay, if any.
    pub overlay: Option<Overlay>,
    /// Log pane shown.
    pub log_open: bool,
    /// Log lines, oldest first.
    pub log: VecDeque<LogLine>,
    /// Lines scrolled up from the bottom of the log.
    pub log_scroll: usize,
    /// Requests waiting to start, oldest first.
    pub queue: VecDeque<(u64, Request)>,
    /// Requests being built or run.
    pub active: Vec<Active>,
    /// Header facts.
    pub header: Header,
    /// Run history list.
    pub runs: Vec<RunRow>,
    /// Selected run in the list.
    pub runs_cursor: usize,
    /// The run shown on the detail screen.
    pub detail: Option<RunDetail>,
    /// Detail screen scroll.
    pub detail_scroll: usize,
    /// The report links of the run on the detail screen.
    pub detail_reports: Vec<ReportLink>,
    /// The KPI screen's figures (set once loaded; kept while a reload runs).
    pub kpis: Option<Kpis>,
    /// A message for the status line.
    pub status_line: String,
    /// Spinner frame.
    pub tick: usize,
    /// Set once quitting.
    pub quitting: bool,
    /// Watch mode is on.
    pub watching: bool,
    /// The last feedback time: from a save to its results on screen.
    pub last_feedback: Option<Duration>,
    /// The diff screen's state (set by `d`).
    pub diff: Option<DiffScreen>,
    /// The explorer's state (set by `m`).
    pub explorer: Option<ExplorerScreen>,
    /// The coverage screen's state (set by `C`).
    pub coverage: Option<CoverageScreen>,
    /// The outbox screen's state (set by `M`).
    pub outbox: Option<OutboxScreen>,
    /// The terminal's size, once known (see [`Msg::Resize`]).
    pub size: Option<(u16, u16)>,
    /// Requests started by watch mode, with the first save they answer.
    watch_origin: HashMap<u64, Instant>,
    next_id: u64,
}

impl App {
    /// A fresh app over `markets`.
    pub fn new(markets: Vec<MarketId>) -> Self {
        let cells = markets.iter().map(|_| [Cell::new(); 6]).collect();
        Self {
            markets,
            cells,
            cursor: (0, 0),
            screen: Screen::Matrix,
            overlay: None,
            log_open: false,
            log: VecDeque::new(),
            log_scroll: 0,
            queue: VecDeque::new(),
            active: Vec::new(),
            header: Header::default(),
            runs: Vec::new(),
            runs_cursor: 0,
            detail: None,
            detail_scroll: 0,
            detail_reports: Vec::new(),
            kpis: None,
            status_line: "? for help, : for every action".to_string(),
            tick: 0,
            quitting: false,
            watching: false,
            last_feedback: None,
            diff: None,
            explorer: None,
            coverage: None,
            outbox: None,
            size: None,
            watch_origin: HashMap::new(),
            next_id: 1,
        }
    }

    /// The cell of `market` × `stage`.
    pub fn cell(&self, market: &str, stage: Stage) -> Option<&Cell> {
        let row = self.markets.iter().position(|m| m.as_str() == market)?;
        Some(&self.cells[row][stage_index(stage)])
    }

    fn cell_mut(&mut self, market: &str, stage: Stage) -> Option<&mut Cell> {
        let row = self.markets.iter().position(|m| m.as_str() == market)?;
        Some(&mut self.cells[row][stage_index(stage)])
    }

    /// The selected market and stage.
    pub fn selected(&self) -> (MarketId, Stage) {
        (self.markets[self.cursor.0].clone(), Stage::ALL[self.cursor.1])
    }

    /// How many lines the current screen shows inside its borders, once the terminal's size is known.
    pub fn screen_rows(&self) -> Option<usize> {
        self.size.map(|(width, height)| crate::tui::layout::screen_rows(width, height, self.log_open))
    }

    /// Whether any request is queued or active.
    pub fn busy(&self) -> bool {
        !self.queue.is_empty() || !self.active.is_empty()
    }

    /// Applies one message and returns what the shell must do.
    pub fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => self.key(key),
            Msg::Tick => {
                self.tick = self.tick.wrapping_add(1);
                Vec::new()
            }
            Msg::Header(header) => {
                self.header.merge(header);
                Vec::new()
            }
            Msg::Resize { width, height } => {
                self.size = Some((width, height));
                Vec::new()
            }
            Msg::Backend(result) => {
                match result {
                    Ok(url) => self.header.endpoint = Some(url),
                    Err(e) => {
                        self.header.endpoint = Some("not running".to_string());
                        self.push_log("wb", LogLevel::Error, e.clone());
                        self.status_line = format!("backend: {e}");
                    }
                }
                Vec::new()
            }
            Msg::CellHistory(rows) => {
                for row in rows {
                    if let Some(cell) = self.cell_mut(&row.market, row.stage)
                        && !cell.status.is_pending()
                    {
                        cell.status = row.status;
                        cell.last_ms = Some(row.duration_ms);
                    }
                }
                Vec::new()
            }
            Msg::Stale(stale) => {
                // A plan made while runs change the outputs may be out of date; the next idle plan replaces it.
                if self.busy() {
                    return Vec::new();
                }
                for cells in &mut self.cells {
                    for cell in cells.iter_mut() {
                        cell.stale = false;
                    }
                }
                for (market, stage) in stale {
                    if let Some(cell) = self.cell_mut(&market, stage) {
                        cell.stale = cell.status != CellStatus::NeverRun;
                    }
                }
                Vec::new()
            }
            Msg::BuildStarted => {
                self.status_line = "building the runner (cargo build)…".to_string();
                self.push_log("build", LogLevel::Info, "cargo build of the runner".to_string());
                Vec::new()
            }
            Msg::BuildLine(line) => {
                let level = if line.starts_with("error") { LogLevel::Error } else { LogLevel::Info };
                self.push_log("build", level, line);
                Vec::new()
            }
            Msg::BuildFinished { requests, result } => self.build_finished(&requests, result),
            Msg::RunStarted { id, run_id } => {
                if let Some(active) = self.active.iter_mut().find(|a| a.id == id) {
                    active.run_id = Some(run_id.clone());
                    self.status_line = format!("run {run_id}: {}", active.request.label());
                }
                Vec::new()
            }
            Msg::Runner { update, .. } => {
                self.runner_update(*update);
                Vec::new()
            }
            Msg::RunEnded { id, status, error } => self.run_ended(id, status, error),
            Msg::Runs(runs) => {
                self.runs_cursor = self.runs_cursor.min(runs.len().saturating_sub(1));
                self.runs = runs;
                Vec::new()
            }
            Msg::Detail(detail) => {
                self.detail = Some(*detail);
                self.detail_scroll = 0;
                self.detail_reports.clear();
                Vec::new()
            }
            Msg::ReportLinks { run_id, links } => {
                if self.detail.as_ref().is_some_and(|d| d.run.run_id == run_id) {
                    self.detail_reports = links;
                }
                Vec::new()
            }
            Msg::Kpis(kpis) => {
                self.kpis = Some(*kpis);
                Vec::new()
            }
            Msg::Log(line) => {
                self.log_push(line);
                Vec::new()
            }
            Msg::Changed(changed) => self.changed(changed),
            Msg::Coverage(load) => {
                let screen = self.coverage.get_or_insert_with(CoverageScreen::new);
                self.status_line = screen.finished(*load);
                if self.screen == Screen::CoverageFile && screen.file.is_none() {
                    self.screen = Screen::Coverage;
                }
                Vec::new()
            }
            Msg::Outbox(entries) => {
                self.outbox.get_or_insert_with(OutboxScreen::new).loaded(entries);
                Vec::new()
            }
            Msg::Mail(message) => {
                self.status_line = match &message {
                    Ok(m) => format!("{}: ↑↓ PgUp PgDn scroll, Esc back to the outbox", m.entry.file),
                    Err(e) => e.clone(),
                };
                if let Some(outbox) = &mut self.outbox {
                    outbox.opened(message.map(|m| *m));
                }
                Vec::new()
            }
            Msg::Diff { request, result } => {
                if let Some(diff) = &mut self.diff
                    && diff.result(request.clone(), result)
                {
                    self.status_line = format!("diff {}", request.label());
                }
                Vec::new()
            }
        }
    }

    /// A watch batch: mark its cells stale at once, cancel the watch runs it supersedes, re-run what it touches.
    fn changed(&mut self, changed: Changed) -> Vec<Effect> {
        for line in &changed.summaries {
            self.push_log("watch", LogLevel::Info, line.clone());
        }
        if !self.watching {
            return Vec::new();
        }
        if changed.runs.is_empty() {
            self.status_line = "saved: the change touches no stage output, nothing to re-run".to_string();
            return Vec::new();
        }
        for (market, stage) in &changed.cells {
            if let Some(cell) = self.cell_mut(market, *stage)
                && cell.status != CellStatus::NeverRun
            {
                cell.stale = true;
            }
        }
        let mut origin = changed.first_event;
        let superseded: Vec<u64> = self.watch_origin.keys().copied().collect();
        let mut effects = Vec::new();
        let queued: Vec<(u64, Request)> =
            self.queue.iter().filter(|(id, _)| superseded.contains(id)).cloned().collect();
        self.queue.retain(|(id, _)| !superseded.contains(id));
        for (_, request) in &queued {
            self.unqueue(request);
        }
        for id in &superseded {
            if let Some(at) = self.watch_origin.get(id) {
                origin = origin.min(*at);
            }
        }
        let active: Vec<u64> = self.active.iter().map(|a| a.id).filter(|id| superseded.contains(id)).collect();
        if !active.is_empty() {
            self.push_log("watch", LogLevel::Warn, "superseded by a newer change: cancelling its run".to_string());
            effects.push(Effect::Cancel(active));
        }
        self.watch_origin.clear();
        for (market, stage) in changed.runs {
            let Ok(market) = MarketId::parse(&market) else { continue };
            if !self.markets.contains(&market) {
                continue;
            }
            let id = self.next_id;
            effects.extend(self.submit(Request { markets: vec![market], stage: Some(stage) }));
            self.watch_origin.insert(id, origin);
        }
        effects
    }

    fn key(&mut self, event: KeyEvent) -> Vec<Effect> {
        let key = Key::from_event(&event);
        match self.overlay.clone() {
            Some(Overlay::Help) => {
                // Any key closes the help; the quit keys also quit.
                self.overlay = None;
                return match keys::action_for(self.screen, key) {
                    Some(Action::Quit) => self.perform(Action::Quit),
                    _ => Vec::new(),
                };
            }
            Some(Overlay::Palette { query, selected }) => return self.palette_key(event, query, selected),
            None => {}
        }
        match keys::action_for(self.screen, key) {
            Some(action) => self.perform(action),
            None => Vec::new(),
        }
    }

    fn palette_key(&mut self, event: KeyEvent, mut query: String, mut selected: usize) -> Vec<Effect> {
        let matches = palette::matches(&query);
        match event.code {
            KeyCode::Esc => {
                self.overlay = None;
                return Vec::new();
            }
            KeyCode::Enter => {
                self.overlay = None;
                return match matches.get(selected) {
                    Some(m) => self.perform(m.action),
                    None => Vec::new(),
                };
            }
            KeyCode::Up => selected = selected.saturating_sub(1),
            KeyCode::Down => selected = (selected + 1).min(matches.len().saturating_sub(1)),
            KeyCode::Backspace => {
                query.pop();
                selected = 0;
            }
            KeyCode::Char('c') if Key::from_event(&event).ctrl => return self.perform(Action::Quit),
            KeyCode::Char(c) => {
                query.push(c);
                selected = 0;
            }
            _ => {}
        }
        self.overlay = Some(Overlay::Palette { query, selected });
        Vec::new()
    }

    /// Does what `action` asks on the current screen.
    pub fn perform(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::OpenCoverage {
            let screen = self.coverage.get_or_insert_with(CoverageScreen::new);
            self.status_line = screen.reload();
            self.screen = Screen::Coverage;
            return vec![Effect::LoadCoverage];
        }
        if let Some(effects) = self.screen_action(action) {
            return effects;
        }
        match action {
            // The screens' own keys, where their screen is not shown (or has no state yet).
            Action::Up
            | Action::Down
            | Action::Left
            | Action::Right
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::Compare
            | Action::HideColumn
            | Action::ShowColumns
            | Action::OpenRun
            | Action::OpenCoverage
            | Action::CycleSort
            | Action::SwitchPane
            | Action::OpenItem
            | Action::NextUncovered
            | Action::PrevUncovered
            | Action::OpenMail
            | Action::OpenReport => {}
            Action::OpenOutbox => {
                // Opened afresh each time: the list is read again (runs may have written to it).
                self.outbox = Some(OutboxScreen::new());
                self.screen = Screen::Outbox;
                return vec![Effect::LoadOutbox];
            }
            Action::OpenDiff => {
                let (market, stage) = self.selected();
                let mut screen = DiffScreen::open(market, stage, &self.markets);
                if let Some(old) = self.diff.take()
                    && old.market == screen.market
                    && old.stage == screen.stage
                {
                    screen.picked = old.picked;
                    screen.hidden = old.hidden;
                }
                self.diff = Some(screen);
                self.screen = Screen::Diff;
            }
            Action::OpenExplorer => {
                let (market, _) = self.selected();
                self.explorer = Some(ExplorerScreen::open(market, &self.markets));
                self.screen = Screen::Explorer;
            }
            Action::RunCell => {
                let (market, stage) = self.selected();
                return self.submit(Request { markets: vec![market], stage: Some(stage) });
            }
            Action::RunMarket => {
                let (market, _) = self.selected();
                return self.submit(Request { markets: vec![market], stage: None });
            }
            Action::RunStage => {
                let (_, stage) = self.selected();
                return self.submit(Request { markets: self.markets.clone(), stage: Some(stage) });
            }
            Action::RunAll => return self.submit(Request { markets: self.markets.clone(), stage: None }),
            Action::Cancel => return self.cancel(),
            Action::ToggleLog => {
                self.log_open = !self.log_open;
                self.log_scroll = 0;
            }
            Action::LogUp => {
                self.log_open = true;
                self.log_scroll = (self.log_scroll + 10).min(self.log.len().saturating_sub(1));
            }
            Action::LogDown => self.log_scroll = self.log_scroll.saturating_sub(10),
            Action::OpenRuns => {
                self.screen = Screen::Runs;
                return vec![Effect::LoadRuns];
            }
            Action::OpenKpis => {
                self.screen = Screen::Kpi;
                return vec![Effect::LoadKpis];
            }
            Action::Back => {
                self.screen = match self.screen {
                    Screen::RunDetail => Screen::Runs,
                    Screen::Kpi => Screen::Matrix,
                    Screen::Runs
                    | Screen::Matrix
                    | Screen::Diff
                    | Screen::Explorer
                    | Screen::Coverage
                    | Screen::CoverageFile
                    | Screen::Outbox => Screen::Matrix,
                };
            }
            Action::ToggleWatch => {
                self.watching = !self.watching;
                self.status_line = if self.watching {
                    "watch on: saving a file re-runs what it touches".to_string()
                } else {
                    "watch off".to_string()
                };
                return vec![Effect::Watch(self.watching)];
            }
            Action::Help => self.overlay = Some(Overlay::Help),
            Action::Palette => self.overlay = Some(Overlay::Palette { query: String::new(), selected: 0 }),
            Action::Quit => {
                self.quitting = true;
                self.status_line = "quitting…".to_string();
                return vec![Effect::Quit];
            }
        }
        Vec::new()
    }

    /// The current screen's own handling of `action` (its `handle`), mapped onto the app; None when the action
    /// is not the screen's.
    fn screen_action(&mut self, action: Action) -> Option<Vec<Effect>> {
        let viewport = self.screen_rows();
        match self.screen {
            Screen::Matrix => {
                let outcome = matrix::handle(&mut self.cursor, self.markets.len(), action);
                self.outcome(outcome)
            }
            Screen::Runs => match runs::handle(&mut self.runs_cursor, self.runs.len(), action) {
                Outcome::Request(index) => {
                    let run_id = self.runs[index].run_id.clone();
                    self.screen = Screen::RunDetail;
                    self.detail = None;
                    Some(vec![Effect::LoadRun(run_id)])
                }
                Outcome::Ignored => None,
                Outcome::Done => Some(Vec::new()),
                Outcome::Status(status) => self.outcome(Outcome::Status(status)),
                Outcome::Goto(screen) => self.outcome(Outcome::Goto(screen)),
            },
            Screen::RunDetail => {
                let view = RunDetailView { detail: self.detail.as_ref(), reports: &self.detail_reports, scroll: 0 };
                match run_detail::handle(&mut self.detail_scroll, view, action) {
                    Outcome::Request(link) => match link.path {
                        Some(path) => {
                            self.status_line = format!("opening the report of {}: {}", link.market, path.display());
                            Some(vec![Effect::OpenReport(path)])
                        }
                        None => {
                            self.status_line = format!("report of {}: {}", link.market, link.url);
                            Some(Vec::new())
                        }
                    },
                    Outcome::Ignored => None,
                    Outcome::Done => Some(Vec::new()),
                    Outcome::Status(status) => self.outcome(Outcome::Status(status)),
                    Outcome::Goto(screen) => self.outcome(Outcome::Goto(screen)),
                }
            }
            Screen::Kpi => None,
            Screen::Diff => match self.diff.as_mut()?.handle(action) {
                Outcome::Request(request) => {
                    self.status_line = format!("computing the diff {}…", request.label());
                    Some(vec![Effect::LoadDiff(request)])
                }
                Outcome::Ignored => None,
                Outcome::Done => Some(Vec::new()),
                Outcome::Status(status) => self.outcome(Outcome::Status(status)),
                Outcome::Goto(screen) => self.outcome(Outcome::Goto(screen)),
            },
            Screen::Explorer => {
                let outcome = self.explorer.as_mut()?.handle(action, viewport);
                self.outcome(outcome)
            }
            Screen::Coverage | Screen::CoverageFile => {
                let outcome = self.coverage.get_or_insert_with(CoverageScreen::new).handle(action);
                self.outcome(outcome)
            }
            Screen::Outbox => match self.outbox.as_mut()?.handle(action) {
                Outcome::Request(file) => {
                    self.status_line = format!("opening {file}…");
                    Some(vec![Effect::LoadMail(file)])
                }
                Outcome::Ignored => None,
                Outcome::Done => Some(Vec::new()),
                Outcome::Status(status) => self.outcome(Outcome::Status(status)),
                Outcome::Goto(screen) => self.outcome(Outcome::Goto(screen)),
            },
        }
    }

    /// Applies a screen's outcome: the status line, a change of screen.
    fn outcome(&mut self, outcome: Outcome) -> Option<Vec<Effect>> {
        match outcome {
            Outcome::Ignored => return None,
            Outcome::Done | Outcome::Request(()) => {}
            Outcome::Status(status) => self.status_line = status,
            Outcome::Goto(screen) => self.screen = screen,
        }
        Some(Vec::new())
    }

    /// Queues `request`, replacing a queued request for the same cells, and starts what can start.
    pub fn submit(&mut self, request: Request) -> Vec<Effect> {
        if let Some(pos) = self.queue.iter().position(|(_, queued)| queued == &request) {
            self.queue.remove(pos);
            self.push_log("wb", LogLevel::Info, format!("{}: replaced the queued request", request.label()));
        }
        for (market, stage) in request.cells() {
            if let Some(cell) = self.cell_mut(market.as_str(), stage)
                && !cell.status.is_pending()
            {
                cell.before = cell.status;
                cell.status = CellStatus::Queued;
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.status_line = format!("queued {}", request.label());
        self.queue.push_back((id, request));
        self.dispatch()
    }

    /// Starts every queued request none of whose markets is in an active request, oldest first.
    fn dispatch(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut waiting = VecDeque::new();
        while let Some((id, request)) = self.queue.pop_front() {
            let busy = |m: &MarketId| {
                self.active.iter().any(|a| a.request.markets.contains(m))
                    || waiting.iter().any(|(_, r): &(u64, Request)| r.markets.contains(m))
            };
            if request.markets.iter().any(busy) {
                waiting.push_back((id, request));
            } else {
                self.active.push(Active { id, request: request.clone(), run_id: None });
                effects.push(Effect::Start { id, request });
            }
        }
        self.queue = waiting;
        effects
    }

    fn cancel(&mut self) -> Vec<Effect> {
        let queued: Vec<(u64, Request)> = self.queue.drain(..).collect();
        for (_, request) in &queued {
            self.unqueue(request);
        }
        let active: Vec<u64> = self.active.iter().map(|a| a.id).collect();
        if active.is_empty() && queued.is_empty() {
            self.status_line = "nothing to cancel".to_string();
            return Vec::new();
        }
        self.status_line = format!("cancelling {} run(s), dropped {} queued", active.len(), queued.len());
        vec![Effect::Cancel(active)]
    }

    /// Puts the cells of a request that never ran back to what they showed before.
    fn unqueue(&mut self, request: &Request) {
        for (market, stage) in request.cells() {
            if let Some(cell) = self.cell_mut(market.as_str(), stage)
                && cell.status.is_pending()
            {
                cell.status = cell.before;
            }
        }
    }

    fn build_finished(&mut self, requests: &[u64], result: Result<(), String>) -> Vec<Effect> {
        let Err(error) = result else {
            self.status_line = "runner built".to_string();
            return Vec::new();
        };
        self.push_log("build", LogLevel::Error, format!("the runner did not build: {error}"));
        self.log_open = true;
        self.log_scroll = 0;
        self.status_line = "build failed: the compiler's errors are in the log pane (L)".to_string();
        for id in requests {
            if let Some(pos) = self.active.iter().position(|a| a.id == *id) {
                let active = self.active.remove(pos);
                for (market, stage) in active.request.cells() {
                    if let Some(cell) = self.cell_mut(market.as_str(), stage) {
                        cell.status = CellStatus::BuildFailed;
                    }
                }
            }
        }
        self.dispatch()
    }

    fn runner_update(&mut self, update: Update) {
        match update {
            Update::Event { market, event, .. } => self.runner_event(market.as_str(), *event),
            Update::Stray { market, line } => self.push_log(market.as_str(), LogLevel::Info, line),
            Update::Stderr { market, line } => self.push_log(market.as_str(), LogLevel::Warn, line),
            Update::Spawned { market, pid } => {
                self.push_log(market.as_str(), LogLevel::Info, format!("runner started (pid {pid})"));
            }
            Update::Exited { market, exit } => {
                if !exit.finished {
                    let message = if exit.cancelled { "cancelled".to_string() } else { exit.describe(&market) };
                    let level = if exit.cancelled { LogLevel::Warn } else { LogLevel::Error };
                    self.push_log(market.as_str(), level, message);
                    let end = if exit.cancelled { CellStatus::Cancelled } else { CellStatus::Error };
                    self.end_pending(market.as_str(), end);
                }
            }
        }
    }

    fn runner_event(&mut self, market: &str, event: Event) {
        match event {
            Event::RunStarted { stages, as_of, .. } => {
                let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
                self.push_log(market, LogLevel::Info, format!("as_of {as_of}: {}", names.join(" → ")));
            }
            Event::StageStarted { stage, .. } => {
                if let Some(cell) = self.cell_mut(market, stage) {
                    cell.status = CellStatus::Running { rows: 0 };
                }
            }
            Event::StageProgress { stage, rows, message, .. } => {
                if let Some(cell) = self.cell_mut(market, stage) {
                    cell.status = CellStatus::Running { rows };
                }
                self.push_log(market, LogLevel::Info, format!("{}: {message}", stage.name()));
            }
            Event::StageFinished { record, .. } => {
                let text = format!(
                    "{} {} {} rows {}{}",
                    record.stage.name(),
                    record.status.as_str(),
                    record.rows,
                    crate::present::report::duration(record.duration_ms),
                    if record.cache_hit { " cached" } else { "" }
                );
                let level = match record.status {
                    StageStatus::Ok => LogLevel::Info,
                    StageStatus::Alert => LogLevel::Warn,
                    StageStatus::Fail => LogLevel::Error,
                };
                self.push_log(market, level, text);
                if let Some(error) = &record.error {
                    self.push_log(market, LogLevel::Error, error.clone());
                }
                if let Some(cell) = self.cell_mut(market, record.stage) {
                    cell.status = CellStatus::of_stage(record.status, record.cache_hit);
                    cell.last_ms = Some(record.duration_ms);
                    cell.stale = false;
                }
            }
            Event::Check { stage, result, .. } => {
                if result.status != pipeline_core::CheckStatus::Pass {
                    let level = if result.status == pipeline_core::CheckStatus::Fail {
                        LogLevel::Error
                    } else {
                        LogLevel::Warn
                    };
                    self.push_log(market, level, format!("{}: {}", stage.name(), result.message));
                }
            }
            Event::Log { level, message, stage, .. } => {
                let text = match stage {
                    Some(stage) => format!("{}: {message}", stage.name()),
                    None => message,
                };
                self.push_log(market, level, text);
            }
            Event::Resources { .. } => {}
            Event::RunFinished { status, duration_ms, error, .. } => {
                let level = match status {
                    RunStatus::Ok => LogLevel::Info,
                    RunStatus::Alert | RunStatus::Cancelled => LogLevel::Warn,
                    RunStatus::Fail | RunStatus::Error => LogLevel::Error,
                };
                let mut text = format!("{} in {}", status.as_str(), crate::present::report::duration(duration_ms));
                if let Some(error) = error {
                    text.push_str(&format!(": {error}"));
                }
                self.push_log(market, level, text);
                // Stages after a failure never ran: they go back to what they showed.
                let end = pending_end(status);
                self.end_pending(market, end);
            }
        }
    }

    /// Ends the market's queued or running cells: a running one takes `end`, a queued one (never reached)
    /// goes back to what it showed, unless `end` is an error or cancellation.
    fn end_pending(&mut self, market: &str, end: CellStatus) {
        let Some(row) = self.markets.iter().position(|m| m.as_str() == market) else { return };
        for cell in self.cells[row].iter_mut() {
            match cell.status {
                CellStatus::Running { .. } => cell.status = if end == CellStatus::NeverRun { cell.before } else { end },
                CellStatus::Queued => cell.status = cell.before,
                _ => {}
            }
        }
    }

    fn run_ended(&mut self, id: u64, status: RunStatus, error: Option<String>) -> Vec<Effect> {
        let mut ended = Vec::new();
        if let Some(pos) = self.active.iter().position(|a| a.id == id) {
            let active = self.active.remove(pos);
            let end = pending_end(status);
            for market in &active.request.markets {
                self.end_pending(market.as_str(), end);
            }
            let run = active.run_id.as_deref().unwrap_or("-");
            self.status_line = format!("{}: {} (run {run})", active.request.label(), status.as_str());
            if let Some(error) = error {
                self.push_log("wb", LogLevel::Error, error.clone());
                self.status_line = format!("{}: {}: {error}", active.request.label(), status.as_str());
            }
            if let Some(origin) = self.watch_origin.remove(&id)
                && status != RunStatus::Cancelled
            {
                let feedback = origin.elapsed();
                self.last_feedback = Some(feedback);
                let text = crate::present::report::duration(feedback.as_millis() as u64);
                self.status_line = format!("{} · feedback {text} from save to results", self.status_line);
                if let Some(run_id) = active.run_id {
                    ended.push(Effect::RecordFeedback { run_id, ms: feedback.as_millis() as u64 });
                }
            }
        }
        let mut effects = ended;
        effects.extend(self.dispatch());
        if !self.busy() {
            effects.push(Effect::CheckStale);
            effects.push(Effect::ReloadLastFullRun);
        }
        if self.screen == Screen::Runs {
            effects.push(Effect::LoadRuns);
        }
        if self.screen == Screen::Kpi {
            effects.push(Effect::LoadKpis);
        }
        if self.screen == Screen::Outbox && self.outbox.as_ref().is_some_and(|o| o.open.is_none()) {
            effects.push(Effect::LoadOutbox);
        }
        effects
    }

    fn push_log(&mut self, source: &str, level: LogLevel, text: String) {
        self.log_push(LogLine { source: source.to_string(), level, text });
    }

    fn log_push(&mut self, line: LogLine) {
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(line);
        if self.log_scroll > 0 {
            // Keep the view where the reader scrolled to.
            self.log_scroll = (self.log_scroll + 1).min(self.log.len().saturating_sub(1));
        }
    }

    /// Counts of cells per status word, for tests and the status line.
    pub fn status_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for cell in self.cells.iter().flatten() {
            *counts.entry(cell.status.label()).or_insert(0) += 1;
        }
        counts
    }
}

/// What a market's still-pending cells show once its run ended with `status`: cancelled or error for those, else
/// [`CellStatus::NeverRun`], which [`App::end_pending`] reads as "back to what they showed".
fn pending_end(status: RunStatus) -> CellStatus {
    match status {
        RunStatus::Cancelled => CellStatus::Cancelled,
        RunStatus::Error => CellStatus::Error,
        _ => CellStatus::NeverRun,
    }
}

/// The column of `stage`.
pub fn stage_index(stage: Stage) -> usize {
    Stage::ALL.iter().position(|s| *s == stage).expect("every stage is in ALL")
}
