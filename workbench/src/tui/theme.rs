//! Every colour and text style of the TUI, in one place: the screens and the frame take their styles from here,
//! so a status, a difference or a verdict looks the same on every screen.

use crate::history::{Level, Status};
use pipeline_core::RunStatus;
use pipeline_core::events::LogLevel;
use ratatui::style::{Color, Modifier, Style};

/// A changed value (diff), a stale cell, an alert.
pub const CHANGED: Color = Color::Yellow;
/// An added row or key (diff).
pub const ADDED: Color = Color::Green;
/// A removed row or key (diff), an error.
pub const REMOVED: Color = Color::Red;
/// The accent: the selected pane's border, key names, matched characters, cyan sparklines.
pub const ACCENT: Color = Color::Cyan;

/// Headings and emphasis.
pub fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// Secondary text: legends, hints, column headers.
pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// What differs from the base or the other side (explorer).
pub fn marked() -> Style {
    Style::new().fg(CHANGED)
}

/// The selected row or item.
pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// Text in `color`.
pub fn fg(color: Color) -> Style {
    Style::new().fg(color)
}

/// An error message.
pub fn error() -> Style {
    Style::new().fg(Color::Red)
}

/// A warning or a missing part.
pub fn warning() -> Style {
    Style::new().fg(Color::Yellow)
}

/// Green when `ok`, else red: a figure against its threshold.
pub fn good(ok: bool) -> Style {
    Style::new().fg(if ok { Color::Green } else { Color::Red })
}

/// The border of the pane that has the keys.
pub fn focused_border() -> Style {
    Style::new().fg(ACCENT)
}

/// A badge on a coloured background (`wb`, the screen name, `watch`).
pub fn badge(bg: Color) -> Style {
    Style::new().fg(Color::Black).bg(bg)
}

/// The colour of a run's status word (`ok`, `alert`, `cancelled`, …).
pub fn run_status(status: Status) -> Color {
    match status {
        Status::Done(RunStatus::Ok) => Color::Green,
        Status::Done(RunStatus::Alert) | Status::Running => Color::Yellow,
        Status::Done(RunStatus::Cancelled) | Status::Interrupted => Color::Magenta,
        Status::Done(RunStatus::Fail | RunStatus::Error) | Status::BuildFailed => Color::Red,
    }
}

/// The colour of a check's status word (`pass`, `alert`, `fail`).
pub fn check_status(level: Level) -> Color {
    match level {
        Level::Pass => Color::Green,
        Level::Alert => Color::Yellow,
        Level::Fail => Color::Red,
    }
}

/// The colour of a log line of `level`.
pub fn log_level(level: LogLevel) -> Color {
    match level {
        LogLevel::Info => Color::Reset,
        LogLevel::Warn => Color::Yellow,
        LogLevel::Error => Color::Red,
    }
}
