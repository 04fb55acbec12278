//! Where a stage's output is: the run that recorded it (ok or alert) and its key, for `wb diff` and the TUI's
//! diff screen.

use pipeline_core::Stage;
use rusqlite::{OptionalExtension, params};

use super::{History, Result};

/// A successful (ok or alert) recorded execution of one stage of one market, and what its run was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageOutput {
    /// The run that recorded the stage.
    pub run_id: String,
    /// The stage's cache key in that run.
    pub cache_key: String,
    /// The run's as_of for the market.
    pub as_of: Option<String>,
    /// The commit the run was made from.
    pub git_commit: Option<String>,
    /// Whether the tree had changes then.
    pub git_dirty: Option<bool>,
}

const OUTPUT_SQL: &str = "SELECT s.run_id, s.cache_key, m.as_of, r.git_commit, r.git_dirty
     FROM stage_runs s
     JOIN runs r ON r.run_id = s.run_id
     LEFT JOIN run_markets m ON m.run_id = s.run_id AND m.market = s.market
     WHERE s.market = ?1 AND s.stage = ?2 AND s.status IN ('ok', 'alert')";

fn output_row(r: &rusqlite::Row) -> rusqlite::Result<StageOutput> {
    Ok(StageOutput {
        run_id: r.get(0)?,
        cache_key: r.get(1)?,
        as_of: r.get(2)?,
        git_commit: r.get(3)?,
        git_dirty: r.get(4)?,
    })
}

impl History {
    /// The latest output of `market`'s `stage`: the newest run (by start time, then insertion order) that
    /// recorded it as ok or alert; `None` when none did.
    pub fn latest_output(&self, market: &str, stage: Stage) -> Result<Option<StageOutput>> {
        let sql = format!("{OUTPUT_SQL} ORDER BY r.started_at DESC, r.rowid DESC LIMIT 1");
        self.connection().query_row(&sql, params![market, stage.name()], output_row).optional().map_err(|e| self.sql(e))
    }

    /// The output of `market`'s `stage` that run `run_id` recorded (ok or alert); `None` when it did not.
    pub fn run_output(&self, run_id: &str, market: &str, stage: Stage) -> Result<Option<StageOutput>> {
        let sql = format!("{OUTPUT_SQL} AND s.run_id = ?3");
        self.connection()
            .query_row(&sql, params![market, stage.name(), run_id], output_row)
            .optional()
            .map_err(|e| self.run_sql(run_id, e))
    }
}
