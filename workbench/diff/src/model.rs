//! The typed results of a diff: plain data, serialisable, with no rendering in them, so the CLI, the JSON output
//! and a TUI screen all read the same values.

use serde::{Deserialize, Serialize};

/// One side of a diff: which market's output, from which run, revision and cache key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// How the side is named in renderings, e.g. `foobar-au` or `foobar-ca @ base (1a2b3c4)`.
    pub label: String,
    /// Market id.
    pub market: String,
    /// The run whose output this is, when it came from run history.
    pub run_id: Option<String>,
    /// The git revision the output was computed from, when known.
    pub revision: Option<String>,
    /// The stage output's cache key.
    pub cache_key: Option<String>,
    /// Where the output was read from (`s3://...`).
    pub location: Option<String>,
}

impl Side {
    /// A side known only by its label and market (engine tests, benchmarks).
    pub fn named(label: &str, market: &str) -> Self {
        Self {
            label: label.to_string(),
            market: market.to_string(),
            run_id: None,
            revision: None,
            cache_key: None,
            location: None,
        }
    }
}

/// The diff of one stage's output between two sides: every output table, plus the action and channel mix for
/// `recommend` and `export`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageDiff {
    /// Stage name.
    pub stage: String,
    /// The first side (the baseline when diffing against a run or revision).
    pub a: Side,
    /// The second side.
    pub b: Side,
    /// One diff per output table, in the stage's output order.
    pub tables: Vec<TableDiff>,
    /// Value mix of `action` and `channel` per side (recommend and export only).
    pub mixes: Vec<MixDiff>,
}

/// The diff of one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDiff {
    /// Table name.
    pub table: String,
    /// The key columns rows were matched on.
    pub keys: Vec<String>,
    /// Absolute tolerance under which numeric values count as equal (0: exact).
    pub tolerance: f64,
    /// Column differences.
    pub schema: SchemaDiff,
    /// Row counts per side.
    pub rows: RowCounts,
    /// Rows matched on the keys.
    pub keyed: KeyedDiff,
    /// Per-column statistics side by side, A's columns first, then B's new ones.
    pub stats: Vec<ColumnStatsPair>,
}

/// Columns present on one side only, and columns whose type differs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaDiff {
    /// Columns only A has.
    pub only_in_a: Vec<ColumnType>,
    /// Columns only B has.
    pub only_in_b: Vec<ColumnType>,
    /// Columns both have, with different types (compared as numbers when both are numeric, else as text).
    pub type_changes: Vec<TypeChange>,
}

impl SchemaDiff {
    /// Whether both sides have the same columns with the same types.
    pub fn is_empty(&self) -> bool {
        self.only_in_a.is_empty() && self.only_in_b.is_empty() && self.type_changes.is_empty()
    }
}

/// A column and its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnType {
    /// Column name.
    pub column: String,
    /// Its type, as polars names it (`str`, `i64`, `f64`, `date`, ...).
    pub dtype: String,
}

/// A column whose type differs between the sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeChange {
    /// Column name.
    pub column: String,
    /// Its type in A.
    pub a: String,
    /// Its type in B.
    pub b: String,
}

/// Row counts of both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    /// Rows in A.
    pub a: u64,
    /// Rows in B.
    pub b: u64,
}

impl RowCounts {
    /// B minus A.
    pub fn delta(&self) -> i64 {
        self.b as i64 - self.a as i64
    }
}

/// Rows matched on the key columns: which were added, removed, changed, and how many values changed per column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyedDiff {
    /// Keys only in B.
    pub added: u64,
    /// Keys only in A.
    pub removed: u64,
    /// Keys in both with at least one compared value changed.
    pub changed: u64,
    /// Keys in both with every compared value equal.
    pub unchanged: u64,
    /// For every compared column (the columns both sides have, keys excepted), how many matched rows differ.
    pub columns: Vec<ColumnChanges>,
    /// The first added keys, in key order (each key as its column values).
    pub added_keys: Vec<Vec<String>>,
    /// The first removed keys, in key order.
    pub removed_keys: Vec<Vec<String>>,
    /// The first changed rows, in key order, with both sides' values and the changed cells marked.
    pub samples: Vec<ChangedRow>,
}

/// How many matched rows differ in one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnChanges {
    /// Column name.
    pub column: String,
    /// Matched rows whose value differs.
    pub changed: u64,
}

/// One changed row, side by side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedRow {
    /// The key's values, in key column order.
    pub key: Vec<String>,
    /// Every compared column's value on both sides.
    pub cells: Vec<Cell>,
}

/// One compared value on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// Column name.
    pub column: String,
    /// The value in A (`None`: null).
    pub a: Option<String>,
    /// The value in B (`None`: null).
    pub b: Option<String>,
    /// Whether the values differ (beyond the tolerance).
    pub changed: bool,
}

/// One column's statistics on both sides (`None` where a side lacks the column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStatsPair {
    /// Column name.
    pub column: String,
    /// Statistics in A.
    pub a: Option<ColumnStats>,
    /// Statistics in B.
    pub b: Option<ColumnStats>,
}

/// Statistics of one column of one side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    /// Type as polars names it.
    pub dtype: String,
    /// Null values.
    pub nulls: u64,
    /// Share of rows that are null (0 for an empty table).
    pub null_share: f64,
    /// Smallest non-null value, formatted.
    pub min: Option<String>,
    /// Largest non-null value, formatted.
    pub max: Option<String>,
    /// Mean, for numeric and boolean columns.
    pub mean: Option<f64>,
    /// Distinct non-null values.
    pub distinct: u64,
    /// The most frequent non-null values with their counts, most frequent first (ties by value); empty when every
    /// value is distinct.
    pub top: Vec<ValueCount>,
}

/// A value and how often it occurs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueCount {
    /// The value, formatted (`null` for nulls in mixes).
    pub value: String,
    /// Occurrences.
    pub count: u64,
}

/// The mix of one column's values (`action`, `channel`) on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixDiff {
    /// Column name.
    pub column: String,
    /// Rows in A.
    pub total_a: u64,
    /// Rows in B.
    pub total_b: u64,
    /// One row per value seen on either side, most frequent (A + B) first, ties by value.
    pub values: Vec<MixRow>,
}

/// One value of a mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixRow {
    /// The value (`null` for nulls).
    pub value: String,
    /// Rows with it in A.
    pub a: u64,
    /// Its share of A's rows.
    pub a_share: f64,
    /// Rows with it in B.
    pub b: u64,
    /// Its share of B's rows.
    pub b_share: f64,
}
