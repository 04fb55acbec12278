//! Drawing: a pure function of the [`App`] (it only reads the state). Every screen has the same frame (see
//! [`crate::tui::layout`]): a two-line header (repository, backend, the last full run against the budget), the
//! screen (drawn by its module in [`crate::tui::screens`]), the optional log pane, and a status line; overlays
//! (help, palette) are drawn on top. The header, the log pane, the status line and the overlays are drawn here.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Gauge, Paragraph, Wrap};

use crate::present::report::BUDGET_MS;
use crate::present::report::duration;
use crate::tui::app::{App, Overlay};
use crate::tui::keys::{self, Action, Screen};
use crate::tui::layout::{self, Areas};
use crate::tui::palette;
use crate::tui::screens::kpi::KpiView;
use crate::tui::screens::matrix::MatrixView;
use crate::tui::screens::run_detail::RunDetailView;
use crate::tui::screens::runs::RunsView;
use crate::tui::theme;

pub use crate::tui::layout::MIN_SIZE;

/// Draws the whole app.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        too_small(frame, area);
        return;
    }
    let Areas { header, screen, log, status } = layout::areas(area, app.log_open);
    draw_header(frame, header, app);
    let matrix = MatrixView { markets: &app.markets, cells: &app.cells, cursor: app.cursor, tick: app.tick };
    match app.screen {
        Screen::Matrix => matrix.draw(frame, screen),
        Screen::Runs => {
            RunsView { runs: &app.runs, cursor: app.runs_cursor, markets: &app.markets }.draw(frame, screen)
        }
        Screen::RunDetail => {
            RunDetailView { detail: app.detail.as_ref(), reports: &app.detail_reports, scroll: app.detail_scroll }
                .draw(frame, screen);
        }
        Screen::Kpi => KpiView { kpis: app.kpis.as_ref() }.draw(frame, screen),
        Screen::Diff => match &app.diff {
            Some(diff) => diff.draw(frame, screen),
            None => matrix.draw(frame, screen),
        },
        Screen::Explorer => match &app.explorer {
            Some(explorer) => explorer.draw(frame, screen),
            None => matrix.draw(frame, screen),
        },
        Screen::Coverage | Screen::CoverageFile => match &app.coverage {
            Some(coverage) => coverage.draw(frame, screen),
            None => matrix.draw(frame, screen),
        },
        Screen::Outbox => match &app.outbox {
            Some(outbox) => outbox.draw(frame, screen),
            None => matrix.draw(frame, screen),
        },
    }
    if let Some(log) = log {
        draw_log(frame, log, app);
    }
    draw_status(frame, status, app);
    match &app.overlay {
        Some(Overlay::Help) => draw_help(frame, area, app.screen),
        Some(Overlay::Palette { query, selected }) => draw_palette(frame, area, query, *selected),
        None => {}
    }
}

fn too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("The terminal is too small for wb."),
        Line::from(format!("It is {}×{}; wb needs at least {}×{}.", area.width, area.height, MIN_SIZE.0, MIN_SIZE.1)),
        Line::from("Enlarge the window, or press q to quit."),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).alignment(Alignment::Center), area);
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App) {
    let [top, gauge_area] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let h = &app.header;
    let unknown = || "-".to_string();
    let mut spans =
        vec![Span::styled(" wb ", theme::badge(theme::ACCENT).add_modifier(Modifier::BOLD)), Span::raw(" ")];
    match &h.repo {
        Some(repo) => {
            spans.push(Span::styled(repo.clone(), theme::bold()));
            spans.push(Span::raw(format!(
                "  {} @ {}",
                h.branch.clone().unwrap_or_else(unknown),
                h.head.clone().unwrap_or_else(unknown)
            )));
        }
        None => spans.push(Span::styled("no git repository", theme::dim())),
    }
    match h.changed_files {
        Some(0) => spans.push(Span::styled("  clean", theme::fg(Color::Green))),
        Some(n) => spans.push(Span::styled(format!("  {n} changed"), theme::warning())),
        None => {}
    }
    spans.push(Span::raw(format!(
        "  ·  S3 {} {}",
        h.backend.clone().unwrap_or_else(unknown),
        h.endpoint.clone().unwrap_or_else(|| "starting…".to_string())
    )));
    frame.render_widget(Paragraph::new(Line::from(spans)), top);
    let budget_ms = BUDGET_MS;
    let (ratio, label, color) = match h.last_full_run_ms {
        Some(ms) => (
            (ms as f64 / budget_ms as f64).min(1.0),
            format!("last full run {} of the {} budget", duration(ms), duration(budget_ms)),
            if ms <= budget_ms { Color::Green } else { Color::Red },
        ),
        None => (0.0, "no full run yet: press a to run every market".to_string(), Color::DarkGray),
    };
    let gauge = Gauge::default().ratio(ratio).label(label).gauge_style(theme::fg(color).bg(Color::Black));
    frame.render_widget(gauge, gauge_area);
}

fn draw_log(frame: &mut Frame, area: Rect, app: &App) {
    let height = area.height.saturating_sub(2) as usize;
    let end = app.log.len().saturating_sub(app.log_scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = app
        .log
        .range(start..end)
        .map(|line| {
            let color = theme::log_level(line.level);
            Line::from(vec![
                Span::styled(format!("{:<10} ", line.source), theme::dim()),
                Span::styled(line.text.clone(), theme::fg(color)),
            ])
        })
        .collect();
    let scrolled = if app.log_scroll > 0 { format!(" · {} lines up (PgDn)", app.log_scroll) } else { String::new() };
    let title = format!(" Log{scrolled} · L hides ");
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), area);
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App) {
    let running = app.active.len();
    let queued = app.queue.len();
    let activity = match (running, queued) {
        (0, 0) => String::new(),
        (r, 0) => format!("{r} running · "),
        (r, q) => format!("{r} running, {q} queued · "),
    };
    let mut spans = vec![Span::styled(format!(" {} ", app.screen.title()), theme::badge(Color::Gray))];
    if app.watching {
        spans.push(Span::styled(" watch ", theme::badge(Color::Green)));
    }
    if let Some(feedback) = app.last_feedback {
        spans.push(Span::raw(format!(" feedback {} ·", duration(feedback.as_millis() as u64))));
    }
    spans.push(Span::raw(format!(" {activity}{}", app.status_line)));
    let line = Line::from(spans);
    frame.render_widget(Paragraph::new(line), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}

fn draw_help(frame: &mut Frame, area: Rect, screen: Screen) {
    let bindings = keys::bindings_for(screen);
    let mut seen: Vec<Action> = Vec::new();
    let mut lines = Vec::new();
    for b in bindings {
        if seen.contains(&b.action) {
            continue;
        }
        seen.push(b.action);
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<12}", keys::keys_label(screen, b.action)), theme::fg(theme::ACCENT)),
            Span::raw(b.action.describe()),
        ]));
    }
    // Inside the borders there is room for `rows` lines; when the keys do not fit (a short terminal), the last
    // line says how many are not shown and where to find them, instead of cutting the list off unsaid.
    let rows = area.height.saturating_sub(2) as usize;
    if lines.len() + 2 <= rows {
        lines.push(Line::from(""));
        lines.push(Line::styled(" any key closes this help", theme::dim()));
    } else {
        let shown = rows.saturating_sub(1);
        let hidden = lines.len() - shown;
        lines.truncate(shown);
        lines.push(Line::styled(
            format!(" … {hidden} more (a taller terminal, or `:` to search); any key closes"),
            theme::dim(),
        ));
    }
    let popup = centered(area, area.width.saturating_sub(4).min(96), lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    let title = format!(" Keys · {} ", screen.title());
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), popup);
}

fn draw_palette(frame: &mut Frame, area: Rect, query: &str, selected: usize) {
    let matches = palette::matches(query);
    let popup = centered(area, 70, 16);
    frame.render_widget(Clear, popup);
    let mut lines = vec![Line::from(vec![Span::styled("> ", theme::fg(theme::ACCENT)), Span::raw(query)])];
    if matches.is_empty() {
        lines.push(Line::styled("no action matches", theme::dim()));
    }
    for (i, m) in matches.iter().enumerate().take(popup.height.saturating_sub(3) as usize) {
        let mut spans: Vec<Span> = Vec::new();
        for (pos, ch) in m.text.chars().enumerate() {
            let style = if m.positions.contains(&pos) {
                theme::fg(theme::ACCENT).add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            spans.push(Span::styled(ch.to_string(), style));
        }
        let keys = keys::BINDINGS
            .iter()
            .find(|b| b.action == m.action)
            .map(|b| b.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        spans.push(Span::styled(format!("  {keys}"), theme::dim()));
        let line = Line::from(spans);
        lines.push(if i == selected { line.style(theme::selected()) } else { line });
    }
    let block = Block::bordered().title(" Command palette · type to filter, Enter runs, Esc closes ");
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
