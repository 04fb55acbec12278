//! The outbox screen (`M`, mail): the alert emails runs on the embedded backend wrote to `.workbench/outbox/`,
//! newest first, as `wb outbox` lists them; Enter opens the selected message (its headers and text, as
//! `wb outbox show` prints them), Esc goes back to the list and from the list to the matrix. The screen owns its
//! state; loading the list and a message are the app's effects ([`Outcome::Request`] names the file).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell as TableCell, Paragraph, Row, Table, Wrap};

use crate::present::outbox::{EMPTY_OUTBOX, message_text, short_date};
use crate::services::alerts::{OutboxEntry, OutboxMessage};
use crate::tui::keys::Action;
use crate::tui::screens::{Outcome, PAGE};
use crate::tui::theme;

/// The outbox screen's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxScreen {
    /// The messages, newest first, once loaded (or why they could not be).
    pub entries: Option<Result<Vec<OutboxEntry>, String>>,
    /// The selected message in the list.
    pub cursor: usize,
    /// The file asked for with Enter, until it arrives.
    pub opening: Option<String>,
    /// The opened message (or why it could not be read); `None` shows the list.
    pub open: Option<Result<OutboxMessage, String>>,
    /// Lines scrolled down in the opened message.
    pub scroll: usize,
}

impl OutboxScreen {
    /// A screen loading its list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The list arrived (or failed); the selection stays in range.
    pub fn loaded(&mut self, entries: Result<Vec<OutboxEntry>, String>) {
        if let Ok(list) = &entries {
            self.cursor = self.cursor.min(list.len().saturating_sub(1));
        }
        self.entries = Some(entries);
    }

    /// A message asked for arrived (or could not be read); it is shown from its top.
    pub fn opened(&mut self, message: Result<OutboxMessage, String>) {
        self.opening = None;
        self.open = Some(message);
        self.scroll = 0;
    }

    fn len(&self) -> usize {
        self.entries.as_ref().and_then(|e| e.as_ref().ok()).map_or(0, Vec::len)
    }

    /// Keys: ↑↓ select (or scroll an open message), PgUp/PgDn scroll it, Enter asks for the selected message (its
    /// file name), Esc closes an open message (from the list, Esc is the app's: back to the matrix).
    pub fn handle(&mut self, action: Action) -> Outcome<String> {
        if self.open.is_some() {
            match action {
                Action::Up => self.scroll = self.scroll.saturating_sub(1),
                Action::Down => self.scroll += 1,
                Action::PageUp => self.scroll = self.scroll.saturating_sub(PAGE),
                Action::PageDown => self.scroll += PAGE,
                Action::Back => self.open = None,
                Action::OpenMail => {}
                _ => return Outcome::Ignored,
            }
            return Outcome::Done;
        }
        let len = self.len();
        match action {
            Action::Up => self.cursor = self.cursor.saturating_sub(1),
            Action::Down => self.cursor = (self.cursor + 1).min(len.saturating_sub(1)),
            Action::OpenMail => {
                let Some(Ok(entries)) = &self.entries else { return Outcome::Done };
                let Some(entry) = entries.get(self.cursor) else {
                    return Outcome::Status("the outbox is empty".to_string());
                };
                self.opening = Some(entry.file.clone());
                return Outcome::Request(entry.file.clone());
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Done
    }

    /// Draws the list or the open message in `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        if let Some(open) = &self.open {
            let (title, lines) = match open {
                Ok(message) => (
                    format!(" {} · Esc back to the outbox ", message.entry.file),
                    message_text(message).lines().map(|l| Line::from(l.to_string())).collect::<Vec<_>>(),
                ),
                Err(e) => (" Outbox · Esc back ".to_string(), vec![Line::styled(e.clone(), theme::error())]),
            };
            let paragraph = Paragraph::new(lines)
                .block(Block::bordered().title(title))
                .wrap(Wrap { trim: false })
                .scroll((self.scroll as u16, 0));
            frame.render_widget(paragraph, area);
            return;
        }
        let entries = match &self.entries {
            None => {
                frame.render_widget(Paragraph::new("loading…").block(Block::bordered().title(" Outbox ")), area);
                return;
            }
            Some(Err(e)) => {
                let text = Paragraph::new(Line::styled(e.clone(), theme::error())).wrap(Wrap { trim: false });
                frame.render_widget(text.block(Block::bordered().title(" Outbox ")), area);
                return;
            }
            Some(Ok(entries)) if entries.is_empty() => {
                let text = Paragraph::new(EMPTY_OUTBOX).wrap(Wrap { trim: false });
                frame.render_widget(text.block(Block::bordered().title(" Outbox · Esc back ")), area);
                return;
            }
            Some(Ok(entries)) => entries,
        };
        let header = Row::new(["date (UTC)", "market", "run", "subject"]).style(theme::bold());
        let rows = entries.iter().enumerate().map(|(i, e)| {
            let row = Row::new(vec![
                TableCell::from(short_date(&e.date)),
                TableCell::from(e.market.clone()),
                TableCell::from(e.run_id.clone()),
                TableCell::from(e.subject.clone()),
            ]);
            if i == self.cursor { row.style(theme::selected()) } else { row }
        });
        let widths = [Constraint::Length(19), Constraint::Length(10), Constraint::Length(25), Constraint::Fill(1)];
        let opening = if self.opening.is_some() { " · opening…" } else { "" };
        let title = format!(" Outbox · {} messages · Enter opens, Esc back{opening} ", entries.len());
        let table = Table::new(rows, widths).header(header).column_spacing(1).block(Block::bordered().title(title));
        frame.render_widget(table, area);
    }
}
