//! The TUI run detail's report links: drawn per market (insta snapshot on a `TestBackend`), and `o` opening the
//! report of the market in view as an effect (a local file) or on the status line (a URL), driven by a synthetic
//! key stream over a real recorded history.

mod common;

use std::path::PathBuf;

use common::tui::{StageSpec, app, ch, key, record_run, render};
use crossterm::event::KeyCode;
use pipeline_core::CheckStatus::{Alert, Pass};
use pipeline_core::{RunStatus, Stage};
use workbench::history::History;
use workbench::services::reports::ReportLink;
use workbench::tui::app::{App, Effect, Msg};
use workbench::tui::keys::Screen;

const RUN: &str = "20261122T090000000Z-1";

/// A run of two of the snapshot markets, each with two stages.
fn recorded() -> (tempfile::TempDir, History) {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join("history.sqlite")).unwrap();
    let markets = &workbench_testkit::SNAPSHOT_MARKETS[..2];
    let mut stages: Vec<StageSpec> = Vec::new();
    for market in markets {
        stages.push((market, Stage::Ingest, false, 800, &[Pass]));
        stages.push((market, Stage::Validate, false, 1200, &[Pass, Alert]));
    }
    record_run(&mut history, RUN, "2026-11-22T09:00:00.000Z", markets, None, &stages, Some((RunStatus::Alert, 2100)));
    (dir, history)
}

fn links(local: bool) -> Vec<ReportLink> {
    workbench_testkit::SNAPSHOT_MARKETS[..2]
        .iter()
        .map(|m| ReportLink {
            market: m.to_string(),
            url: format!("s3://reports/{m}/{RUN}/report.html"),
            path: local.then(|| PathBuf::from(format!("/ws/.workbench/s3/reports/{m}/{RUN}/report.html"))),
        })
        .collect()
}

/// The app on the run's detail screen, reached through the keys, with `links` loaded.
fn on_detail(history: &History, links: Vec<ReportLink>) -> App {
    let mut app = app();
    assert_eq!(app.handle(ch('R')), vec![Effect::LoadRuns]);
    app.handle(Msg::Runs(history.list_runs(10).unwrap()));
    assert_eq!(app.handle(key(KeyCode::Enter)), vec![Effect::LoadRun(RUN.into())]);
    assert_eq!(app.screen, Screen::RunDetail);
    app.handle(Msg::Detail(Box::new(history.run_detail(RUN).unwrap().unwrap())));
    app.handle(Msg::ReportLinks { run_id: RUN.into(), links });
    app
}

#[test]
fn snapshot_run_detail_with_report_links() {
    let (_dir, history) = recorded();
    let app = on_detail(&history, links(true));
    let (text, _) = render(&app, 110, 30);
    insta::assert_snapshot!("run_detail_reports", text);
}

#[test]
fn o_opens_the_report_of_the_market_in_view_as_an_effect_for_a_local_file() {
    let (_dir, history) = recorded();
    let mut app = on_detail(&history, links(true));
    let [first, second] = [workbench_testkit::SNAPSHOT_MARKETS[0], workbench_testkit::SNAPSHOT_MARKETS[1]];
    let path = |m: &str| PathBuf::from(format!("/ws/.workbench/s3/reports/{m}/{RUN}/report.html"));
    // The header is in view: the first market's report.
    assert_eq!(app.handle(ch('o')), vec![Effect::OpenReport(path(first))]);
    assert_eq!(app.status_line, format!("opening the report of {first}: {}", path(first).display()));
    // Scrolled down into the second market's section: its report.
    // The header's two lines, then the first market's section: blank, title, report, the stage table's heading,
    // two stages and their three checks.
    let lines_to_second = 2 + 9;
    for _ in 0..lines_to_second {
        app.handle(ch('j'));
    }
    assert_eq!(app.handle(ch('o')), vec![Effect::OpenReport(path(second))]);
    // Links of another run (a late message) are not taken for this one's.
    app.handle(Msg::ReportLinks { run_id: "other".into(), links: Vec::new() });
    assert_eq!(app.detail_reports.len(), 2);
}

#[test]
fn o_shows_the_url_on_the_status_line_without_a_local_file_and_says_when_there_is_no_report() {
    let (_dir, history) = recorded();
    let mut app = on_detail(&history, links(false));
    let first = workbench_testkit::SNAPSHOT_MARKETS[0];
    assert_eq!(app.handle(ch('o')), Vec::<Effect>::new());
    assert_eq!(app.status_line, format!("report of {first}: s3://reports/{first}/{RUN}/report.html"));

    let mut app = on_detail(&history, Vec::new());
    assert_eq!(app.handle(ch('o')), Vec::<Effect>::new());
    assert_eq!(app.status_line, "this run has no report: it ended before its markets ran");
}
