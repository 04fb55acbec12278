//! The per-run report pages published to S3 (`services::reports`): a market's report ([`report_html`]) and
//! the index over the newest runs ([`index_html`]). Self-contained HTML: inline CSS, inline SVG
//! (`present::svg`), no scripts and nothing fetched, every string from data escaped. The index is a plain
//! table (no per-row charts) so it stays small and quick to load after thousands of runs. Not to be confused
//! with `present::report`, `wb run`'s text report.

use crate::history::Level;
use crate::services::reports::{CheckReport, REPORT_HTML, ReportIndex, ReportRenderer, RunReport, report_key};
use pipeline_core::CheckDetail;

use super::report::duration;
use super::svg::{band_chart, drift_chart, escape, number};

/// The renderers `services::reports::publish` writes with.
pub const RENDERER: ReportRenderer = ReportRenderer { report: report_html, index: index_html };

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;\
vertical-align:top}th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.pass,.ok{color:#2b8a3e}.alert{color:#b35c00;font-weight:600}.fail,.error{color:#c92a2a;font-weight:700}\
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:600}dd{margin:0}\
figure{margin:0 0 1.5em}figcaption{font-size:13px;margin-bottom:4px}code{font-size:12px}";

/// The page head with `title`.
fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style>\
         </head><body>\n",
        escape(title)
    )
}

/// A status or level as a span with its class (the class is one of a fixed set of names).
fn status(name: &str) -> String {
    let class: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    format!("<span class=\"{class}\">{}</span>", escape(name))
}

/// The thresholds of a check: the rule text, and for a history band its ALERT and FAIL ranges, for a drift
/// test its α.
pub fn thresholds(check: &CheckReport) -> String {
    let mut out = escape(&check.rule);
    match &check.detail {
        Some(CheckDetail::Band(band)) if band.sd.is_finite() => {
            let ((a0, a1), (f0, f1)) = (band.alert_range(), band.fail_range());
            out.push_str(&format!(
                "<br>ALERT outside [{}, {}] (mean {} ± {}σ, σ {}), FAIL outside [{}, {}] (± {}σ)",
                number(a0),
                number(a1),
                number(band.mean),
                number(band.alert_sigma),
                number(band.sd),
                number(f0),
                number(f1),
                number(band.fail_sigma)
            ));
        }
        Some(CheckDetail::Drift(drift)) => {
            out.push_str(&format!("<br>ALERT if p &lt; α = {}", number(drift.alpha)));
        }
        _ => {}
    }
    out
}

/// A market's report page: the run's facts, the stages with their durations, every check with its level,
/// measured value and thresholds, a chart per history band and per drift test, and the metrics.
pub fn report_html(report: &RunReport) -> String {
    let mut out = head(&format!("{} · run {}", report.market, report.run_id));
    out.push_str(&format!("<h1>{} · run {}</h1>\n<dl>", escape(&report.market), escape(&report.run_id)));
    let commit = match (&report.git_commit, report.git_dirty) {
        (Some(c), Some(true)) => format!("{} (dirty)", escape(c)),
        (Some(c), _) => escape(c),
        (None, _) => "-".to_string(),
    };
    let facts: Vec<(&str, String)> = vec![
        ("status", status(&report.status)),
        ("run status", status(&report.run_status)),
        ("as_of", escape(report.as_of.as_deref().unwrap_or("-"))),
        ("started", escape(&report.started_at)),
        ("finished", escape(report.finished_at.as_deref().unwrap_or("-"))),
        ("duration", report.duration_ms.map_or_else(|| "-".to_string(), duration)),
        ("commit", commit),
        ("backend", escape(&report.backend)),
        ("command", format!("<code>{}</code>", escape(&report.command))),
        (
            "checks",
            format!(
                "{} pass, {} alert, {} fail",
                report.count(Level::Pass),
                report.count(Level::Alert),
                report.count(Level::Fail)
            ),
        ),
    ];
    for (label, value) in facts {
        out.push_str(&format!("<dt>{label}</dt><dd>{value}</dd>"));
    }
    if let Some(error) = &report.error {
        out.push_str(&format!("<dt>error</dt><dd class=\"error\">{}</dd>", escape(error)));
    }
    out.push_str(
        "</dl>\n<h2>Stages</h2>\n<table><tr><th>stage</th><th>status</th><th>time</th><th>rows</th><th>cache</th></tr>",
    );
    for s in &report.stages {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&s.stage),
            status(s.status.as_str()),
            duration(s.duration_ms),
            s.rows,
            if s.cache_hit { "cached" } else { "ran" }
        ));
    }
    out.push_str("</table>\n<h2>Checks</h2>\n<table><tr><th>stage</th><th>check</th><th>subject</th><th>level</th><th>measured</th><th>thresholds</th><th>message</th></tr>");
    for check in &report.checks {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&check.stage),
            escape(&check.name),
            escape(&check.subject),
            status(check.level.as_str()),
            number(check.measured),
            thresholds(check),
            escape(&check.message)
        ));
    }
    out.push_str("</table>\n");
    let bands: Vec<_> = report
        .checks
        .iter()
        .filter_map(|c| match &c.detail {
            Some(CheckDetail::Band(band)) => Some((c, band)),
            _ => None,
        })
        .collect();
    if !bands.is_empty() {
        out.push_str("<h2>History bands</h2>\n");
        for (check, band) in bands {
            out.push_str(&format!(
                "<figure><figcaption>{} {} — {}: this run {} ({} of {} runs needed)</figcaption>{}</figure>\n",
                escape(&check.name),
                escape(&check.subject),
                status(check.level.as_str()),
                number(check.measured),
                band.history.len(),
                band.required,
                band_chart(band, check.measured)
            ));
        }
    }
    let drifts: Vec<_> = report
        .checks
        .iter()
        .filter_map(|c| match &c.detail {
            Some(CheckDetail::Drift(drift)) => Some((c, drift)),
            _ => None,
        })
        .collect();
    if !drifts.is_empty() {
        out.push_str("<h2>Drift tests</h2>\n");
        for (check, drift) in drifts {
            out.push_str(&format!(
                "<figure><figcaption>{} {} — {}: {} statistic {}, p {}, α {}, baseline run {}</figcaption>{}</figure>\n",
                escape(&check.name),
                escape(&check.subject),
                status(check.level.as_str()),
                escape(&drift.test),
                number(drift.statistic),
                number(drift.p_value),
                number(drift.alpha),
                escape(&drift.baseline_run),
                drift_chart(drift)
            ));
        }
    }
    out.push_str("<h2>Metrics</h2>\n");
    if report.metrics.is_empty() {
        out.push_str("<p>No metrics recorded.</p>\n");
    } else {
        out.push_str("<table><tr><th>metric</th><th>value</th></tr>");
        for (name, value) in &report.metrics {
            out.push_str(&format!("<tr><td>{}</td><td class=\"n\">{}</td></tr>", escape(name), number(*value)));
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// The index page: every run listed, newest first, with its start time and status, and per market a relative
/// link to its report with the market's status and alert and fail counts. One plain table.
pub fn index_html(index: &ReportIndex) -> String {
    let mut out = head("Run reports");
    out.push_str(&format!(
        "<h1>Run reports</h1>\n<p>{} runs, newest first{}.</p>\n<table><tr><th>run</th><th>started</th><th>status</th>\
         <th>markets (alerts/fails)</th></tr>\n",
        index.runs.len(),
        if index.truncated { "; older runs are not listed here (see `wb runs`)" } else { "" }
    ));
    for run in &index.runs {
        let run_id = escape(&run.run_id);
        let first = run.markets.first().map(|m| escape(&report_key(&m.market, &run.run_id, REPORT_HTML)));
        let id_cell = match first {
            Some(href) => format!("<a href=\"{href}\">{run_id}</a>"),
            None => run_id,
        };
        let markets: Vec<String> = run
            .markets
            .iter()
            .map(|m| {
                format!(
                    "<a href=\"{}\">{}</a> {} {}/{}",
                    escape(&report_key(&m.market, &run.run_id, REPORT_HTML)),
                    escape(&m.market),
                    status(&m.status),
                    m.alerts,
                    m.fails
                )
            })
            .collect();
        out.push_str(&format!(
            "<tr><td>{id_cell}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&run.started_at),
            status(&run.status),
            markets.join(" · ")
        ));
    }
    out.push_str("</table>\n</body></html>\n");
    out
}
