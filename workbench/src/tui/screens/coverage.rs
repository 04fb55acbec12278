//! The coverage screen (`C`): the reports `wb coverage` leaves in `.workbench/coverage/` (the LCOV tracefile and, when
//! present, the `cargo llvm-cov` JSON export for regions), analysed in the background by
//! [`crate::services::coverage::load`]: totals against the `[coverage]` thresholds, a table of crates with their files
//! indented under them (Enter or Space on a crate folds it; on a file opens the file view) with line, function and
//! region coverage and the uncovered line count, sorted by `s`; the patch pane (patch coverage since the merge base
//! with `main` and the uncovered changed lines per file) and the market × hook override matrix. Both panes are shown at
//! 110×28 and more; below that Tab switches between them. The file view shows the source with its hit counts, marking
//! uncovered lines (`▌`) and changed-and-uncovered lines (`!`); `n`/`N` jump between uncovered lines.
//!
//! The reports are loaded by [`crate::services::coverage`]; [`CoverageScreen::handle`] changes the screen's state
//! and [`CoverageScreen::draw`] only reads it.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use pipeline_core::Hook;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};
use workbench_coverage::DEFAULT_BASE;
use workbench_coverage::hooks::HookStatus;
use workbench_coverage::run::OUTPUT_DIR;
use workbench_coverage::summary::Counts;

use crate::present::coverage::line_ranges;
pub use crate::services::coverage::{CoverageData, CoverageLoadError, SourceFile};
use crate::tui::keys::{Action, Screen};
use crate::tui::screens::{Outcome, PAGE};
use crate::tui::theme::{self, bold, dim, good};

/// Lines shown above the line a jump (`n`/`N`) lands on.
pub const JUMP_CONTEXT: usize = 3;
/// The smallest body that shows the table and the patch and hook panes together (else Tab switches).
pub const SPLIT_MIN: (u16, u16) = (110, 28);

/// What loading the reports gave.
#[derive(Debug, Clone, PartialEq)]
pub enum CoverageLoad {
    /// No tracefile yet: the screen names the command that makes one.
    Missing {
        /// The tracefile looked for, from the workspace root.
        lcov: String,
    },
    /// A report could not be read or parsed; the message names the file (and line).
    Failed(String),
    /// The analysed report.
    Ready(Box<CoverageData>),
}

impl From<Result<CoverageData, CoverageLoadError>> for CoverageLoad {
    fn from(loaded: Result<CoverageData, CoverageLoadError>) -> Self {
        match loaded {
            Ok(data) => CoverageLoad::Ready(Box::new(data)),
            Err(CoverageLoadError::Missing { lcov }) => CoverageLoad::Missing { lcov },
            Err(CoverageLoadError::Report(e)) => CoverageLoad::Failed(e.to_string()),
        }
    }
}

/// What the table is sorted by; coverage sorts worst first, the uncovered count most first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Crate and file names.
    Name,
    /// Line coverage, lowest first.
    Lines,
    /// Function coverage, lowest first.
    Functions,
    /// Region coverage, lowest first.
    Regions,
    /// Uncovered lines, most first.
    Uncovered,
}

impl SortKey {
    /// The order `s` cycles through.
    pub const ALL: [SortKey; 5] =
        [SortKey::Name, SortKey::Lines, SortKey::Functions, SortKey::Regions, SortKey::Uncovered];

    /// The next key of the cycle.
    pub fn next(self) -> Self {
        let at = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Self::ALL[(at + 1) % Self::ALL.len()]
    }

    /// How the title names it.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Lines => "line % (worst first)",
            SortKey::Functions => "function % (worst first)",
            SortKey::Regions => "region % (worst first)",
            SortKey::Uncovered => "uncovered lines (most first)",
        }
    }
}

/// The figures a row is sorted by.
struct Figures<'a> {
    name: &'a str,
    lines: Counts,
    functions: Counts,
    regions: Option<Counts>,
}

/// Lowest percentage first; nothing to cover (no percentage) last.
fn worst_first(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn uncovered(c: &Counts) -> u64 {
    c.count - c.covered
}

fn compare(key: SortKey, a: &Figures, b: &Figures) -> Ordering {
    let by = match key {
        SortKey::Name => Ordering::Equal,
        SortKey::Lines => worst_first(a.lines.percent, b.lines.percent),
        SortKey::Functions => worst_first(a.functions.percent, b.functions.percent),
        SortKey::Regions => worst_first(a.regions.and_then(|r| r.percent), b.regions.and_then(|r| r.percent)),
        SortKey::Uncovered => uncovered(&b.lines).cmp(&uncovered(&a.lines)),
    };
    by.then_with(|| a.name.cmp(b.name))
}

/// One row of the table: a crate, or a file of a crate (indices into the summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableRow {
    /// `summary.crates[i]`.
    Crate(usize),
    /// `summary.crates[i].files[j]`.
    File(usize, usize),
}

/// The pane that has the keys (the only one shown on small terminals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// The crate and file table.
    Files,
    /// Patch coverage and the hook matrix.
    Patch,
}

/// The file view: which file, where it is scrolled to, and the line the last jump landed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileView {
    /// Path from the workspace root.
    pub path: String,
    /// The first line shown (0-based).
    pub top: usize,
    /// The line (1-based) `n`/`N` last landed on, highlighted.
    pub cursor: Option<u32>,
}

/// The screen's state.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageScreen {
    /// The last load (None until the first one arrives).
    pub load: Option<CoverageLoad>,
    /// A load is running.
    pub loading: bool,
    /// The table's order.
    pub sort: SortKey,
    /// Selected row of the table.
    pub cursor: usize,
    /// Folded crates, by member directory.
    pub collapsed: BTreeSet<String>,
    /// The pane with the keys.
    pub pane: Pane,
    /// Selected entry of the patch pane.
    pub patch_cursor: usize,
    /// The open file, if any.
    pub file: Option<FileView>,
}

impl Default for CoverageScreen {
    fn default() -> Self {
        Self::new()
    }
}

impl CoverageScreen {
    /// A screen waiting for its first load, sorted by name.
    pub fn new() -> Self {
        Self {
            load: None,
            loading: true,
            sort: SortKey::Name,
            cursor: 0,
            collapsed: BTreeSet::new(),
            pane: Pane::Files,
            patch_cursor: 0,
            file: None,
        }
    }

    /// The loaded report, if there is one.
    pub fn data(&self) -> Option<&CoverageData> {
        match &self.load {
            Some(CoverageLoad::Ready(data)) => Some(data),
            _ => None,
        }
    }

    /// Takes a finished load, keeping the sort, the folds and (as far as it still exists) the selection.
    pub fn loaded(&mut self, load: CoverageLoad) {
        let selected = self.selected_key();
        self.load = Some(load);
        self.loading = false;
        self.reselect(selected);
        let entries = self.data().map(|d| d.patch_entries().len()).unwrap_or(0);
        self.patch_cursor = self.patch_cursor.min(entries.saturating_sub(1));
        if let Some(view) = &self.file
            && !self.data().is_some_and(|d| d.files.contains_key(&view.path))
        {
            self.file = None;
        }
    }

    /// The table's rows in order: each crate, then (unless folded) its files, both sorted by [`Self::sort`].
    pub fn rows(&self) -> Vec<TableRow> {
        let Some(data) = self.data() else { return Vec::new() };
        let crates = &data.summary.crates;
        let mut order: Vec<usize> = (0..crates.len()).collect();
        let figures = |i: usize| {
            let c = &crates[i];
            Figures { name: &c.name, lines: c.lines, functions: c.functions, regions: c.regions }
        };
        order.sort_by(|a, b| compare(self.sort, &figures(*a), &figures(*b)));
        let mut rows = Vec::new();
        for i in order {
            rows.push(TableRow::Crate(i));
            if self.collapsed.contains(&crates[i].dir) {
                continue;
            }
            let files = &crates[i].files;
            let file = |j: usize| {
                let f = &files[j];
                Figures { name: &f.path, lines: f.lines, functions: f.functions, regions: f.regions }
            };
            let mut within: Vec<usize> = (0..files.len()).collect();
            within.sort_by(|a, b| compare(self.sort, &file(*a), &file(*b)));
            rows.extend(within.into_iter().map(|j| TableRow::File(i, j)));
        }
        rows
    }

    /// The selected row's crate directory and file path (to keep it selected across sorts and reloads).
    fn selected_key(&self) -> Option<(String, Option<String>)> {
        let data = self.data()?;
        match self.rows().get(self.cursor)? {
            TableRow::Crate(i) => Some((data.summary.crates[*i].dir.clone(), None)),
            TableRow::File(i, j) => {
                let c = &data.summary.crates[*i];
                Some((c.dir.clone(), Some(c.files[*j].path.clone())))
            }
        }
    }

    fn reselect(&mut self, key: Option<(String, Option<String>)>) {
        let rows = self.rows();
        let found = key.and_then(|(dir, path)| {
            let data = self.data()?;
            rows.iter().position(|row| match row {
                TableRow::Crate(i) => path.is_none() && data.summary.crates[*i].dir == dir,
                TableRow::File(i, j) => path.as_deref() == Some(data.summary.crates[*i].files[*j].path.as_str()),
            })
        });
        self.cursor = found.unwrap_or(self.cursor).min(rows.len().saturating_sub(1));
    }

    /// The path of the file on the selected row, if it is a file.
    pub fn selected_file(&self) -> Option<&str> {
        let data = self.data()?;
        match self.rows().get(self.cursor)? {
            TableRow::File(i, j) => Some(&data.summary.crates[*i].files[*j].path),
            TableRow::Crate(_) => None,
        }
    }

    /// `s`: the next sort key; the selected crate or file stays selected.
    pub fn cycle_sort(&mut self) {
        let selected = self.selected_key();
        self.sort = self.sort.next();
        self.reselect(selected);
    }

    /// Tab: the other pane gets the keys.
    pub fn switch_pane(&mut self) {
        self.pane = match self.pane {
            Pane::Files => Pane::Patch,
            Pane::Patch => Pane::Files,
        };
    }

    /// Moves the selection of the focused pane by `delta` rows, or scrolls the open file.
    pub fn move_by(&mut self, delta: isize) {
        if let Some(view) = &mut self.file {
            let count = match &self.load {
                Some(CoverageLoad::Ready(d)) => d.files.get(&view.path).map(SourceFile::line_count).unwrap_or(1),
                _ => 1,
            };
            view.top = view.top.saturating_add_signed(delta).min(count.saturating_sub(1));
            return;
        }
        match self.pane {
            Pane::Files => {
                let rows = self.rows().len();
                self.cursor = self.cursor.saturating_add_signed(delta).min(rows.saturating_sub(1));
            }
            Pane::Patch => {
                let entries = self.data().map(|d| d.patch_entries().len()).unwrap_or(0);
                self.patch_cursor = self.patch_cursor.saturating_add_signed(delta).min(entries.saturating_sub(1));
            }
        }
    }

    /// Enter / Space: folds or unfolds the selected crate, or opens the selected file (in the patch pane: the
    /// selected changed file, at its first uncovered changed line). True when a file view opened.
    pub fn open(&mut self) -> bool {
        let Some(data) = self.data() else { return false };
        match self.pane {
            Pane::Files => match self.rows().get(self.cursor).copied() {
                Some(TableRow::Crate(i)) => {
                    let dir = data.summary.crates[i].dir.clone();
                    if !self.collapsed.remove(&dir) {
                        self.collapsed.insert(dir);
                    }
                    false
                }
                Some(TableRow::File(i, j)) => {
                    let path = data.summary.crates[i].files[j].path.clone();
                    self.file = Some(FileView { path, top: 0, cursor: None });
                    true
                }
                None => false,
            },
            Pane::Patch => {
                let Some(entry) = data.patch_entries().get(self.patch_cursor).copied() else { return false };
                if !data.files.contains_key(&entry.path) {
                    return false;
                }
                let first = entry.uncovered.first().copied();
                self.file = Some(FileView {
                    path: entry.path.clone(),
                    top: first.map(|l| (l as usize).saturating_sub(1 + JUMP_CONTEXT)).unwrap_or(0),
                    cursor: first,
                });
                true
            }
        }
    }

    /// `n` (forward) / `N`: moves to the next or previous uncovered line after (before) the last one jumped to,
    /// or the top of the view; returns the line, None when there is none that way.
    pub fn jump(&mut self, forward: bool) -> Option<u32> {
        let data = match &self.load {
            Some(CoverageLoad::Ready(d)) => d,
            _ => return None,
        };
        let view = self.file.as_mut()?;
        let uncovered = data.files.get(&view.path)?.uncovered();
        let from = view.cursor.unwrap_or(view.top as u32 + u32::from(!forward));
        let found = if forward {
            uncovered.iter().copied().find(|l| *l > from)
        } else {
            uncovered.iter().rev().copied().find(|l| *l < from)
        }?;
        view.cursor = Some(found);
        view.top = (found as usize).saturating_sub(1 + JUMP_CONTEXT);
        Some(found)
    }
}

impl CoverageScreen {
    /// The coverage screens' keys (the table and patch panes, and the file view when one is open): ↑↓ PgUp PgDn
    /// move or scroll, `s` sorts, Tab switches panes, Enter opens (or folds), `n`/`N` jump between uncovered
    /// lines, Esc closes the file view or leaves.
    pub fn handle(&mut self, action: Action) -> Outcome {
        match action {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(PAGE as isize)),
            Action::PageDown => self.move_by(PAGE as isize),
            Action::CycleSort => {
                self.cycle_sort();
                return Outcome::Status(format!("sorted by {}", self.sort.label()));
            }
            Action::SwitchPane => self.switch_pane(),
            Action::OpenItem => {
                if self.open() {
                    return Outcome::Goto(Screen::CoverageFile);
                }
            }
            Action::NextUncovered | Action::PrevUncovered => {
                let forward = action == Action::NextUncovered;
                return Outcome::Status(match self.jump(forward) {
                    Some(line) => format!("uncovered line {line}"),
                    None if forward => "no uncovered line below".to_string(),
                    None => "no uncovered line above".to_string(),
                });
            }
            Action::Back if self.file.is_some() => {
                self.file = None;
                return Outcome::Goto(Screen::Coverage);
            }
            Action::Back => return Outcome::Goto(Screen::Matrix),
            _ => return Outcome::Ignored,
        }
        Outcome::Done
    }

    /// `C`: a new load is on its way; the table shows (not a file).
    pub fn reload(&mut self) -> String {
        self.loading = true;
        self.file = None;
        format!("loading coverage from {OUTPUT_DIR}…")
    }

    /// A finished load; the status line's message.
    pub fn finished(&mut self, load: CoverageLoad) -> String {
        let status = match &load {
            CoverageLoad::Ready(data) => format!(
                "coverage loaded: {} crates, {} files",
                data.summary.crates.len(),
                data.summary.crates.iter().map(|c| c.files.len()).sum::<usize>()
            ),
            CoverageLoad::Missing { .. } => "no coverage yet: run `wb coverage`".to_string(),
            CoverageLoad::Failed(_) => "the coverage report does not read".to_string(),
        };
        self.loaded(load);
        status
    }

    /// Draws the coverage screen in `area`: the open file, else the table with the patch and hook panes.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        draw(frame, area, self);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing

/// `71.4%`, or `-` when there is nothing to cover.
fn pct(counts: Option<&Counts>) -> String {
    match counts.and_then(|c| c.percent) {
        Some(p) => format!("{p:.1}%"),
        None => "-".to_string(),
    }
}

/// `71.4% (5/7)`.
fn pct_of(counts: &Counts) -> String {
    format!("{} ({}/{})", pct(Some(counts)), counts.covered, counts.count)
}

/// `✓ ≥ 80%` or `✗ below 80%`.
fn verdict(ok: bool, threshold: f64) -> String {
    if ok { format!("✓ ≥ {threshold}%") } else { format!("✗ below {threshold}%") }
}

fn draw(frame: &mut Frame, area: Rect, state: &CoverageScreen) {
    let loading = if state.loading { " · loading…" } else { "" };
    let data = match &state.load {
        None => {
            let block = Block::bordered().title(format!(" Coverage{loading} "));
            frame.render_widget(Paragraph::new("loading the coverage reports…").block(block), area);
            return;
        }
        Some(CoverageLoad::Missing { lcov }) => {
            let lines = vec![
                Line::styled(format!("No coverage yet: {lcov} does not exist."), bold()),
                Line::from(""),
                Line::from("Run `wb coverage` (or `wb check --base main`) in the workspace to measure it,"),
                Line::from("then press C here to load it."),
            ];
            let block = Block::bordered().title(format!(" Coverage{loading} · Esc back "));
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
            return;
        }
        Some(CoverageLoad::Failed(error)) => {
            let lines = vec![
                Line::styled("The coverage report does not read:", bold()),
                Line::styled(error.clone(), Style::new().fg(Color::Red)),
                Line::from(""),
                Line::from("Run `wb coverage` again to regenerate it, then press C here to reload."),
            ];
            let block = Block::bordered().title(format!(" Coverage{loading} · Esc back "));
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
            return;
        }
        Some(CoverageLoad::Ready(data)) => data,
    };
    if let Some(view) = &state.file {
        draw_file(frame, area, data, view);
        return;
    }
    let split = area.width >= SPLIT_MIN.0 && area.height >= SPLIT_MIN.1;
    if split {
        let bottom = 10;
        let [top, lower] = Layout::vertical([Constraint::Fill(1), Constraint::Length(bottom)]).areas(area);
        let hook_width = hook_lines(data).iter().map(Line::width).max().unwrap_or(0) as u16 + 2;
        let [patch_area, hooks_area] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(hook_width.min(lower.width / 2))]).areas(lower);
        draw_table(frame, top, state, data, loading, true);
        draw_patch(frame, patch_area, state, data, false);
        draw_hooks(frame, hooks_area, data);
    } else {
        match state.pane {
            Pane::Files => draw_table(frame, area, state, data, loading, false),
            Pane::Patch => draw_patch(frame, area, state, data, true),
        }
    }
}

fn totals(data: &CoverageData) -> Vec<Line<'static>> {
    let s = &data.summary;
    let t = &data.thresholds;
    let mut first = vec![
        Span::styled("lines ", bold()),
        Span::raw(pct_of(&s.lines)),
        Span::raw(" "),
        Span::styled(verdict(data.line_ok(), t.line), good(data.line_ok())),
        Span::styled("   patch ", bold()),
    ];
    match &data.patch {
        Ok(p) => {
            let ok = data.patch_ok().unwrap_or(true);
            let figure = match p.percent {
                Some(v) => format!("{v:.1}% ({}/{})", p.covered, p.instrumented),
                None => "- (no instrumented changed line)".to_string(),
            };
            first.push(Span::raw(format!("{figure} ")));
            first.push(Span::styled(verdict(ok, t.patch), good(ok)));
        }
        Err(_) => first.push(Span::styled("n/a (see the patch pane)", theme::warning())),
    }
    let files: usize = s.crates.iter().map(|c| c.files.len()).sum();
    let regions = match &s.regions {
        Some(r) => pct_of(r),
        None => "- (no JSON export)".to_string(),
    };
    let second = Line::from(vec![
        Span::styled("functions ", bold()),
        Span::raw(pct_of(&s.functions)),
        Span::styled("   regions ", bold()),
        Span::raw(regions),
        Span::styled(format!("   {} crates, {files} files", s.crates.len()), dim()),
    ]);
    vec![Line::from(first), second]
}

fn right(text: String) -> Cell<'static> {
    Cell::from(Line::from(text).alignment(Alignment::Right))
}

fn draw_table(frame: &mut Frame, area: Rect, state: &CoverageScreen, data: &CoverageData, loading: &str, split: bool) {
    let focused = split && state.pane == Pane::Files;
    let switch = if split { "Tab focus" } else { "Tab patch & hooks" };
    let title = format!(" Coverage · sort: {} (s){loading} · Enter open/fold · {switch} ", state.sort.label());
    let mut block = Block::bordered().title(title);
    if focused {
        block = block.border_style(theme::focused_border());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [totals_area, table_area] = Layout::vertical([Constraint::Length(3), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(totals(data)), totals_area);
    let line_threshold = data.thresholds.line;
    let crates = &data.summary.crates;
    let mut name_width = "crate / file".len();
    let rows: Vec<Row> = state
        .rows()
        .into_iter()
        .map(|row| {
            let (name, lines, functions, regions, style) = match row {
                TableRow::Crate(i) => {
                    let c = &crates[i];
                    let fold = if state.collapsed.contains(&c.dir) { "▸" } else { "▾" };
                    let files = if state.collapsed.contains(&c.dir) {
                        format!(" ({} files)", c.files.len())
                    } else {
                        String::new()
                    };
                    (format!("{fold} {}{files}", c.name), c.lines, c.functions, c.regions, bold())
                }
                TableRow::File(i, j) => {
                    let c = &crates[i];
                    let f = &c.files[j];
                    let short = if c.dir.is_empty() || c.dir == "." {
                        f.path.as_str()
                    } else {
                        f.path.strip_prefix(&format!("{}/", c.dir)).unwrap_or(&f.path)
                    };
                    (format!("    {short}"), f.lines, f.functions, f.regions, Style::new())
                }
            };
            name_width = name_width.max(name.chars().count());
            let line_ok = lines.percent.is_none_or(|p| p >= line_threshold);
            Row::new(vec![
                Cell::from(name),
                right(pct(Some(&lines))).style(good(line_ok)),
                right(pct(Some(&functions))),
                right(pct(regions.as_ref())),
                right(uncovered(&lines).to_string()),
            ])
            .style(style)
        })
        .collect();
    let header = Row::new(vec![
        Cell::from("crate / file"),
        right("lines".into()),
        right("functions".into()),
        right("regions".into()),
        right("uncovered".into()),
    ])
    .style(bold().fg(Color::Gray));
    // The name column is as wide as the longest name, so the numbers stay next to the names on wide terminals.
    let numbers = 7 + 9 + 7 + 9 + 4 + 2;
    let name_width = (name_width as u16 + 2).min(table_area.width.saturating_sub(numbers)).max(12);
    let widths = [
        Constraint::Length(name_width),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(9),
    ];
    let highlight = if !split || focused { theme::selected() } else { Style::new() };
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(highlight)
        .highlight_symbol("› ")
        .highlight_spacing(HighlightSpacing::Always);
    let mut table_state = TableState::default().with_selected(Some(state.cursor));
    frame.render_stateful_widget(table, table_area, &mut table_state);
}

/// The patch pane's lines and, per line, the index of the patch entry on it.
fn patch_lines(data: &CoverageData) -> (Vec<Line<'static>>, Vec<Option<usize>>) {
    let mut lines = Vec::new();
    let mut entries = Vec::new();
    match &data.patch {
        Err(why) => {
            lines.push(Line::styled("No patch coverage:", theme::warning()));
            lines.push(Line::styled(why.clone(), theme::warning()));
            entries.extend([None, None]);
        }
        Ok(p) => {
            let ok = data.patch_ok().unwrap_or(true);
            let head = match p.percent {
                Some(v) => format!("{v:.1}%: {} of {} instrumented changed lines ran ", p.covered, p.instrumented),
                None => "-: no changed line is instrumented ".to_string(),
            };
            lines.push(Line::from(vec![Span::raw(head), Span::styled(verdict(ok, data.thresholds.patch), good(ok))]));
            let short = &p.merge_base[..p.merge_base.len().min(10)];
            lines.push(Line::styled(
                format!(
                    "since {} (merge base {short}) · {} lines changed in {} files",
                    p.base,
                    p.changed,
                    p.files.len()
                ),
                dim(),
            ));
            entries.extend([None, None]);
            let uncovered = data.patch_entries();
            if uncovered.is_empty() {
                lines.push(Line::styled("every instrumented changed line ran", Style::new().fg(Color::Green)));
                entries.push(None);
            }
            for (k, f) in uncovered.iter().enumerate() {
                lines.push(Line::from(vec![
                    Span::raw(format!("{}: ", f.path)),
                    Span::styled(line_ranges(&f.uncovered), Style::new().fg(Color::Red)),
                ]));
                entries.push(Some(k));
            }
        }
    }
    (lines, entries)
}

fn draw_patch(frame: &mut Frame, area: Rect, state: &CoverageScreen, data: &CoverageData, alone: bool) {
    let (mut lines, entries) = patch_lines(data);
    let focused = state.pane == Pane::Patch;
    let selected = entries.iter().position(|e| *e == Some(state.patch_cursor));
    for (at, entry) in entries.iter().enumerate() {
        if entry.is_some() {
            let chosen = focused && at == selected.unwrap_or(usize::MAX);
            let mut line = lines[at].clone();
            line.spans.insert(0, Span::raw(if chosen { "› " } else { "  " }));
            if chosen {
                line = line.patch_style(theme::selected());
            }
            lines[at] = line;
        }
    }
    if alone {
        lines.push(Line::from(""));
        lines.push(Line::styled("Hook overrides run by the tests", bold()));
        lines.extend(hook_lines(data));
        lines.push(Line::styled(HOOK_LEGEND, dim()));
    }
    let base = data.patch.as_ref().map(|p| p.base.as_str()).unwrap_or(DEFAULT_BASE);
    let title = if alone {
        format!(" Coverage · patch since {base} · Enter opens · Tab files ")
    } else {
        format!(" Patch since {base} · uncovered changed lines (Enter opens) ")
    };
    let mut block = Block::bordered().title(title);
    if focused && !alone {
        block = block.border_style(theme::focused_border());
    }
    let height = area.height.saturating_sub(2) as usize;
    let scroll = selected.filter(|_| focused).map(|at| (at + 1).saturating_sub(height)).unwrap_or(0);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll as u16, 0)), area);
}

const HOOK_LEGEND: &str = "yes ran · NO no test runs it · n/i not instrumented · - base hook";

/// Short column names of the hooks, in [`Hook::ALL`] order.
fn hook_header(hook: Hook) -> &'static str {
    match hook {
        Hook::Normalize => "normalize",
        Hook::EligibleChannels => "channels",
        Hook::Content => "content",
        Hook::Schedule => "schedule",
        Hook::ExportFormat => "export",
    }
}

/// The market × hook matrix as lines: a header, then one line per market.
fn hook_lines(data: &CoverageData) -> Vec<Line<'static>> {
    let m = match &data.hooks {
        Ok(m) => m,
        Err(e) => return vec![Line::styled(e.clone(), Style::new().fg(Color::Red))],
    };
    let width = m.markets.iter().map(String::len).max().unwrap_or(0).max("market".len());
    let mut header = format!("{:width$}", "market");
    for hook in Hook::ALL {
        header.push_str(&format!(" {}", hook_header(hook)));
    }
    let mut lines = vec![Line::styled(header, bold())];
    for market in &m.markets {
        let mut spans = vec![Span::raw(format!("{market:width$}"))];
        for hook in Hook::ALL {
            let status = m.status(market, hook);
            let style = match status {
                Some(HookStatus::Executed) => Style::new().fg(Color::Green),
                Some(HookStatus::NotExecuted) => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                Some(HookStatus::NotInstrumented) => theme::warning(),
                Some(HookStatus::FnNotFound) => Style::new().fg(Color::Magenta),
                None => dim(),
            };
            let label = status.map(HookStatus::label).unwrap_or("-");
            spans.push(Span::styled(format!(" {label:w$}", w = hook_header(hook).len()), style));
        }
        lines.push(Line::from(spans));
    }
    lines
}

fn draw_hooks(frame: &mut Frame, area: Rect, data: &CoverageData) {
    let block = Block::bordered()
        .title(" Hook overrides run by the tests ")
        .title_bottom(Line::styled(" yes ran · NO never · n/i not instrumented · - base ", dim()));
    frame.render_widget(Paragraph::new(hook_lines(data)).block(block), area);
}

/// `1234`, `12.3k`, `4.5M`: a hit count in at most 6 columns.
fn hits_label(hits: u64) -> String {
    match hits {
        0..=99_999 => hits.to_string(),
        100_000..=9_999_999 => format!("{:.1}k", hits as f64 / 1000.0),
        _ => format!("{:.1}M", hits as f64 / 1_000_000.0),
    }
}

fn draw_file(frame: &mut Frame, area: Rect, data: &CoverageData, view: &FileView) {
    let Some(file) = data.files.get(&view.path) else { return };
    let uncovered = file.uncovered();
    let patch = data.patch_file(&view.path);
    let changed: BTreeSet<u32> = patch.map(|p| p.changed.iter().copied().collect()).unwrap_or_default();
    let changed_uncovered = patch.map(|p| p.uncovered.len()).unwrap_or(0);
    let counts = Counts::new(file.hits.values().filter(|h| **h > 0).count() as u64, file.hits.len() as u64);
    let position = match view.cursor.and_then(|c| uncovered.iter().position(|l| *l == c)) {
        Some(k) => format!(" · at {} of {}", k + 1, uncovered.len()),
        None => String::new(),
    };
    let title = format!(
        " {} · lines {} · {} uncovered ({changed_uncovered} changed){position} ",
        view.path,
        pct_of(&counts),
        uncovered.len()
    );
    let legend = " line, hits · ▌ uncovered  ! changed, uncovered  + changed · n/N next/prev uncovered · Esc back ";
    let block = Block::bordered().title(title).title_bottom(Line::styled(legend, dim()));
    let height = area.height.saturating_sub(2) as usize;
    let source: &[String] = match &file.text {
        Ok(lines) => lines,
        Err(e) => {
            let text = Line::styled(e.clone(), Style::new().fg(Color::Red));
            frame.render_widget(Paragraph::new(text).block(block), area);
            return;
        }
    };
    let empty = String::new();
    let lines: Vec<Line> = (view.top..file.line_count())
        .take(height)
        .map(|index| {
            let number = index as u32 + 1;
            let text = source.get(index).unwrap_or(&empty);
            let hits = file.hits.get(&number).copied();
            let is_changed = changed.contains(&number);
            let (marker, marker_style, text_style) = match (hits, is_changed) {
                (Some(0), true) => (
                    "!",
                    Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD),
                    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                ),
                (Some(0), false) => ("▌", Style::new().fg(Color::Red), Style::new().fg(Color::Red)),
                (Some(_), true) => ("+", Style::new().fg(Color::Green), Style::new()),
                (None, true) => ("+", dim(), Style::new()),
                _ => (" ", Style::new(), Style::new()),
            };
            let mut number_style = dim();
            if view.cursor == Some(number) {
                number_style = theme::selected();
            }
            Line::from(vec![
                Span::styled(format!("{number:>5}"), number_style),
                Span::styled(format!(" {:>6} ", hits.map(hits_label).unwrap_or_default()), dim()),
                Span::styled(marker, marker_style),
                Span::styled("│ ", dim()),
                Span::styled(text.clone(), text_style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
