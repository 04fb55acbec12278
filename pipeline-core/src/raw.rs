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
use crate::error::{PipelineError, PolarsContext, Result};
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
    /// Line numbers removed before loading (bad field counts and blank lines), ascending.
    removed: Vec<u64>,
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
        let mut line = row + 2;
        for &r in &self.removed {
            if r <= line {
                line += 1;
            } else {
                break;
            }
        }
        line
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

/// Splits a raw extract into lines, rejects lines whose field count differs from the header's, and loads the rest
/// as text columns. A file with no data rows is an error naming the file.
pub fn read_strings(raw: &RawFile, format: &RawFormat) -> Result<RawTable> {
    let delimiter = format.delimiter_byte();
    let bytes = raw.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&raw.bytes);
    let mut lines = LineIter::new(bytes);
    let Some((_, header)) = lines.next() else {
        return Err(PipelineError::EmptyFile { url: raw.url.clone() });
    };
    let expected = count_fields(header, delimiter);
    let file_header: Vec<String> = String::from_utf8_lossy(header)
        .split(format.delimiter.as_str())
        .map(|h| h.trim_matches('"').to_string())
        .collect();
    let mut removed = Vec::new();
    let mut rejected = Vec::new();
    let mut data_lines = 0u64;
    for (number, line) in lines {
        if line.is_empty() {
            removed.push(number);
            continue;
        }
        data_lines += 1;
        let found = count_fields(line, delimiter);
        if found != expected {
            removed.push(number);
            rejected.push(Rejected {
                line: number,
                reason: format!("expected {expected} fields, found {found}"),
                text: String::from_utf8_lossy(line).into_owned(),
            });
        }
    }
    if data_lines == 0 {
        return Err(PipelineError::EmptyFile { url: raw.url.clone() });
    }
    let loadable: Bytes = if removed.is_empty() {
        raw.bytes.slice_ref(bytes)
    } else {
        let mut keep = Vec::with_capacity(bytes.len());
        for (number, line) in LineIter::new(bytes) {
            if removed.binary_search(&number).is_err() {
                keep.extend_from_slice(line);
                keep.push(b'\n');
            }
        }
        Bytes::from(keep)
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
        .map_err(|e| PipelineError::Other(format!("{}: cannot read as CSV: {e}", raw.url)))?;
    Ok(RawTable {
        table: raw.table,
        url: raw.url.clone(),
        bytes: raw.bytes.clone(),
        frame,
        rejected,
        data_lines,
        removed,
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
            found.push((
                raw.line_of(row),
                format!("column '{}': cannot parse '{}' as {}{}", spec.name, value, spec.ty.describe(), expected),
            ));
        }
        let texts = lines_at(&raw.bytes, found.iter().map(|(line, _)| *line));
        for ((line, reason), text) in found.into_iter().zip(texts) {
            rejected.push(Rejected { line, reason, text });
        }
        rejected.sort_by_key(|r| r.line);
    }
    Ok(ParsedTable { table: raw.table, frame: good, rejected, data_lines: raw.data_lines })
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
            text.cast(DataType::Float64)
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

/// Counts the fields of one CSV line, honouring double quotes.
fn count_fields(line: &[u8], delimiter: u8) -> usize {
    if !line.contains(&b'"') {
        return 1 + line.iter().filter(|&&b| b == delimiter).count();
    }
    let mut fields = 1;
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            fields += 1;
        }
    }
    fields
}

/// Iterates over `(1-based line number, line without terminator)`; a final line terminator does not start a line.
struct LineIter<'a> {
    rest: &'a [u8],
    number: u64,
}

impl<'a> LineIter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes, number: 0 }
    }
}

impl<'a> Iterator for LineIter<'a> {
    type Item = (u64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.number += 1;
        let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &self.rest[self.rest.len()..]),
        };
        self.rest = rest;
        Some((self.number, line.strip_suffix(b"\r").unwrap_or(line)))
    }
}

/// The text of the given 1-based lines (ascending or not), in the order asked.
fn lines_at(bytes: &[u8], wanted: impl Iterator<Item = u64>) -> Vec<String> {
    let wanted: Vec<u64> = wanted.collect();
    let mut sorted = wanted.clone();
    sorted.sort_unstable();
    let mut found = std::collections::HashMap::with_capacity(sorted.len());
    let mut next = sorted.iter().peekable();
    for (number, line) in LineIter::new(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) {
        while next.peek().is_some_and(|&&n| n < number) {
            next.next();
        }
        match next.peek() {
            Some(&&n) if n == number => {
                found.insert(number, String::from_utf8_lossy(line).into_owned());
                next.next();
            }
            Some(_) => {}
            None => break,
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

    #[test]
    fn quoted_delimiters_do_not_count_as_fields() {
        assert_eq!(count_fields(b"a,\"b,c\",d", b','), 3);
        assert_eq!(count_fields(b"a;b;c", b';'), 3);
    }
}
