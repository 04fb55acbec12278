//! The diff screen: `d` on a matrix cell picks what to compare the cell's output with (another market's output
//! of the same stage, or the market's own output at the merge base), then shows `workbench_diff`'s
//! [`StageDiff`]: the summary per table (schema, row counts, added/removed/changed, changed values per column),
//! the sampled changed rows with the changed cells marked, per-column statistics side by side and the action and
//! channel mix. [`DiffScreen::handle`] changes the state; [`DiffScreen::draw`] only reads it.

use pipeline_core::Stage;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use workbench_diff::StageDiff;
use workbench_diff::model::{ColumnStats, TableDiff};

use crate::services::diff::{DiffQuery, Sides};
use crate::tui::keys::Action;
use crate::tui::screens::{Outcome, PAGE};
use crate::tui::theme::{ADDED, CHANGED, REMOVED, bold, dim};
use markets::MarketId;

/// How many changed rows the screen asks the diff to sample per table.
pub const SAMPLE_ROWS: usize = 20;

/// What the selected cell's output is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Against {
    /// Another market's latest output of the same stage.
    Market(MarketId),
    /// The same market's output at the merge base with the main branch (built and run in a worktree if needed).
    Base,
}

impl Against {
    /// How the picker names it.
    pub fn label(&self) -> String {
        match self {
            Against::Market(m) => m.to_string(),
            Against::Base => "against base (the merge base with the main branch)".to_string(),
        }
    }
}

/// One diff to compute: the selected cell's market and stage, and what it is compared with. Against another
/// market the cell's market is side A and the picked one side B (the order the label reads); against the base,
/// the base is side A and the cell's market side B (before → after).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRequest {
    /// The market of the selected cell (side A against a market, side B against the base).
    pub market: MarketId,
    /// The stage of the selected cell.
    pub stage: Stage,
    /// What it is compared with (side B when a market, side A when the base).
    pub against: Against,
}

impl DiffRequest {
    /// The query that computes it (what `wb diff` asks the diff service too).
    pub fn query(&self) -> DiffQuery {
        let sides = match &self.against {
            Against::Market(other) => Sides::Markets(self.market.clone(), other.clone()),
            Against::Base => Sides::Against { market: self.market.clone(), against: "base".to_string() },
        };
        DiffQuery { sample: SAMPLE_ROWS, ..DiffQuery::new(self.stage, sides) }
    }

    /// How the screen names it, side A first: `recommend: foobar-au vs foobar-br` on a foobar-au cell.
    pub fn label(&self) -> String {
        match &self.against {
            Against::Market(other) => format!("{}: {} vs {other}", self.stage.name(), self.market),
            Against::Base => format!("{}: {} vs base", self.stage.name(), self.market),
        }
    }
}

/// Where the diff screen is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Picking what to compare with.
    Picking,
    /// The diff is being computed.
    Computing(DiffRequest),
    /// The diff.
    Ready(DiffRequest, Box<StageDiff>),
    /// The diff could not be computed: why, and what to do.
    Failed(DiffRequest, String),
}

/// The diff screen's state.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffScreen {
    /// The selected cell's market (side A against a market, side B against the base).
    pub market: MarketId,
    /// The selected cell's stage.
    pub stage: Stage,
    /// What the picker offers: the other markets, then the base.
    pub choices: Vec<Against>,
    /// The selected choice.
    pub picked: usize,
    /// Where the screen is.
    pub phase: Phase,
    /// Lines scrolled down.
    pub scroll: usize,
    /// The selected column (index into [`DiffScreen::columns`]).
    pub column: usize,
    /// Hidden columns, by name.
    pub hidden: Vec<String>,
}

impl DiffScreen {
    /// The picker for `market` × `stage`, offering every other market of `markets` and the base.
    pub fn open(market: MarketId, stage: Stage, markets: &[MarketId]) -> Self {
        let mut choices: Vec<Against> =
            markets.iter().filter(|m| **m != market).cloned().map(Against::Market).collect();
        choices.push(Against::Base);
        Self { market, stage, choices, picked: 0, phase: Phase::Picking, scroll: 0, column: 0, hidden: Vec::new() }
    }

    /// Back to the picker (keeping the choice).
    pub fn repick(&mut self) {
        self.phase = Phase::Picking;
        self.scroll = 0;
    }

    /// Enter: the request for the picked choice, and the screen waits for it.
    pub fn confirm(&mut self) -> Option<DiffRequest> {
        if self.phase != Phase::Picking {
            return None;
        }
        let against = self.choices.get(self.picked)?.clone();
        let request = DiffRequest { market: self.market.clone(), stage: self.stage, against };
        self.phase = Phase::Computing(request.clone());
        self.scroll = 0;
        Some(request)
    }

    /// A computed diff (or why not); ignored unless it answers the request the screen waits for.
    pub fn result(&mut self, request: DiffRequest, result: Result<Box<StageDiff>, String>) -> bool {
        if self.phase != Phase::Computing(request.clone()) {
            return false;
        }
        self.phase = match result {
            Ok(diff) => Phase::Ready(request, diff),
            Err(error) => Phase::Failed(request, error),
        };
        self.scroll = 0;
        self.column = 0;
        true
    }

    /// ↑: the previous choice, or scroll up.
    pub fn up(&mut self, lines: usize) {
        match self.phase {
            Phase::Picking => self.picked = self.picked.saturating_sub(1),
            _ => self.scroll = self.scroll.saturating_sub(lines),
        }
    }

    /// ↓: the next choice, or scroll down.
    pub fn down(&mut self, lines: usize) {
        match self.phase {
            Phase::Picking => self.picked = (self.picked + 1).min(self.choices.len().saturating_sub(1)),
            _ => self.scroll = (self.scroll + lines).min(self.line_count().saturating_sub(1)),
        }
    }

    /// How many lines the ready diff has (0 otherwise): how far it scrolls.
    pub fn line_count(&self) -> usize {
        match &self.phase {
            Phase::Ready(_, diff) => diff_lines(self, diff).len(),
            _ => 0,
        }
    }

    /// ←/→: select the previous (`-1`) or next (`1`) visible column.
    pub fn select_column(&mut self, step: isize) {
        let columns = self.columns();
        let visible: Vec<usize> = (0..columns.len()).filter(|i| !self.hidden.contains(&columns[*i])).collect();
        let Some(now) = visible.iter().position(|i| *i >= self.column) else {
            self.column = visible.last().copied().unwrap_or(0);
            return;
        };
        let next = (now as isize + step).clamp(0, visible.len() as isize - 1) as usize;
        self.column = visible[next];
    }

    /// `-`: hides the selected column and selects the next visible one.
    pub fn hide_column(&mut self) {
        let columns = self.columns();
        let Some(name) = columns.get(self.column) else { return };
        if !self.hidden.contains(name) && self.hidden.len() + 1 < columns.len() {
            self.hidden.push(name.clone());
        }
        let visible: Vec<usize> = (0..columns.len()).filter(|i| !self.hidden.contains(&columns[*i])).collect();
        self.column = visible.iter().copied().find(|i| *i > self.column).or(visible.last().copied()).unwrap_or(0);
    }

    /// `+`: shows every column again.
    pub fn show_columns(&mut self) {
        self.hidden.clear();
    }

    /// The compared columns of the diff (every table's, in order, each once); empty until it is ready.
    pub fn columns(&self) -> Vec<String> {
        let Phase::Ready(_, diff) = &self.phase else { return Vec::new() };
        let mut out: Vec<String> = Vec::new();
        for table in &diff.tables {
            for c in &table.keyed.columns {
                if !out.contains(&c.column) {
                    out.push(c.column.clone());
                }
            }
        }
        out
    }

    /// The selected column's name.
    pub fn selected_column(&self) -> Option<String> {
        self.columns().get(self.column).cloned()
    }

    fn shown(&self, column: &str) -> bool {
        !self.hidden.iter().any(|h| h == column)
    }
}

impl DiffScreen {
    /// The diff screen's keys: ↑↓ pick or scroll, PgUp/PgDn scroll a page, ←→ select a column, `-`/`+` hide
    /// and show columns, Enter asks for the picked diff ([`Outcome::Request`]).
    pub fn handle(&mut self, action: Action) -> Outcome<DiffRequest> {
        match action {
            Action::Up => self.up(1),
            Action::Down => self.down(1),
            Action::PageUp => self.up(PAGE),
            Action::PageDown => self.down(PAGE),
            Action::Left => self.select_column(-1),
            Action::Right => self.select_column(1),
            Action::HideColumn => self.hide_column(),
            Action::ShowColumns => self.show_columns(),
            Action::Compare => {
                return match self.confirm() {
                    Some(request) => Outcome::Request(request),
                    None => Outcome::Done,
                };
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Done
    }

    /// Draws the diff screen in `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        draw(frame, area, self);
    }
}

fn draw(frame: &mut Frame, area: Rect, screen: &DiffScreen) {
    let cell = format!("{} × {}", screen.market, screen.stage.name());
    match &screen.phase {
        Phase::Picking => {
            let mut lines = vec![
                Line::from(format!("Compare the {} output of {} with:", screen.stage.name(), screen.market)),
                Line::from(""),
            ];
            for (i, choice) in screen.choices.iter().enumerate() {
                let text = format!(" {} ", choice.label());
                lines.push(if i == screen.picked {
                    Line::styled(format!("▸{text}"), crate::tui::theme::selected())
                } else {
                    Line::from(format!(" {text}"))
                });
            }
            lines.push(Line::from(""));
            lines.push(Line::styled("↑↓ pick · Enter compares · Esc back · ? keys", dim()));
            let title = format!(" Diff · {cell} · compare with… ");
            frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), area);
        }
        Phase::Computing(request) => {
            let lines = vec![
                Line::from(format!("computing {}…", request.label())),
                Line::styled("reading both outputs through the S3 backend (a revision is built and run first)", dim()),
            ];
            let title = format!(" Diff · {} ", request.label());
            frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), area);
        }
        Phase::Failed(request, error) => {
            let lines = vec![
                Line::styled(format!("cannot compute {}", request.label()), bold().fg(REMOVED)),
                Line::from(""),
                Line::styled(error.clone(), Style::new().fg(REMOVED)),
                Line::from(""),
                Line::styled("d picks another comparison · Esc back to the matrix", dim()),
            ];
            let title = format!(" Diff · {} ", request.label());
            let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(title));
            frame.render_widget(paragraph, area);
        }
        Phase::Ready(request, diff) => {
            let lines = diff_lines(screen, diff);
            let hidden =
                if screen.hidden.is_empty() { String::new() } else { format!(" · {} hidden", screen.hidden.len()) };
            let title = format!(" Diff · {}{hidden} · ←→ column, - hides, + shows all, Esc back ", request.label());
            let scroll = screen.scroll.min(lines.len().saturating_sub(1)) as u16;
            frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)).scroll((scroll, 0)), area);
        }
    }
}

/// Every line of a ready diff.
pub fn diff_lines(screen: &DiffScreen, diff: &StageDiff) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (name, side) in [("A", &diff.a), ("B", &diff.b)] {
        let mut spans = vec![Span::styled(format!("{name} "), bold()), Span::raw(side.label.clone())];
        if let Some(run) = &side.run_id {
            spans.push(Span::styled(format!("  run {run}"), dim()));
        }
        if let Some(rev) = &side.revision {
            spans.push(Span::styled(format!("  @ {rev}"), dim()));
        }
        lines.push(Line::from(spans));
    }
    let selected = screen.selected_column();
    for table in &diff.tables {
        lines.push(Line::from(""));
        table_lines(screen, table, selected.as_deref(), &mut lines);
    }
    if !diff.mixes.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::styled("Mix (A → B)", bold()));
        for mix in &diff.mixes {
            lines.push(Line::styled(format!("  {} (rows {} → {})", mix.column, mix.total_a, mix.total_b), bold()));
            for row in &mix.values {
                let style = if row.a == row.b { Style::new() } else { Style::new().fg(CHANGED) };
                lines.push(Line::styled(
                    format!(
                        "    {:<16} {:>7} {:>6.1}%  →  {:>7} {:>6.1}%",
                        row.value,
                        row.a,
                        row.a_share * 100.0,
                        row.b,
                        row.b_share * 100.0
                    ),
                    style,
                ));
            }
        }
    }
    lines
}

fn table_lines(screen: &DiffScreen, table: &TableDiff, selected: Option<&str>, lines: &mut Vec<Line<'static>>) {
    let keyed = &table.keyed;
    lines.push(Line::from(vec![
        Span::styled(format!("Table {}", table.table), bold()),
        Span::styled(format!("  keys {}", table.keys.join(", ")), dim()),
    ]));
    let delta = table.rows.delta();
    let delta_style = if delta == 0 { Style::new() } else { Style::new().fg(CHANGED) };
    lines.push(Line::from(vec![
        Span::raw(format!("  rows {} → {} ", table.rows.a, table.rows.b)),
        Span::styled(format!("({delta:+})"), delta_style),
        Span::raw("   "),
        Span::styled(format!("+{} added", keyed.added), Style::new().fg(ADDED)),
        Span::raw("  "),
        Span::styled(format!("-{} removed", keyed.removed), Style::new().fg(REMOVED)),
        Span::raw("  "),
        Span::styled(format!("~{} changed", keyed.changed), Style::new().fg(CHANGED)),
        Span::raw(format!("  {} unchanged", keyed.unchanged)),
    ]));
    let schema = &table.schema;
    if schema.is_empty() {
        lines.push(Line::styled("  schema: same columns and types", dim()));
    }
    for c in &schema.only_in_a {
        lines.push(Line::styled(format!("  schema: only in A {} ({})", c.column, c.dtype), Style::new().fg(REMOVED)));
    }
    for c in &schema.only_in_b {
        lines.push(Line::styled(format!("  schema: only in B {} ({})", c.column, c.dtype), Style::new().fg(ADDED)));
    }
    for c in &schema.type_changes {
        lines.push(Line::styled(format!("  schema: {} {} → {}", c.column, c.a, c.b), Style::new().fg(CHANGED)));
    }
    let mut spans = vec![Span::raw("  changed values:")];
    for c in keyed.columns.iter().filter(|c| screen.shown(&c.column)) {
        let style = if c.changed > 0 { Style::new().fg(CHANGED) } else { dim() };
        spans.push(Span::styled(format!(" {} {}", c.column, c.changed), style));
    }
    lines.push(Line::from(spans));

    // The sampled changed rows: key columns, then every shown column; changed cells as `a → b`, marked.
    let columns: Vec<&str> = keyed.columns.iter().map(|c| c.column.as_str()).filter(|c| screen.shown(c)).collect();
    if !keyed.samples.is_empty() {
        let cell_text = |a: &Option<String>, b: &Option<String>, changed: bool| {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".to_string());
            if changed { format!("{} → {}", show(a), show(b)) } else { show(b) }
        };
        let key_width = keyed
            .samples
            .iter()
            .map(|r| r.key.join(",").chars().count())
            .chain([table.keys.join(",").chars().count()])
            .max()
            .unwrap_or(0);
        let widths: Vec<usize> = columns
            .iter()
            .map(|col| {
                keyed
                    .samples
                    .iter()
                    .filter_map(|r| r.cells.iter().find(|c| c.column == *col))
                    .map(|c| cell_text(&c.a, &c.b, c.changed).chars().count())
                    .chain([col.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        lines.push(Line::styled(format!("  changed rows (first {})", keyed.samples.len()), bold()));
        let mut header = vec![Span::styled(format!("  {:<key_width$}", table.keys.join(",")), bold())];
        for (col, width) in columns.iter().zip(&widths) {
            let mut style = bold();
            if Some(*col) == selected {
                style = style.add_modifier(Modifier::REVERSED);
            }
            header.push(Span::raw(" "));
            header.push(Span::styled(format!("{col:<width$}"), style));
        }
        lines.push(Line::from(header));
        for row in &keyed.samples {
            let mut spans = vec![Span::raw(format!("  {:<key_width$}", row.key.join(",")))];
            for (col, width) in columns.iter().zip(&widths) {
                spans.push(Span::raw(" "));
                match row.cells.iter().find(|c| c.column == *col) {
                    Some(c) => {
                        let style = if c.changed {
                            Style::new().fg(CHANGED).add_modifier(Modifier::BOLD)
                        } else {
                            Style::new()
                        };
                        spans.push(Span::styled(format!("{:<width$}", cell_text(&c.a, &c.b, c.changed)), style));
                    }
                    None => spans.push(Span::raw(" ".repeat(*width))),
                }
            }
            lines.push(Line::from(spans));
        }
    }
    for (what, keys, color) in [("added", &keyed.added_keys, ADDED), ("removed", &keyed.removed_keys, REMOVED)] {
        if !keys.is_empty() {
            let shown: Vec<String> = keys.iter().map(|k| k.join(",")).collect();
            lines.push(Line::styled(format!("  {what} keys: {}", shown.join(" ")), Style::new().fg(color)));
        }
    }

    // Per-column statistics, A | B, differing values marked.
    lines.push(Line::styled("  column stats (A | B)", bold()));
    lines.push(Line::styled(
        format!(
            "  {:<16} {:<9} {:>13} {:>13} {:>23} {:>23} {:>21}",
            "column", "type", "nulls", "distinct", "min", "max", "mean"
        ),
        dim(),
    ));
    for pair in table.stats.iter().filter(|p| screen.shown(&p.column)) {
        let (a, b) = (pair.a.as_ref(), pair.b.as_ref());
        let field = |f: &dyn Fn(&ColumnStats) -> String, width: usize| -> Span<'static> {
            let (va, vb) = (a.map(f).unwrap_or_else(|| "-".into()), b.map(f).unwrap_or_else(|| "-".into()));
            let style = if va == vb { Style::new() } else { Style::new().fg(CHANGED) };
            Span::styled(format!(" {:>width$}", format!("{va}|{vb}")), style)
        };
        let dtype = |s: &ColumnStats| s.dtype.clone();
        let nulls = |s: &ColumnStats| s.nulls.to_string();
        let distinct = |s: &ColumnStats| s.distinct.to_string();
        let min = |s: &ColumnStats| s.min.clone().unwrap_or_else(|| "-".into());
        let max = |s: &ColumnStats| s.max.clone().unwrap_or_else(|| "-".into());
        let mean = |s: &ColumnStats| s.mean.map(|m| format!("{m:.4}")).unwrap_or_else(|| "-".into());
        let (va, vb) = (a.map(dtype), b.map(dtype));
        let type_style = if va == vb { Style::new() } else { Style::new().fg(CHANGED) };
        lines.push(Line::from(vec![
            Span::raw(format!("  {:<16}", pair.column)),
            Span::styled(format!(" {:<9}", va.or(vb).unwrap_or_default()), type_style),
            field(&nulls, 13),
            field(&distinct, 13),
            field(&min, 23),
            field(&max, 23),
            field(&mean, 21),
        ]));
    }
}
