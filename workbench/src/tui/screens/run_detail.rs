//! One run (Enter on the run history): its command, result, and per market its report link and the stages with
//! their checks, the way `wb show` prints it. Its state (the loaded run, its report links, the scroll) is the
//! app's, read through [`RunDetailView`]; [`handle`] scrolls, and `o` asks to open the report of the market in
//! view (the one whose section holds the top line), which the app turns into an effect or a status line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::history::RunDetail;
use crate::present::report::duration;
use crate::present::runs::measured;
use crate::services::reports::ReportLink;
use crate::tui::keys::Action;
use crate::tui::screens::Outcome;
use crate::tui::theme;

/// The run as drawn.
#[derive(Debug, Clone, Copy)]
pub struct RunDetailView<'a> {
    /// The run, once loaded.
    pub detail: Option<&'a RunDetail>,
    /// Its markets' report links (empty until loaded, or when the run published none).
    pub reports: &'a [ReportLink],
    /// Lines scrolled down.
    pub scroll: usize,
}

/// Scrolls the run for ↑↓; for `o`, requests the report of the market in view (a status when it has none).
pub fn handle(scroll: &mut usize, view: RunDetailView<'_>, action: Action) -> Outcome<ReportLink> {
    match action {
        Action::Up => *scroll = scroll.saturating_sub(1),
        Action::Down => *scroll += 1,
        Action::OpenReport => {
            let Some(detail) = view.detail else { return Outcome::Status("the run is still loading".to_string()) };
            let market = market_at(detail, view.reports, *scroll);
            return match market.and_then(|m| view.reports.iter().find(|l| l.market == m)) {
                Some(link) => Outcome::Request(link.clone()),
                None => Outcome::Status("this run has no report: it ended before its markets ran".to_string()),
            };
        }
        _ => return Outcome::Ignored,
    }
    Outcome::Done
}

/// The market whose section holds line `scroll` (the top line drawn): the first market while the run's header
/// is in view.
pub fn market_at<'a>(detail: &'a RunDetail, reports: &[ReportLink], scroll: usize) -> Option<&'a str> {
    let lines = lines(detail, reports);
    let index = lines.iter().skip(scroll).find_map(|(_, m)| *m).or_else(|| lines.iter().find_map(|(_, m)| *m))?;
    detail.markets.get(index).map(|m| m.market.as_str())
}

impl RunDetailView<'_> {
    /// Draws the run in `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let app = self;
        let Some(detail) = app.detail else {
            frame.render_widget(Paragraph::new("loading…").block(Block::bordered().title(" Run ")), area);
            return;
        };
        let lines: Vec<Line> = lines(detail, app.reports).into_iter().map(|(line, _)| line).collect();
        let title = format!(" Run {} · Esc back ", detail.run.run_id);
        let paragraph = Paragraph::new(lines).block(Block::bordered().title(title)).scroll((app.scroll as u16, 0));
        frame.render_widget(paragraph, area);
    }
}

/// The lines drawn, each with the index of the market whose section it is in (`None` for the run's header).
fn lines(detail: &RunDetail, reports: &[ReportLink]) -> Vec<(Line<'static>, Option<usize>)> {
    {
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
        let mut lines: Vec<(Line<'static>, Option<usize>)> = lines.into_iter().map(|l| (l, None)).collect();
        for (index, market) in detail.markets.iter().enumerate() {
            let mut section = vec![Line::from("")];
            section.push(Line::styled(
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
                section.push(Line::styled(format!("  {error}"), theme::error()));
            }
            if let Some(link) = reports.iter().find(|l| l.market == market.market) {
                let place = link.path.as_ref().map_or_else(|| link.url.clone(), |p| p.display().to_string());
                section.push(Line::from(vec![Span::styled("  report  ", theme::dim()), Span::raw(place)]));
            }
            section.push(Line::styled(
                format!("  {:<10} {:<6} {:>8} {:>9}  {:<6}  {}", "stage", "status", "time", "rows", "cache", "key"),
                theme::dim(),
            ));
            for stage in detail.stages.iter().filter(|s| s.market == market.market) {
                section.push(Line::from(format!(
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
                    section.push(Line::from(vec![
                        Span::raw(format!("      {:<22} ", check.name)),
                        Span::styled(format!("{:<5}", check.status.as_str()), theme::fg(color)),
                        Span::raw(format!(" {:>12}  {}", measured(check.measured), check.message)),
                    ]));
                }
            }
            lines.extend(section.into_iter().map(|l| (l, Some(index))));
        }
        lines
    }
}
