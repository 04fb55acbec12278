//! Raw CSV extracts into typed canonical frames, with every unparseable row kept for quarantine.
//!
//! Reading happens in two steps so that markets can change names and formats between them (the `normalize` hook):
//! [`read_strings`] checks each line's field count and loads the rest as text columns; [`parse_columns`] turns the
//! text into typed columns, and a row any of whose values does not parse is rejected with its line number and a
//! reason naming the column and the value. Nothing is dropped silently.

use std::io::Cursor;

use bytes::Bytes;
use polars::prelude::*;

use crate::config::RawFormat;
use crate::error::{PipelineError, PolarsContext, Result, bounded};
use crate::schema::{ColumnSpec, ColumnType, Table};

/// Name of the hidden row-number column carried from [`read_strings`] to [`parse_columns`].
const ROW: &str = "__row";

/// A raw extract as fetched from the raw bucket.
#[derive(Debug, Clone)]
pub struct RawFile {
    /// Which table this extract is.
    pub table: Table,
    /// Its S3 URL, for messages.
    pub url: String,
    /// Its bytes.
    pub bytes: Bytes,
}

/// A raw row that could not be parsed: the original line, its 1-based line number in the file, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// 1-based line number in the raw file (the header is line 1).
    pub line: u64,
    /// What was wrong, naming the column and value.
    pub reason: String,
    /// The original line, without its line terminator.
    pub text: String,
}

/// A raw extract loaded as text columns (header names as found), plus the lines already rejected for their field count.
#[derive(Debug, Clone)]
pub struct RawTable {
    /// Which table this is.
    pub table: Table,
    /// The file's URL, for messages.
    pub url: String,
    /// The file's bytes, to recover original lines of rejected rows.
    pub bytes: Bytes,
    /// Every well-formed data row as text, with the hidden row-number column.
    pub frame: DataFrame,
    /// Rows rejected so far.
    pub rejected: Vec<Rejected>,
    /// Number of data lines in the file (header and blank lines excluded).
    pub data_lines: u64,
    /// The delimiter, to find rejected records again.
    delimiter: u8,
    /// Where loaded rows and file lines part: from row `.0` on, the `row`-th row is on line `row + 2 + .1`
    /// (rejected records, blank lines and quoted line breaks before it move it down). Starts with `(0, 0)`.
    row_lines: Vec<(u64, u64)>,
    /// The header exactly as in the file, for messages.
    file_header: Vec<String>,
    /// Canonical name → name in the file, for every rename a market asked for, so messages use the file's names.
    file_names: Vec<(String, String)>,
}

impl RawTable {
    /// The header as found (after any renames), without the hidden row column.
    pub fn header(&self) -> Vec<String> {
        self.frame.get_column_names().into_iter().filter(|n| n.as_str() != ROW).map(|n| n.to_string()).collect()
    }

    /// Renames raw columns, e.g. a market's own names to the canonical ones. Absent names are ignored here; a
    /// missing column is reported by [`parse_columns`] under the name the file should have had.
    pub fn rename(&mut self, pairs: &[(&str, &str)]) -> Result<()> {
        for (from, to) in pairs {
            self.file_names.push((to.to_string(), from.to_string()));
            if self.frame.get_column_index(from).is_some() {
                self.frame
                    .rename(from, PlSmallStr::from_str(to))
                    .map_err(|e| PipelineError::Other(format!("{}: cannot rename {from} to {to}: {e}", self.url)))?;
            }
        }
        Ok(())
    }

    /// The name a canonical column has in the file (its market name when the market renames it).
    pub fn file_name<'a>(&'a self, canonical: &'a str) -> &'a str {
        self.file_names.iter().find(|(c, _)| c == canonical).map(|(_, f)| f.as_str()).unwrap_or(canonical)
    }

    /// The 1-based file line number of the `row`-th loaded data row.
    fn line_of(&self, row: u64) -> u64 {
        let i = self.row_lines.partition_point(|&(from, _)| from <= row);
        row + 2 + self.row_lines[i.saturating_sub(1)].1
    }
}

/// A canonical table after parsing: the good rows, typed, and the rejected ones.
#[derive(Debug, Clone)]
pub struct ParsedTable {
    /// Which table.
    pub table: Table,
    /// Canonical, typed rows in file order.
    pub frame: DataFrame,
    /// Rows that could not be parsed, in line order.
    pub rejected: Vec<Rejected>,
    /// Number of data lines in the raw file.
    pub data_lines: u64,
}

/// Splits a raw extract into records and loads the well-formed ones as text columns. Every other record is
/// rejected with its 1-based line number and a reason, and the rest of the file is still read:
/// - a record with bytes that are not UTF-8: "invalid UTF-8 at byte N" (N counts from 0 in the file);
/// - a line whose quotes do not balance (a quoted field never closed, or a stray quote): "unbalanced quote", and
///   reading resumes on the next line, so one stray quote costs one line, not the rest of the file;
/// - a record whose field count differs from the header's: "expected N fields, found M".
///
/// A quoted field may hold line breaks: such a record is one row, numbered by the line it starts on. A file with
/// no data rows, a header that is not UTF-8 or has unbalanced quotes, and a header naming a column twice are
/// errors naming the file.
pub fn read_strings(raw: &RawFile, format: &RawFormat) -> Result<RawTable> {
    let delimiter = format.delimiter_byte();
    let bom = if raw.bytes.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let bytes = &raw.bytes[bom..];
    if bytes.is_empty() {
        return Err(PipelineError::EmptyFile { url: raw.url.clone() });
    }
    let bad_utf8 = invalid_utf8(bytes);
    let mut scanner = Scanner::new(bytes, delimiter);
    let header_end = line_end(bytes, 0);
    let header = strip_cr(&bytes[..header_end]);
    if let Some(&at) = bad_utf8.first().filter(|&&at| at < header_end) {
        return Err(PipelineError::BadHeader {
            url: raw.url.clone(),
            problem: format!("is not valid UTF-8 (at byte {})", at + bom),
        });
    }
    let head = scanner.record(0);
    if !head.balanced || head.extra_lines > 0 {
        return Err(PipelineError::BadHeader { url: raw.url.clone(), problem: "has an unbalanced quote".into() });
    }
    let expected = head.fields;
    let file_header: Vec<String> = String::from_utf8_lossy(header)
        .split(format.delimiter.as_str())
        .map(|h| h.trim_matches('"').to_string())
        .collect();
    for (i, name) in file_header.iter().enumerate() {
        if file_header[..i].contains(name) {
            return Err(PipelineError::DuplicateColumn { url: raw.url.clone(), column: name.clone() });
        }
    }

    let mut rejected = Vec::new();
    let mut data_lines = 0u64;
    let mut rows = 0u64;
    let mut row_lines = vec![(0u64, 0u64)];
    // The bytes handed to the CSV reader: `None` while every record so far is kept (the file is passed as is).
    let mut keep: Option<Vec<u8>> = None;
    let mut next_bad = 0usize;
    let mut pos = (header_end + 1).min(bytes.len());
    let mut number = 1u64;
    while pos < bytes.len() {
        number += 1;
        let end = line_end(bytes, pos);
        if strip_cr(&bytes[pos..end]).is_empty() {
            keep.get_or_insert_with(|| bytes[..pos].to_vec());
            pos = end + 1;
            continue;
        }
        data_lines += 1;
        while bad_utf8.get(next_bad).is_some_and(|&at| at < pos) {
            next_bad += 1;
        }
        let bad_at = |limit: usize| bad_utf8.get(next_bad).copied().filter(|&at| at < limit);
        let record = scanner.record(pos);
        let (reject, record_end, lines) = if !record.balanced || (record.extra_lines > 0 && record.fields != expected) {
            let reason = match bad_at(end) {
                Some(at) => format!("invalid UTF-8 at byte {}", at + bom),
                None => "unbalanced quote".to_string(),
            };
            (Some(reason), end, 0)
        } else if let Some(at) = bad_at(record.end) {
            (Some(format!("invalid UTF-8 at byte {}", at + bom)), record.end, record.extra_lines)
        } else if record.fields != expected {
            (Some(format!("expected {expected} fields, found {}", record.fields)), record.end, 0)
        } else {
            (None, record.end, record.extra_lines)
        };
        match reject {
            Some(reason) => {
                keep.get_or_insert_with(|| bytes[..pos].to_vec());
                rejected.push(Rejected {
                    line: number,
                    reason,
                    text: String::from_utf8_lossy(strip_cr(&bytes[pos..record_end])).into_owned(),
                });
            }
            None => {
                let delta = number - (rows + 2);
                if row_lines.last().is_some_and(|&(_, d)| d != delta) {
                    row_lines.push((rows, delta));
                }
                rows += 1;
                if let Some(keep) = keep.as_mut() {
                    keep.extend_from_slice(&bytes[pos..record_end]);
                    keep.push(b'\n');
                }
            }
        }
        number += lines;
        pos = record_end + 1;
    }
    if data_lines == 0 {
        return Err(PipelineError::EmptyFile { url: raw.url.clone() });
    }
    let loadable: Bytes = match keep {
        Some(keep) => Bytes::from(keep),
        None => raw.bytes.slice(bom..),
    };
    let parse_options =
        CsvParseOptions::default().with_separator(delimiter).with_quote_char(Some(b'"')).with_missing_is_null(true);
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_parse_options(parse_options)
        .with_row_index(Some(polars::io::RowIndex { name: ROW.into(), offset: 0 }))
        .into_reader_with_file_handle(Cursor::new(loadable))
        .finish()
        .map_err(|e| PipelineError::Other(bounded(&format!("{}: cannot read as CSV: {e}", raw.url))))?;
    if frame.height() as u64 != rows {
        return Err(PipelineError::Other(format!(
            "{}: the CSV reader found {} rows where the record pass found {rows}: please report this file",
            raw.url,
            frame.height()
        )));
    }
    Ok(RawTable {
        table: raw.table,
        url: raw.url.clone(),
        bytes: raw.bytes.clone(),
        delimiter,
        frame,
        rejected,
        data_lines,
        row_lines,
        file_header,
        file_names: Vec::new(),
    })
}

/// Parses text columns into the canonical `columns`, in that order. A required column missing from the header is
/// an error naming the file and column; a column with a default that is absent takes the default. Rows with a
/// value that does not parse are rejected with the first offending column and value.
pub fn parse_columns(raw: RawTable, columns: &[ColumnSpec], format: &RawFormat) -> Result<ParsedTable> {
    let header = raw.header();
    for spec in columns {
        if spec.default.is_none() && !header.iter().any(|h| h == spec.name) {
            return Err(PipelineError::MissingColumn {
                url: raw.url.clone(),
                column: raw.file_name(spec.name).to_string(),
                header: raw.file_header.join(","),
            });
        }
    }
    let present: Vec<&ColumnSpec> = columns.iter().filter(|s| header.iter().any(|h| h == s.name)).collect();
    let mut exprs = Vec::with_capacity(columns.len() + 2);
    exprs.push(col(ROW));
    for spec in columns {
        let expr =
            if present.contains(&spec) { parse_expr(spec, format) } else { lit(spec.default.expect("checked above")) };
        exprs.push(expr.alias(parsed_name(spec.name)));
    }
    // Index (into `present`) of the first column whose raw value is set but does not parse.
    let mut failure = lit(NULL).cast(DataType::Int32);
    for (i, spec) in present.iter().enumerate().rev() {
        let failed = col(spec.name).is_not_null().and(col(parsed_name(spec.name)).is_null());
        failure = when(failed).then(lit(i as i32)).otherwise(failure);
    }
    let raw_cols: Vec<Expr> = present.iter().map(|s| col(s.name)).collect();
    let stage = format!("ingest ({})", raw.url);
    let all = raw
        .frame
        .clone()
        .lazy()
        .select(exprs.into_iter().chain(raw_cols).collect::<Vec<_>>())
        .with_column(failure.alias("__failure"))
        .collect()
        .ctx("", &stage)?;
    let good = all
        .clone()
        .lazy()
        .filter(col("__failure").is_null())
        .select(columns.iter().map(|s| col(parsed_name(s.name)).alias(s.name)).collect::<Vec<_>>())
        .collect()
        .ctx("", &stage)?;
    let bad = all
        .lazy()
        .filter(col("__failure").is_not_null())
        .select([col(ROW), col("__failure")].into_iter().chain(present.iter().map(|s| col(s.name))).collect::<Vec<_>>())
        .collect()
        .ctx("", &stage)?;

    let mut rejected = raw.rejected.clone();
    if bad.height() > 0 {
        let rows = bad.column(ROW).ctx("", &stage)?.cast(&DataType::UInt64).ctx("", &stage)?;
        let rows = rows.u64().ctx("", &stage)?;
        let failures = bad.column("__failure").ctx("", &stage)?.i32().ctx("", &stage)?.clone();
        let mut found = Vec::with_capacity(bad.height());
        for i in 0..bad.height() {
            let row = rows.get(i).expect("row index is never null");
            let which = failures.get(i).expect("filtered on failure") as usize;
            let spec = present[which];
            let value =
                bad.column(spec.name).ctx("", &stage)?.str().ctx("", &stage)?.get(i).unwrap_or_default().to_string();
            let expected = match spec.ty {
                ColumnType::Date => format!(" (expected {})", format.date_format),
                ColumnType::Datetime => format!(" (expected {})", format.datetime_format),
                ColumnType::Bool => format!(" (expected one of {})", bool_tokens(format)),
                _ => String::new(),
            };
            let reason = if spec.ty == ColumnType::Float && is_non_finite(&value, format) {
                format!("column '{}': '{}' is not a finite number", spec.name, value)
            } else {
                format!("column '{}': cannot parse '{}' as {}{}", spec.name, value, spec.ty.describe(), expected)
            };
            found.push((raw.line_of(row), bounded(&reason)));
        }
        let lines: Vec<u64> = found.iter().map(|(line, _)| *line).collect();
        let texts = record_texts(&raw.bytes, raw.delimiter, &lines);
        for ((line, reason), text) in found.into_iter().zip(texts) {
            rejected.push(Rejected { line, reason, text });
        }
        rejected.sort_by_key(|r| r.line);
    }
    Ok(ParsedTable { table: raw.table, frame: good, rejected, data_lines: raw.data_lines })
}

/// Whether a rejected float value is a NaN or an infinity (as opposed to text that is no number at all).
fn is_non_finite(value: &str, format: &RawFormat) -> bool {
    let value = if format.decimal_comma { value.replace(',', ".") } else { value.to_string() };
    value.trim().parse::<f64>().is_ok_and(|v| !v.is_finite())
}

fn parsed_name(name: &str) -> String {
    format!("__parsed_{name}")
}

fn bool_tokens(format: &RawFormat) -> String {
    format.true_values.iter().chain(&format.false_values).map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ")
}

/// The expression that parses one text column into its canonical type; a value that does not parse becomes null.
fn parse_expr(spec: &ColumnSpec, format: &RawFormat) -> Expr {
    let c = col(spec.name);
    let strptime = |fmt: &str| StrptimeOptions { format: Some(fmt.into()), strict: false, exact: true, cache: true };
    match spec.ty {
        ColumnType::Str => c,
        ColumnType::Date => c.str().to_date(strptime(&format.date_format)),
        ColumnType::Datetime => {
            c.str().to_datetime(Some(TimeUnit::Microseconds), None, strptime(&format.datetime_format), lit("raise"))
        }
        ColumnType::Int => c.cast(DataType::Int64),
        ColumnType::Float => {
            let text = if format.decimal_comma { c.str().replace_all(lit(","), lit("."), true) } else { c };
            // NaN and infinities parse as floats but are no amount: they are rejected like unparseable text.
            let value = text.cast(DataType::Float64);
            when(value.clone().is_finite()).then(value).otherwise(lit(NULL).cast(DataType::Float64))
        }
        ColumnType::Bool => {
            let any = |tokens: &[String]| {
                tokens.iter().map(|t| col(spec.name).eq(lit(t.as_str()))).reduce(|a, b| a.or(b)).unwrap_or(lit(false))
            };
            when(any(&format.true_values))
                .then(lit(true))
                .when(any(&format.false_values))
                .then(lit(false))
                .otherwise(lit(NULL).cast(DataType::Boolean))
        }
    }
}

/// Index of the `\n` ending the line that starts at `from`, or the length of `bytes` for a last unterminated line.
fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| from + i)
}

/// A line without its trailing `\r`.
fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Offsets of the first invalid UTF-8 byte of every line that has one, ascending: one validation pass over the
/// whole file, resumed on the next line after each error.
fn invalid_utf8(bytes: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Err(e) = std::str::from_utf8(&bytes[from..]) {
        let at = from + e.valid_up_to();
        found.push(at);
        from = (line_end(bytes, at) + 1).min(bytes.len());
    }
    found
}

/// One record as the CSV reader will see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    /// Index of the `\n` ending the record (or the file's length).
    end: usize,
    /// Number of fields.
    fields: usize,
    /// Line breaks inside quoted fields.
    extra_lines: u64,
    /// Whether its quotes close, polars' record splitter (which toggles on every quote) and its field splitter
    /// (where only a quote opening a field quotes) agree on where the record ends, and a record spanning lines
    /// is quoted cleanly.
    balanced: bool,
}

/// Splits bytes into records the way polars' CSV reader does: a field that starts with a quote runs, toggling on
/// every quote, to the first delimiter or line break outside quotes; any other field runs to the next delimiter
/// or line break, its quotes taken literally.
struct Scanner<'a> {
    bytes: &'a [u8],
    delimiter: u8,
    /// The last search for a quote: where it started and what it found, so a stray quote that is never closed
    /// costs one scan to the end of the file, not one per later quote.
    last_quote: Option<(usize, Option<usize>)>,
}

impl<'a> Scanner<'a> {
    fn new(bytes: &'a [u8], delimiter: u8) -> Self {
        Self { bytes, delimiter, last_quote: None }
    }

    /// The first quote at or after `from`.
    fn next_quote(&mut self, from: usize) -> Option<usize> {
        if let Some((searched, found)) = self.last_quote
            && from >= searched
            && found.is_none_or(|q| from <= q)
        {
            return found;
        }
        let found = self.bytes[from..].iter().position(|&b| b == b'"').map(|i| from + i);
        self.last_quote = Some((from, found));
        found
    }

    /// The record starting at `start`, the start of a line.
    fn record(&mut self, start: usize) -> Record {
        let bytes = self.bytes;
        let delimiter = self.delimiter;
        let end = line_end(bytes, start);
        let line = &bytes[start..end];
        if !line.contains(&b'"') {
            let fields = 1 + line.iter().filter(|&&b| b == delimiter).count();
            return Record { end, fields, extra_lines: 0, balanced: true };
        }
        let unbalanced = Record { end, fields: 0, extra_lines: 0, balanced: false };
        let mut pos = start;
        let mut fields = 1;
        let mut quotes = 0usize;
        let mut literal_quotes = 0usize;
        let mut clean = true;
        loop {
            if bytes.get(pos) == Some(&b'"') {
                // A quoted field: toggle on every quote until a delimiter or line break outside quotes.
                quotes += 1;
                pos += 1;
                loop {
                    let Some(close) = self.next_quote(pos) else { return unbalanced };
                    quotes += 1;
                    pos = close + 1;
                    // A closing quote is followed by a quote (an escaped one), the end of the field, or nothing.
                    clean &= matches!(bytes.get(pos), None | Some(b'"' | b'\n' | b'\r')) || bytes[pos] == delimiter;
                    let stop = bytes[pos..]
                        .iter()
                        .position(|&b| b == delimiter || b == b'\n' || b == b'"')
                        .map_or(bytes.len(), |i| pos + i);
                    if bytes.get(stop) == Some(&b'"') {
                        quotes += 1;
                        pos = stop + 1;
                    } else {
                        pos = stop;
                        break;
                    }
                }
            } else {
                let stop =
                    bytes[pos..].iter().position(|&b| b == delimiter || b == b'\n').map_or(bytes.len(), |i| pos + i);
                let literal = bytes[pos..stop].iter().filter(|&&b| b == b'"').count();
                literal_quotes += literal;
                quotes += literal;
                pos = stop;
            }
            if bytes.get(pos) == Some(&delimiter) {
                fields += 1;
                pos += 1;
            } else {
                break;
            }
        }
        let extra_lines = bytes[start..pos].iter().filter(|&&b| b == b'\n').count() as u64;
        // A line break inside quotes is trusted only in a record quoted by the book (no literal quotes, every
        // closing quote ending its field): a stray quote pairing with a quote lines later is not.
        let balanced = quotes.is_multiple_of(2) && (extra_lines == 0 || (literal_quotes == 0 && clean));
        Record { end: pos, fields, extra_lines, balanced }
    }
}

/// The text of the records starting on the given 1-based lines (in any order), in the order asked, each without
/// its final line terminator.
fn record_texts(bytes: &[u8], delimiter: u8, wanted: &[u64]) -> Vec<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut sorted = wanted.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut found = std::collections::HashMap::with_capacity(sorted.len());
    let mut scanner = Scanner::new(bytes, delimiter);
    let (mut pos, mut number) = (0usize, 1u64);
    for line in sorted {
        while number < line && pos < bytes.len() {
            pos = line_end(bytes, pos) + 1;
            number += 1;
        }
        if number == line && pos < bytes.len() {
            let record = scanner.record(pos);
            let end = if record.balanced { record.end } else { line_end(bytes, pos) };
            found.insert(line, String::from_utf8_lossy(strip_cr(&bytes[pos..end])).into_owned());
        }
    }
    wanted.iter().map(|n| found.get(n).cloned().unwrap_or_default()).collect()
}
#[cfg(test)]
mod tests {
    use super::*;

    fn canonical() -> RawFormat {
        RawFormat {
            delimiter: ",".into(),
            date_format: "%Y-%m-%d".into(),
            datetime_format: "%Y-%m-%d %H:%M:%S".into(),
            decimal_comma: false,
            true_values: vec!["true".into()],
            false_values: vec!["false".into()],
            rename: Default::default(),
            omit_columns: Vec::new(),
            extra_columns: Vec::new(),
        }
    }

    fn file(text: &str) -> RawFile {
        RawFile {
            table: Table::Orders,
            url: "s3://raw/foobar-xx/orders.csv".into(),
            bytes: Bytes::from(text.to_string()),
        }
    }

    #[test]
    fn malformed_rows_are_rejected_with_line_and_reason() {
        let text = "order_id,customer_id,order_date,quantity,amount\n\
                    O1,C1,2026-01-02,1,10.5\n\
                    O2,C1,2026-01-03,1\n\
                    O3,C2,2026-13-01,2,3.0\n\
                    \n\
                    O4,C2,2026-01-04,x,3.0\n\
                    O5,C3,2026-01-05,2,3.25\n";
        let raw = read_strings(&file(text), &canonical()).unwrap();
        let parsed = parse_columns(raw, &Table::Orders.columns(), &canonical()).unwrap();
        assert_eq!(parsed.data_lines, 5);
        let ids: Vec<_> = parsed.frame.column("order_id").unwrap().str().unwrap().iter().flatten().collect();
        assert_eq!(ids, ["O1", "O5"]);
        assert_eq!(
            parsed.rejected,
            vec![
                Rejected { line: 3, reason: "expected 5 fields, found 4".into(), text: "O2,C1,2026-01-03,1".into() },
                Rejected {
                    line: 4,
                    reason: "column 'order_date': cannot parse '2026-13-01' as date (expected %Y-%m-%d)".into(),
                    text: "O3,C2,2026-13-01,2,3.0".into()
                },
                Rejected {
                    line: 6,
                    reason: "column 'quantity': cannot parse 'x' as integer".into(),
                    text: "O4,C2,2026-01-04,x,3.0".into()
                },
            ]
        );
    }

    #[test]
    fn missing_column_names_file_and_column() {
        let raw = read_strings(&file("order_id,customer_id,order_date,amount\nO1,C1,2026-01-02,1.0\n"), &canonical())
            .unwrap();
        let err = parse_columns(raw, &Table::Orders.columns(), &canonical()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "raw file s3://raw/foobar-xx/orders.csv is missing required column 'quantity' \
             (header has: order_id,customer_id,order_date,amount)"
        );
    }

    #[test]
    fn header_only_and_zero_byte_files_are_empty() {
        for text in ["order_id,customer_id,order_date,quantity,amount\n", ""] {
            let err = read_strings(&file(text), &canonical()).unwrap_err();
            assert_eq!(
                err.to_string(),
                "raw file s3://raw/foobar-xx/orders.csv has no data rows: the extract is empty"
            );
        }
    }

    #[test]
    fn empty_values_are_null_not_rejected() {
        let raw =
            read_strings(&file("order_id,customer_id,order_date,quantity,amount\nO1,,2026-01-02,1,\n"), &canonical())
                .unwrap();
        let parsed = parse_columns(raw, &Table::Orders.columns(), &canonical()).unwrap();
        assert!(parsed.rejected.is_empty());
        assert_eq!(parsed.frame.column("customer_id").unwrap().null_count(), 1);
        assert_eq!(parsed.frame.column("amount").unwrap().null_count(), 1);
    }

    fn fields(line: &[u8], delimiter: u8) -> usize {
        Scanner::new(line, delimiter).record(0).fields
    }

    #[test]
    fn quoted_delimiters_do_not_count_as_fields() {
        assert_eq!(fields(b"a,\"b,c\",d", b','), 3);
        assert_eq!(fields(b"a;b;c", b';'), 3);
        assert_eq!(fields(b"a,\"b \"\"c\"\", d\",e", b','), 3);
    }

    #[test]
    fn records_follow_polars_quoting() {
        let record = |text: &str| Scanner::new(text.as_bytes(), b',').record(0);
        assert_eq!(record("a,\"b\nc\",d\nnext"), Record { end: 9, fields: 3, extra_lines: 1, balanced: true });
        assert_eq!(record("a,b\"c\"d,e\n"), Record { end: 9, fields: 3, extra_lines: 0, balanced: true });
        assert!(!record("a,b\"c,d\n").balanced, "an odd literal quote");
        assert!(!record("a,\"b,c\nd,e\n").balanced, "a quote never closed");
        assert!(!record("x\"y,\"a\nb\",c\"\n").balanced, "literal quotes around a quoted line break");
        assert!(!record("a,\"b\nc\"d,e\n").balanced, "a quote closing mid-field lines later");
        assert!(record("a,\"b\nc\"\"d\",e\n").balanced, "an escaped quote in a quoted line break");
    }
}
