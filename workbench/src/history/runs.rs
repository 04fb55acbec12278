//! The one definition of a full run, used by both the KPI screen's budget figures and the TUI header's "last full
//! run".
//!
//! A run is full when it ran every registered market ([`markets::ids`], the registry of this build; a run may
//! also list markets since removed from it), every stage (no `--stage`), and finished with a pipeline outcome:
//! ok, alert or fail ([`Status::is_pipeline_outcome`]), not errored, cancelled, interrupted, failed to build or
//! still running. That is the run the 15-minute feedback budget is about.
//!
//! The rule is Rust ([`RunRow::is_full`]), not SQL, so that [`History::last_full_run`] and the KPI aggregation
//! (which judges runs it already read) cannot disagree: an earlier SQL version compared the *number* of markets
//! a run listed with the number registered, which counted a run of removed markets as full and missed a run
//! that listed every registered market plus a removed one.

use super::{History, Result, RunRow, Status};

impl RunRow {
    /// Whether this is a full run against the `registered` markets: the one definition, used by the KPI screen
    /// and by the TUI header's last full run ([`History::last_full_run`]).
    ///
    /// Full means it ran every registered market (a run may also list markets since removed from the registry),
    /// every stage (no `--stage`), and finished with a pipeline outcome: ok, alert or fail
    /// ([`Status::is_pipeline_outcome`]), not errored, cancelled, interrupted, failed to build or still running.
    /// That is the run the 15-minute feedback budget is about. Never full when nothing is registered.
    pub fn is_full(&self, registered: &[&str]) -> bool {
        let covers = !registered.is_empty() && registered.iter().all(|m| self.markets.iter().any(|r| r == m));
        Status::is_pipeline_outcome(self.status) && self.stage.is_none() && covers
    }
}

impl History {
    /// The newest full run ([`RunRow::is_full`] against `registered`), over the whole history; `None` when there
    /// is none. The newest is by start time, then by insertion order, as [`History::list_runs`] orders runs.
    pub fn last_full_run(&self, registered: &[&str]) -> Result<Option<RunRow>> {
        // SQL narrows to runs of every stage, newest first, read until the first full one; the rule itself is
        // `is_full`, applied here as the KPI aggregation applies it.
        self.find_run_where("stage IS NULL ORDER BY started_at DESC, rowid DESC", [], |run| run.is_full(registered))
    }
}
