//! Drawing: a pure function of the [`App`] (it only reads the state), one function per screen part. Every
//! screen has the same frame: a two-line header (repository, backend, the last full run against the budget),
//! the screen, the optional log pane, and a status line; overlays (help, palette) are drawn on top.

use pipeline_core::Stage;
use pipeline_core::events::LogLevel;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell as TableCell, Clear, Gauge, Paragraph, Row, Table, Wrap};

use crate::commands::runs::{markets_label, measured, short_commit};
use crate::present::report::BUDGET_MS;
use crate::present::report::duration;
use crate::tui::app::{App, Cell, CellStatus, Overlay};
use crate::tui::keys::{self, Action, Screen};
use crate::tui::palette;
use markets::MarketId;

pub use crate::tui::layout::MIN_SIZE;

/// Spinner frames of a running cell.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Draws the whole app.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        too_small(frame, area);
        return;
    }
    let crate::tui::layout::Areas { header, screen, log, status } = crate::tui::layout::areas(area, app.log_open);
    draw_header(frame, header, app);
    match app.screen {
        Screen::Matrix => draw_matrix(frame, screen, app),
        Screen::Runs => draw_runs(frame, screen, app),
        Screen::RunDetail => draw_detail(frame, screen, app),
        Screen::Kpi => crate::tui::kpi_screen::draw(frame, screen, app.kpis.as_ref()),
        Screen::Diff => match &app.diff {
            Some(diff) => crate::tui::diff_screen::draw(frame, screen, diff),
            None => draw_matrix(frame, screen, app),
        },
        Screen::Explorer => match &app.explorer {
            Some(explorer) => crate::tui::explorer_screen::draw(frame, screen, explorer),
            None => draw_matrix(frame, screen, app),
        },
        Screen::Coverage | Screen::CoverageFile => match &app.coverage {
            Some(coverage) => crate::tui::coverage_screen::draw(frame, screen, coverage, app.screen),
            None => draw_matrix(frame, screen, app),
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
    let mut spans = vec![
        Span::styled(" wb ", Style::new().fg(Color::Black).bg(Color::Cyan).add_modifier(Modifier::BOLD)),
        Span::raw(" "),
    ];
    match &h.repo {
        Some(repo) => {
            spans.push(Span::styled(repo.clone(), Style::new().add_modifier(Modifier::BOLD)));
            spans.push(Span::raw(format!(
                "  {} @ {}",
                h.branch.clone().unwrap_or_else(unknown),
                h.head.clone().unwrap_or_else(unknown)
            )));
        }
        None => spans.push(Span::styled("no git repository", Style::new().fg(Color::DarkGray))),
    }
    match h.changed_files {
        Some(0) => spans.push(Span::styled("  clean", Style::new().fg(Color::Green))),
        Some(n) => spans.push(Span::styled(format!("  {n} changed"), Style::new().fg(Color::Yellow))),
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
    let gauge = Gauge::default().ratio(ratio).label(label).gauge_style(Style::new().fg(color).bg(Color::Black));
    frame.render_widget(gauge, gauge_area);
}

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
    Style::new().fg(color)
}

fn draw_matrix(frame: &mut Frame, area: Rect, app: &App) {
    let header = Row::new(
        std::iter::once(TableCell::from("market"))
            .chain(Stage::ALL.iter().map(|s| TableCell::from(s.name())))
            .collect::<Vec<_>>(),
    )
    .style(Style::new().add_modifier(Modifier::BOLD));
    let rows = app.markets.iter().enumerate().map(|(r, market)| {
        let cells = app.cells[r].iter().enumerate().map(|(c, cell)| {
            let mut style = cell_style(cell);
            if (r, c) == app.cursor {
                style = style.add_modifier(Modifier::REVERSED);
            }
            TableCell::from(cell_text(cell, app.tick)).style(style)
        });
        let name_style = if r == app.cursor.0 { Style::new().add_modifier(Modifier::BOLD) } else { Style::new() };
        Row::new(std::iter::once(TableCell::from(market.as_str()).style(name_style)).chain(cells).collect::<Vec<_>>())
    });
    let widths = std::iter::once(Constraint::Length(10)).chain(Stage::ALL.iter().map(|_| Constraint::Fill(1)));
    let (market, stage) = app.selected();
    let title = format!(" Matrix · {market} × {} ", stage.name());
    let legend = " ✓ ok  ◆ cached  ! alert  ✗ fail  ~ stale  … queued  ⠋ running  · never run ";
    let block = Block::bordered().title(title).title_bottom(Line::styled(legend, Style::new().fg(Color::DarkGray)));
    let table = Table::new(rows, widths).header(header).column_spacing(1).block(block);
    frame.render_widget(table, area);
}

fn draw_runs(frame: &mut Frame, area: Rect, app: &App) {
    let header = Row::new(["started (UTC)", "run", "commit", "backend", "markets", "stage", "duration", "result"])
        .style(Style::new().add_modifier(Modifier::BOLD));
    let registered: Vec<&str> = app.markets.iter().map(MarketId::as_str).collect();
    let rows = app.runs.iter().enumerate().map(|(i, run)| {
        let commit = short_commit(run.git_commit.as_deref(), run.git_dirty);
        let markets = markets_label(&run.markets, &registered);
        let status = run.status.as_str();
        let color = match status {
            "ok" => Color::Green,
            "alert" | "running" => Color::Yellow,
            "cancelled" | "interrupted" => Color::Magenta,
            _ => Color::Red,
        };
        let row = Row::new(vec![
            TableCell::from(run.started_at.get(..19).unwrap_or(&run.started_at).replace('T', " ")),
            TableCell::from(run.run_id.clone()),
            TableCell::from(commit),
            TableCell::from(run.backend.clone()),
            TableCell::from(markets),
            TableCell::from(run.stage.clone().unwrap_or_else(|| "all".to_string())),
            TableCell::from(run.duration_ms.map(duration).unwrap_or_else(|| "-".to_string())),
            TableCell::from(status).style(Style::new().fg(color)),
        ]);
        if i == app.runs_cursor { row.style(Style::new().add_modifier(Modifier::REVERSED)) } else { row }
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

fn draw_detail(frame: &mut Frame, area: Rect, app: &App) {
    let Some(detail) = &app.detail else {
        frame.render_widget(Paragraph::new("loading…").block(Block::bordered().title(" Run ")), area);
        return;
    };
    let run = &detail.run;
    let bold = Style::new().add_modifier(Modifier::BOLD);
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
        lines.push(Line::styled(format!("error    {error}"), Style::new().fg(Color::Red)));
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
            lines.push(Line::styled(format!("  {error}"), Style::new().fg(Color::Red)));
        }
        lines.push(Line::styled(
            format!("  {:<10} {:<6} {:>8} {:>9}  {:<6}  {}", "stage", "status", "time", "rows", "cache", "key"),
            Style::new().fg(Color::DarkGray),
        ));
        for stage in detail.stages.iter().filter(|s| s.market == market.market) {
            lines.push(Line::from(format!(
                "  {:<10} {:<6} {:>8} {:>9}  {:<6}  {}",
                stage.stage,
                stage.status,
                duration(stage.duration_ms),
                stage.rows,
                if stage.cache_hit { "cached" } else { "ran" },
                stage.cache_key
            )));
            for check in detail.checks.iter().filter(|c| c.market == market.market && c.stage == stage.stage) {
                let color = match check.status.as_str() {
                    "pass" => Color::Green,
                    "alert" => Color::Yellow,
                    _ => Color::Red,
                };
                lines.push(Line::from(vec![
                    Span::raw(format!("      {:<22} ", check.name)),
                    Span::styled(format!("{:<5}", check.status), Style::new().fg(color)),
                    Span::raw(format!(" {:>12}  {}", measured(check.measured), check.message)),
                ]));
            }
        }
    }
    let title = format!(" Run {} · Esc back ", run.run_id);
    let paragraph = Paragraph::new(lines).block(Block::bordered().title(title)).scroll((app.detail_scroll as u16, 0));
    frame.render_widget(paragraph, area);
}

fn draw_log(frame: &mut Frame, area: Rect, app: &App) {
    let height = area.height.saturating_sub(2) as usize;
    let end = app.log.len().saturating_sub(app.log_scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = app
        .log
        .range(start..end)
        .map(|line| {
            let color = match line.level {
                LogLevel::Info => Color::Reset,
                LogLevel::Warn => Color::Yellow,
                LogLevel::Error => Color::Red,
            };
            Line::from(vec![
                Span::styled(format!("{:<10} ", line.source), Style::new().fg(Color::DarkGray)),
                Span::styled(line.text.clone(), Style::new().fg(color)),
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
    let mut spans =
        vec![Span::styled(format!(" {} ", app.screen.title()), Style::new().fg(Color::Black).bg(Color::Gray))];
    if app.watching {
        spans.push(Span::styled(" watch ", Style::new().fg(Color::Black).bg(Color::Green)));
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
            Span::styled(format!(" {:<12}", keys::keys_label(screen, b.action)), Style::new().fg(Color::Cyan)),
            Span::raw(b.action.describe()),
        ]));
    }
    // Inside the borders there is room for `rows` lines; when the keys do not fit (a short terminal), the last
    // line says how many are not shown and where to find them, instead of cutting the list off unsaid.
    let rows = area.height.saturating_sub(2) as usize;
    if lines.len() + 2 <= rows {
        lines.push(Line::from(""));
        lines.push(Line::styled(" any key closes this help", Style::new().fg(Color::DarkGray)));
    } else {
        let shown = rows.saturating_sub(1);
        let hidden = lines.len() - shown;
        lines.truncate(shown);
        lines.push(Line::styled(
            format!(" … {hidden} more (a taller terminal, or `:` to search); any key closes"),
            Style::new().fg(Color::DarkGray),
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
    let mut lines = vec![Line::from(vec![Span::styled("> ", Style::new().fg(Color::Cyan)), Span::raw(query)])];
    if matches.is_empty() {
        lines.push(Line::styled("no action matches", Style::new().fg(Color::DarkGray)));
    }
    for (i, m) in matches.iter().enumerate().take(popup.height.saturating_sub(3) as usize) {
        let mut spans: Vec<Span> = Vec::new();
        for (pos, ch) in m.text.chars().enumerate() {
            let style = if m.positions.contains(&pos) {
                Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
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
        spans.push(Span::styled(format!("  {keys}"), Style::new().fg(Color::DarkGray)));
        let line = Line::from(spans);
        lines.push(if i == selected { line.style(Style::new().add_modifier(Modifier::REVERSED)) } else { line });
    }
    let block = Block::bordered().title(" Command palette · type to filter, Enter runs, Esc closes ");
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
