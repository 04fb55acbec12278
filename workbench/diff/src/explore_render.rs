//! Renderings of the market explorer's results: a market's profile, two markets side by side, and the overview
//! of every market, as aligned text or Markdown (JSON is the serialised model).

use crate::doc::{Align, Cell, Doc, Style, Table, number};
use crate::explore::{Comparison, MarketProfile, Overview};

/// A market's profile as a document.
pub fn profile_doc(p: &MarketProfile) -> Doc {
    let mut doc = Doc::default();
    doc.heading(1, format!("Market {}", p.market));
    doc.heading(2, "Hooks");
    let overridden = p.overrides().count();
    doc.para(if overridden == 0 {
        "Every hook has the base behaviour.".to_string()
    } else {
        format!("Overrides {overridden} of {} hooks (marked); the others have the base behaviour.", p.hooks.len())
    });
    let mut t = Table::new(&[("hook", Align::Left), ("implementation", Align::Left), ("what for", Align::Left)]);
    for h in &p.hooks {
        t.rows.push(vec![
            Cell::plain(&h.hook),
            Cell::marked_if(h.location(), h.overridden),
            Cell::plain(h.summary.clone().unwrap_or_default()),
        ]);
    }
    doc.table(t);

    doc.heading(2, "Raw format");
    if p.raw_format.is_empty() {
        doc.para("The base raw format (no differences).");
    } else {
        let mut t =
            Table::new(&[("raw setting", Align::Left), ("base", Align::Left), (p.market.as_str(), Align::Left)]);
        for d in &p.raw_format {
            t.rows.push(vec![Cell::plain(&d.key), Cell::plain(&d.base), Cell::marked_if(&d.market, true)]);
        }
        doc.table(t);
    }
    if let Some(normalize) = p.hooks.iter().find(|h| h.hook == "normalize" && h.overridden) {
        doc.para(format!(
            "normalize is overridden ({}): {}",
            normalize.location(),
            normalize.summary.clone().unwrap_or_else(|| "see the file".into())
        ));
    }

    doc.heading(2, "Resolved configuration");
    doc.para("Values that differ from pipeline-core/base.toml are marked; `-` means the base does not set the key.");
    let mut t = Table::new(&[("setting", Align::Left), ("value", Align::Left), ("base", Align::Left)]);
    for s in &p.config {
        t.rows.push(vec![
            Cell::plain(&s.key),
            Cell::marked_if(&s.value, s.differs_from_base()),
            Cell::plain(s.base.clone().unwrap_or_else(|| "-".into())),
        ]);
    }
    doc.table(t);

    doc.heading(2, "Model weights");
    let mut t = Table::new(&[("weight", Align::Left), ("value", Align::Right)]);
    for w in &p.model {
        t.row([w.name.clone(), number(w.value)]);
    }
    doc.table(t);
    doc
}

/// Two markets side by side as a document, differences marked.
pub fn comparison_doc(c: &Comparison) -> Doc {
    let mut doc = Doc::default();
    doc.heading(1, format!("{} vs {}", c.a, c.b));
    let hooks_differ = c.hooks.iter().filter(|h| h.differs).count();
    doc.para(format!(
        "{} of {} settings and weights differ, and {hooks_differ} of {} hooks run different code (marked).",
        c.differing_settings(),
        c.settings.len(),
        c.hooks.len()
    ));
    doc.heading(2, "Hooks");
    let mut t = Table::new(&[("hook", Align::Left), (c.a.as_str(), Align::Left), (c.b.as_str(), Align::Left)]);
    for h in &c.hooks {
        t.rows.push(vec![
            Cell::plain(&h.hook),
            Cell::marked_if(h.a.location(), h.differs),
            Cell::marked_if(h.b.location(), h.differs),
        ]);
    }
    doc.table(t);
    for (section, title) in [("config", "Configuration"), ("model", "Model weights")] {
        doc.heading(2, title);
        let mut t = Table::new(&[("setting", Align::Left), (c.a.as_str(), Align::Left), (c.b.as_str(), Align::Left)]);
        for s in c.settings.iter().filter(|s| s.section == section) {
            let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".into());
            t.rows.push(vec![
                Cell::plain(&s.key),
                Cell::marked_if(value(&s.a), s.differs),
                Cell::marked_if(value(&s.b), s.differs),
            ]);
        }
        doc.table(t);
    }
    doc
}

/// Every market at a glance: which hooks each overrides, and the settings that vary between markets (marked
/// where a market differs from the base).
pub fn overview_doc(o: &Overview) -> Doc {
    let mut doc = Doc::default();
    doc.heading(1, "Markets");
    doc.heading(2, "Hook overrides");
    let hooks: Vec<String> =
        o.markets.first().map(|m| m.hooks.iter().map(|h| h.hook.clone()).collect()).unwrap_or_default();
    let mut columns = vec![("market", Align::Left)];
    columns.extend(hooks.iter().map(|h| (h.as_str(), Align::Left)));
    let mut t = Table::new(&columns);
    for m in &o.markets {
        let mut row = vec![Cell::plain(&m.market)];
        row.extend(m.hooks.iter().map(|h| Cell::marked_if(h.location(), h.overridden)));
        t.rows.push(row);
    }
    doc.table(t);

    doc.heading(2, "Settings that vary between markets");
    doc.para("Values that differ from pipeline-core/base.toml are marked.");
    let mut columns = vec![("setting", Align::Left)];
    columns.extend(o.markets.iter().map(|m| (m.market.as_str(), Align::Left)));
    let mut t = Table::new(&columns);
    for key in o.varying_keys().into_iter().filter(|k| k != "id") {
        let mut row = vec![Cell::plain(&key)];
        for m in &o.markets {
            row.push(match m.setting(&key) {
                Some(s) => Cell::marked_if(&s.value, s.base.is_some() && s.differs_from_base()),
                None => Cell::plain("(not set)"),
            });
        }
        t.rows.push(row);
    }
    doc.table(t);

    doc.heading(2, "Model weights");
    let mut columns = vec![("weight", Align::Left)];
    columns.extend(o.markets.iter().map(|m| (m.market.as_str(), Align::Right)));
    let mut t = Table::new(&columns);
    let names: Vec<String> =
        o.markets.first().map(|m| m.model.iter().map(|w| w.name.clone()).collect()).unwrap_or_default();
    for (i, name) in names.iter().enumerate() {
        let mut row = vec![name.clone()];
        row.extend(o.markets.iter().map(|m| m.model.get(i).map(|w| number(w.value)).unwrap_or_default()));
        t.row(row);
    }
    doc.table(t);
    doc
}

/// A profile rendered in `style`.
pub fn profile(p: &MarketProfile, style: Style) -> String {
    profile_doc(p).render(style)
}

/// A comparison rendered in `style`.
pub fn comparison(c: &Comparison, style: Style) -> String {
    comparison_doc(c).render(style)
}

/// The overview rendered in `style`.
pub fn overview(o: &Overview, style: Style) -> String {
    overview_doc(o).render(style)
}
