//! One run (Enter on the run history): its command, result, and per market the stages with their checks, the
//! way `wb show` prints it. Its state (the loaded run, the scroll) is the app's, read through [`RunDetailView`];
//! [`handle`] scrolls.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::history::RunDetail;
use crate::present::report::duration;
use crate::present::runs::measured;
use crate::tui::keys::Action;
use crate::tui::screens::Outcome;
use crate::tui::theme;

/// The run as drawn.
#[derive(Debug, Clone, Copy)]
pub struct RunDetailView<'a> {
    /// The run, once loaded.
    pub detail: Option<&'a RunDetail>,
    /// Lines scrolled down.
    pub scroll: usize,
}

/// Scrolls the run for ↑↓.
pub fn handle(scroll: &mut usize, action: Action) -> Outcome {
    match action {
        Action::Up => *scroll = scroll.saturating_sub(1),
        Action::Down => *scroll += 1,
        _ => return Outcome::Ignored,
    }
    Outcome::Done
}

impl RunDetailView<'_> {
    /// Draws the run in `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let app = self;
        let Some(detail) = app.detail else {
            frame.render_widget(Paragraph::new("loading…").block(Block::bordered().title(" Run ")), area);
            return;
        };
        let run = &detail.run;
        let bold = theme::bold();
        let mut lines = vec![
            Line::from(vec![Span::styled("command  ", bold), Span::raw(run.command.clone())]),
            Line::from(vec![
                Span::styled("result   ", bold),
                Span::raw(format!(
                    "{} in {}  ·  started {}  ·  commit {}{}  ·  {} {}",
                    run.status.as_str(),
                    run.duration_ms.map(duration).unwrap_or_else(|| "-".to_string()),
                    run.started_at.get(..19).unwrap_or(&run.started_at).replace('T', " "),
                    run.git_commit.as_deref().map(|c| &c[..c.len().min(7)]).unwrap_or("-"),
                    if run.git_dirty == Some(true) { " (dirty)" } else { "" },
                    run.backend,
                    run.endpoint.clone().unwrap_or_default()
                )),
            ]),
        ];
        if let Some(error) = &run.error {
            lines.push(Line::styled(format!("error    {error}"), theme::error()));
        }
        for market in &detail.markets {
            lines.push(Line::from(""));
            lines.push(Line::styled(
                format!(
                    "{}  {}  {}  as_of {}",
                    market.market,
                    market.status.as_str(),
                    market.duration_ms.map(duration).unwrap_or_else(|| "-".to_string()),
                    market.as_of.clone().unwrap_or_else(|| "-".to_string())
                ),
                bold,
            ));
            if let Some(error) = &market.error {
                lines.push(Line::styled(format!("  {error}"), theme::error()));
            }
            lines.push(Line::styled(
                format!("  {:<10} {:<6} {:>8} {:>9}  {:<6}  {}", "stage", "status", "time", "rows", "cache", "key"),
                theme::dim(),
            ));
            for stage in detail.stages.iter().filter(|s| s.market == market.market) {
                lines.push(Line::from(format!(
                    "  {:<10} {:<6} {:>8} {:>9}  {:<6}  {}",
                    stage.stage,
                    stage.status.as_str(),
                    duration(stage.duration_ms),
                    stage.rows,
                    if stage.cache_hit { "cached" } else { "ran" },
                    stage.cache_key
                )));
                for check in detail.checks.iter().filter(|c| c.market == market.market && c.stage == stage.stage) {
                    let color = theme::check_status(check.status);
                    lines.push(Line::from(vec![
                        Span::raw(format!("      {:<22} ", check.name)),
                        Span::styled(format!("{:<5}", check.status.as_str()), theme::fg(color)),
                        Span::raw(format!(" {:>12}  {}", measured(check.measured), check.message)),
                    ]));
                }
            }
        }
        let title = format!(" Run {} · Esc back ", run.run_id);
        let paragraph = Paragraph::new(lines).block(Block::bordered().title(title)).scroll((app.scroll as u16, 0));
        frame.render_widget(paragraph, area);
    }
}
