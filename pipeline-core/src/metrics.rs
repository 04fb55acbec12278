//! Stage metrics: what each stage measures on its output, by name, so run history can keep them, the history
//! checks can hold a run against the market's earlier runs, and the KPI screen can plot them.
//!
//! Names are `{stage}.{what}[.{detail}]`:
//! - `{stage}.rows.{table}`: rows of each work table (`ingest.rows.orders`, `recommend.rows.recommendations`);
//! - `ingest.quarantine_share` and `ingest.quarantine_share.{table}`: rejected lines over data lines;
//! - `ingest.null_share.{table}.{column}`: nulls over rows of each canonical column;
//! - `features.monetary_sum_usd`: the 90-day monetary sum of every customer, in USD;
//! - `score.propensity.{mean,sd,p10,p50,p90}`;
//! - `recommend.action_share.{action}` and `recommend.channel_share.{channel}`;
//! - `score.drift.ks_p` and `recommend.drift.action_chi2_p`: the drift tests' p-values (the engine adds them).

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::schema::{CHANNELS, Table};
use crate::stages::{Stage, StageOutput};

/// The actions `recommend` can give.
pub const ACTIONS: [&str; 3] = ["offer", "nurture", "winback"];

/// The quantiles of propensity recorded.
const QUANTILES: [(&str, f64); 3] = [("p10", 0.1), ("p50", 0.5), ("p90", 0.9)];

/// Metric name of the KS drift test's p-value on propensity.
pub const KS_P: &str = "score.drift.ks_p";
/// Metric name of the chi-square drift test's p-value on the action mix.
pub const ACTION_CHI2_P: &str = "recommend.drift.action_chi2_p";

/// Every metric `stage` can record, by name (the catalog `is_known` checks config against).
pub fn catalog() -> Vec<String> {
    let mut names = Vec::new();
    for stage in Stage::ALL {
        for table in stage.spec().outputs {
            names.push(format!("{stage}.rows.{table}"));
        }
    }
    names.push("ingest.quarantine_share".into());
    for table in Table::ALL {
        names.push(format!("ingest.quarantine_share.{}", table.name()));
        for column in table.columns() {
            names.push(format!("ingest.null_share.{}.{}", table.name(), column.name));
        }
    }
    names.push("features.monetary_sum_usd".into());
    for stat in ["mean", "sd"].into_iter().chain(QUANTILES.iter().map(|(n, _)| *n)) {
        names.push(format!("score.propensity.{stat}"));
    }
    names.extend(ACTIONS.iter().map(|a| format!("recommend.action_share.{a}")));
    names.extend(CHANNELS.iter().map(|c| format!("recommend.channel_share.{c}")));
    names.push(KS_P.into());
    names.push(ACTION_CHI2_P.into());
    names
}

/// Whether `name` is a metric some stage records.
pub fn is_known(name: &str) -> bool {
    catalog().iter().any(|n| n == name)
}

/// What to tell someone who named an unknown metric.
pub fn naming_hint() -> String {
    "metrics are named like ingest.rows.orders, ingest.null_share.customers.region, score.propensity.mean, \
     recommend.action_share.offer (`wb kpi --metrics` lists them all)"
        .into()
}

/// The metrics of a computed stage's output.
pub fn measure(stage: Stage, output: &StageOutput) -> PolarsResult<BTreeMap<String, f64>> {
    let mut m = BTreeMap::new();
    for (table, frame) in &output.tables {
        m.insert(format!("{stage}.rows.{table}"), frame.height() as f64);
    }
    match stage {
        Stage::Ingest => {
            let (mut rejected, mut lines) = (0u64, 0u64);
            for (table, (rows, data_lines)) in &output.rejected {
                rejected += rows.len() as u64;
                lines += data_lines;
                m.insert(format!("ingest.quarantine_share.{}", table.name()), share(rows.len() as u64, *data_lines));
            }
            m.insert("ingest.quarantine_share".into(), share(rejected, lines));
            for (table, frame) in &output.tables {
                let height = frame.height() as u64;
                for column in frame.columns() {
                    m.insert(
                        format!("ingest.null_share.{table}.{}", column.name()),
                        share(column.null_count() as u64, height),
                    );
                }
            }
        }
        Stage::Features => {
            if let Some(frame) = table(output, "features") {
                let sum = frame.column("monetary_90d_usd")?.as_materialized_series().sum::<f64>()?;
                m.insert("features.monetary_sum_usd".into(), sum);
            }
        }
        Stage::Score => {
            if let Some(frame) = table(output, "scores") {
                let p = frame.column("propensity")?.as_materialized_series().f64()?.clone();
                if let Some(mean) = p.mean() {
                    m.insert("score.propensity.mean".into(), mean);
                }
                if let Some(sd) = p.std(1) {
                    m.insert("score.propensity.sd".into(), sd);
                }
                for (name, q) in QUANTILES {
                    if let Some(v) = p.quantile(q, QuantileMethod::Linear)? {
                        m.insert(format!("score.propensity.{name}"), v);
                    }
                }
            }
        }
        Stage::Recommend => {
            if let Some(frame) = table(output, "recommendations") {
                let height = frame.height() as u64;
                let actions = counts(frame, "action")?;
                for action in ACTIONS {
                    m.insert(
                        format!("recommend.action_share.{action}"),
                        share(actions.get(action).copied().unwrap_or(0), height),
                    );
                }
                let channels = counts(frame, "channel")?;
                for channel in CHANNELS {
                    m.insert(
                        format!("recommend.channel_share.{channel}"),
                        share(channels.get(channel).copied().unwrap_or(0), height),
                    );
                }
            }
        }
        Stage::Validate | Stage::Export => {}
    }
    Ok(m)
}

/// How many rows hold each value of the string column `column` (nulls left out).
pub fn counts(frame: &DataFrame, column: &str) -> PolarsResult<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for value in frame.column(column)?.as_materialized_series().str()?.iter().flatten() {
        *out.entry(value.to_string()).or_insert(0) += 1;
    }
    Ok(out)
}

fn table<'a>(output: &'a StageOutput, name: &str) -> Option<&'a DataFrame> {
    output.tables.iter().find(|(n, _)| n == name).map(|(_, f)| f)
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_knows_every_default_history_metric() {
        let config = crate::MarketConfig::resolve(
            "foobar-xx",
            "id = \"foobar-xx\"\ncurrency = \"EUR\"\nfx_to_usd = 1.0\ntimezone = \"UTC\"\nlanguages = [\"en\"]\n\
             channel_priority = [\"email\"]\nregions = [\"N\"]\n",
        )
        .unwrap();
        for metric in &config.quality.history_metrics {
            assert!(is_known(metric), "{metric}");
        }
        assert!(!is_known("score.propensity.median"));
    }

    #[test]
    fn recommend_metrics_give_the_action_and_channel_mix() {
        let frame = df!(
            "action" => ["offer", "offer", "nurture", "winback"],
            "channel" => ["email", "sms", "email", "email"],
        )
        .unwrap();
        let output = StageOutput { tables: vec![("recommendations".into(), frame)], ..Default::default() };
        let m = measure(Stage::Recommend, &output).unwrap();
        assert_eq!(m["recommend.rows.recommendations"], 4.0);
        assert_eq!(m["recommend.action_share.offer"], 0.5);
        assert_eq!(m["recommend.action_share.nurture"], 0.25);
        assert_eq!(m["recommend.channel_share.email"], 0.75);
        assert_eq!(m["recommend.channel_share.call"], 0.0);
    }

    #[test]
    fn score_metrics_give_mean_sd_and_quantiles_of_propensity() {
        let frame = df!("propensity" => [0.1, 0.2, 0.3, 0.4, 0.5]).unwrap();
        let output = StageOutput { tables: vec![("scores".into(), frame)], ..Default::default() };
        let m = measure(Stage::Score, &output).unwrap();
        assert!((m["score.propensity.mean"] - 0.3).abs() < 1e-12);
        assert!((m["score.propensity.p50"] - 0.3).abs() < 1e-12);
        assert!((m["score.propensity.p10"] - 0.14).abs() < 1e-12);
        assert!((m["score.propensity.sd"] - 0.158_113_883_008_418_97).abs() < 1e-12);
    }
}
