//! The run history screen (`R`): the recorded runs, newest first, the way `wb runs` lists them. Its state (the
//! rows and the selection) is the app's, read through [`RunsView`]; [`handle`] moves the selection and asks for
//! the selected run.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Block, Cell as TableCell, Paragraph, Row, Table};

use crate::history::RunRow;
use crate::present::report::duration;
use crate::present::runs::{markets_label, short_commit};
use crate::tui::keys::Action;
use crate::tui::screens::Outcome;
use crate::tui::theme;
use markets::MarketId;

/// The run list as drawn.
#[derive(Debug, Clone, Copy)]
pub struct RunsView<'a> {
    /// The runs, newest first.
    pub runs: &'a [RunRow],
    /// The selected run.
    pub cursor: usize,
    /// The registered markets (a run over all of them shows `all (n)`).
    pub markets: &'a [MarketId],
}

/// Moves the selection over `len` runs; Enter asks for the selected run (its index).
pub fn handle(cursor: &mut usize, len: usize, action: Action) -> Outcome<usize> {
    match action {
        Action::Up => *cursor = cursor.saturating_sub(1),
        Action::Down => *cursor = (*cursor + 1).min(len.saturating_sub(1)),
        Action::OpenRun if *cursor < len => return Outcome::Request(*cursor),
        Action::OpenRun => {}
        _ => return Outcome::Ignored,
    }
    Outcome::Done
}

impl RunsView<'_> {
    /// Draws the run list in `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let app = self;
        let header = Row::new(["started (UTC)", "run", "commit", "backend", "markets", "stage", "duration", "result"])
            .style(theme::bold());
        let registered: Vec<&str> = app.markets.iter().map(MarketId::as_str).collect();
        let rows = app.runs.iter().enumerate().map(|(i, run)| {
            let commit = short_commit(run.git_commit.as_deref(), run.git_dirty);
            let markets = markets_label(&run.markets, &registered);
            let status = run.status.as_str();
            let color = theme::run_status(run.status);
            let row = Row::new(vec![
                TableCell::from(run.started_at.get(..19).unwrap_or(&run.started_at).replace('T', " ")),
                TableCell::from(run.run_id.clone()),
                TableCell::from(commit),
                TableCell::from(run.backend.clone()),
                TableCell::from(markets),
                TableCell::from(run.stage.clone().unwrap_or_else(|| "all".to_string())),
                TableCell::from(run.duration_ms.map(duration).unwrap_or_else(|| "-".to_string())),
                TableCell::from(status).style(theme::fg(color)),
            ]);
            if i == app.cursor { row.style(theme::selected()) } else { row }
        });
        let widths = [
            Constraint::Length(19),
            Constraint::Length(25),
            Constraint::Length(8),
            Constraint::Length(10),
            Constraint::Fill(2),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Length(12),
        ];
        let title = format!(" Run history · {} runs · Enter opens, Esc back ", app.runs.len());
        let table = Table::new(rows, widths).header(header).column_spacing(1).block(Block::bordered().title(title));
        if app.runs.is_empty() {
            let empty = Paragraph::new("no runs yet: press Esc, then a to run every market")
                .block(Block::bordered().title(" Run history "));
            frame.render_widget(empty, area);
        } else {
            frame.render_widget(table, area);
        }
    }
}
