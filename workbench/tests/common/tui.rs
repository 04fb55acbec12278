//! Helpers for the TUI tests: keys as messages, a fresh app over every market, and a screen rendered on a
//! `TestBackend` as plain text (one line per row, trailing blanks trimmed) for snapshots and assertions.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use workbench::cli::MarketId;
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

/// A fresh app over every registered market.
pub fn app() -> App {
    App::new(MarketId::all())
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
