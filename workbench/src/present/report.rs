//! What `wb run` prints for people: one line per stage as it finishes (with alerts, failures and quarantine
//! locations), one line per market as it ends, and a summary table at the end. Every function renders from
//! records and durations it is given, so tests can assert the text with fixed values.

use pipeline_core::{CheckStatus, RunStatus, Stage, StageRecord};

pub use crate::services::runs::{BUDGET_MS, MarketSummary, duration};

/// `10 B`, `3.4 KiB`, `12.0 MiB`, `1.5 GiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The lines for a finished stage: `market stage status rows duration [cached]`, then one line per alert or
/// failed check, the stage's error, and where rejected rows went (outputs in the `quarantine_bucket`).
pub fn stage_lines(market: &str, width: usize, record: &StageRecord, quarantine_bucket: &str) -> Vec<String> {
    let cached = if record.cache_hit { "  cached" } else { "" };
    let mut lines = vec![format!(
        "{market:<width$}  {stage:<9}  {status:<5}  {rows:>9} rows  {time:>6}{cached}",
        stage = record.stage.name(),
        status = record.status.as_str(),
        rows = record.rows,
        time = duration(record.duration_ms),
    )];
    let indent = " ".repeat(width + 4);
    for check in record.checks.iter().filter(|c| c.status != CheckStatus::Pass) {
        lines.push(format!("{indent}{}: {} {}: {}", check.status, check.name, check.subject, check.message));
    }
    if let Some(error) = &record.error {
        lines.push(format!("{indent}error: {}", indent_more(error, &indent)));
    }
    let prefix = format!("s3://{quarantine_bucket}/");
    for url in record.outputs.iter().filter(|u| u.starts_with(&prefix)) {
        lines.push(format!("{indent}quarantine: {url}"));
    }
    lines
}

/// The line for a market that ended, plus its error.
pub fn market_lines(
    market: &str,
    width: usize,
    status: RunStatus,
    duration_ms: u64,
    error: Option<&str>,
) -> Vec<String> {
    let mut lines = vec![format!("{market:<width$}  => {} in {}", status.as_str(), duration(duration_ms))];
    if let Some(error) = error {
        let indent = " ".repeat(width + 4);
        lines.push(format!("{indent}{}", indent_more(error, &indent)));
    }
    lines
}

fn indent_more(text: &str, indent: &str) -> String {
    text.lines().collect::<Vec<_>>().join(&format!("\n{indent}"))
}

/// The summary table: one row per market, one column per stage that ran anywhere (`status duration`, or
/// `status cached`, `-` where the stage did not run), the market's result and time; then the total and the
/// first line of each market's error.
pub fn summary(markets: &[MarketSummary], total_ms: u64) -> String {
    let stages: Vec<Stage> =
        Stage::ALL.into_iter().filter(|s| markets.iter().any(|m| m.records.iter().any(|r| r.stage == *s))).collect();
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(markets.len() + 1);
    let mut header = vec!["market".to_string()];
    header.extend(stages.iter().map(|s| s.name().to_string()));
    header.extend(["result".to_string(), "time".to_string()]);
    rows.push(header);
    for m in markets {
        let mut row = vec![m.market.clone()];
        for stage in &stages {
            row.push(match m.records.iter().find(|r| r.stage == *stage) {
                Some(r) if r.cache_hit => format!("{} cached", r.status.as_str()),
                Some(r) => format!("{} {}", r.status.as_str(), duration(r.duration_ms)),
                None => "-".to_string(),
            });
        }
        row.extend([m.status.as_str().to_string(), duration(m.duration_ms)]);
        rows.push(row);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> =
        (0..columns).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    let ran: usize = markets.iter().map(|m| m.records.len()).sum();
    let cached: usize = markets.iter().map(|m| m.records.iter().filter(|r| r.cache_hit).count()).sum();
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    out.push_str(&format!(
        "total {}: {}, {} ({cached} cached)\n",
        duration(total_ms),
        plural(markets.len(), "market"),
        plural(ran, "stage")
    ));
    for m in markets {
        if let Some(error) = &m.error {
            out.push_str(&format!("{}: {}\n", m.market, error.lines().next().unwrap_or_default()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pipeline_core::{CheckResult, StageStatus};

    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(
            [size(10), size(3 * 1024 + 512), size(12 * 1024 * 1024), size(3 << 30)],
            ["10 B", "3.5 KiB", "12.0 MiB", "3.0 GiB"]
        );
    }

    fn record(stage: Stage, status: StageStatus, cache_hit: bool, rows: u64, duration_ms: u64) -> StageRecord {
        StageRecord {
            metrics: Default::default(),
            stage,
            cache_key: "k".into(),
            status,
            cache_hit,
            rows,
            tables: BTreeMap::new(),
            bytes: 0,
            duration_ms,
            checks: Vec::new(),
            outputs: Vec::new(),
            produced_by: "r".into(),
            error: None,
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!([duration(0), duration(999), duration(1234), duration(59_999)], ["0ms", "999ms", "1.2s", "60.0s"]);
        assert_eq!(duration(185_000), "3m05s");
    }

    #[test]
    fn a_stage_line_shows_alerts_errors_and_quarantine() {
        let mut r = record(Stage::Ingest, StageStatus::Alert, false, 15262, 1234);
        r.checks = vec![
            CheckResult::count_share("parse_errors", "orders", 3, 15262, 0.01, "lines quarantined"),
            CheckResult::count_share("parse_errors", "customers", 0, 2400, 0.01, "lines quarantined"),
        ];
        r.outputs =
            vec!["s3://work/foobar-au/ingest/k/orders.parquet".into(), "s3://quarantine/foobar-au/r/orders.csv".into()];
        assert_eq!(
            stage_lines("foobar-au", 9, &r, "quarantine"),
            [
                "foobar-au  ingest     alert      15262 rows    1.2s",
                "             alert: parse_errors orders: 3 of 15262 lines quarantined (0.020%)",
                "             quarantine: s3://quarantine/foobar-au/r/orders.csv",
            ]
        );
        let mut cached = record(Stage::Validate, StageStatus::Fail, true, 0, 5);
        cached.error = Some("raw file s3://raw/foobar-au/orders.csv is missing required column 'amount'".into());
        assert_eq!(
            stage_lines("foobar-au", 9, &cached, "quarantine"),
            [
                "foobar-au  validate   fail           0 rows     5ms  cached",
                "             error: raw file s3://raw/foobar-au/orders.csv is missing required column 'amount'",
            ]
        );
    }

    #[test]
    fn the_summary_table_is_rendered_from_records() {
        let au = MarketSummary {
            market: "foobar-au".into(),
            status: RunStatus::Alert,
            records: vec![
                record(Stage::Ingest, StageStatus::Ok, true, 1, 3),
                record(Stage::Validate, StageStatus::Alert, false, 1, 40),
                record(Stage::Features, StageStatus::Ok, false, 1, 1250),
            ],
            duration_ms: 1400,
            error: None,
        };
        let br = MarketSummary {
            market: "foobar-br".into(),
            status: RunStatus::Fail,
            records: vec![record(Stage::Ingest, StageStatus::Fail, false, 0, 800)],
            duration_ms: 900,
            error: Some("stage ingest failed its checks; later stages did not run\nmore".into()),
        };
        assert_eq!(
            summary(&[au, br], 2100),
            "\
market     ingest      validate    features  result  time
foobar-au  ok cached   alert 40ms  ok 1.2s   alert   1.4s
foobar-br  fail 800ms  -           -         fail    900ms
total 2.1s: 2 markets, 4 stages (1 cached)
foobar-br: stage ingest failed its checks; later stages did not run
"
        );
    }
}
