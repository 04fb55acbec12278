//! The market explorer screen: `m` on the matrix shows the selected market's hooks (overrides with file:line),
//! resolved configuration and model weights with the differences from the base marked, and its raw-format
//! differences; ←→ picks a second market to show both side by side with the differences marked. The profiles
//! are `workbench_diff::explore`'s, built from the compiled-in market registry (no IO).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use workbench_diff::doc::number;
use workbench_diff::explore::{self, Comparison, MarketProfile};

use crate::tui::keys::Action;
use crate::tui::screens::{Outcome, PAGE};
use crate::tui::theme::{self, bold, dim, marked};
use markets::MarketId;

/// The explorer's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplorerScreen {
    /// The market shown.
    pub market: MarketId,
    /// The markets ←→ can compare it with (every other market).
    pub others: Vec<MarketId>,
    /// Index into `others` of the market shown side by side (`None`: the market alone, against the base).
    pub against: Option<usize>,
    /// The market's profile, or why it could not be loaded.
    pub profile: Result<MarketProfile, String>,
    /// The comparison with `others[against]`.
    pub comparison: Option<Result<Comparison, String>>,
    /// Lines scrolled down.
    pub scroll: usize,
}

fn load(market: &MarketId) -> Result<MarketProfile, String> {
    markets::load(market.as_str()).map(|m| explore::profile(m.as_ref())).map_err(|e| e.to_string())
}

impl ExplorerScreen {
    /// The explorer for `market`; `markets` are the ones ←→ cycles through.
    pub fn open(market: MarketId, markets: &[MarketId]) -> Self {
        let others = markets.iter().filter(|m| **m != market).cloned().collect();
        let profile = load(&market);
        Self { market, others, against: None, profile, comparison: None, scroll: 0 }
    }

    /// The market shown side by side, if any.
    pub fn against_market(&self) -> Option<&MarketId> {
        self.against.and_then(|i| self.others.get(i))
    }

    /// How many lines the screen has: how far it scrolls.
    pub fn line_count(&self) -> usize {
        match (&self.comparison, &self.profile) {
            (Some(Ok(c)), _) => comparison_lines(c).len(),
            (None, Ok(p)) => profile_lines(p).len(),
            _ => 1,
        }
    }

    /// The furthest the screen scrolls: until its last line is at the bottom of a `viewport` lines high view
    /// (unknown viewport: until only the last line shows).
    pub fn max_scroll(&self, viewport: Option<usize>) -> usize {
        self.line_count().saturating_sub(viewport.unwrap_or(1).max(1))
    }

    /// Scrolls by `lines` (up when negative; `isize::MIN` is the top, `isize::MAX` the end), stopping when the
    /// last line is at the bottom of the `viewport` lines the screen shows.
    pub fn scroll_by(&mut self, lines: isize, viewport: Option<usize>) {
        self.scroll = self.scroll.saturating_add_signed(lines).min(self.max_scroll(viewport));
    }

    /// →: the next market to compare with (after the last: the market alone); ←: the previous.
    pub fn cycle(&mut self, step: isize) {
        let n = self.others.len() as isize;
        if n == 0 {
            return;
        }
        // Positions 0..n are the others, n is "alone".
        let now = self.against.map(|i| i as isize).unwrap_or(n);
        let next = (now + step).rem_euclid(n + 1);
        self.against = (next < n).then_some(next as usize);
        self.comparison = self.against_market().map(|other| {
            let a = self.profile.clone()?;
            Ok(explore::compare(&a, &load(other)?))
        });
        self.scroll = 0;
    }
}

impl ExplorerScreen {
    /// The explorer's keys: ↑↓ PgUp PgDn Home End scroll (stopping when the last line is at the bottom of the
    /// `viewport` lines shown), ←→ pick the market to compare with.
    pub fn handle(&mut self, action: Action, viewport: Option<usize>) -> Outcome {
        match action {
            Action::Up => self.scroll_by(-1, viewport),
            Action::Down => self.scroll_by(1, viewport),
            Action::PageUp => self.scroll_by(-(PAGE as isize), viewport),
            Action::PageDown => self.scroll_by(PAGE as isize, viewport),
            Action::Top => self.scroll_by(isize::MIN, viewport),
            Action::Bottom => self.scroll_by(isize::MAX, viewport),
            Action::Left => self.cycle(-1),
            Action::Right => self.cycle(1),
            _ => return Outcome::Ignored,
        }
        Outcome::Done
    }

    /// Draws the explorer in `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        draw(frame, area, self);
    }
}

fn draw(frame: &mut Frame, area: Rect, screen: &ExplorerScreen) {
    let (title, lines) = match (&screen.comparison, &screen.profile) {
        (Some(Ok(c)), _) => (format!(" Explorer · {} vs {} ", c.a, c.b), comparison_lines(c)),
        (Some(Err(e)), _) | (None, Err(e)) => {
            (format!(" Explorer · {} ", screen.market), vec![Line::styled(e.clone(), theme::error())])
        }
        (None, Ok(p)) => (format!(" Explorer · {} ", screen.market), profile_lines(p)),
    };
    let title = format!("{title}· ↑↓ PgUp PgDn Home End scroll · ←→ compare · Esc back ");
    let rows = area.height.saturating_sub(2) as usize;
    let scroll = screen.scroll.min(lines.len().saturating_sub(rows.max(1))) as u16;
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)).scroll((scroll, 0)), area);
}

/// One market's lines: hooks, raw format, configuration, model.
pub fn profile_lines(p: &MarketProfile) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(format!("Hooks ({} overridden)", p.overrides().count()), bold())];
    for h in &p.hooks {
        if h.overridden {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<18} ", h.hook), marked()),
                Span::raw(h.location()),
                Span::styled(h.summary.clone().map(|s| format!("  {s}")).unwrap_or_default(), dim()),
            ]));
        } else {
            lines.push(Line::styled(format!("  {:<18} base", h.hook), dim()));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::styled("Raw format (differences from base)", bold()));
    if p.raw_format.is_empty() {
        lines.push(Line::styled("  same as base", dim()));
    }
    for r in &p.raw_format {
        lines.push(Line::styled(format!("  {:<31} {}  (base {})", r.key, r.market, r.base), marked()));
    }
    lines.push(Line::from(""));
    let differing = p.config.iter().filter(|s| s.differs_from_base()).count();
    lines.push(Line::styled(format!("Config ({differing} differ from base, marked)"), bold()));
    for s in &p.config {
        if s.differs_from_base() {
            let base = s.base.clone().map(|b| format!("  (base {b})")).unwrap_or_else(|| "  (not in base)".into());
            lines.push(Line::from(vec![
                Span::styled(format!("≠ {:<31} {}", s.key, s.value), marked()),
                Span::styled(base, dim()),
            ]));
        } else {
            lines.push(Line::from(format!("  {:<31} {}", s.key, s.value)));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::styled("Model weights", bold()));
    for w in &p.model {
        lines.push(Line::from(format!("  {:<31} {}", w.name, number(w.value))));
    }
    lines
}

/// Two markets' lines: hooks and every setting side by side, differences marked.
pub fn comparison_lines(c: &Comparison) -> Vec<Line<'static>> {
    let differing_hooks = c.hooks.iter().filter(|h| h.differs).count();
    let mut lines = vec![Line::styled(format!("Hooks ({differing_hooks} differ, marked)"), bold())];
    lines.push(Line::styled(format!("  {:<18} {:<44} {}", "hook", c.a, c.b), dim()));
    for h in &c.hooks {
        let text = format!("{:<18} {:<44} {}", h.hook, h.a.location(), h.b.location());
        lines.push(if h.differs {
            Line::styled(format!("≠ {text}"), marked())
        } else {
            Line::from(format!("  {text}"))
        });
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(format!("Settings ({} differ, marked)", c.differing_settings()), bold()));
    lines.push(Line::styled(format!("  {:<6} {:<31} {:<31} {}", "", "key", c.a, c.b), dim()));
    for s in &c.settings {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
        let text = format!("{:<6} {:<31} {:<31} {}", s.section, s.key, show(&s.a), show(&s.b));
        lines.push(if s.differs {
            Line::styled(format!("≠ {text}"), marked())
        } else {
            Line::from(format!("  {text}"))
        });
    }
    lines
}
