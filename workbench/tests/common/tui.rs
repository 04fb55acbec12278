//! Helpers for the TUI tests: keys as messages, a fresh app over every market, and a screen rendered on a
//! `TestBackend` as plain text (one line per row, trailing blanks trimmed) for snapshots and assertions.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use markets::MarketId;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use workbench::tui::app::{App, Msg};
use workbench::tui::view;

/// A key press as the app receives it.
pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A character key.
pub fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

/// A registered market id.
pub fn market(id: &str) -> MarketId {
    MarketId::parse(id).unwrap()
}

/// A fresh app over the snapshot markets ([`workbench_testkit::SNAPSHOT_MARKETS`]).
pub fn app() -> App {
    App::new(subjects())
}

/// The markets the screen tests draw: the snapshot subjects, so a market added later changes no snapshot.
pub fn subjects() -> Vec<MarketId> {
    workbench_testkit::SNAPSHOT_MARKETS.iter().map(|id| market(id)).collect()
}

/// Draws `app` on a `width` × `height` test terminal; the text and the terminal (for styles).
pub fn render(app: &App, width: u16, height: u16) -> (String, Terminal<TestBackend>) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::draw(frame, app)).unwrap();
    (screen_text(&terminal), terminal)
}

/// The terminal's screen as text.
pub fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width).map(|x| buffer[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One stage of a market as [`record_run`] records it: market, stage, served from the cache, wall time, and the
/// outcome of each of its checks.
pub type StageSpec<'a> = (&'a str, pipeline_core::Stage, bool, u64, &'a [pipeline_core::CheckStatus]);

/// Records a run in `history` through its real API: `markets` and the target `stage` (None: every stage),
/// `stages` in order, then closes it with `status` in `duration_ms` (None: left `running`). The KPI tests'
/// history.
pub fn record_run(
    history: &mut workbench::history::History,
    run_id: &str,
    started_at: &str,
    markets: &[&str],
    stage: Option<&str>,
    stages: &[StageSpec],
    end: Option<(pipeline_core::RunStatus, u64)>,
) {
    use pipeline_core::{CheckResult, CheckStatus, StageRecord, StageStatus};
    use workbench::history::{MarketEnd, NewRun, RunEnd};
    let run = NewRun {
        run_id: run_id.into(),
        started_at: started_at.into(),
        command: "wb run".into(),
        git_commit: Some("abc1234".into()),
        git_dirty: Some(false),
        backend: "embedded".into(),
        endpoint: None,
        markets: markets.iter().map(|m| m.to_string()).collect(),
        stage: stage.map(str::to_string),
        as_of: None,
        no_cache: false,
        pid: std::process::id(),
        pid_start: workbench::sys::process_start_ticks(std::process::id()),
    };
    history.begin_run(&run).unwrap();
    for (seq, (market, stage, cache_hit, duration_ms, checks)) in stages.iter().enumerate() {
        let status = if checks.contains(&CheckStatus::Fail) {
            StageStatus::Fail
        } else if checks.contains(&CheckStatus::Alert) {
            StageStatus::Alert
        } else {
            StageStatus::Ok
        };
        let checks = checks
            .iter()
            .enumerate()
            .map(|(i, status)| CheckResult {
                name: format!("check_{i}"),
                subject: "orders".into(),
                rule: "ALERT if > 0, FAIL if > 1%".into(),
                measured: i as f64,
                status: *status,
                message: format!("check {i} {status}"),
                detail: None,
            })
            .collect();
        let record = StageRecord {
            metrics: Default::default(),
            stage: *stage,
            cache_key: format!("{market}-{stage}-key"),
            status,
            cache_hit: *cache_hit,
            rows: 100,
            tables: Default::default(),
            bytes: 1000,
            duration_ms: *duration_ms,
            checks,
            outputs: Vec::new(),
            produced_by: run_id.into(),
            error: None,
        };
        history.record_stage(run_id, market, seq, &record).unwrap();
    }
    let Some((status, duration_ms)) = end else { return };
    for market in markets {
        let end = MarketEnd {
            market: market.to_string(),
            status,
            as_of: Some("2026-11-15".into()),
            error: None,
            duration_ms: Some(duration_ms),
            peak_rss_bytes: None,
        };
        history.finish_market(run_id, &end).unwrap();
    }
    let end = RunEnd { status, endpoint: None, duration_ms, peak_rss_bytes: None, error: None };
    history.finish_run(run_id, &end).unwrap();
}

/// A test and coverage measurement as `wb check` records it, at `started_at`.
pub fn quality_run(
    started_at: &str,
    tests: Option<(u64, u64, u64)>,
    line: Option<f64>,
    patch: Option<f64>,
) -> workbench::history::quality::QualityRun {
    workbench::history::quality::QualityRun {
        started_at: started_at.into(),
        command: "wb check --base main".into(),
        git_commit: Some("abc1234".into()),
        base: "main".into(),
        tests_passed: tests.map(|t| t.0),
        tests_failed: tests.map(|t| t.1),
        tests_ignored: tests.map(|t| t.2),
        line_percent: line,
        patch_percent: patch,
        line_threshold: 80.0,
        patch_threshold: 90.0,
        passed: false,
        duration_ms: 42_000,
        report_path: None,
    }
}
