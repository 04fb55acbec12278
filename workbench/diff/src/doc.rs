//! A small document model (headings, paragraphs, tables with marked cells) and its two renderings, aligned plain
//! text for terminals and GitHub Markdown for reviews; every rendering of diffs and of the explorer builds one.

use std::fmt::Write as _;

/// How a document is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Aligned plain text; marked cells as `*value*`.
    Text,
    /// GitHub-flavoured Markdown; marked cells in bold.
    Markdown,
}

/// One table cell: text, and whether it is marked as a difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The text.
    pub text: String,
    /// Marked (a changed value, a differing setting).
    pub marked: bool,
}

impl Cell {
    /// An unmarked cell.
    pub fn plain(text: impl Into<String>) -> Self {
        Self { text: text.into(), marked: false }
    }

    /// A cell marked when `marked`.
    pub fn marked_if(text: impl Into<String>, marked: bool) -> Self {
        Self { text: text.into(), marked }
    }
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A table: headers with their alignment, and rows of cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Column headers and alignments.
    pub columns: Vec<(String, Align)>,
    /// Rows; each as long as `columns`.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with these columns and no rows.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Self { columns: columns.iter().map(|(n, a)| (n.to_string(), *a)).collect(), rows: Vec::new() }
    }

    /// Appends a row of unmarked cells.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Cell::plain).collect());
    }
}

/// A block of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A heading of level 1 to 3.
    Heading(u8, String),
    /// A paragraph.
    Para(String),
    /// A table.
    Table(Table),
}

/// A document: blocks in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    /// The blocks.
    pub blocks: Vec<Block>,
}

impl Doc {
    /// Appends a heading.
    pub fn heading(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading(level, text.into()));
    }

    /// Appends a paragraph.
    pub fn para(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Para(text.into()));
    }

    /// Appends a table.
    pub fn table(&mut self, table: Table) {
        self.blocks.push(Block::Table(table));
    }

    /// Writes the document in `style`; blocks are separated by one blank line and the text ends with a newline.
    pub fn render(&self, style: Style) -> String {
        let parts: Vec<String> = self
            .blocks
            .iter()
            .map(|block| match (block, style) {
                (Block::Heading(level, text), Style::Markdown) => {
                    format!("{} {}", "#".repeat(usize::from(*level).clamp(1, 6)), text)
                }
                (Block::Heading(1, text), Style::Text) => format!("{text}\n{}", "=".repeat(text.chars().count())),
                (Block::Heading(2, text), Style::Text) => format!("{text}\n{}", "-".repeat(text.chars().count())),
                (Block::Heading(_, text), Style::Text) => format!("{text}:"),
                (Block::Para(text), _) => text.clone(),
                (Block::Table(table), Style::Markdown) => markdown_table(table),
                (Block::Table(table), Style::Text) => text_table(table),
            })
            .collect();
        let mut out = parts.join("\n\n");
        out.push('\n');
        out
    }
}

fn markdown_table(table: &Table) -> String {
    let escape = |s: &str| s.replace('|', "\\|");
    let mut out = String::new();
    let headers: Vec<String> = table.columns.iter().map(|(n, _)| escape(n)).collect();
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let rule: Vec<&str> = table.columns.iter().map(|(_, a)| if *a == Align::Right { "---:" } else { "---" }).collect();
    let _ = write!(out, "|{}|", rule.join("|"));
    for row in &table.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match (c.marked, c.text.is_empty()) {
                (true, false) => format!("**{}**", escape(&c.text)),
                _ => escape(&c.text),
            })
            .collect();
        let _ = write!(out, "\n| {} |", cells.join(" | "));
    }
    out
}

fn text_table(table: &Table) -> String {
    let shown = |c: &Cell| if c.marked { format!("*{}*", c.text) } else { c.text.clone() };
    let rows: Vec<Vec<String>> = table.rows.iter().map(|r| r.iter().map(shown).collect()).collect();
    let widths: Vec<usize> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .chain([name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (w, align) = (widths[i], table.columns[i].1);
                if align == Align::Right { format!("{c:>w$}") } else { format!("{c:<w$}") }
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(table.columns.iter().map(|(n, _)| n.as_str()).collect())];
    out.push(line(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect()));
    for row in &rows {
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}

/// A share as a percentage with one decimal, e.g. `39.4%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// A number with at most six decimals, trailing zeros dropped (`0.5`, `12`, `0.123457`).
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_string() } else { s.to_string() }
}

/// A signed integer change, `+12`, `-3` or `0`.
pub fn signed(n: i64) -> String {
    if n > 0 { format!("+{n}") } else { n.to_string() }
}
