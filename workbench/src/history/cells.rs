//! The newest recorded state of every market × stage: what the TUI's grid shows before anything runs.

use super::{History, Result, StageStatus, stage_status};

/// The newest recorded execution of one stage of one market, over every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageState {
    /// Market (a string: history keeps markets removed from the registry since).
    pub market: String,
    /// Stage name (a string: history may hold stages this build no longer has; see [`super::StageRow::stage`]).
    pub stage: String,
    /// Its outcome.
    pub status: StageStatus,
    /// Served from the cache.
    pub cache_hit: bool,
    /// Wall time.
    pub duration_ms: u64,
}

impl History {
    /// The newest stage execution per market and stage (newest by its run's start time, then insertion order),
    /// in one pass over the history.
    pub fn latest_stage_states(&self) -> Result<Vec<StageState>> {
        let read = || -> rusqlite::Result<Vec<StageState>> {
            let mut stmt = self.connection().prepare(
                "SELECT market, stage, status, cache_hit, duration_ms FROM (
                     SELECT s.market, s.stage, s.status, s.cache_hit, s.duration_ms,
                            ROW_NUMBER() OVER (PARTITION BY s.market, s.stage
                                               ORDER BY r.started_at DESC, r.rowid DESC) AS newest
                     FROM stage_runs s JOIN runs r ON r.run_id = s.run_id)
                 WHERE newest = 1",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(StageState {
                    market: row.get(0)?,
                    stage: row.get(1)?,
                    status: stage_status(row, 2)?,
                    cache_hit: row.get(3)?,
                    duration_ms: row.get::<_, i64>(4)?.max(0) as u64,
                })
            })?;
            rows.collect()
        };
        read().map_err(|e| self.sql(e))
    }
}
