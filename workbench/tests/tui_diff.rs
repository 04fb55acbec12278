//! The TUI's diff screen (with its market picker) and market explorer: the app model fed with keys and results
//! (state tests), the screens rendered on a `TestBackend` (insta snapshots) with a real `StageDiff` of the golden
//! recommend outputs of foobar-br and foobar-au, and the executor computing a diff of real runs end to end.

mod common;

use common::tui::{app, ch, key, market, render};

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::KeyCode;
use markets::MarketId;
use pipeline_core::Stage;
use ratatui::style::Color;
use tokio::sync::mpsc;
use workbench::services::build::RunnerSource;
use workbench::services::diff::Sides;
use workbench::tui::app::{App, Effect, Msg, Overlay};
use workbench::tui::exec::Executor;
use workbench::tui::keys::Screen;
use workbench::tui::screens::diff::{Against, DiffRequest, Phase};
use workbench::workspace::Workspace;
use workbench_diff::{Side, StageDiff, StageOptions, TablePair, diff_stage};

/// The golden recommend output of `market`, read the way `wb diff` reads an export file.
fn golden_recommend(market: &str) -> polars::prelude::DataFrame {
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "..", "fixtures", "golden", market, "recommend", "recommendations.csv"]
            .iter()
            .collect();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    workbench::services::diff::read_export_csv(&bytes).unwrap()
}

/// The recommend diff foobar-au (A) → foobar-br (B) of the golden outputs.
fn golden_diff(sample_rows: usize) -> StageDiff {
    let pairs = [TablePair {
        table: "recommendations".into(),
        a: golden_recommend("foobar-au"),
        b: golden_recommend("foobar-br"),
    }];
    let options = StageOptions { sample_rows, ..StageOptions::default() };
    diff_stage(
        Stage::Recommend,
        Side::named("foobar-au", "foobar-au"),
        Side::named("foobar-br", "foobar-br"),
        &pairs,
        &options,
    )
    .unwrap()
}

/// An app on the diff screen of foobar-au × recommend, computing the diff against foobar-br.
fn computing_au_vs_br() -> (App, DiffRequest) {
    let mut app = app();
    for _ in 0..4 {
        app.handle(ch('l'));
    }
    app.handle(ch('d'));
    let effects = app.handle(key(KeyCode::Enter));
    let request = DiffRequest {
        market: market("foobar-au"),
        stage: Stage::Recommend,
        against: Against::Market(market("foobar-br")),
    };
    assert_eq!(effects, vec![Effect::LoadDiff(request.clone())]);
    (app, request)
}

fn ready_au_vs_br() -> App {
    let (mut app, request) = computing_au_vs_br();
    app.handle(Msg::Diff { request, result: Ok(Box::new(golden_diff(5))) });
    app
}

// ---------------------------------------------------------------------------------------------------------------
// The app model

#[test]
fn d_opens_the_picker_on_the_selected_cell_with_the_other_markets_and_the_base() {
    let mut app = app();
    app.handle(ch('j'));
    for _ in 0..3 {
        app.handle(ch('l'));
    }
    assert!(app.handle(ch('d')).is_empty());
    assert_eq!(app.screen, Screen::Diff);
    let diff = app.diff.as_ref().unwrap();
    assert_eq!((diff.market.as_str(), diff.stage), ("foobar-br", Stage::Score));
    assert_eq!(diff.phase, Phase::Picking);
    let expected: Vec<Against> = common::tui::subjects()
        .into_iter()
        .filter(|m| m.as_str() != "foobar-br")
        .map(Against::Market)
        .chain([Against::Base])
        .collect();
    assert_eq!(diff.choices, expected);
    assert_eq!(diff.choices[0], Against::Market(market("foobar-au")));
}

#[test]
fn enter_asks_for_the_picked_diff_and_the_base_means_the_merge_base() {
    let (app, request) = computing_au_vs_br();
    assert_eq!(app.diff.as_ref().unwrap().phase, Phase::Computing(request.clone()));
    assert_eq!(app.status_line, "computing the diff recommend: foobar-au vs foobar-br…");
    // Side A is the cell's market, side B the picked one: `wb diff --stage recommend foobar-au foobar-br`.
    let query = request.query();
    assert_eq!(
        (query.stage, query.sides),
        (Stage::Recommend, Sides::Markets(market("foobar-au"), market("foobar-br")))
    );

    let mut app = self::app();
    app.handle(ch('d'));
    for _ in 0..10 {
        app.handle(ch('j'));
    }
    let effects = app.handle(key(KeyCode::Enter));
    let base = DiffRequest { market: market("foobar-au"), stage: Stage::Ingest, against: Against::Base };
    assert_eq!(effects, vec![Effect::LoadDiff(base.clone())]);
    assert_eq!(base.query().sides, Sides::Against { market: market("foobar-au"), against: "base".to_string() });
    // Enter while computing asks nothing more.
    assert!(app.handle(key(KeyCode::Enter)).is_empty());
}

#[test]
fn a_result_is_shown_and_a_result_for_another_request_is_ignored() {
    let (mut app, request) = computing_au_vs_br();
    let other = DiffRequest { against: Against::Base, ..request.clone() };
    app.handle(Msg::Diff { request: other, result: Err("late".into()) });
    assert_eq!(app.diff.as_ref().unwrap().phase, Phase::Computing(request.clone()));

    app.handle(Msg::Diff { request: request.clone(), result: Ok(Box::new(golden_diff(5))) });
    let diff = app.diff.as_ref().unwrap();
    let Phase::Ready(shown, stage_diff) = &diff.phase else { panic!("not ready: {:?}", diff.phase) };
    assert_eq!(shown, &request);
    assert_eq!(stage_diff.tables[0].rows.a, 946);
    assert_eq!(stage_diff.tables[0].rows.b, 760);
    assert_eq!(diff.columns(), ["action", "channel", "scheduled_date", "content_id", "propensity", "rank"]);
    assert_eq!(app.status_line, "diff recommend: foobar-au vs foobar-br");
}

#[test]
fn columns_are_selected_hidden_and_shown_again() {
    let mut app = ready_au_vs_br();
    let diff = |app: &App| app.diff.clone().unwrap();
    assert_eq!(diff(&app).selected_column().as_deref(), Some("action"));
    app.handle(key(KeyCode::Right));
    app.handle(ch('l'));
    assert_eq!(diff(&app).selected_column().as_deref(), Some("scheduled_date"));
    app.handle(ch('-'));
    assert_eq!(diff(&app).hidden, ["scheduled_date"]);
    assert_eq!(diff(&app).selected_column().as_deref(), Some("content_id"));
    app.handle(ch('-'));
    app.handle(ch('h'));
    assert_eq!(diff(&app).hidden, ["scheduled_date", "content_id"]);
    // ← skips the hidden columns.
    assert_eq!(diff(&app).selected_column().as_deref(), Some("channel"));
    // The cursor stays on the matrix cell meanwhile.
    assert_eq!(app.cursor, (0, 4));
    app.handle(ch('+'));
    assert!(diff(&app).hidden.is_empty());
    // The last visible column cannot be hidden.
    for _ in 0..10 {
        app.handle(ch('-'));
    }
    assert_eq!(diff(&app).hidden.len(), 5);
}

#[test]
fn scrolling_and_paging_move_the_diff_not_the_log() {
    let mut app = ready_au_vs_br();
    app.handle(ch('j'));
    app.handle(key(KeyCode::PageDown));
    assert_eq!(app.diff.as_ref().unwrap().scroll, 16);
    app.handle(key(KeyCode::PageUp));
    app.handle(key(KeyCode::Up));
    assert_eq!(app.diff.as_ref().unwrap().scroll, 0);
    assert_eq!(app.log_scroll, 0);
}

#[test]
fn an_error_is_shown_and_d_picks_again_and_esc_goes_back_to_the_matrix() {
    let (mut app, request) = computing_au_vs_br();
    let error = "foobar-br has no recommend output yet: run `wb run --market foobar-br --stage recommend` first";
    app.handle(Msg::Diff { request: request.clone(), result: Err(error.into()) });
    assert_eq!(app.diff.as_ref().unwrap().phase, Phase::Failed(request, error.into()));
    app.handle(ch('d'));
    let diff = app.diff.as_ref().unwrap();
    assert_eq!((diff.phase.clone(), diff.picked), (Phase::Picking, 0));
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Matrix);
    assert_eq!(app.cursor, (0, 4));
}

#[test]
fn m_opens_the_explorer_for_the_selected_market_and_arrows_pick_a_second_one() {
    let mut app = app();
    app.handle(ch('j'));
    assert!(app.handle(ch('m')).is_empty());
    assert_eq!(app.screen, Screen::Explorer);
    let explorer = app.explorer.clone().unwrap();
    assert_eq!(explorer.market.as_str(), "foobar-br");
    let profile = explorer.profile.as_ref().unwrap();
    assert_eq!(profile.market, "foobar-br");
    assert!(explorer.comparison.is_none());
    app.handle(key(KeyCode::Right));
    let explorer = app.explorer.clone().unwrap();
    assert_eq!(explorer.against_market().map(MarketId::as_str), Some("foobar-au"));
    let comparison = explorer.comparison.unwrap().unwrap();
    assert_eq!((comparison.a.as_str(), comparison.b.as_str()), ("foobar-br", "foobar-au"));
    // ← from the first market goes back to the market alone, and on round to the last.
    app.handle(key(KeyCode::Left));
    assert_eq!(app.explorer.as_ref().unwrap().against, None);
    app.handle(key(KeyCode::Left));
    assert_eq!(app.explorer.as_ref().unwrap().against_market().map(MarketId::as_str), Some("foobar-de"));
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Matrix);
    assert_eq!(app.cursor, (1, 0));
}

#[test]
fn help_works_on_both_screens() {
    let mut app = ready_au_vs_br();
    app.handle(ch('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
    app.handle(ch('x'));
    assert_eq!((app.overlay.clone(), app.screen), (None, Screen::Diff));
    app.handle(key(KeyCode::Esc));
    app.handle(ch('m'));
    app.handle(ch('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
}

// ---------------------------------------------------------------------------------------------------------------
// Rendered screens

const WIDTH: u16 = 110;

#[test]
fn snapshot_picker_and_computing() {
    let mut app = app();
    for _ in 0..4 {
        app.handle(ch('l'));
    }
    app.handle(ch('d'));
    app.handle(ch('j'));
    let (text, _) = render(&app, WIDTH, 20);
    insta::assert_snapshot!("diff_picker", text);
    app.handle(key(KeyCode::Enter));
    let (text, _) = render(&app, WIDTH, 20);
    insta::assert_snapshot!("diff_computing", text);
}

#[test]
fn snapshot_diff_of_the_golden_recommend_outputs() {
    let app = ready_au_vs_br();
    let (text, terminal) = render(&app, 140, 50);
    insta::assert_snapshot!("diff_recommend_au_vs_br", text);
    // Changed cells are coloured: the first sampled row's changed cells show `a → b` in yellow.
    let buffer = terminal.backend().buffer();
    let arrow = (0..buffer.area.height)
        .flat_map(|y| (0..buffer.area.width).map(move |x| (x, y)))
        .find(|(x, y)| buffer[(*x, *y)].symbol() == "→" && *y > 12)
        .expect("a changed cell");
    assert_eq!(buffer[arrow].fg, Color::Yellow);
}

#[test]
fn snapshot_diff_with_hidden_columns_scrolled() {
    let mut app = ready_au_vs_br();
    app.handle(ch('l'));
    app.handle(ch('l'));
    app.handle(ch('-'));
    app.handle(ch('-'));
    app.handle(ch('j'));
    let (text, _) = render(&app, WIDTH, 30);
    insta::assert_snapshot!("diff_hidden_columns", text);
}

#[test]
fn snapshot_diff_error_and_help() {
    let (mut app, request) = computing_au_vs_br();
    let error = "foobar-br has no recommend output yet: run `wb run --market foobar-br --stage recommend` first";
    app.handle(Msg::Diff { request, result: Err(error.into()) });
    let (text, _) = render(&app, WIDTH, 20);
    insta::assert_snapshot!("diff_error", text);
    app.handle(ch('?'));
    let (text, _) = render(&app, WIDTH, 30);
    insta::assert_snapshot!("help_diff", text);
}

#[test]
fn snapshot_explorer_alone_and_side_by_side() {
    let mut app = app();
    app.handle(ch('j'));
    app.handle(ch('m'));
    let (text, _) = render(&app, WIDTH, 50);
    insta::assert_snapshot!("explorer_br", text);
    app.handle(key(KeyCode::Right));
    let (text, _) = render(&app, WIDTH, 50);
    insta::assert_snapshot!("explorer_br_vs_au", text);
    app.handle(ch('?'));
    let (text, _) = render(&app, WIDTH, 30);
    insta::assert_snapshot!("help_explorer", text);
}

#[test]
fn the_explorer_scrolls_to_the_last_model_weight_and_no_further() {
    let mut app = app();
    app.handle(Msg::Resize { width: WIDTH, height: 48 });
    app.handle(ch('j'));
    app.handle(ch('m'));
    let (text, _) = render(&app, WIDTH, 48);
    assert!(text.contains("│Hooks (2 overridden)"), "{text}");
    assert!(!text.contains("w_click"), "foobar-br's weights do not fit at 110×48:\n{text}");
    assert!(text.contains("↑↓ PgUp PgDn Home End scroll · ←→ compare · Esc back"), "{text}");
    // foobar-br's profile is over three pages (its 17 renamed columns are settings, and the [quality] and [alerts]
    // keys); PgDn stops at the bottom.
    for _ in 0..4 {
        app.handle(key(KeyCode::PageDown));
    }
    let (text, _) = render(&app, WIDTH, 48);
    assert!(text.contains("│  w_click"), "PgDn shows the last weights:\n{text}");
    assert!(!text.contains("│Hooks (2 overridden)"), "{text}");
    // Scrolling stops when the last line is at the bottom: the view stays full.
    let lines = app.explorer.as_ref().unwrap().line_count();
    let viewport = 48 - 3 - 2;
    for _ in 0..10 {
        app.handle(key(KeyCode::Down));
    }
    assert_eq!(app.explorer.as_ref().unwrap().scroll, lines - viewport);
    let (bottom, _) = render(&app, WIDTH, 48);
    assert!(bottom.lines().nth(45).unwrap().starts_with("│  w_click"), "{bottom}");
    app.handle(key(KeyCode::Up));
    assert_eq!(app.explorer.as_ref().unwrap().scroll, lines - viewport - 1);
    app.handle(key(KeyCode::Home));
    assert_eq!(app.explorer.as_ref().unwrap().scroll, 0);
    app.handle(key(KeyCode::End));
    assert_eq!(render(&app, WIDTH, 48).0, bottom);
    app.handle(key(KeyCode::PageUp));
    assert_eq!(app.explorer.as_ref().unwrap().scroll, (lines - viewport).saturating_sub(15));
}

// ---------------------------------------------------------------------------------------------------------------
// The executor, end to end

async fn next_diff(msgs: &mut mpsc::UnboundedReceiver<Msg>) -> Msg {
    let wait = async {
        loop {
            match msgs.recv().await {
                Some(msg @ Msg::Diff { .. }) => return msg,
                Some(_) => continue,
                None => panic!("the executor stopped"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), wait).await.expect("no diff in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_executor_computes_a_diff_of_real_runs_and_reports_what_is_missing() {
    let root = common::Root::with_fixtures(&["foobar-au", "foobar-br"]);
    let output = root.run(&["run", "--market", "foobar-au", "--market", "foobar-br", "--stage", "recommend"]);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", common::describe(&output));
    let workspace = Workspace::open(root.path()).unwrap();
    let (msg_tx, mut msgs) = mpsc::unbounded_channel();
    let source = RunnerSource::Prebuilt(env!("CARGO_BIN_EXE_wb").into());
    let mut executor = Executor::start(workspace, None, source, 2, msg_tx);

    let mut app = app();
    for _ in 0..4 {
        app.handle(ch('l'));
    }
    app.handle(ch('d'));
    for effect in app.handle(key(KeyCode::Enter)) {
        executor.execute(effect);
    }
    let msg = next_diff(&mut msgs).await;
    app.handle(msg);
    let diff = app.diff.as_ref().unwrap();
    let Phase::Ready(_, stage_diff) = &diff.phase else { panic!("not ready: {:?}", diff.phase) };
    assert_eq!((stage_diff.a.label.as_str(), stage_diff.b.label.as_str()), ("foobar-au", "foobar-br"));
    let expected = golden_diff(20);
    assert_eq!(stage_diff.tables[0].rows, expected.tables[0].rows);
    assert_eq!(stage_diff.tables[0].keyed.changed, expected.tables[0].keyed.changed);

    // foobar-jp (the fourth market) never ran.
    app.handle(key(KeyCode::Esc));
    for _ in 0..3 {
        app.handle(ch('j'));
    }
    app.handle(ch('d'));
    for effect in app.handle(key(KeyCode::Enter)) {
        executor.execute(effect);
    }
    let msg = next_diff(&mut msgs).await;
    app.handle(msg);
    let Phase::Failed(_, error) = &app.diff.as_ref().unwrap().phase else { panic!("not failed") };
    assert_eq!(error, "foobar-jp has no recommend output yet: run `wb run --market foobar-jp --stage recommend` first");
    executor.shutdown(Duration::from_secs(10)).await;
}
