//! Renderings of a [`StageDiff`]: aligned text for the terminal, Markdown for reviews, JSON for tools. They only
//! read the typed result.

use crate::doc::{Align, Cell, Doc, Style, Table, number, percent, signed};
use crate::model::{ColumnStats, MixDiff, Side, StageDiff, TableDiff};

/// The diff as aligned plain text (changed cells as `*value*`).
pub fn text(diff: &StageDiff) -> String {
    document(diff).render(Style::Text)
}

/// The diff as GitHub Markdown (changed cells in bold).
pub fn markdown(diff: &StageDiff) -> String {
    document(diff).render(Style::Markdown)
}

/// The diff as pretty-printed JSON (the [`StageDiff`] fields).
pub fn json(diff: &StageDiff) -> String {
    serde_json::to_string_pretty(diff).expect("a diff serialises")
}

/// The document both text renderings write.
pub fn document(diff: &StageDiff) -> Doc {
    let mut doc = Doc::default();
    doc.heading(1, format!("Diff of {}: {} (A) vs {} (B)", diff.stage, diff.a.label, diff.b.label));
    doc.table(sides(&diff.a, &diff.b));
    for table in &diff.tables {
        table_section(&mut doc, table, &diff.a, &diff.b);
    }
    for mix in &diff.mixes {
        mix_section(&mut doc, mix);
    }
    doc
}

fn sides(a: &Side, b: &Side) -> Table {
    let mut t = Table::new(&[("", Align::Left), ("A", Align::Left), ("B", Align::Left)]);
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    t.row(["market".to_string(), a.market.clone(), b.market.clone()]);
    for (name, va, vb) in [
        ("run", &a.run_id, &b.run_id),
        ("revision", &a.revision, &b.revision),
        ("cache key", &a.cache_key, &b.cache_key),
        ("location", &a.location, &b.location),
    ] {
        if va.is_some() || vb.is_some() {
            t.row([name.to_string(), or_dash(va), or_dash(vb)]);
        }
    }
    t
}

fn table_section(doc: &mut Doc, table: &TableDiff, a: &Side, b: &Side) {
    doc.heading(2, format!("Table {}", table.table));
    let compared = if table.tolerance > 0.0 {
        format!("numbers equal within {}", number(table.tolerance))
    } else {
        "values compared exactly".to_string()
    };
    doc.para(format!("Rows matched on {}; {compared}.", table.keys.join(", ")));
    let k = &table.keyed;
    let mut counts = Table::new(&[("rows", Align::Left), ("count", Align::Right)]);
    counts.row(["in A".to_string(), table.rows.a.to_string()]);
    counts.row(["in B".to_string(), table.rows.b.to_string()]);
    counts.row(["B - A".to_string(), signed(table.rows.delta())]);
    counts.row(["added (only in B)".to_string(), k.added.to_string()]);
    counts.row(["removed (only in A)".to_string(), k.removed.to_string()]);
    counts.row(["changed".to_string(), k.changed.to_string()]);
    counts.row(["unchanged".to_string(), k.unchanged.to_string()]);
    doc.table(counts);

    doc.heading(3, "Schema");
    if table.schema.is_empty() {
        doc.para("Same columns with the same types.");
    } else {
        let mut t = Table::new(&[("column", Align::Left), ("A", Align::Left), ("B", Align::Left)]);
        for c in &table.schema.only_in_a {
            t.rows.push(vec![Cell::plain(&c.column), Cell::marked_if(&c.dtype, true), Cell::marked_if("-", true)]);
        }
        for c in &table.schema.only_in_b {
            t.rows.push(vec![Cell::plain(&c.column), Cell::marked_if("-", true), Cell::marked_if(&c.dtype, true)]);
        }
        for c in &table.schema.type_changes {
            t.rows.push(vec![Cell::plain(&c.column), Cell::marked_if(&c.a, true), Cell::marked_if(&c.b, true)]);
        }
        doc.table(t);
    }

    doc.heading(3, "Changed values per column");
    if k.columns.is_empty() {
        doc.para("No columns to compare besides the keys.");
    } else {
        let mut t = Table::new(&[("column", Align::Left), ("changed rows", Align::Right)]);
        for c in &k.columns {
            t.rows.push(vec![Cell::plain(&c.column), Cell::marked_if(c.changed.to_string(), c.changed > 0)]);
        }
        doc.table(t);
    }

    if !k.samples.is_empty() {
        doc.heading(3, format!("Changed rows (first {} by key, changed cells marked)", k.samples.len()));
        let mut columns: Vec<(&str, Align)> = table.keys.iter().map(|key| (key.as_str(), Align::Left)).collect();
        columns.push(("side", Align::Left));
        let names: Vec<&str> = k.samples[0].cells.iter().map(|c| c.column.as_str()).collect();
        columns.extend(names.iter().map(|n| (*n, Align::Left)));
        let mut t = Table::new(&columns);
        let null = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".into());
        for row in &k.samples {
            let mut first: Vec<Cell> = row.key.iter().map(Cell::plain).collect();
            first.push(Cell::plain(&a.label));
            first.extend(row.cells.iter().map(|c| Cell::marked_if(null(&c.a), c.changed)));
            let mut second: Vec<Cell> = row.key.iter().map(|_| Cell::plain("")).collect();
            second.push(Cell::plain(&b.label));
            second.extend(row.cells.iter().map(|c| Cell::marked_if(null(&c.b), c.changed)));
            t.rows.push(first);
            t.rows.push(second);
        }
        doc.table(t);
    }
    for (title, keys, total) in [("Added keys", &k.added_keys, k.added), ("Removed keys", &k.removed_keys, k.removed)] {
        if keys.is_empty() {
            continue;
        }
        let shown: Vec<String> = keys.iter().map(|key| key.join("/")).collect();
        let more =
            if total > keys.len() as u64 { format!(" and {} more", total - keys.len() as u64) } else { String::new() };
        doc.heading(3, format!("{title} (first {} by key)", keys.len()));
        doc.para(format!("{}{more}", shown.join(", ")));
    }

    doc.heading(3, "Column statistics");
    let mut t = Table::new(&[
        ("column", Align::Left),
        ("side", Align::Left),
        ("type", Align::Left),
        ("nulls", Align::Right),
        ("min", Align::Left),
        ("max", Align::Left),
        ("mean", Align::Right),
        ("distinct", Align::Right),
        ("top values", Align::Left),
    ]);
    for pair in &table.stats {
        let cells = |stats: &Option<ColumnStats>, other: &Option<ColumnStats>| -> Vec<Cell> {
            let Some(s) = stats else { return vec![Cell::marked_if("(no column)", true)] };
            let theirs = other.as_ref().map(stat_fields);
            stat_fields(s)
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let differs = theirs.as_ref().is_some_and(|o| o[i] != v);
                    Cell::marked_if(v, differs)
                })
                .collect()
        };
        let mut first = vec![Cell::plain(&pair.column), Cell::plain(&a.label)];
        first.extend(cells(&pair.a, &pair.b));
        let mut second = vec![Cell::plain(""), Cell::plain(&b.label)];
        second.extend(cells(&pair.b, &pair.a));
        for row in [first, second] {
            let mut row = row;
            row.resize(9, Cell::plain(""));
            t.rows.push(row);
        }
    }
    doc.table(t);
}

/// The statistics shown per side, in table column order.
fn stat_fields(s: &ColumnStats) -> Vec<String> {
    vec![
        s.dtype.clone(),
        percent(s.null_share),
        s.min.clone().unwrap_or_default(),
        s.max.clone().unwrap_or_default(),
        s.mean.map(number).unwrap_or_default(),
        s.distinct.to_string(),
        top_values(s),
    ]
}

fn top_values(s: &ColumnStats) -> String {
    if s.top.is_empty() {
        return if s.distinct > 0 { "all distinct".into() } else { String::new() };
    }
    s.top.iter().map(|v| format!("{} ({})", v.value, v.count)).collect::<Vec<_>>().join(", ")
}

fn mix_section(doc: &mut Doc, mix: &MixDiff) {
    doc.heading(2, format!("Mix of {}", mix.column));
    let mut t = Table::new(&[
        (mix.column.as_str(), Align::Left),
        ("A", Align::Right),
        ("A share", Align::Right),
        ("B", Align::Right),
        ("B share", Align::Right),
        ("change (points)", Align::Right),
    ]);
    for row in &mix.values {
        let points = match format!("{:+.1}", (row.b_share - row.a_share) * 100.0) {
            zero if zero == "-0.0" || zero == "+0.0" => "0.0".to_string(),
            points => points,
        };
        t.rows.push(vec![
            Cell::plain(&row.value),
            Cell::plain(row.a.to_string()),
            Cell::plain(percent(row.a_share)),
            Cell::plain(row.b.to_string()),
            Cell::plain(percent(row.b_share)),
            Cell::marked_if(points, row.a != row.b),
        ]);
    }
    t.row([
        "total".to_string(),
        mix.total_a.to_string(),
        String::new(),
        mix.total_b.to_string(),
        String::new(),
        String::new(),
    ]);
    doc.table(t);
}
