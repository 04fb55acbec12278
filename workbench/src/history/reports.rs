//! The report index's one query ([`History::report_index`]): the newest runs with, per market, its status and
//! how many of its checks alerted and failed. The index page over every run is rendered from this one read, so
//! it stays fast however long the history grows (the runs are taken through the `runs_started` index and the
//! counts through the checks' primary key).

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{History, Result};

/// One run of the report index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexRun {
    /// The run.
    pub run_id: String,
    /// When it started (RFC 3339 UTC).
    pub started_at: String,
    /// Its status's stored name (`ok`, `alert`, `fail`, `error`, `cancelled`, `running`, …).
    pub status: String,
    /// Its markets, in the order they were selected (empty when none ran: a build failure records them all).
    pub markets: Vec<IndexMarket>,
}

/// One market of a run in the report index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMarket {
    /// Market id.
    pub market: String,
    /// Its status's stored name.
    pub status: String,
    /// How many of its checks alerted.
    pub alerts: u32,
    /// How many of its checks failed.
    pub fails: u32,
}

impl History {
    /// The newest `limit` runs, newest first (as [`History::list_runs`] orders them), each with its markets'
    /// statuses and alert and fail counts: one query.
    pub fn report_index(&self, limit: usize) -> Result<Vec<IndexRun>> {
        type Row = (String, String, String, Option<String>, Option<String>, i64, i64);
        let rows: Vec<Row> = self
            .connection()
            .prepare(
                "SELECT r.run_id, r.started_at, r.status, m.market, m.status,
                    COALESCE(SUM(c.status = 'alert'), 0), COALESCE(SUM(c.status = 'fail'), 0)
                 FROM (SELECT rowid AS rid, run_id, started_at, status FROM runs
                       ORDER BY started_at DESC, rowid DESC LIMIT ?1) r
                 LEFT JOIN run_markets m ON m.run_id = r.run_id
                 LEFT JOIN checks c ON c.run_id = m.run_id AND c.market = m.market
                 GROUP BY r.rid, m.rowid
                 ORDER BY r.started_at DESC, r.rid DESC, m.rowid",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![limit as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
                })?
                .collect()
            })
            .map_err(|e| self.sql(e))?;
        let mut runs: Vec<IndexRun> = Vec::new();
        for (run_id, started_at, status, market, market_status, alerts, fails) in rows {
            if runs.last().is_none_or(|last| last.run_id != run_id) {
                runs.push(IndexRun { run_id, started_at, status, markets: Vec::new() });
            }
            let run = runs.last_mut().expect("pushed above");
            if let (Some(market), Some(market_status)) = (market, market_status) {
                run.markets.push(IndexMarket {
                    market,
                    status: market_status,
                    alerts: alerts.max(0) as u32,
                    fails: fails.max(0) as u32,
                });
            }
        }
        Ok(runs)
    }
}
