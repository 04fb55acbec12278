//! The matrix screen: markets × stages, each cell with its last status and duration (live while it runs), the
//! cursor on the selected cell. Its state (cells, cursor) is the app's, read through [`MatrixView`]; [`handle`]
//! moves the cursor.

use pipeline_core::{Stage, StageStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell as TableCell, Row, Table};

use crate::present::report::duration;
use crate::tui::keys::Action;
use crate::tui::screens::Outcome;
use crate::tui::theme;
use markets::MarketId;

/// What a matrix cell shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellStatus {
    /// Never ran (no history).
    NeverRun,
    /// Waiting for its run to start (or for a free runner slot).
    Queued,
    /// Its stage is running; rows processed so far.
    Running {
        /// Rows processed.
        rows: u64,
    },
    /// Ran; every check passed.
    Ok,
    /// Ran; a check alerted.
    Alert,
    /// A check failed or the stage could not complete.
    Fail,
    /// Served from the cache.
    Cached,
    /// Its run was cancelled before it finished.
    Cancelled,
    /// Its runner died or the environment failed.
    Error,
    /// The runner did not build.
    BuildFailed,
}

impl CellStatus {
    /// The short word the matrix shows.
    pub fn label(self) -> &'static str {
        match self {
            CellStatus::NeverRun => "—",
            CellStatus::Queued => "queued",
            CellStatus::Running { .. } => "running",
            CellStatus::Ok => "ok",
            CellStatus::Alert => "alert",
            CellStatus::Fail => "fail",
            CellStatus::Cached => "cached",
            CellStatus::Cancelled => "cancelled",
            CellStatus::Error => "error",
            CellStatus::BuildFailed => "build failed",
        }
    }

    /// A finished stage's status.
    pub fn of_stage(status: StageStatus, cache_hit: bool) -> Self {
        match (status, cache_hit) {
            (StageStatus::Fail, _) => CellStatus::Fail,
            (StageStatus::Alert, _) => CellStatus::Alert,
            (StageStatus::Ok, true) => CellStatus::Cached,
            (StageStatus::Ok, false) => CellStatus::Ok,
        }
    }

    /// Queued or running.
    pub fn is_pending(self) -> bool {
        matches!(self, CellStatus::Queued | CellStatus::Running { .. })
    }
}

/// One market × stage cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// What it shows.
    pub status: CellStatus,
    /// Duration of its last execution.
    pub last_ms: Option<u64>,
    /// Inputs or code changed since it last ran (its output would not be served from the cache).
    pub stale: bool,
    /// What it showed before it was queued, to go back to when the request is cancelled before it ran.
    pub(crate) before: CellStatus,
}

impl Cell {
    /// A cell that never ran.
    pub fn new() -> Self {
        Self { status: CellStatus::NeverRun, last_ms: None, stale: false, before: CellStatus::NeverRun }
    }
}

impl Default for Cell {
    fn default() -> Self {
        Self::new()
    }
}

/// The matrix as drawn: the app's markets, cells, cursor and spinner frame.
#[derive(Debug, Clone, Copy)]
pub struct MatrixView<'a> {
    /// Markets (rows).
    pub markets: &'a [MarketId],
    /// Cells by (market index, stage index).
    pub cells: &'a [[Cell; 6]],
    /// Selected row and column.
    pub cursor: (usize, usize),
    /// Spinner frame.
    pub tick: usize,
}

/// Moves the matrix cursor (`rows` markets) for ↑↓←→; other actions are the app's.
pub fn handle(cursor: &mut (usize, usize), rows: usize, action: Action) -> Outcome {
    match action {
        Action::Up => cursor.0 = cursor.0.saturating_sub(1),
        Action::Down => cursor.0 = (cursor.0 + 1).min(rows.saturating_sub(1)),
        Action::Left => cursor.1 = cursor.1.saturating_sub(1),
        Action::Right => cursor.1 = (cursor.1 + 1).min(Stage::ALL.len() - 1),
        _ => return Outcome::Ignored,
    }
    Outcome::Done
}

/// Spinner frames of a running cell.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The text of one matrix cell.
pub fn cell_text(cell: &Cell, tick: usize) -> String {
    let time = cell.last_ms.map(duration).unwrap_or_default();
    match cell.status {
        CellStatus::Running { rows } => {
            let spinner = SPINNER[tick % SPINNER.len()];
            if rows > 0 { format!("{spinner} {rows} rows") } else { format!("{spinner} running") }
        }
        CellStatus::Queued => "… queued".to_string(),
        CellStatus::NeverRun => "· never run".to_string(),
        _ if cell.stale => format!("~ stale {time}"),
        CellStatus::Ok => format!("✓ ok {time}"),
        CellStatus::Cached => format!("◆ cached {time}"),
        CellStatus::Alert => format!("! alert {time}"),
        CellStatus::Fail => format!("✗ fail {time}"),
        CellStatus::Cancelled => "⊘ cancelled".to_string(),
        CellStatus::Error => "✗ error".to_string(),
        CellStatus::BuildFailed => "✗ build failed".to_string(),
    }
}

fn cell_style(cell: &Cell) -> Style {
    let color = match cell.status {
        CellStatus::Running { .. } => Color::Cyan,
        CellStatus::Queued => Color::Blue,
        CellStatus::NeverRun => Color::DarkGray,
        _ if cell.stale => Color::Yellow,
        CellStatus::Ok => Color::Green,
        CellStatus::Cached => Color::Green,
        CellStatus::Alert => Color::Yellow,
        CellStatus::Fail | CellStatus::Error | CellStatus::BuildFailed => Color::Red,
        CellStatus::Cancelled => Color::Magenta,
    };
    theme::fg(color)
}

impl MatrixView<'_> {
    /// Draws the matrix in `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let app = self;
        let header = Row::new(
            std::iter::once(TableCell::from("market"))
                .chain(Stage::ALL.iter().map(|s| TableCell::from(s.name())))
                .collect::<Vec<_>>(),
        )
        .style(theme::bold());
        let rows = app.markets.iter().enumerate().map(|(r, market)| {
            let cells = app.cells[r].iter().enumerate().map(|(c, cell)| {
                let mut style = cell_style(cell);
                if (r, c) == app.cursor {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                TableCell::from(cell_text(cell, app.tick)).style(style)
            });
            let name_style = if r == app.cursor.0 { theme::bold() } else { Style::new() };
            Row::new(
                std::iter::once(TableCell::from(market.as_str()).style(name_style)).chain(cells).collect::<Vec<_>>(),
            )
        });
        let widths = std::iter::once(Constraint::Length(10)).chain(Stage::ALL.iter().map(|_| Constraint::Fill(1)));
        let (market, stage) = (&app.markets[app.cursor.0], Stage::ALL[app.cursor.1]);
        let title = format!(" Matrix · {market} × {} ", stage.name());
        let legend = " ✓ ok  ◆ cached  ! alert  ✗ fail  ~ stale  … queued  ⠋ running  · never run ";
        let block = Block::bordered().title(title).title_bottom(Line::styled(legend, theme::dim()));
        let table = Table::new(rows, widths).header(header).column_spacing(1).block(block);
        frame.render_widget(table, area);
    }
}
