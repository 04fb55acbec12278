//! Per-column statistics (null share, min, max, mean, distinct count, top values) and the value mix of a column
//! on both sides, computed with polars' column kernels.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::engine::Labeled;
use crate::model::{ColumnStats, MixDiff, MixRow, ValueCount};
use crate::value::{dtype_name, format_value};

/// Name of the count column of value counts; chosen not to clash with a data column.
const COUNT: &str = "__wb_count";

/// The statistics of one column, with its `top` most frequent values (none when every value is distinct).
pub fn column_stats(column: &Column, top: usize) -> PolarsResult<ColumnStats> {
    let s = column.as_materialized_series();
    let rows = s.len() as u64;
    let nulls = s.null_count() as u64;
    let non_null = s.drop_nulls();
    let distinct = if non_null.is_empty() { 0 } else { non_null.n_unique()? as u64 };
    let extreme = |r: PolarsResult<Scalar>| r.ok().and_then(|scalar| format_value(scalar.value()));
    let dtype = s.dtype();
    let mean = if dtype.is_primitive_numeric() || dtype.is_bool() { s.mean() } else { None };
    let top = if top > 0 && distinct < non_null.len() as u64 { top_values(&non_null, top)? } else { Vec::new() };
    Ok(ColumnStats {
        dtype: dtype_name(dtype),
        nulls,
        null_share: if rows == 0 { 0.0 } else { nulls as f64 / rows as f64 },
        min: extreme(s.min_reduce()),
        max: extreme(s.max_reduce()),
        mean,
        distinct,
        top,
    })
}

/// Every value of `s` (nulls included, as `None`) with its count, unsorted.
fn counts(s: &Series) -> PolarsResult<DataFrame> {
    s.value_counts(false, true, COUNT.into(), false)
}

/// The `k` most frequent values of a null-free series, ties broken by value ascending.
fn top_values(s: &Series, k: usize) -> PolarsResult<Vec<ValueCount>> {
    let options = SortMultipleOptions {
        limit: Some(k as IdxSize),
        ..SortMultipleOptions::default().with_order_descending_multi([true, false])
    };
    let sorted = counts(s)?.sort([COUNT, s.name().as_str()], options)?.head(Some(k));
    let (values, n) = (sorted.column(s.name().as_str())?, sorted.column(COUNT)?.cast(&DataType::UInt64)?);
    let n = n.u64()?;
    (0..sorted.height())
        .map(|i| {
            Ok(ValueCount {
                value: format_value(&values.get(i)?).unwrap_or_else(|| "null".into()),
                count: n.get(i).unwrap_or(0),
            })
        })
        .collect()
}

/// The mix of `column`'s values on both sides; `None` when neither side has the column. A side without it counts
/// no rows for every value.
pub fn mix(column: &str, a: Labeled, b: Labeled) -> PolarsResult<Option<MixDiff>> {
    let (ca, cb) = (a.frame.column(column).ok(), b.frame.column(column).ok());
    if ca.is_none() && cb.is_none() {
        return Ok(None);
    }
    let mut values: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (i, c) in [ca, cb].into_iter().enumerate() {
        let Some(c) = c else { continue };
        let s = c.as_materialized_series();
        let df = counts(s)?;
        let (v, n) = (df.column(s.name().as_str())?, df.column(COUNT)?.cast(&DataType::UInt64)?);
        let n = n.u64()?;
        for row in 0..df.height() {
            let value = format_value(&v.get(row)?).unwrap_or_else(|| "null".into());
            let entry = values.entry(value).or_default();
            let count = n.get(row).unwrap_or(0);
            if i == 0 { entry.0 += count } else { entry.1 += count }
        }
    }
    let (total_a, total_b) = (a.frame.height() as u64, b.frame.height() as u64);
    let share = |n: u64, total: u64| if total == 0 { 0.0 } else { n as f64 / total as f64 };
    let mut rows: Vec<MixRow> = values
        .into_iter()
        .map(|(value, (na, nb))| MixRow {
            value,
            a: na,
            a_share: share(na, total_a),
            b: nb,
            b_share: share(nb, total_b),
        })
        .collect();
    rows.sort_by(|x, y| (y.a + y.b).cmp(&(x.a + x.b)).then_with(|| x.value.cmp(&y.value)));
    Ok(Some(MixDiff { column: column.to_string(), total_a, total_b, values: rows }))
}
