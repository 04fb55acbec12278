//! Stage metrics in the run history (`metrics`): what each stage measured in each run (row counts, null shares,
//! the propensity's mean and quantiles, the action and channel mix, the monetary sum, the quarantine share,
//! drift p-values). The history checks compare a run with a market's earlier successful runs, the drift checks
//! read the previous successful run's outputs, and the KPI screen plots the series. Retention is bounded:
//! [`History::prune_metrics`] keeps a market's newest runs only.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pipeline_core::quality::{Baseline, MAX_HISTORY_RUNS, PastRun, RunHistory};
use rusqlite::params;

use super::{History, Result};

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

impl History {
    /// `market`'s newest successful runs (at most [`MAX_HISTORY_RUNS`]) with their metrics, newest first, and
    /// per stage the latest successful run's key as the drift baseline: what a runner's history checks need.
    pub fn run_history(&self, market: &str) -> Result<RunHistory> {
        let runs: Vec<(String, String)> = self
            .connection()
            .prepare(&format!(
                "SELECT m.run_id, r.started_at FROM run_markets m JOIN runs r ON r.run_id = m.run_id
                 WHERE m.market = ?1 AND m.status IN ('ok', 'alert')
                 ORDER BY r.started_at DESC, r.rowid DESC LIMIT {MAX_HISTORY_RUNS}"
            ))
            .and_then(|mut stmt| stmt.query_map(params![market], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(|e| self.sql(e))?;
        let mut history = RunHistory::default();
        for (run_id, started_at) in runs {
            let Ok(started_at) = DateTime::parse_from_rfc3339(&started_at) else { continue };
            let metrics = self.run_metrics(&run_id, market)?;
            history.runs.push(PastRun { run_id, started_at: started_at.with_timezone(&Utc), metrics });
        }
        let baselines: Vec<(String, String, String)> = self
            .connection()
            .prepare(
                "SELECT s.stage, s.run_id, s.cache_key FROM stage_runs s
                 JOIN run_markets m ON m.run_id = s.run_id AND m.market = s.market
                 JOIN runs r ON r.run_id = s.run_id
                 WHERE s.market = ?1 AND m.status IN ('ok', 'alert') AND s.status IN ('ok', 'alert')
                 ORDER BY r.started_at DESC, r.rowid DESC",
            )
            .and_then(|mut stmt| stmt.query_map(params![market], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
            .map_err(|e| self.sql(e))?;
        for (stage, run_id, cache_key) in baselines {
            history.baselines.entry(stage).or_insert(Baseline { run_id, cache_key });
        }
        Ok(history)
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

    /// Every metric recorded in `run_id`, by market then name.
    pub fn run_metrics_by_market(&self, run_id: &str) -> Result<BTreeMap<String, BTreeMap<String, f64>>> {
        let rows: Vec<(String, String, f64)> = self
            .connection()
            .prepare("SELECT market, name, value FROM metrics WHERE run_id = ?1")
            .and_then(|mut stmt| stmt.query_map(params![run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
            .map_err(|e| self.run_sql(run_id, e))?;
        let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        for (market, name, value) in rows {
            out.entry(market).or_default().insert(name, value);
        }
        Ok(out)
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
