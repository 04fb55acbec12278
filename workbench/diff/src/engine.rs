//! The diff engine: two frames in, a [`TableDiff`] out. Everything is vectorised: one full join on the keys with a
//! presence marker per side, one boolean mask per compared column, sums of masks for the counts, and a sorted,
//! limited filter for the samples. No row loops except over the few sampled rows.

use polars::prelude::*;

use crate::error::DiffError;
use crate::model::{
    Cell, ChangedRow, ColumnChanges, ColumnStatsPair, ColumnType, KeyedDiff, RowCounts, SchemaDiff, TableDiff,
    TypeChange,
};
use crate::stats;
use crate::value::{dtype_name, format_value};

/// Marks rows present in A after the join.
const IN_A: &str = "__wb_in_a";
/// Marks rows present in B after the join.
const IN_B: &str = "__wb_in_b";
/// True for matched rows with any compared value changed.
const CHANGED: &str = "__wb_changed";

/// How two tables are compared.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffOptions {
    /// The columns that identify a row on both sides.
    pub keys: Vec<String>,
    /// Absolute tolerance for numeric columns: values within it count as equal (0: exact).
    pub tolerance: f64,
    /// How many changed rows, added keys and removed keys to sample.
    pub sample_rows: usize,
    /// How many most frequent values to list per column.
    pub top_values: usize,
}

impl DiffOptions {
    /// Exact comparison on `keys`, 10 samples, 5 top values.
    pub fn on_keys(keys: &[&str]) -> Self {
        Self { keys: keys.iter().map(|k| k.to_string()).collect(), tolerance: 0.0, sample_rows: 10, top_values: 5 }
    }
}

/// A frame with the name it goes by in messages and renderings.
#[derive(Debug, Clone, Copy)]
pub struct Labeled<'a> {
    /// The side's name, e.g. `foobar-au`.
    pub label: &'a str,
    /// Its data.
    pub frame: &'a DataFrame,
}

impl<'a> Labeled<'a> {
    /// Names a frame.
    pub fn new(label: &'a str, frame: &'a DataFrame) -> Self {
        Self { label, frame }
    }
}

/// Diffs table `table` of A against B on `options.keys`: schema, row counts, keyed changes and statistics.
pub fn diff_tables(table: &str, a: Labeled, b: Labeled, options: &DiffOptions) -> Result<TableDiff, DiffError> {
    let schema = schema_diff(a.frame, b.frame);
    check_keys(table, a, b, &options.keys)?;
    let keyed = keyed_diff(table, a, b, options)?;
    let stats = stats_pairs(table, a.frame, b.frame, options.top_values)?;
    Ok(TableDiff {
        table: table.to_string(),
        keys: options.keys.clone(),
        tolerance: options.tolerance,
        schema,
        rows: RowCounts { a: a.frame.height() as u64, b: b.frame.height() as u64 },
        keyed,
        stats,
    })
}

/// Columns only in A, only in B, and common columns whose types differ (in A's column order, then B's).
pub fn schema_diff(a: &DataFrame, b: &DataFrame) -> SchemaDiff {
    let (sa, sb) = (a.schema(), b.schema());
    let mut diff = SchemaDiff::default();
    for (name, dtype) in sa.iter() {
        match sb.get(name) {
            None => diff.only_in_a.push(ColumnType { column: name.to_string(), dtype: dtype_name(dtype) }),
            Some(other) if other != dtype => diff.type_changes.push(TypeChange {
                column: name.to_string(),
                a: dtype_name(dtype),
                b: dtype_name(other),
            }),
            Some(_) => {}
        }
    }
    for (name, dtype) in sb.iter() {
        if !sa.contains(name) {
            diff.only_in_b.push(ColumnType { column: name.to_string(), dtype: dtype_name(dtype) });
        }
    }
    diff
}

/// Every key column exists on both sides with the same type, and identifies one row on each side.
fn check_keys(table: &str, a: Labeled, b: Labeled, keys: &[String]) -> Result<(), DiffError> {
    if keys.is_empty() {
        return Err(DiffError::NoKeys { table: table.to_string() });
    }
    for key in keys {
        for side in [a, b] {
            if side.frame.column(key).is_err() {
                return Err(DiffError::MissingKey {
                    table: table.to_string(),
                    key: key.clone(),
                    side: side.label.to_string(),
                    columns: side.frame.get_column_names().iter().map(|c| c.to_string()).collect(),
                });
            }
        }
        let (ta, tb) = (a.frame.column(key)?.dtype(), b.frame.column(key)?.dtype());
        if ta != tb {
            return Err(DiffError::KeyTypes(Box::new(crate::error::KeyTypes {
                table: table.to_string(),
                key: key.clone(),
                a: a.label.to_string(),
                a_type: dtype_name(ta),
                b: b.label.to_string(),
                b_type: dtype_name(tb),
            })));
        }
    }
    for side in [a, b] {
        let repeated = side
            .frame
            .clone()
            .lazy()
            .group_by(key_exprs(keys))
            .agg([len().alias("__wb_n")])
            .filter(col("__wb_n").gt(lit(1)))
            .sort(keys.to_vec(), SortMultipleOptions::default())
            .collect()
            .map_err(|source| DiffError::polars(table, "checking that the keys are unique", source))?;
        if repeated.height() > 0 {
            return Err(DiffError::DuplicateKeys {
                table: table.to_string(),
                keys: keys.to_vec(),
                side: side.label.to_string(),
                repeated: repeated.height() as u64,
                example: key_values(&repeated, keys, 0)?.join(", "),
            });
        }
    }
    Ok(())
}

fn key_exprs(keys: &[String]) -> Vec<Expr> {
    keys.iter().map(|k| col(k.as_str())).collect()
}

/// The name a compared column takes on side `side` (`a` or `b`) after the join.
fn side_name(side: char, column: &str) -> String {
    format!("__wb_{side}:{column}")
}

fn mask_name(column: &str) -> String {
    format!("__wb_changed:{column}")
}

/// A common, non-key column and how both sides are brought to one type for comparison.
struct Compared {
    name: String,
    cast: Option<DataType>,
    numeric: bool,
}

fn compared_columns(a: &DataFrame, b: &DataFrame, options: &DiffOptions) -> Vec<Compared> {
    let sb = b.schema();
    a.schema()
        .iter()
        .filter(|(name, _)| !options.keys.iter().any(|k| k.as_str() == name.as_str()))
        .filter_map(|(name, ta)| {
            let tb = sb.get(name)?;
            let numeric = ta.is_primitive_numeric() && tb.is_primitive_numeric();
            let cast = if numeric && (ta != tb || options.tolerance > 0.0) {
                Some(DataType::Float64)
            } else if ta != tb {
                Some(DataType::String)
            } else {
                None
            };
            Some(Compared { name: name.to_string(), cast, numeric })
        })
        .collect()
}

/// One side, reduced to its keys and compared columns (renamed for the join) plus a presence marker.
fn prepared(frame: &DataFrame, side: char, keys: &[String], compared: &[Compared]) -> LazyFrame {
    let mut exprs = key_exprs(keys);
    for c in compared {
        let mut e = col(c.name.as_str());
        if let Some(dtype) = &c.cast {
            e = e.cast(dtype.clone());
        }
        exprs.push(e.alias(side_name(side, &c.name)));
    }
    exprs.push(lit(true).alias(if side == 'a' { IN_A } else { IN_B }));
    frame.clone().lazy().select(exprs)
}

/// Whether a matched row's values differ: null-aware, and beyond `tolerance` for numbers when it is positive.
fn changed_expr(c: &Compared, tolerance: f64) -> Expr {
    let (a, b) = (col(side_name('a', &c.name)), col(side_name('b', &c.name)));
    if c.numeric && tolerance > 0.0 {
        let beyond = (a.clone() - b.clone()).gt(lit(tolerance)).or((b.clone() - a.clone()).gt(lit(tolerance)));
        beyond.fill_null(a.is_null().neq(b.is_null()))
    } else {
        a.neq_missing(b)
    }
}

fn keyed_diff(table: &str, a: Labeled, b: Labeled, options: &DiffOptions) -> Result<KeyedDiff, DiffError> {
    let keys = &options.keys;
    let compared = compared_columns(a.frame, b.frame, options);
    let both = col(IN_A).is_not_null().and(col(IN_B).is_not_null());
    let masks: Vec<Expr> = compared
        .iter()
        .map(|c| both.clone().and(changed_expr(c, options.tolerance)).alias(mask_name(&c.name)))
        .collect();
    let any = compared
        .iter()
        .map(|c| col(mask_name(&c.name)))
        .reduce(|x, y| x.or(y))
        .unwrap_or_else(|| lit(false))
        .alias(CHANGED);
    let join = JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns);
    let joined = prepared(a.frame, 'a', keys, &compared)
        .join(prepared(b.frame, 'b', keys, &compared), key_exprs(keys), key_exprs(keys), join)
        .with_columns(masks)
        .with_column(any)
        .collect()
        .map_err(|source| DiffError::polars(table, "joining the sides on the keys", source))?;

    let count = |e: Expr, alias: String| e.sum().cast(DataType::UInt64).alias(alias);
    let mut sums = vec![
        count(col(IN_A).is_null(), "added".into()),
        count(col(IN_B).is_null(), "removed".into()),
        count(col(CHANGED), "changed".into()),
        count(both.clone(), "matched".into()),
    ];
    sums.extend(compared.iter().map(|c| count(col(mask_name(&c.name)), mask_name(&c.name))));
    let totals = joined
        .clone()
        .lazy()
        .select(sums)
        .collect()
        .map_err(|source| DiffError::polars(table, "counting the changes", source))?;
    let total = |name: &str| -> Result<u64, DiffError> {
        let column = totals.column(name)?;
        Ok(column.u64()?.get(0).unwrap_or(0))
    };
    let (added, removed, changed, matched) = (total("added")?, total("removed")?, total("changed")?, total("matched")?);
    let columns = compared
        .iter()
        .map(|c| Ok(ColumnChanges { column: c.name.clone(), changed: total(&mask_name(&c.name))? }))
        .collect::<Result<Vec<_>, DiffError>>()?;

    let first = |filter: Expr| -> Result<DataFrame, DiffError> {
        let sort = SortMultipleOptions { limit: Some(options.sample_rows as IdxSize), ..Default::default() };
        joined
            .clone()
            .lazy()
            .filter(filter)
            .sort(keys.to_vec(), sort)
            .limit(options.sample_rows as IdxSize)
            .collect()
            .map_err(|source| DiffError::polars(table, "sampling rows", source))
    };
    let keys_of = |frame: &DataFrame| -> Result<Vec<Vec<String>>, DiffError> {
        (0..frame.height()).map(|i| key_values(frame, keys, i)).collect()
    };
    let added_keys = keys_of(&first(col(IN_A).is_null())?)?;
    let removed_keys = keys_of(&first(col(IN_B).is_null())?)?;
    let changed_rows = first(col(CHANGED))?;
    let mut samples = Vec::with_capacity(changed_rows.height());
    for i in 0..changed_rows.height() {
        let mut cells = Vec::with_capacity(compared.len());
        for c in &compared {
            let value = |name: &str| -> Result<Option<String>, DiffError> {
                Ok(format_value(&changed_rows.column(name)?.get(i)?))
            };
            let flag = changed_rows.column(&mask_name(&c.name))?.bool()?.get(i).unwrap_or(false);
            cells.push(Cell {
                column: c.name.clone(),
                a: value(&side_name('a', &c.name))?,
                b: value(&side_name('b', &c.name))?,
                changed: flag,
            });
        }
        samples.push(ChangedRow { key: key_values(&changed_rows, keys, i)?, cells });
    }
    Ok(KeyedDiff { added, removed, changed, unchanged: matched - changed, columns, added_keys, removed_keys, samples })
}

/// The key of row `i`, one formatted value per key column (`null` for a null).
fn key_values(frame: &DataFrame, keys: &[String], i: usize) -> Result<Vec<String>, DiffError> {
    keys.iter().map(|k| Ok(format_value(&frame.column(k)?.get(i)?).unwrap_or_else(|| "null".to_string()))).collect()
}

/// Statistics of every column on both sides: A's columns in order, then the columns only B has.
fn stats_pairs(table: &str, a: &DataFrame, b: &DataFrame, top: usize) -> Result<Vec<ColumnStatsPair>, DiffError> {
    let mut names: Vec<String> = a.get_column_names().iter().map(|c| c.to_string()).collect();
    for name in b.get_column_names() {
        if !names.iter().any(|n| n.as_str() == name.as_str()) {
            names.push(name.to_string());
        }
    }
    let side = |frame: &DataFrame, name: &str| -> Result<_, DiffError> {
        match frame.column(name) {
            Ok(column) => Ok(Some(
                stats::column_stats(column, top)
                    .map_err(|source| DiffError::polars(table, &format!("computing statistics of {name}"), source))?,
            )),
            Err(_) => Ok(None),
        }
    };
    names
        .iter()
        .map(|name| Ok(ColumnStatsPair { column: name.clone(), a: side(a, name)?, b: side(b, name)? }))
        .collect()
}
