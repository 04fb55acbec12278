//! What `wb run --dry-run` reads from history: the last recorded cache key of each stage (to explain a miss) and
//! the recorded computed durations (to estimate a stage's time).

use std::collections::BTreeMap;

use pipeline_core::Stage;
use rusqlite::params;

use super::{History, Result};

impl History {
    /// The last recorded cache key of each stage of `market`, from its newest execution that succeeded (ok or
    /// alert, no error; newest by its run's start time, then insertion order). Stages this build does not know
    /// are left out.
    pub fn last_stage_keys(&self, market: &str) -> Result<BTreeMap<Stage, String>> {
        let rows: Vec<(String, String)> = self
            .connection()
            .prepare(
                "SELECT s.stage, s.cache_key FROM stage_runs s JOIN runs r ON r.run_id = s.run_id
                 WHERE s.market = ?1 AND s.status IN ('ok', 'alert') AND s.error IS NULL
                 ORDER BY r.started_at DESC, r.rowid DESC",
            )
            .and_then(|mut stmt| stmt.query_map(params![market], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(|e| self.sql(e))?;
        let mut keys = BTreeMap::new();
        for (stage, key) in rows {
            if let Ok(stage) = stage.parse::<Stage>() {
                keys.entry(stage).or_insert(key);
            }
        }
        Ok(keys)
    }

    /// The wall times of every computed (not cached) successful (ok or alert, no error) execution of `market`'s
    /// `stage`, in no particular order.
    pub fn computed_durations(&self, market: &str, stage: Stage) -> Result<Vec<u64>> {
        self.connection()
            .prepare(
                "SELECT duration_ms FROM stage_runs
                 WHERE market = ?1 AND stage = ?2 AND cache_hit = 0 AND status IN ('ok', 'alert') AND error IS NULL",
            )
            .and_then(|mut stmt| stmt.query_map(params![market, stage.name()], |r| r.get::<_, i64>(0))?.collect())
            .map(|v: Vec<i64>| v.into_iter().map(|d| d.max(0) as u64).collect())
            .map_err(|e| self.sql(e))
    }
}
