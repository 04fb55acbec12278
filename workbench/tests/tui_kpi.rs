//! The TUI's KPI screen (`K`): opening and leaving it (state), and the screen rendered on a `TestBackend` from a
//! real recorded history (insta snapshots at the minimum size and a roomy one, and the empty history).

mod common;

use common::tui::{StageSpec, app, ch, key, quality_run, record_run, render};

use crossterm::event::KeyCode;
use pipeline_core::CheckStatus::{self, Alert, Fail, Pass};
use pipeline_core::{RunStatus, Stage};
use ratatui::style::Color;
use workbench::history::History;
use workbench::services::kpi::{Kpis, WINDOW};
use workbench::tui::app::{App, Effect, Header, Msg, Overlay};
use workbench::tui::keys::Screen;
use workbench_coverage::Thresholds;

const PASS: &[CheckStatus] = &[Pass, Pass];
const ALERT: &[CheckStatus] = &[Pass, Alert];
const FAIL: &[CheckStatus] = &[Pass, Fail];
/// Typical computed time of each stage, in pipeline order.
const BASE_MS: [u64; 6] = [700, 1200, 4200, 6100, 2900, 400];

/// The validate checks of `market` in run `i`: a few alerts and failures among passes.
fn validate_checks(market: &str, i: usize) -> &'static [CheckStatus] {
    match (market, i) {
        ("foobar-br", 4 | 5) => ALERT,
        ("foobar-jp", i) if i % 4 == 2 => ALERT,
        ("foobar-ca", 6) | ("foobar-de", 11) => FAIL,
        _ => PASS,
    }
}

/// Twelve runs an hour apart: full runs (every market, every stage) getting slower, and every third a run of two
/// markets served partly from the cache; then six test and coverage measurements.
fn recorded() -> (tempfile::TempDir, History) {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join(".workbench/history.sqlite")).unwrap();
    let registered = workbench_testkit::SNAPSHOT_MARKETS.to_vec();
    for i in 0..12usize {
        let full = i % 3 != 1;
        let run_markets: Vec<&str> = if full { registered.clone() } else { vec!["foobar-au", "foobar-br"] };
        let mut stages: Vec<StageSpec> = Vec::new();
        let mut status = RunStatus::Ok;
        for market in &run_markets {
            for (s, stage) in Stage::ALL.into_iter().enumerate() {
                let cached = (!full && s < 3) || (i % 4 == 3 && s == 0);
                let ms = if cached { 3 } else { BASE_MS[s] * (10 + (i as u64 * 7 + s as u64 * 3) % 6) / 10 };
                let checks = if stage == Stage::Validate { validate_checks(market, i) } else { &[Pass][..] };
                stages.push((market, stage, cached, ms, checks));
                if checks.contains(&Fail) {
                    status = RunStatus::Fail;
                    break; // later stages do not run after a failure
                }
                if checks.contains(&Alert) && status == RunStatus::Ok {
                    status = RunStatus::Alert;
                }
            }
        }
        let duration = if full { 420_000 + i as u64 * 30_000 } else { 30_000 + i as u64 * 1000 };
        let (id, started) = (format!("r{i:02}"), format!("2026-12-01T{:02}:00:00.000Z", 8 + i));
        record_run(&mut history, &id, &started, &run_markets, None, &stages, Some((status, duration)));
    }
    let line = [76.0, 78.5, 79.9, 80.4, 81.2, 82.6];
    let patch = [None, Some(95.0), Some(88.0), Some(92.5), Some(70.0), Some(85.0)];
    for (q, (line, patch)) in line.into_iter().zip(patch).enumerate() {
        let tests = (300 + q as u64 * 5, if q == 5 { 2 } else { 0 }, 3);
        let at = format!("2026-12-02T{:02}:30:00.000Z", 9 + q);
        history.record_quality(&quality_run(&at, Some(tests), Some(line), patch)).unwrap();
    }
    (dir, history)
}

/// An app on the KPI screen showing `kpis`, as the executor's load delivers them.
fn on_kpi_screen(kpis: Kpis) -> App {
    let mut app = app();
    let last_full_run_ms = kpis.latest_full.as_ref().map(|f| f.duration_ms);
    app.handle(Msg::Header(Header { last_full_run_ms, ..Header::default() }));
    assert_eq!(app.handle(ch('K')), vec![Effect::LoadKpis]);
    app.handle(Msg::Kpis(Box::new(kpis)));
    app
}

fn loaded() -> Kpis {
    let (_dir, history) = recorded();
    Kpis::load_for(&history, Thresholds::default(), WINDOW, &workbench_testkit::SNAPSHOT_MARKETS).unwrap()
}

#[test]
fn k_opens_the_kpis_and_esc_goes_back() {
    let mut app = app();
    assert_eq!(app.handle(ch('K')), vec![Effect::LoadKpis]);
    assert_eq!(app.screen, Screen::Kpi);
    assert_eq!(app.kpis, None, "loading until the figures arrive");
    let kpis = loaded();
    app.handle(Msg::Kpis(Box::new(kpis.clone())));
    assert_eq!(app.kpis.as_ref(), Some(&kpis));
    // A run that ends while the screen is open reloads the figures.
    let effects = app.handle(Msg::RunEnded { id: 99, status: RunStatus::Ok, error: None });
    assert!(effects.contains(&Effect::LoadKpis), "{effects:?}");
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Matrix);
    // `K` works from any screen, e.g. the run history; Esc goes home.
    app.handle(ch('R'));
    assert_eq!(app.handle(ch('K')), vec![Effect::LoadKpis]);
    assert_eq!(app.screen, Screen::Kpi);
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Matrix);
}

#[test]
fn the_help_lists_the_kpi_screen_keys() {
    let mut app = on_kpi_screen(loaded());
    app.handle(ch('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
    let (text, _) = render(&app, 120, 40);
    assert!(text.contains("Keys · KPIs"), "{text}");
    assert!(text.contains(" Esc         back / close"), "{text}");
    assert!(
        text.contains(" K           quality KPIs: checks, stage times, budget, cache hits, tests and coverage"),
        "{text}"
    );
}

#[test]
fn kpis_at_120x40() {
    let (text, terminal) = render(&on_kpi_screen(loaded()), 120, 40);
    insta::assert_snapshot!("kpi_120x40", text);
    // The trend of foobar-de ends with the failed run in red; foobar-br's alerts are yellow.
    let buffer = terminal.backend().buffer();
    let row = |market: &str| text.lines().position(|l| l.starts_with(&format!("│{market} "))).unwrap() as u16;
    let (de, br) = (row("foobar-de"), row("foobar-br"));
    let spark_start = 1 + "foobar-de ".chars().count() as u16;
    assert_eq!(buffer[(spark_start + 11, de)].fg, Color::Red);
    assert_eq!(buffer[(spark_start + 4, br)].fg, Color::Yellow);
    assert_eq!(buffer[(spark_start, br)].fg, Color::Green);
}

#[test]
fn kpis_at_the_minimum_size() {
    let (text, _) = render(&on_kpi_screen(loaded()), 80, 20);
    insta::assert_snapshot!("kpi_80x20", text);
}

#[test]
fn kpis_of_an_empty_history() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(&dir.path().join("history.sqlite")).unwrap();
    let kpis = Kpis::load_for(&history, Thresholds::default(), WINDOW, &workbench_testkit::SNAPSHOT_MARKETS).unwrap();
    let (text, _) = render(&on_kpi_screen(kpis), 80, 20);
    insta::assert_snapshot!("kpi_empty", text);
}

#[test]
fn kpis_while_loading() {
    let mut app = app();
    app.handle(ch('K'));
    let (text, _) = render(&app, 80, 20);
    assert!(text.contains("│loading…"), "{text}");
}

#[test]
fn drift_below_alpha_is_red_with_its_p_values() {
    let mut kpis = loaded();
    let runs = kpis.runs.len();
    let br = kpis.drift.iter_mut().find(|d| d.market == "foobar-br").unwrap();
    br.ks_p = (0..runs).map(|i| Some(if i + 1 == runs { 0.002 } else { 0.6 })).collect();
    br.mix_p = vec![Some(0.9); runs];
    let (text, terminal) = render(&on_kpi_screen(kpis), 120, 40);
    assert!(text.contains("model drift: lowest p; latest KS · χ²"), "{text}");
    let row = text.lines().position(|l| l.starts_with("│foobar-br ") && l.contains("0.00 · 0.90 α 0.01")).unwrap();
    let au = text.lines().position(|l| l.starts_with("│foobar-au ") && l.contains("no baseline yet"));
    assert!(au.is_some(), "a market without drift tests says so:\n{text}");
    let buffer = terminal.backend().buffer();
    let spark_start = 1 + "foobar-br ".chars().count() as u16;
    assert_eq!(buffer[(spark_start, row as u16)].fg, Color::Green, "p 0.6 is above α");
    let last = spark_start + runs as u16 - 1;
    assert_eq!(buffer[(last, row as u16)].fg, Color::Red, "the newest run's p 0.002 is below α");
}
