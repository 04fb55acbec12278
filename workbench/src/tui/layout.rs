//! The frame every screen shares, as areas: a two-line header, the screen, the optional log pane and a status
//! line. [`crate::tui::view`] draws into these areas and [`crate::tui::app`] reads the screen's height from the
//! same function (to clamp scrolling), so the two never disagree.

use ratatui::layout::{Constraint, Layout, Rect};

/// The smallest terminal the TUI draws in.
pub const MIN_SIZE: (u16, u16) = (80, 20);

/// The areas of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// Repository, backend, the last full run.
    pub header: Rect,
    /// The current screen.
    pub screen: Rect,
    /// The log pane, when shown.
    pub log: Option<Rect>,
    /// The status line.
    pub status: Rect,
}

/// Splits `area` into the frame's areas (`log_open`: with the log pane under the screen).
pub fn areas(area: Rect, log_open: bool) -> Areas {
    let [header, body, status] =
        Layout::vertical([Constraint::Length(2), Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let (screen, log) = if log_open {
        let [screen, log] = Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
        (screen, Some(log))
    } else {
        (body, None)
    };
    Areas { header, screen, log, status }
}

/// How many lines a bordered screen shows inside its borders on a `width` × `height` terminal.
pub fn screen_rows(width: u16, height: u16, log_open: bool) -> usize {
    areas(Rect::new(0, 0, width, height), log_open).screen.height.saturating_sub(2) as usize
}
