//! The TUI's outbox screen (`M`, mail): opening it lists the outbox (an effect, the IO is the executor's), Enter
//! asks for the selected message and shows it, Esc goes back to the list and then to the matrix; the list and a
//! message rendered on a `TestBackend` (insta snapshots). The messages are real outbox files written and read
//! back by the alerts service; only their Date (the time they were written) is pinned for the snapshots.

mod common;

use common::tui::{app, ch, key, render};
use crossterm::event::KeyCode;
use workbench::services::alert_email::AlertEmail;
use workbench::services::alerts::{self, OutboxEntry};
use workbench::tui::app::{App, Effect, Msg};
use workbench::tui::keys::Screen;

fn email(market: &str, run_id: &str, alerts: usize) -> AlertEmail {
    AlertEmail {
        market: market.into(),
        run_id: run_id.into(),
        from: "workbench@foobar.example".into(),
        to: vec!["data-quality@foobar.example".into()],
        subject: format!("[workbench] {market} run {run_id} ALERT: {alerts} alerts, 0 failures"),
        text: format!(
            "{market}: run {run_id} ended alert with {alerts} alerts and 0 failures.\n\nmarket   {market}\n\n\
             1. ALERT ingest / parse_errors / customers\n   measured  4\n"
        ),
    }
}

/// A real outbox with two messages; the list as the service reads it, dates pinned.
fn outbox() -> (tempfile::TempDir, Vec<OutboxEntry>) {
    let dir = tempfile::tempdir().unwrap();
    alerts::write_outbox(dir.path(), &email("foobar-au", "20261207T101500123Z-4f2a", 5)).unwrap();
    alerts::write_outbox(dir.path(), &email("foobar-br", "20261207T111500123Z-4f2b", 2)).unwrap();
    let mut entries = alerts::list_outbox(dir.path()).unwrap();
    entries.sort_by(|a, b| b.run_id.cmp(&a.run_id));
    for (entry, date) in entries.iter_mut().zip(["2026-12-07T11:16:02Z", "2026-12-07T10:16:40Z"]) {
        entry.date = date.into();
    }
    (dir, entries)
}

fn on_outbox(entries: Vec<OutboxEntry>) -> App {
    let mut app = app();
    assert_eq!(app.handle(ch('M')), vec![Effect::LoadOutbox]);
    assert_eq!(app.screen, Screen::Outbox);
    app.handle(Msg::Outbox(Ok(entries)));
    app
}

#[test]
fn m_lists_the_outbox_enter_opens_a_message_and_esc_goes_back() {
    let (dir, entries) = outbox();
    let mut app = on_outbox(entries.clone());
    let (text, _) = render(&app, 120, 20);
    insta::assert_snapshot!("outbox_list", text);

    app.handle(key(KeyCode::Down));
    let file = entries[1].file.clone();
    assert_eq!(app.handle(key(KeyCode::Enter)), vec![Effect::LoadMail(file.clone())]);
    let mut message = alerts::read_outbox(dir.path(), &file).unwrap();
    message.entry.date = entries[1].date.clone();
    app.handle(Msg::Mail(Ok(Box::new(message))));
    let (text, _) = render(&app, 120, 20);
    insta::assert_snapshot!("outbox_message", text);

    app.handle(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Outbox);
    let (text, _) = render(&app, 120, 20);
    assert!(text.contains(" Outbox · 2 messages · Enter opens, Esc back "), "{text}");
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Matrix);
}

#[test]
fn an_empty_outbox_says_what_fills_it_and_a_run_ending_reloads_the_list() {
    let mut app = on_outbox(Vec::new());
    let (text, _) = render(&app, 100, 20);
    insta::assert_snapshot!("outbox_empty", text);
    assert_eq!(app.handle(key(KeyCode::Enter)), Vec::<Effect>::new());
    assert_eq!(app.status_line, "the outbox is empty");
    let effects = app.handle(Msg::RunEnded { id: 7, status: pipeline_core::RunStatus::Alert, error: None });
    assert!(effects.contains(&Effect::LoadOutbox), "{effects:?}");
}

#[test]
fn the_help_and_the_palette_know_the_mail_key() {
    let mut app = on_outbox(Vec::new());
    app.handle(ch('?'));
    let (text, _) = render(&app, 120, 40);
    assert!(text.contains("Keys · Outbox"), "{text}");
    assert!(text.contains(" M           mail: the outbox of alert emails (runs on the embedded backend)"), "{text}");
    assert!(text.contains(" Enter       open the selected message"), "{text}");
    let matches = workbench::tui::palette::matches("mail");
    assert_eq!(matches[0].action, workbench::tui::keys::Action::OpenOutbox);
}
