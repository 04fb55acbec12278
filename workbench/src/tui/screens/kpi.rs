//! The KPI screen (`K`): the quality KPIs of [`crate::services::kpi`] drawn as text sparklines (`▁▂▃▄▅▆▇█`, `·` where a
//! run has no point), one column per run, oldest on the left. Left: per market the alerts and failures of each
//! run (coloured by the worst check) and the latest run's counts, the model drift tests' lowest p-value per run
//! (red below the market's α) and the latest KS and chi-square p, then per stage the computed time per run.
//! Right: the latest full run against the budget, the cache hit rate, the latest tests and line and patch
//! coverage against the thresholds of `workbench.toml`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::present::report::duration;
use crate::services::kpi::{CheckCounts, CoverageKpi, HitRate, Kpis, Verdict};
use crate::tui::theme::{self, bold, dim};

/// The sparkline levels, lowest first.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// Where a run has no point.
const NO_POINT: char = '·';

/// One character per value: `·` for `None`, else a bar scaled to `max` (0 is `▁`; anything above 0 is at least
/// `▂`, so a single alert shows).
pub fn sparkline(values: &[Option<f64>], max: f64) -> String {
    values.iter().map(|v| v.map_or(NO_POINT, |v| bar(v, max))).collect()
}

/// One character per value, scaled from `lo` (`▁`) to `hi` (`█`), `·` for `None`: a trend of measures that
/// vary in a narrow band (stage times, coverage), where scaling from 0 would flatten it. All `▄` when `hi <= lo`.
pub fn sparkline_range(values: &[Option<f64>], lo: f64, hi: f64) -> String {
    let level = |v: f64| {
        if hi <= lo { BARS[3] } else { BARS[(((v - lo) / (hi - lo)) * 7.0).round().clamp(0.0, 7.0) as usize] }
    };
    values.iter().map(|v| v.map_or(NO_POINT, level)).collect()
}

fn bar(value: f64, max: f64) -> char {
    if max <= 0.0 || value <= 0.0 {
        return BARS[0];
    }
    let level = (value / max * 7.0).ceil().clamp(1.0, 7.0) as usize;
    BARS[level]
}

/// `[█████░░░░░]`: `ratio` of `width` cells filled (at most all of them).
pub fn budget_bar(ratio: f64, width: usize) -> String {
    let filled = ((ratio.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// The last `n` points of a series (the newest runs when there is no room for all).
fn tail<T: Copy>(series: &[T], n: usize) -> &[T] {
    &series[series.len().saturating_sub(n)..]
}

/// The KPI screen as drawn: the app's figures, `None` while loading. It has no keys of its own (Esc is the app's).
#[derive(Debug, Clone, Copy)]
pub struct KpiView<'a> {
    /// The figures, once loaded.
    pub kpis: Option<&'a Kpis>,
}

impl KpiView<'_> {
    /// Draws the KPI screen in `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        draw(frame, area, self.kpis);
    }
}

/// Draws the KPI screen in `area`; `None` while loading.
fn draw(frame: &mut Frame, area: Rect, kpis: Option<&Kpis>) {
    let Some(kpis) = kpis else {
        frame.render_widget(Paragraph::new("loading…").block(Block::bordered().title(" KPIs ")), area);
        return;
    };
    if kpis.is_empty() {
        let text = vec![
            Line::from("nothing recorded yet."),
            Line::from(""),
            Line::from(
                "Press Esc, then a to run every market: runs fill in the checks, stage times, budget and cache.",
            ),
            Line::from("`wb coverage` or `wb check` records the tests and the line and patch coverage."),
        ];
        let block = Block::bordered().title(" KPIs · Esc back ");
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).block(block), area);
        return;
    }
    let halves = |area: Rect| Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let [left_area, right_area]: [Rect; 2] = halves(area);
    let left = runs_side(kpis, left_area.width.saturating_sub(2) as usize);
    let right = quality_side(kpis, right_area.width.saturating_sub(2) as usize);
    // The figures on top; below, when there is room, the window's runs (what each column is).
    let height = (left.lines.len().max(right.len()) + 2) as u16;
    let (figures, list) = if area.height >= height + 5 {
        let [figures, list] = Layout::vertical([Constraint::Length(height), Constraint::Fill(1)]).areas(area);
        (figures, Some(list))
    } else {
        (area, None)
    };
    let [left_area, right_area] = halves(figures);
    let title = if left.points < kpis.runs.len() {
        format!(" KPIs · last {} of {} runs · Esc back ", left.points, kpis.runs.len())
    } else {
        format!(" KPIs · last {} runs · Esc back ", kpis.runs.len())
    };
    let legend = Line::styled(" oldest → newest  · not run ", dim());
    let block = Block::bordered().title(title).title_bottom(legend);
    frame.render_widget(Paragraph::new(left.lines).block(block), left_area);
    let block = Block::bordered().title(" Budget · cache · tests ");
    frame.render_widget(Paragraph::new(right).block(block), right_area);
    if let Some(list) = list {
        draw_run_list(frame, list, kpis);
    }
}

/// The left side's lines and how many runs its sparklines show.
struct RunsSide {
    lines: Vec<Line<'static>>,
    points: usize,
}

/// Per market checks and per stage computed time, in `inner` columns.
fn runs_side(kpis: &Kpis, inner: usize) -> RunsSide {
    let names = kpis.markets.iter().map(|m| m.market.len()).chain(kpis.stages.iter().map(|s| s.stage.len()));
    let name_width = names.max().unwrap_or(6).max(6);
    // name, space, sparkline, space, figures (`✓12 !1 ✗0`, `1.2s max 3.4s`): the sparkline gets what is left.
    let room = inner.saturating_sub(name_width + 2 + 15).max(4);
    let points = kpis.runs.len().min(room);
    let mut lines = vec![Line::styled("checks: alerts+fails, latest run", bold())];
    for market in &kpis.markets {
        let trend = tail(&market.trend, points);
        let max = trend.iter().flatten().map(|c| c.problems()).max().unwrap_or(0);
        let mut spans = vec![Span::raw(format!("{:<name_width$} ", market.market))];
        for point in trend {
            let text = sparkline(&[point.map(|c| f64::from(c.problems()))], f64::from(max));
            spans.push(Span::styled(text, Style::new().fg(check_color(*point))));
        }
        spans.push(Span::raw(" ".repeat(points - trend.len() + 1)));
        match market.latest() {
            Some(counts) => spans.extend(count_spans(counts)),
            None => spans.push(Span::styled("no run", dim())),
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled("model drift: lowest p; latest KS · χ²", bold()));
    for drift in &kpis.drift {
        let low: Vec<Option<f64>> = drift
            .ks_p
            .iter()
            .zip(&drift.mix_p)
            .map(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => Some(a.min(*b)),
                (a, b) => a.or(*b),
            })
            .collect();
        let mut spans = vec![Span::raw(format!("{:<name_width$} ", drift.market))];
        for point in tail(&low, points) {
            let color = match point {
                None => Color::DarkGray,
                Some(p) if *p < drift.alpha => Color::Red,
                Some(_) => Color::Green,
            };
            spans.push(Span::styled(sparkline_range(&[*point], 0.0, 1.0), Style::new().fg(color)));
        }
        spans.push(Span::raw(" ".repeat(points - tail(&low, points).len() + 1)));
        match (drift.latest_ks(), drift.latest_mix()) {
            (None, None) => spans.push(Span::styled("no baseline yet", dim())),
            (ks, mix) => {
                let p = |v: Option<f64>| {
                    let text = v.map_or("-".into(), |v| format!("{v:.2}"));
                    let style = if v.is_some_and(|v| v < drift.alpha) { Style::new().fg(Color::Red) } else { dim() };
                    Span::styled(text, style)
                };
                spans.extend([p(ks), Span::raw(" · "), p(mix), Span::styled(format!(" α {}", drift.alpha), dim())]);
            }
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled("computed time per market", bold()));
    for stage in &kpis.stages {
        let series: Vec<Option<f64>> = tail(&stage.computed_ms, points).iter().map(|d| d.map(|d| d as f64)).collect();
        let min = stage.computed_ms.iter().flatten().min().copied().unwrap_or(0);
        let max = stage.max().unwrap_or(0);
        let figures = match stage.latest() {
            Some(latest) => Span::raw(format!("{} max {}", duration(latest), duration(max))),
            None => Span::styled("not computed", dim()),
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{:<name_width$} ", stage.stage)),
            Span::styled(
                format!("{:<points$} ", sparkline_range(&series, min as f64, max as f64)),
                Style::new().fg(Color::Cyan),
            ),
            figures,
        ]));
    }
    RunsSide { lines, points }
}

fn check_color(point: Option<CheckCounts>) -> Color {
    match point {
        None => Color::DarkGray,
        Some(c) if c.fail > 0 => Color::Red,
        Some(c) if c.alert > 0 => Color::Yellow,
        Some(_) => Color::Green,
    }
}

fn count_spans(counts: CheckCounts) -> Vec<Span<'static>> {
    let style = |n: u32, color: Color| if n > 0 { Style::new().fg(color) } else { dim() };
    vec![
        Span::styled(format!("✓{}", counts.pass), style(counts.pass, Color::Green)),
        Span::raw(" "),
        Span::styled(format!("!{}", counts.alert), style(counts.alert, Color::Yellow)),
        Span::raw(" "),
        Span::styled(format!("✗{}", counts.fail), style(counts.fail, Color::Red)),
    ]
}

/// The budget, the cache, the tests and the coverage, in `inner` columns.
fn quality_side(kpis: &Kpis, inner: usize) -> Vec<Line<'static>> {
    let budget = duration(kpis.budget_ms);
    let full_runs = kpis.full_trend.len();
    let mut lines = vec![Line::styled(format!("full runs ({full_runs}) vs the {budget} budget"), bold())];
    match (&kpis.latest_full, kpis.within_budget()) {
        (Some(full), Some(within)) => {
            let ratio = full.duration_ms as f64 / kpis.budget_ms as f64;
            let (verdict, color) = if within { ("ok", Color::Green) } else { ("OVER", Color::Red) };
            let width = inner.saturating_sub(20).clamp(4, 30);
            lines.push(Line::from(vec![
                Span::raw(format!("{:>6} ", duration(full.duration_ms))),
                Span::styled(budget_bar(ratio, width), Style::new().fg(color)),
                Span::raw(format!(" {:>3.0}% ", ratio * 100.0)),
                Span::styled(verdict, Style::new().fg(color).add_modifier(Modifier::BOLD)),
            ]));
            let series: Vec<Option<f64>> =
                tail(&kpis.full_trend, inner.saturating_sub(19).max(4)).iter().map(|d| Some(*d as f64)).collect();
            let max = kpis.full_trend.iter().copied().max().unwrap_or(0).max(kpis.budget_ms);
            lines.push(Line::from(vec![
                Span::styled(" trend ", dim()),
                Span::styled(sparkline(&series, max as f64), Style::new().fg(color)),
                Span::styled(" █ = budget", dim()),
            ]));
        }
        _ => lines.push(Line::styled(format!("none in the last {} runs (a runs one)", kpis.runs.len()), dim())),
    }

    lines.push(Line::styled("cache hits of stage runs", bold()));
    let rate = |r: Option<HitRate>| match r.and_then(|r| r.percent().map(|p| (r, p))) {
        Some((r, p)) => format!("{p:>3.0}% ({}/{})", r.hits, r.total),
        None => "-".to_string(),
    };
    lines.push(Line::from(format!("latest {}", rate(kpis.latest_hit_rate()))));
    lines.push(Line::from(format!("window {}", rate(Some(kpis.window_hit_rate())))));
    let series: Vec<Option<f64>> =
        tail(&kpis.cache, inner.saturating_sub(7).max(4)).iter().map(|r| r.and_then(|r| r.percent())).collect();
    lines.push(Line::from(vec![
        Span::styled(" trend ", dim()),
        Span::styled(sparkline(&series, 100.0), Style::new().fg(Color::Cyan)),
    ]));

    let Some(q) = &kpis.quality else {
        lines.push(Line::styled("tests and coverage", bold()));
        lines.push(Line::styled("none recorded: run `wb check`", dim()));
        return lines;
    };
    let at = q.started_at.get(..16).unwrap_or(&q.started_at).replace('T', " ");
    lines.push(Line::from(vec![Span::styled("tests ", bold()), Span::styled(format!("{at} UTC"), dim())]));
    lines.push(match (q.tests_passed, q.tests_failed) {
        (Some(passed), failed) => {
            let failed = failed.unwrap_or(0);
            let fail_style =
                if failed > 0 { Style::new().fg(Color::Red).add_modifier(Modifier::BOLD) } else { Style::new() };
            Line::from(vec![
                Span::raw(format!("{passed} passed · ")),
                Span::styled(format!("{failed} failed"), fail_style),
                Span::raw(format!(" · {} ignored", q.tests_ignored.unwrap_or(0))),
            ])
        }
        (None, _) => Line::styled("not run with this measurement", dim()),
    });
    lines.push(Line::styled("coverage vs thresholds", bold()));
    lines.push(coverage_line("line", &q.line, inner));
    lines.push(coverage_line("patch", &q.patch, inner));
    lines
}

/// `line  82.6% ≥ 80%  ok    ▃▃▄▄▅▆`: the trend from a little under the lowest figure (or the threshold) to 100%.
fn coverage_line(name: &str, coverage: &CoverageKpi, inner: usize) -> Line<'static> {
    let threshold = format!("{}%", coverage.threshold);
    let (figure, verdict, style) = match (coverage.percent, coverage.verdict()) {
        (Some(p), Verdict::Met) => (format!("{p:.1}% ≥ {threshold}"), "ok", Style::new().fg(Color::Green)),
        (Some(p), _) => {
            (format!("{p:.1}% < {threshold}"), "BELOW", Style::new().fg(Color::Red).add_modifier(Modifier::BOLD))
        }
        (None, _) => (format!("n/a (min {threshold})"), "", dim()),
    };
    let lowest = coverage.trend.iter().flatten().copied().fold(coverage.threshold, f64::min);
    let lo = ((lowest - 5.0) / 5.0).floor().max(0.0) * 5.0;
    let series = tail(&coverage.trend, inner.saturating_sub(26).max(4));
    Line::from(vec![
        Span::raw(format!("{name:<5} {figure:<13} ")),
        Span::styled(format!("{verdict:<5} "), style),
        Span::styled(sparkline_range(series, lo, 100.0), Style::new().fg(Color::Cyan)),
    ])
}

/// The window's runs, newest first: what the sparklines' columns are.
fn draw_run_list(frame: &mut Frame, area: Rect, kpis: &Kpis) {
    let rows = area.height.saturating_sub(3) as usize;
    let mut lines = vec![Line::styled(
        format!("{:<16}  {:<28} {:<5} {:>8}  {}", "started (UTC)", "run", "kind", "time", "result"),
        dim(),
    )];
    for run in kpis.runs.iter().rev().take(rows) {
        let status = run.status.as_str();
        let color = theme::run_status(run.status);
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{:<16}  {:<28} {:<5} {:>8}  ",
                run.started_at.get(..16).unwrap_or(&run.started_at).replace('T', " "),
                run.run_id,
                if run.full { "full" } else { "part" },
                run.duration_ms.map(duration).unwrap_or_else(|| "-".to_string()),
            )),
            Span::styled(status.to_string(), Style::new().fg(color)),
        ]));
    }
    let title = format!(" Runs of the window, newest first ({}) ", kpis.runs.len());
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), area);
}
