//! Stage metrics in the run history (`metrics`): what each stage measured in each run (row counts, null shares,
//! the propensity's mean and quantiles, the action and channel mix, the monetary sum, the quarantine share,
//! drift p-values). The history checks compare a run with a market's earlier successful runs, the drift checks
//! read the previous successful run's outputs, and the KPI screen plots the series. Retention is bounded:
//! [`History::prune_metrics`] keeps a market's newest runs only.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};

use super::{History, Result};

/// Which earlier runs a history check compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricWindow {
    /// At most this many of the newest successful runs.
    pub runs: usize,
    /// Only runs started at or after this RFC 3339 time (a window in days), when set.
    pub since: Option<String>,
}

/// One point of a metric's series: the run, when it started, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// The run.
    pub run_id: String,
    /// Its start time (RFC 3339 UTC).
    pub started_at: String,
    /// The value.
    pub value: f64,
}

/// The previous successful run of a market and its stages' cache keys: the drift checks' baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// The run.
    pub run_id: String,
    /// Cache key per stage name, for the stages that run recorded.
    pub keys: BTreeMap<String, String>,
}

/// Successful (ok or alert) market runs, newest first.
const SUCCESSFUL_RUNS_SQL: &str = "SELECT m.run_id FROM run_markets m JOIN runs r ON r.run_id = m.run_id
     WHERE m.market = ?1 AND m.status IN ('ok', 'alert')";

impl History {
    /// Each of `names`' values in `market`'s successful runs inside `window`, oldest first; a metric no run
    /// recorded maps to an empty list.
    pub fn metric_history(
        &self,
        market: &str,
        names: &[String],
        window: &MetricWindow,
    ) -> Result<BTreeMap<String, Vec<f64>>> {
        let since = window.since.clone().unwrap_or_default();
        let runs: Vec<String> = self
            .connection()
            .prepare(&format!(
                "{SUCCESSFUL_RUNS_SQL} AND r.started_at >= ?2 ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?3"
            ))
            .and_then(|mut stmt| stmt.query_map(params![market, since, window.runs as i64], |r| r.get(0))?.collect())
            .map_err(|e| self.sql(e))?;
        let mut out: BTreeMap<String, Vec<f64>> = names.iter().map(|n| (n.clone(), Vec::new())).collect();
        let mut stmt = self
            .connection()
            .prepare_cached("SELECT name, value FROM metrics WHERE run_id = ?1 AND market = ?2")
            .map_err(|e| self.sql(e))?;
        for run_id in runs.iter().rev() {
            let values: Vec<(String, f64)> = stmt
                .query_map(params![run_id, market], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.sql(e))?;
            for (name, value) in values {
                if let Some(series) = out.get_mut(&name) {
                    series.push(value);
                }
            }
        }
        Ok(out)
    }

    /// `market`'s previous successful run and its stages' keys; `None` when it has none.
    pub fn baseline(&self, market: &str) -> Result<Option<Baseline>> {
        let run_id: Option<String> = self
            .connection()
            .query_row(
                &format!("{SUCCESSFUL_RUNS_SQL} ORDER BY r.started_at DESC, r.rowid DESC LIMIT 1"),
                params![market],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        let Some(run_id) = run_id else { return Ok(None) };
        let keys: BTreeMap<String, String> = self
            .connection()
            .prepare("SELECT stage, cache_key FROM stage_runs WHERE run_id = ?1 AND market = ?2")
            .and_then(|mut stmt| stmt.query_map(params![run_id, market], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(|e| self.sql(e))?;
        Ok(Some(Baseline { run_id, keys }))
    }

    /// The newest `limit` values of metric `name` of `market` in successful runs, oldest first (the KPI trend).
    pub fn metric_series(&self, market: &str, name: &str, limit: usize) -> Result<Vec<MetricPoint>> {
        let mut points: Vec<MetricPoint> = self
            .connection()
            .prepare(
                "SELECT x.run_id, r.started_at, x.value FROM metrics x
                 JOIN runs r ON r.run_id = x.run_id
                 JOIN run_markets m ON m.run_id = x.run_id AND m.market = x.market
                 WHERE x.market = ?1 AND x.name = ?2 AND m.status IN ('ok', 'alert')
                 ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![market, name, limit as i64], |r| {
                    Ok(MetricPoint { run_id: r.get(0)?, started_at: r.get(1)?, value: r.get(2)? })
                })?
                .collect()
            })
            .map_err(|e| self.sql(e))?;
        points.reverse();
        Ok(points)
    }

    /// The metrics recorded for `market` in `run_id`, by name.
    pub fn run_metrics(&self, run_id: &str, market: &str) -> Result<BTreeMap<String, f64>> {
        self.connection()
            .prepare("SELECT name, value FROM metrics WHERE run_id = ?1 AND market = ?2")
            .and_then(|mut stmt| stmt.query_map(params![run_id, market], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(|e| self.run_sql(run_id, e))
    }

    /// Deletes `market`'s metrics of every run but its newest `keep`, so the metrics table stays bounded
    /// (runs, stages and checks are kept); returns how many rows went.
    pub fn prune_metrics(&self, market: &str, keep: usize) -> Result<usize> {
        self.connection()
            .execute(
                "DELETE FROM metrics WHERE market = ?1 AND run_id NOT IN (
                     SELECT m.run_id FROM run_markets m JOIN runs r ON r.run_id = m.run_id
                     WHERE m.market = ?1 ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?2)",
                params![market, keep as i64],
            )
            .map_err(|e| self.sql(e))
    }
}
