//! Inline SVG for the run reports: a metric's history band ([`band_chart`]) and a drift test's two
//! distributions ([`drift_chart`]), plus the escaping every string from data goes through ([`escape`]). Pure
//! functions returning markup; the charts carry their numbers as text too, so the page reads without them.

use pipeline_core::checks::{Band, DriftDetail};

/// Escapes text for HTML and SVG (element content and quoted attributes): `&`, `<`, `>`, `"` and `'`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value as the reports write it: integers whole, small magnitudes in scientific notation, others to four
/// significant decimals (`1234`, `0.0123`, `1.500e-7`, `NaN`).
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    if value != 0.0 && value.abs() < 1e-3 {
        return format!("{value:.3e}");
    }
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

const WIDTH: f64 = 520.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 26.0;

/// A coordinate, to one decimal.
fn c(v: f64) -> String {
    format!("{v:.1}")
}

/// A metric's history band: the history values as points (oldest left), the mean as a line, the ALERT band
/// (mean ± alert σ) and the wider FAIL band shaded, and the current value marked at the right. Bands with a
/// non-finite σ (too little history) are left out.
pub fn band_chart(band: &Band, current: f64) -> String {
    let finite = band.sd.is_finite() && band.mean.is_finite();
    let (alert, fail) = (band.alert_range(), band.fail_range());
    let mut values: Vec<f64> = band.history.iter().copied().filter(|v| v.is_finite()).collect();
    if current.is_finite() {
        values.push(current);
    }
    if finite {
        values.extend([fail.0, fail.1, band.mean]);
    }
    let (mut lo, mut hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo, hi) = (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * plot_h;
    let slots = band.history.len() + 1;
    let step = (WIDTH - LEFT - RIGHT) / slots as f64;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let right = WIDTH - RIGHT;
    let title = format!("{} history band", band.metric);
    let mut svg = format!(
        r#"<svg class="band" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"><title>{t}</title>"#,
        w = WIDTH,
        h = HEIGHT,
        t = escape(&title)
    );
    svg.push_str(&format!(
        r##"<rect x="{l}" y="{t}" width="{pw}" height="{ph}" fill="#fff" stroke="#ccc"/>"##,
        l = LEFT,
        t = TOP,
        pw = WIDTH - LEFT - RIGHT,
        ph = plot_h
    ));
    if finite {
        let shade = |class: &str, (a, b): (f64, f64), fill: &str| {
            format!(
                r#"<rect class="{class}" x="{l}" y="{y}" width="{w}" height="{h}" fill="{fill}"><title>{class} {a} to {b}</title></rect>"#,
                l = LEFT,
                y = c(y(b)),
                w = WIDTH - LEFT - RIGHT,
                h = c((y(a) - y(b)).max(0.0)),
                a = escape(&number(a)),
                b = escape(&number(b)),
            )
        };
        svg.push_str(&shade("fail-band", fail, "#fde2e1"));
        svg.push_str(&shade("alert-band", alert, "#fff4c2"));
        svg.push_str(&format!(
            r##"<line class="mean" x1="{l}" x2="{r}" y1="{m}" y2="{m}" stroke="#555" stroke-dasharray="4 3"><title>mean {v}</title></line>"##,
            l = LEFT,
            r = c(right),
            m = c(y(band.mean)),
            v = number(band.mean)
        ));
    }
    for (i, v) in band.history.iter().enumerate().filter(|(_, v)| v.is_finite()) {
        svg.push_str(&format!(
            r##"<circle class="point" cx="{}" cy="{}" r="3" fill="#4a6fa5"><title>{}</title></circle>"##,
            c(x(i)),
            c(y(*v)),
            number(*v)
        ));
    }
    if current.is_finite() {
        let (cx, cy) = (x(slots - 1), y(current));
        svg.push_str(&format!(
            r##"<circle class="current" cx="{}" cy="{}" r="5" fill="#d9480f" stroke="#000"><title>this run {}</title></circle>"##,
            c(cx),
            c(cy),
            number(current)
        ));
    }
    for v in [hi - pad, lo + pad] {
        svg.push_str(&format!(
            r#"<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>"#,
            c(LEFT - 4.0),
            c(y(v) + 3.0),
            escape(&number(v))
        ));
    }
    let earlier = match band.history.len() {
        1 => "1 earlier run".to_string(),
        n => format!("{n} earlier runs, oldest left"),
    };
    svg.push_str(&format!(
        r#"<text x="{l}" y="{b}" font-size="10">{earlier}; this run at the right</text></svg>"#,
        l = LEFT,
        b = c(HEIGHT - 8.0),
    ));
    svg
}

/// A drift test: per label, this run's share and the baseline's as paired bars, with the statistic, the
/// p-value and α written above.
pub fn drift_chart(drift: &DriftDetail) -> String {
    let n = drift.labels.len().max(1);
    let label_every = n.div_ceil(10);
    let group = (WIDTH - LEFT - RIGHT) / n as f64;
    let bar = (group * 0.35).min(28.0);
    let max = drift.current.iter().chain(&drift.baseline).copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let plot_h = HEIGHT - TOP - BOTTOM - 14.0;
    let base_y = HEIGHT - BOTTOM;
    let h = |v: f64| if v.is_finite() { (v / max * plot_h).max(0.0) } else { 0.0 };
    let caption = format!(
        "{}: statistic {}, p {}, α {}",
        drift.test,
        number(drift.statistic),
        number(drift.p_value),
        number(drift.alpha)
    );
    let mut svg = format!(
        r#"<svg class="drift" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{hh}" viewBox="0 0 {w} {hh}" role="img" aria-label="{t}"><title>{t}</title>"#,
        w = WIDTH,
        hh = HEIGHT,
        t = escape(&caption)
    );
    svg.push_str(&format!(
        r#"<text class="stats" x="{l}" y="12" font-size="11">{}</text>"#,
        escape(&caption),
        l = LEFT
    ));
    svg.push_str(&format!(
        r##"<line x1="{l}" x2="{r}" y1="{b}" y2="{b}" stroke="#999"/>"##,
        l = LEFT,
        r = WIDTH - RIGHT,
        b = base_y
    ));
    for (i, label) in drift.labels.iter().enumerate() {
        let gx = LEFT + group * i as f64 + group / 2.0;
        let current = drift.current.get(i).copied().unwrap_or(f64::NAN);
        let baseline = drift.baseline.get(i).copied().unwrap_or(f64::NAN);
        for (class, value, x0, fill) in
            [("baseline", baseline, gx - bar, "#adb5bd"), ("current", current, gx, "#4a6fa5")]
        {
            svg.push_str(&format!(
                r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}" fill="{fill}"><title>{} {class} {}</title></rect>"#,
                c(x0),
                c(base_y - h(value)),
                c(bar),
                c(h(value)),
                escape(label),
                number(value)
            ));
        }
        // At most about ten labels under the axis, so a KS test's many bins stay legible (each bar's title
        // names its label).
        if i % label_every == 0 {
            svg.push_str(&format!(
                r#"<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
                c(gx),
                c(base_y + 12.0),
                escape(label)
            ));
        }
    }
    svg.push_str(&format!(
        r##"<text x="{r}" y="12" font-size="10" text-anchor="end"><tspan fill="#adb5bd">■ baseline {b}</tspan> <tspan fill="#4a6fa5">■ this run</tspan></text></svg>"##,
        r = WIDTH - RIGHT,
        b = escape(&drift.baseline_run)
    ));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(escape(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn numbers_are_short_and_exact_where_whole() {
        assert_eq!(number(1234.0), "1234");
        assert_eq!(number(0.0123), "0.0123");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(1.5e-7), "1.500e-7");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
