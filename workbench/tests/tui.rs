//! The TUI: the app model fed with messages (state tests), every screen and overlay rendered on a
//! `TestBackend` (insta snapshots), and the real event loop and executor driven by a synthetic key stream through
//! a full run of one market.

mod common;

use common::tui::{app, ch, key, market, render, screen_text};

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pipeline_core::{CheckResult, CheckStatus, Event, RunStatus, Stage, StageRecord, StageStatus};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use tokio::sync::mpsc;
use workbench::history::{History, MarketEnd, NewRun, RunEnd};
use workbench::services::build::RunnerSource;
use workbench::services::supervisor::{Exit, ExitHow, Update};
use workbench::tui::app::{App, CellHistory, CellStatus, Effect, Header, Msg, Overlay, Request};
use workbench::tui::event_loop::{self, KeyInput};
use workbench::tui::exec::Executor;
use workbench::tui::keys::Screen;
use workbench::workspace::Workspace;

fn record(stage: Stage, status: StageStatus, cache_hit: bool, rows: u64, duration_ms: u64) -> StageRecord {
    StageRecord {
        metrics: Default::default(),
        stage,
        cache_key: format!("{}-key", stage.name()),
        status,
        cache_hit,
        rows,
        tables: BTreeMap::new(),
        bytes: 0,
        duration_ms,
        checks: Vec::new(),
        outputs: Vec::new(),
        produced_by: "r1".to_string(),
        error: None,
    }
}

fn event(market_id: &str, event: Event) -> Msg {
    Msg::Runner {
        id: 1,
        update: Box::new(Update::Event { market: market(market_id), event: Box::new(event), line: String::new() }),
    }
}

fn finished(market_id: &str, stage: Stage, status: StageStatus, cache_hit: bool, ms: u64) -> Msg {
    event(
        market_id,
        Event::StageFinished { market: market_id.into(), record: record(stage, status, cache_hit, 2400, ms) },
    )
}

// ---------------------------------------------------------------------------------------------------------------
// The app model

#[test]
fn hjkl_and_arrows_move_within_the_matrix() {
    let mut app = app();
    for msg in [ch('j'), key(KeyCode::Down), ch('l'), ch('l'), key(KeyCode::Right)] {
        app.handle(msg);
    }
    assert_eq!(app.cursor, (2, 3));
    for _ in 0..10 {
        app.handle(ch('j'));
        app.handle(ch('l'));
    }
    assert_eq!(app.cursor, (4, 5), "the cursor stops at the last market and the last stage");
    for _ in 0..10 {
        app.handle(ch('k'));
        app.handle(key(KeyCode::Left));
    }
    app.handle(ch('h'));
    assert_eq!(app.cursor, (0, 0));
}

#[test]
fn enter_runs_the_selected_cell_with_what_it_needs_upstream() {
    let mut app = app();
    app.handle(ch('j'));
    app.handle(ch('l'));
    app.handle(ch('l'));
    let effects = app.handle(key(KeyCode::Enter));
    let request = Request { markets: vec![market("foobar-br")], stage: Some(Stage::Features) };
    assert_eq!(effects, vec![Effect::Start { id: 1, request }]);
    for stage in Stage::ALL {
        let expected = if stage <= Stage::Features { CellStatus::Queued } else { CellStatus::NeverRun };
        assert_eq!(app.cell("foobar-br", stage).unwrap().status, expected, "{stage:?}");
    }
    assert_eq!(app.cell("foobar-au", Stage::Ingest).unwrap().status, CellStatus::NeverRun);
}

#[test]
fn r_c_and_a_run_a_market_a_stage_everywhere_and_everything() {
    let mut app = app();
    app.handle(ch('l'));
    let Effect::Start { request, .. } = app.handle(ch('r')).remove(0) else { panic!() };
    assert_eq!(request, Request { markets: vec![market("foobar-au")], stage: None });
    // The AU run is active, so a request touching AU waits in the queue.
    assert_eq!(app.handle(ch('c')), Vec::new());
    assert_eq!(app.queue.back().unwrap().1, Request { markets: common::tui::subjects(), stage: Some(Stage::Validate) });
    assert_eq!(app.handle(ch('a')), Vec::new());
    assert_eq!(app.queue.len(), 2);
    assert_eq!(app.queue.back().unwrap().1, Request { markets: common::tui::subjects(), stage: None });
    // A request for every registered market is labelled as such.
    assert_eq!(Request { markets: markets::MarketId::all(), stage: None }.label(), "all markets: every stage");
}

#[test]
fn a_newer_request_for_the_same_cell_replaces_the_queued_one() {
    let mut app = app();
    app.handle(ch('r')); // foobar-au, every stage: starts
    app.handle(key(KeyCode::Enter)); // foobar-au ingest: queued behind it
    app.handle(key(KeyCode::Enter)); // the same again: replaces it
    assert_eq!(app.queue.len(), 1);
    assert_eq!(app.queue[0].0, 3, "the newer request (id 3) is the one kept");
    assert_eq!(app.log.back().unwrap().text, "foobar-au: ingest: replaced the queued request");
    // When the active run ends, the queued request starts.
    let effects = app.handle(Msg::RunEnded { id: 1, status: RunStatus::Ok, error: None });
    let request = Request { markets: vec![market("foobar-au")], stage: Some(Stage::Ingest) };
    assert_eq!(effects, vec![Effect::Start { id: 3, request }]);
    assert!(app.queue.is_empty());
}

#[test]
fn runner_events_drive_the_cells() {
    let mut app = app();
    app.handle(ch('r'));
    app.handle(Msg::RunStarted { id: 1, run_id: "r1".into() });
    app.handle(event(
        "foobar-au",
        Event::StageStarted { market: "foobar-au".into(), stage: Stage::Ingest, cache_key: "k".into() },
    ));
    assert_eq!(app.cell("foobar-au", Stage::Ingest).unwrap().status, CellStatus::Running { rows: 0 });
    app.handle(event(
        "foobar-au",
        Event::StageProgress {
            market: "foobar-au".into(),
            stage: Stage::Ingest,
            rows: 1200,
            message: "customers".into(),
        },
    ));
    assert_eq!(app.cell("foobar-au", Stage::Ingest).unwrap().status, CellStatus::Running { rows: 1200 });
    app.handle(finished("foobar-au", Stage::Ingest, StageStatus::Ok, false, 1500));
    app.handle(finished("foobar-au", Stage::Validate, StageStatus::Alert, false, 300));
    app.handle(finished("foobar-au", Stage::Features, StageStatus::Ok, true, 20));
    app.handle(finished("foobar-au", Stage::Score, StageStatus::Fail, false, 40));
    app.handle(event(
        "foobar-au",
        Event::RunFinished {
            run_id: "r1".into(),
            market: "foobar-au".into(),
            status: RunStatus::Fail,
            duration_ms: 1900,
            error: None,
        },
    ));
    let cells: Vec<(CellStatus, Option<u64>)> =
        Stage::ALL.iter().map(|s| app.cell("foobar-au", *s).map(|c| (c.status, c.last_ms)).unwrap()).collect();
    assert_eq!(
        cells,
        [
            (CellStatus::Ok, Some(1500)),
            (CellStatus::Alert, Some(300)),
            (CellStatus::Cached, Some(20)),
            (CellStatus::Fail, Some(40)),
            // Never reached after the failure: back to what they showed.
            (CellStatus::NeverRun, None),
            (CellStatus::NeverRun, None),
        ]
    );
    app.handle(Msg::RunEnded { id: 1, status: RunStatus::Fail, error: None });
    assert!(!app.busy());
    assert_eq!(app.status_line, "foobar-au: every stage: fail (run r1)");
}

#[test]
fn cancel_ends_active_runs_and_drops_queued_ones() {
    let mut app = app();
    app.handle(Msg::CellHistory(vec![CellHistory {
        market: "foobar-br".into(),
        stage: Stage::Ingest,
        status: CellStatus::Ok,
        duration_ms: 900,
    }]));
    app.handle(ch('r')); // AU starts (id 1)
    app.handle(ch('a')); // everything: queued behind AU (id 2)
    assert_eq!(app.cell("foobar-br", Stage::Ingest).unwrap().status, CellStatus::Queued);
    let effects = app.handle(ch('x'));
    assert_eq!(effects, vec![Effect::Cancel(vec![1])]);
    assert!(app.queue.is_empty());
    assert_eq!(app.cell("foobar-br", Stage::Ingest).unwrap().status, CellStatus::Ok, "back to its last state");
    // The runner is killed: its cells show cancelled.
    app.handle(event(
        "foobar-au",
        Event::StageStarted { market: "foobar-au".into(), stage: Stage::Ingest, cache_key: "k".into() },
    ));
    app.handle(Msg::Runner {
        id: 1,
        update: Box::new(Update::Exited {
            market: market("foobar-au"),
            exit: Exit { how: ExitHow::Signal(9), finished: false, cancelled: true, stderr_tail: Vec::new() },
        }),
    });
    assert_eq!(app.cell("foobar-au", Stage::Ingest).unwrap().status, CellStatus::Cancelled);
    assert_eq!(app.cell("foobar-au", Stage::Validate).unwrap().status, CellStatus::NeverRun);
    assert_eq!(app.handle(ch('x')), vec![Effect::Cancel(vec![1])], "still active until it ends");
    app.handle(Msg::RunEnded { id: 1, status: RunStatus::Cancelled, error: None });
    assert_eq!(app.handle(ch('x')), Vec::new());
    assert_eq!(app.status_line, "nothing to cancel");
}

#[test]
fn a_build_failure_marks_the_cells_and_opens_the_log() {
    let mut app = app();
    app.handle(key(KeyCode::Enter));
    app.handle(Msg::BuildStarted);
    app.handle(Msg::BuildLine("error[E0308]: mismatched types".into()));
    app.handle(Msg::BuildFinished { requests: vec![1], result: Err("error[E0308]: mismatched types".into()) });
    assert_eq!(app.cell("foobar-au", Stage::Ingest).unwrap().status, CellStatus::BuildFailed, "{:#?}", app.log);
    assert!(app.log_open);
    assert!(!app.busy());
    assert_eq!(app.status_line, "build failed: the compiler's errors are in the log pane (L)");
    assert_eq!(app.log.back().unwrap().text, "the runner did not build: error[E0308]: mismatched types");
}

#[test]
fn stale_cells_are_marked_until_they_run_again() {
    let mut app = app();
    app.handle(Msg::CellHistory(vec![
        CellHistory { market: "foobar-jp".into(), stage: Stage::Score, status: CellStatus::Ok, duration_ms: 10 },
        CellHistory { market: "foobar-jp".into(), stage: Stage::Recommend, status: CellStatus::Cached, duration_ms: 5 },
    ]));
    app.handle(Msg::Stale(vec![("foobar-jp".into(), Stage::Score), ("foobar-jp".into(), Stage::Export)]));
    assert!(app.cell("foobar-jp", Stage::Score).unwrap().stale);
    assert!(!app.cell("foobar-jp", Stage::Recommend).unwrap().stale);
    assert!(!app.cell("foobar-jp", Stage::Export).unwrap().stale, "a cell that never ran is not stale");
    app.handle(finished("foobar-jp", Stage::Score, StageStatus::Ok, false, 12));
    assert!(!app.cell("foobar-jp", Stage::Score).unwrap().stale);
}

#[test]
fn help_and_palette_overlays() {
    let mut app = app();
    app.handle(ch('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
    assert_eq!(app.handle(ch('j')), Vec::new());
    assert_eq!(app.overlay, None);
    assert_eq!(app.cursor, (0, 0), "the key that closes the help does nothing else");
    app.handle(ch(':'));
    for c in "history".chars() {
        app.handle(ch(c));
    }
    assert_eq!(app.overlay, Some(Overlay::Palette { query: "history".into(), selected: 0 }));
    assert_eq!(app.handle(key(KeyCode::Enter)), vec![Effect::LoadRuns]);
    assert_eq!(app.screen, Screen::Runs);
    assert_eq!(app.overlay, None);
    app.handle(ch(':'));
    app.handle(ch('z'));
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.overlay, None);
    assert_eq!(app.handle(ch('q')), vec![Effect::Quit]);
    assert!(app.quitting);
}

// ---------------------------------------------------------------------------------------------------------------
// Rendered screens

const WIDTH: u16 = 110;
const HEIGHT: u16 = 24;

/// An app with a header and one market in every state.
fn busy_app() -> App {
    let mut app = app();
    app.handle(Msg::Header(Header {
        repo: Some("workbench".into()),
        branch: Some("main".into()),
        head: Some("1a2b3c4".into()),
        changed_files: Some(3),
        backend: Some("embedded".into()),
        endpoint: Some("http://127.0.0.1:41234".into()),
        last_full_run_ms: Some(252_000),
    }));
    let history = |m: &str, stage, status, ms| CellHistory { market: m.into(), stage, status, duration_ms: ms };
    let mut rows = Vec::new();
    for stage in Stage::ALL {
        rows.push(history("foobar-br", stage, CellStatus::Ok, 1200));
        rows.push(history("foobar-ca", stage, CellStatus::Cached, 30));
    }
    rows.push(history("foobar-jp", Stage::Ingest, CellStatus::Ok, 800));
    rows.push(history("foobar-jp", Stage::Validate, CellStatus::Alert, 90));
    rows.push(history("foobar-jp", Stage::Features, CellStatus::Fail, 45));
    app.handle(Msg::CellHistory(rows));
    app.handle(Msg::Stale(vec![("foobar-br".into(), Stage::Recommend), ("foobar-br".into(), Stage::Export)]));
    app.handle(ch('r'));
    app.handle(Msg::RunStarted { id: 1, run_id: "20261122T101500000Z-1".into() });
    app.handle(finished("foobar-au", Stage::Ingest, StageStatus::Ok, false, 2100));
    app.handle(event(
        "foobar-au",
        Event::StageProgress {
            market: "foobar-au".into(),
            stage: Stage::Validate,
            rows: 15262,
            message: "orders".into(),
        },
    ));
    app
}

#[test]
fn snapshot_matrix_never_run() {
    let (text, _) = render(&app(), WIDTH, HEIGHT);
    insta::assert_snapshot!("matrix_never_run", text);
}

#[test]
fn snapshot_matrix_in_every_state() {
    let app = busy_app();
    let (text, terminal) = render(&app, WIDTH, HEIGHT);
    insta::assert_snapshot!("matrix_every_state", text);
    // The selected cell (foobar-au × ingest) is drawn reversed.
    let buffer = terminal.backend().buffer();
    let row = text.lines().position(|l| l.starts_with("│foobar-au")).unwrap() as u16;
    let col = text.lines().nth(row as usize).unwrap().chars().position(|c| c == '✓').unwrap() as u16;
    assert!(buffer[(col, row)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn snapshot_matrix_with_the_log_pane() {
    let mut app = busy_app();
    app.handle(ch('L'));
    let (text, _) = render(&app, WIDTH, 30);
    insta::assert_snapshot!("matrix_with_log", text);
}

#[test]
fn snapshot_help_overlay_lists_the_keys_of_the_screen() {
    let mut app = app();
    app.handle(ch('?'));
    let (text, _) = render(&app, WIDTH, 30);
    insta::assert_snapshot!("help_matrix", text);
    let mut app = self::app();
    app.handle(ch('R'));
    app.handle(ch('?'));
    let (text, _) = render(&app, WIDTH, 30);
    insta::assert_snapshot!("help_runs", text);
}

#[test]
fn snapshot_help_overlay_on_the_smallest_terminal_says_how_many_keys_it_cannot_show() {
    let mut app = app();
    app.handle(ch('?'));
    let (text, _) = render(&app, 80, 20);
    insta::assert_snapshot!("help_matrix_80x20", text);
}

#[test]
fn snapshot_command_palette() {
    let mut app = app();
    app.handle(ch(':'));
    for c in "run".chars() {
        app.handle(ch(c));
    }
    app.handle(key(KeyCode::Down));
    let (text, _) = render(&app, WIDTH, HEIGHT);
    insta::assert_snapshot!("palette_run", text);
}

#[test]
fn snapshot_too_small() {
    let (text, _) = render(&busy_app(), 60, 15);
    insta::assert_snapshot!("too_small", text);
}

/// A history with two runs of fixed content.
fn fixed_history(dir: &std::path::Path) -> History {
    let mut history = History::open(&dir.join("history.sqlite")).unwrap();
    let new_run = |id: &str, started: &str, markets: &[&str], stage: Option<&str>| NewRun {
        run_id: id.into(),
        started_at: started.into(),
        command: format!("wb run --market {}", markets.join(" --market ")),
        git_commit: Some("1a2b3c4d5e6f".into()),
        git_dirty: Some(id.ends_with('2')),
        backend: "embedded".into(),
        endpoint: Some("http://127.0.0.1:41234".into()),
        markets: markets.iter().map(|m| m.to_string()).collect(),
        stage: stage.map(str::to_string),
        as_of: None,
        no_cache: false,
        pid: std::process::id(),
        pid_start: None,
    };
    history.begin_run(&new_run("20261122T090000000Z-1", "2026-11-22T09:00:00.000Z", &["foobar-au"], None)).unwrap();
    let mut ingest = record(Stage::Ingest, StageStatus::Ok, false, 2400, 1500);
    ingest.checks = vec![CheckResult {
        name: "row_count".into(),
        subject: "orders".into(),
        rule: "within 50% of the previous run".into(),
        measured: 15262.0,
        status: CheckStatus::Pass,
        message: "15262 rows".into(),
        detail: None,
    }];
    let mut validate = record(Stage::Validate, StageStatus::Alert, false, 2400, 300);
    validate.checks = vec![CheckResult {
        name: "null_share".into(),
        subject: "customers.region".into(),
        rule: "< 0.01".into(),
        measured: 0.0125,
        status: CheckStatus::Alert,
        message: "1.25% of region is null".into(),
        detail: None,
    }];
    history.record_stage("20261122T090000000Z-1", "foobar-au", 0, &ingest).unwrap();
    history.record_stage("20261122T090000000Z-1", "foobar-au", 1, &validate).unwrap();
    history
        .finish_market(
            "20261122T090000000Z-1",
            &MarketEnd {
                market: "foobar-au".into(),
                status: RunStatus::Alert,
                as_of: Some("2026-11-15".into()),
                error: None,
                duration_ms: Some(1900),
                peak_rss_bytes: None,
            },
        )
        .unwrap();
    let end = |status, ms| RunEnd {
        status,
        endpoint: Some("http://127.0.0.1:41234".into()),
        duration_ms: ms,
        peak_rss_bytes: None,
        error: None,
    };
    history.finish_run("20261122T090000000Z-1", &end(RunStatus::Alert, 2100)).unwrap();
    // Every market the screen shows (the snapshot subjects), so the list says `all (5)`.
    let all: Vec<&str> = workbench_testkit::SNAPSHOT_MARKETS.to_vec();
    history.begin_run(&new_run("20261122T093000000Z-2", "2026-11-22T09:30:00.000Z", &all, Some("score"))).unwrap();
    history.finish_run("20261122T093000000Z-2", &end(RunStatus::Cancelled, 65_000)).unwrap();
    history
}

#[test]
fn snapshot_run_history_and_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let history = fixed_history(dir.path());
    let mut app = app();
    assert_eq!(app.handle(ch('R')), vec![Effect::LoadRuns]);
    app.handle(Msg::Runs(history.list_runs(50).unwrap()));
    let (text, _) = render(&app, WIDTH, HEIGHT);
    insta::assert_snapshot!("runs", text);

    app.handle(ch('j'));
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::LoadRun("20261122T090000000Z-1".into())]);
    let run_id = "20261122T090000000Z-1";
    let detail = history.run_detail(run_id).unwrap().unwrap();
    app.handle(Msg::Detail(Box::new(detail)));
    let (text, _) = render(&app, WIDTH, HEIGHT);
    insta::assert_snapshot!("run_detail", text);
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Runs);
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Matrix);
}

// ---------------------------------------------------------------------------------------------------------------
// The real event loop and executor, driven by keys, through a full run of one market

/// The real event loop and executor over `root` (AU only, embedded S3, this `wb` as the runner), on a task.
struct LoopUnderTest {
    keys: mpsc::UnboundedSender<KeyInput>,
    looped: tokio::task::JoinHandle<(App, Terminal<TestBackend>, event_loop::LoopStats)>,
}

impl LoopUnderTest {
    fn start(root: &common::Root) -> Self {
        let workspace = Workspace::open(root.path()).unwrap();
        let (msg_tx, mut msgs) = mpsc::unbounded_channel();
        let (keys, mut key_rx) = mpsc::unbounded_channel();
        let source = RunnerSource::Prebuilt(env!("CARGO_BIN_EXE_wb").into());
        let mut executor = Executor::start(workspace, None, source, 2, msg_tx);
        let looped = tokio::spawn(async move {
            let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
            let mut app = App::new(vec![market("foobar-au")]);
            let stats = event_loop::run(&mut terminal, &mut app, &mut key_rx, &mut msgs, &mut executor).await.unwrap();
            executor.shutdown(Duration::from_secs(10)).await;
            (app, terminal, stats)
        });
        Self { keys, looped }
    }

    fn press(&self, c: char) {
        let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        self.keys.send(KeyInput { key, at: Instant::now() }).unwrap();
    }

    /// Presses `q` and returns the app, the terminal and the loop's figures.
    async fn quit(self) -> (App, Terminal<TestBackend>, event_loop::LoopStats) {
        self.press('q');
        tokio::time::timeout(Duration::from_secs(30), self.looped).await.unwrap().unwrap()
    }
}

/// Waits (up to two minutes) for a run in `root`'s history that `pick` accepts.
async fn wait_for_run(
    root: &common::Root,
    pick: impl Fn(&workbench::history::RunRow) -> bool,
) -> workbench::history::RunRow {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "no such run was recorded in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
        if !root.path().join(".workbench/history.sqlite").exists() {
            continue;
        }
        if let Some(run) = root.history().list_runs(5).unwrap().into_iter().find(|r| pick(r)) {
            return run;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_loop_runs_a_market_from_a_key_stream() {
    let root = common::Root::with_fixtures(&["foobar-au"]);
    let tui = LoopUnderTest::start(&root);
    tui.press('r');
    let run = wait_for_run(&root, |r| r.finished_at.is_some()).await;
    // The run is recorded just before its end reaches the app (keys go first, so wait rather than race it).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (app, terminal, stats) = tui.quit().await;

    // The committed AU fixtures carry malformed lines and orphans on purpose: ingest and validate alert.
    assert_eq!(run.status.as_str(), "alert");
    assert_eq!(run.markets, ["foobar-au"]);
    assert_eq!(run.command, "wb (tui) run --market foobar-au");
    let stages = root.history().run_stages(&run.run_id).unwrap();
    assert_eq!(stages.iter().map(|s| s.stage.as_str()).collect::<Vec<_>>(), Stage::ALL.map(|s| s.name()));
    let shown: Vec<CellStatus> = Stage::ALL.iter().map(|s| app.cell("foobar-au", *s).unwrap().status).collect();
    use CellStatus::{Alert, Ok};
    assert_eq!(shown, [Alert, Alert, Ok, Ok, Ok, Ok]);
    let text = screen_text(&terminal);
    let au = text.lines().find(|l| l.starts_with("│foobar-au")).unwrap();
    assert_eq!((au.matches("! alert").count(), au.matches("✓ ok").count()), (2, 4), "{text}");
    assert!(text.contains("S3 embedded http://127.0.0.1:"), "{text}");
    assert!(text.contains(" Matrix  quitting…"), "{text}");
    assert_eq!(stats.key_to_frame.len(), 2);
    assert!(!app.busy());
}

// ---------------------------------------------------------------------------------------------------------------
// Watch mode

fn changed(runs: &[(&str, Stage)], cells: &[(&str, Stage)], first_event: Instant) -> Msg {
    Msg::Changed(workbench::tui::app::Changed {
        summaries: vec!["fixtures/data/foobar-au/customers.csv changed → foobar-au: every stage".into()],
        runs: runs.iter().map(|(m, s)| (m.to_string(), *s)).collect(),
        cells: cells.iter().map(|(m, s)| (m.to_string(), *s)).collect(),
        first_event,
    })
}

#[test]
fn watch_marks_cells_stale_at_once_supersedes_its_own_run_and_records_feedback() {
    let mut app = app();
    app.handle(Msg::CellHistory(vec![
        CellHistory { market: "foobar-br".into(), stage: Stage::Recommend, status: CellStatus::Ok, duration_ms: 10 },
        CellHistory { market: "foobar-br".into(), stage: Stage::Export, status: CellStatus::Ok, duration_ms: 10 },
    ]));
    let saved = Instant::now();
    // Off: a change is logged, nothing runs.
    assert_eq!(app.handle(changed(&[("foobar-br", Stage::Export)], &[], saved)), Vec::new());
    assert_eq!(app.handle(ch('w')), vec![Effect::Watch(true)]);
    let cells = [("foobar-br", Stage::Recommend), ("foobar-br", Stage::Export)];
    let effects = app.handle(changed(&[("foobar-br", Stage::Export)], &cells, saved));
    let request = Request { markets: vec![market("foobar-br")], stage: Some(Stage::Export) };
    assert_eq!(effects, vec![Effect::Start { id: 1, request: request.clone() }]);
    assert!(
        app.cell("foobar-br", Stage::Export).unwrap().stale
            || app.cell("foobar-br", Stage::Export).unwrap().status == CellStatus::Queued
    );
    assert!(app.cell("foobar-br", Stage::Recommend).unwrap().stale);
    // A newer save supersedes the running watch run: it is cancelled and the newer request waits for it.
    let effects = app.handle(changed(&[("foobar-br", Stage::Export)], &cells, Instant::now()));
    assert_eq!(effects, vec![Effect::Cancel(vec![1])]);
    assert_eq!(app.queue.len(), 1);
    app.handle(Msg::RunEnded { id: 1, status: RunStatus::Cancelled, error: None });
    assert_eq!(app.last_feedback, None, "a cancelled run gives no feedback time");
    app.handle(Msg::RunStarted { id: 2, run_id: "r2".into() });
    let effects = app.handle(Msg::RunEnded { id: 2, status: RunStatus::Ok, error: None });
    let Some(Effect::RecordFeedback { run_id, ms }) = effects.first().cloned() else { panic!("{effects:?}") };
    assert_eq!(run_id, "r2");
    // The feedback counts from the first save of the superseded batch.
    assert!(ms as u128 >= saved.elapsed().as_millis().saturating_sub(5) && ms as u128 <= saved.elapsed().as_millis());
    assert!(app.status_line.contains("feedback"), "{}", app.status_line);
    assert_eq!(app.handle(ch('w')), vec![Effect::Watch(false)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_mode_reruns_a_market_when_its_fixture_is_saved() {
    let root = common::Root::with_fixtures(&["foobar-au"]);
    for dir in ["target", ".git", ".workbench"] {
        std::fs::create_dir_all(root.path().join(dir)).unwrap();
    }
    let tui = LoopUnderTest::start(&root);
    tui.press('w');
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Noise in ignored directories starts nothing; a saved fixture re-runs its market.
    std::fs::write(root.path().join("target/noise.txt"), "x").unwrap();
    std::fs::write(root.path().join(".workbench/noise.txt"), "x").unwrap();
    let customers = root.market_fixtures("foobar-au").join("customers.csv");
    let mut text = std::fs::read_to_string(&customers).unwrap();
    text.push_str(&text.lines().nth(1).unwrap().replacen(',', "9,", 1));
    text.push('\n');
    std::fs::write(&customers, text).unwrap();
    let run = wait_for_run(&root, |r| r.feedback_ms.is_some()).await;
    let (app, terminal, _) = tui.quit().await;
    assert_eq!(root.history().list_runs(10).unwrap().len(), 1, "one save, one run");
    assert_eq!(run.markets, ["foobar-au"]);
    assert_eq!(run.stage.as_deref(), Some("export"));
    assert_eq!(app.last_feedback.map(|d| d.as_millis() as u64), run.feedback_ms);
    let text = screen_text(&terminal);
    assert!(text.contains(" watch "), "{text}");
    assert!(
        text.contains(&format!("feedback {}", workbench::present::report::duration(run.feedback_ms.unwrap()))),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cells_whose_inputs_changed_since_they_ran_show_stale_at_start() {
    let root = common::Root::with_fixtures(&["foobar-au"]);
    let output = root.run(&["run", "--market", "foobar-au"]);
    assert!(output.status.success(), "{}", common::describe(&output));
    // The orders extract changes after the run: ingest and everything after it would be recomputed.
    let orders = root.market_fixtures("foobar-au").join("orders.csv");
    let text = std::fs::read_to_string(&orders).unwrap();
    let last = text.lines().last().unwrap().to_string();
    std::fs::write(&orders, format!("{text}{}\n", last.replacen(',', "9,", 1))).unwrap();

    // The executor's messages applied to the app by hand, until the start-up plan has arrived.
    let workspace = Workspace::open(root.path()).unwrap();
    let (msg_tx, mut msgs) = mpsc::unbounded_channel();
    let source = RunnerSource::Prebuilt(env!("CARGO_BIN_EXE_wb").into());
    let executor = Executor::start(workspace, None, source, 2, msg_tx);
    let mut app = App::new(vec![market("foobar-au")]);
    let mut planned = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !planned {
        let msg = tokio::time::timeout_at(deadline, msgs.recv()).await.expect("no plan within 90 s").unwrap();
        planned = matches!(msg, Msg::Stale(_));
        app.handle(msg);
    }
    executor.shutdown(Duration::from_secs(10)).await;
    let (text, _) = render(&app, WIDTH, HEIGHT);
    for stage in Stage::ALL {
        assert!(app.cell("foobar-au", stage).unwrap().stale, "{stage:?} is not stale:\n{text}");
    }
    let au = text.lines().find(|l| l.starts_with("│foobar-au")).unwrap();
    assert_eq!(au.matches("~ stale").count(), 6, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_that_does_not_compile_is_recorded_as_a_build_failure_with_the_compiler_errors() {
    // A workspace whose runner does not compile: the TUI builds it with cargo before every run.
    let root = common::Root::with_fixtures(&["foobar-au"]);
    std::fs::write(root.path().join("Cargo.toml"), "[workspace]\nmembers = [\"workbench/runner\"]\nresolver = \"3\"\n")
        .unwrap();
    std::fs::create_dir_all(root.path().join("workbench/runner/src")).unwrap();
    std::fs::write(
        root.path().join("workbench/runner/Cargo.toml"),
        "[package]\nname = \"workbench-runner\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [[bin]]\nname = \"wb-runner\"\npath = \"src/main.rs\"\n",
    )
    .unwrap();
    std::fs::write(root.path().join("workbench/runner/src/main.rs"), "fn main() {\n    let n: u32 = \"seven\";\n}\n")
        .unwrap();
    let source = RunnerSource::detect(root.path());
    assert_eq!(source, RunnerSource::Cargo { root: root.path().to_path_buf() });

    let workspace = Workspace::open(root.path()).unwrap();
    let (msg_tx, mut msgs) = mpsc::unbounded_channel();
    let mut executor = Executor::start(workspace, None, source, 2, msg_tx);
    let mut app = App::new(vec![market("foobar-au")]);
    for effect in app.handle(key(KeyCode::Enter)) {
        executor.execute(effect);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while app.busy() {
        let msg = tokio::time::timeout_at(deadline, msgs.recv()).await.expect("the build did not end").unwrap();
        for effect in app.handle(msg) {
            executor.execute(effect);
        }
    }
    executor.shutdown(Duration::from_secs(10)).await;
    assert_eq!(app.cell("foobar-au", Stage::Ingest).unwrap().status, CellStatus::BuildFailed, "{:#?}", app.log);
    assert!(app.log_open, "the log pane opens on the compiler's errors");
    assert!(app.log.iter().any(|l| l.source == "build" && l.text.starts_with("error[E0308]: mismatched types")));
    let runs = root.history().list_runs(5).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status.as_str(), "build_failed");
    let error = runs[0].error.clone().unwrap();
    assert!(error.starts_with("error[E0308]: mismatched types"), "{error}");
    assert!(error.contains("workbench/runner/src/main.rs:2:"), "{error}");
}

// ---------------------------------------------------------------------------------------------------------------
// The header's last full run

#[test]
fn the_last_full_run_survives_the_repository_refresh_and_is_reloaded_when_runs_end() {
    let mut app = app();
    // Loaded from history at start.
    app.handle(Msg::Header(Header { last_full_run_ms: Some(252_000), ..Header::default() }));
    // The repository facts, refreshed every 3 s, know nothing of runs: they must not wipe it.
    app.handle(Msg::Header(Header {
        repo: Some("workbench".into()),
        branch: Some("main".into()),
        head: Some("1a2b3c4".into()),
        changed_files: Some(0),
        ..Header::default()
    }));
    assert_eq!(app.header.last_full_run_ms, Some(252_000));
    assert_eq!(app.header.repo.as_deref(), Some("workbench"));
    let (text, _) = render(&app, WIDTH, HEIGHT);
    assert!(text.contains("last full run 4m12s of the 15m00s budget"), "{text}");
    assert!(!text.contains("no full run yet"), "{text}");
    // A run that ends with nothing else to do reloads it (a full run may just have been recorded).
    app.handle(ch('a'));
    app.handle(Msg::RunStarted { id: 1, run_id: "r1".into() });
    let effects = app.handle(Msg::RunEnded { id: 1, status: RunStatus::Ok, error: None });
    assert!(effects.contains(&Effect::ReloadLastFullRun), "{effects:?}");
    app.handle(Msg::Header(Header { last_full_run_ms: Some(180_000), ..Header::default() }));
    let (text, _) = render(&app, WIDTH, HEIGHT);
    assert!(text.contains("last full run 3m00s of the 15m00s budget"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_executor_keeps_the_last_full_run_in_the_header_and_reloads_it_after_a_run() {
    let root = common::Root::empty();
    git2::Repository::init(root.path()).unwrap();
    let all = markets::ids();
    let full = |history: &mut History, run_id: &str, started_at: &str, ms: u64| {
        common::tui::record_run(history, run_id, started_at, &all, None, &[], Some((RunStatus::Ok, ms)));
    };
    full(&mut root.history(), "r1", "2026-11-20T10:00:00.000Z", 252_000);
    let workspace = Workspace::open(root.path()).unwrap();
    let (msg_tx, mut msgs) = mpsc::unbounded_channel();
    let source = RunnerSource::Prebuilt(env!("CARGO_BIN_EXE_wb").into());
    let mut executor = Executor::start(workspace, None, source, 2, msg_tx);
    let mut app = app();
    // Until the history load and, after it, a repository refresh (every 3 s) have arrived.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (mut loaded, mut refreshed_after) = (false, false);
    while !refreshed_after {
        let msg = tokio::time::timeout_at(deadline, msgs.recv()).await.expect("no header in time").unwrap();
        if let Msg::Header(header) = &msg {
            refreshed_after = loaded && header.repo.is_some();
            loaded |= header.last_full_run_ms.is_some();
        }
        app.handle(msg);
    }
    assert_eq!(app.header.last_full_run_ms, Some(252_000), "the repository refresh wiped the last full run");
    // A second full run is recorded; when the app's run ends, the header shows it.
    full(&mut root.history(), "r2", "2026-11-21T10:00:00.000Z", 180_000);
    app.handle(ch('a'));
    app.handle(Msg::RunStarted { id: 1, run_id: "r2".into() });
    let effects = app.handle(Msg::RunEnded { id: 1, status: RunStatus::Ok, error: None });
    assert!(effects.contains(&Effect::ReloadLastFullRun), "{effects:?}");
    executor.execute(Effect::ReloadLastFullRun);
    while app.header.last_full_run_ms != Some(180_000) {
        let msg = tokio::time::timeout_at(deadline, msgs.recv()).await.expect("no reload in time").unwrap();
        app.handle(msg);
    }
    executor.shutdown(Duration::from_secs(10)).await;
    let (text, _) = render(&app, WIDTH, HEIGHT);
    assert!(text.contains("last full run 3m00s of the 15m00s budget"), "{text}");
}
