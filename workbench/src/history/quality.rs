//! Test and coverage results in the run history (`quality_runs`): what `wb coverage` and `wb check` measured,
//! so the KPI screen can show tests passed and failed and line and patch coverage against the thresholds, and
//! their trend, next to the pipeline runs.

use rusqlite::params;

use crate::history::{History, Result};

/// One measurement of the tests and coverage, as `wb coverage` or `wb check` recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityRun {
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// The command line (`wb check --base main`).
    pub command: String,
    /// `HEAD` when it ran (None outside a repository).
    pub git_commit: Option<String>,
    /// The base branch patch coverage was taken against.
    pub base: String,
    /// Tests that passed (None when the tests did not run, e.g. coverage read from a file).
    pub tests_passed: Option<u64>,
    /// Tests that failed.
    pub tests_failed: Option<u64>,
    /// Tests ignored.
    pub tests_ignored: Option<u64>,
    /// Line coverage in percent (None when nothing was instrumented).
    pub line_percent: Option<f64>,
    /// Patch coverage in percent (None when no changed line is instrumented).
    pub patch_percent: Option<f64>,
    /// The line threshold it was held to.
    pub line_threshold: f64,
    /// The patch threshold it was held to.
    pub patch_threshold: f64,
    /// Whether every threshold (and, for `wb check`, every check) was met.
    pub passed: bool,
    /// Wall time.
    pub duration_ms: u64,
    /// The report written, when there is one (`.workbench/reports/…md`).
    pub report_path: Option<String>,
}

impl History {
    /// Records a test and coverage measurement.
    pub fn record_quality(&mut self, run: &QualityRun) -> Result<()> {
        let count = |v: Option<u64>| v.map(|n| n as i64);
        self.connection()
            .execute(
                "INSERT INTO quality_runs (started_at, command, git_commit, base, tests_passed, tests_failed,
                    tests_ignored, line_percent, patch_percent, line_threshold, patch_threshold, passed, duration_ms,
                    report_path)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    run.started_at,
                    run.command,
                    run.git_commit,
                    run.base,
                    count(run.tests_passed),
                    count(run.tests_failed),
                    count(run.tests_ignored),
                    run.line_percent,
                    run.patch_percent,
                    run.line_threshold,
                    run.patch_threshold,
                    run.passed,
                    run.duration_ms as i64,
                    run.report_path,
                ],
            )
            .map(|_| ())
            .map_err(|e| self.sql(e))
    }

    /// The latest `limit` measurements, newest first.
    pub fn quality_runs(&self, limit: usize) -> Result<Vec<QualityRun>> {
        let read = || -> rusqlite::Result<Vec<QualityRun>> {
            let mut stmt = self.connection().prepare(
                "SELECT started_at, command, git_commit, base, tests_passed, tests_failed, tests_ignored,
                        line_percent, patch_percent, line_threshold, patch_threshold, passed, duration_ms, report_path
                 FROM quality_runs ORDER BY started_at DESC, id DESC LIMIT ?1",
            )?;
            let count = |v: Option<i64>| v.map(|n| n as u64);
            let rows = stmt.query_map(params![limit as i64], |r| {
                Ok(QualityRun {
                    started_at: r.get(0)?,
                    command: r.get(1)?,
                    git_commit: r.get(2)?,
                    base: r.get(3)?,
                    tests_passed: count(r.get(4)?),
                    tests_failed: count(r.get(5)?),
                    tests_ignored: count(r.get(6)?),
                    line_percent: r.get(7)?,
                    patch_percent: r.get(8)?,
                    line_threshold: r.get(9)?,
                    patch_threshold: r.get(10)?,
                    passed: r.get(11)?,
                    duration_ms: r.get::<_, i64>(12)? as u64,
                    report_path: r.get(13)?,
                })
            })?;
            rows.collect()
        };
        read().map_err(|e| self.sql(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(started_at: &str, passed: Option<u64>, line: Option<f64>) -> QualityRun {
        QualityRun {
            started_at: started_at.to_string(),
            command: "wb check --base main".to_string(),
            git_commit: Some("abc123".to_string()),
            base: "main".to_string(),
            tests_passed: passed,
            tests_failed: passed.map(|_| 1),
            tests_ignored: None,
            line_percent: line,
            patch_percent: None,
            line_threshold: 80.0,
            patch_threshold: 90.0,
            passed: false,
            duration_ms: 1234,
            report_path: Some(".workbench/reports/check.md".to_string()),
        }
    }

    #[test]
    fn measurements_round_trip_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(&dir.path().join("history.sqlite")).unwrap();
        let older = sample("2026-12-01T10:00:00.000Z", Some(41), Some(82.5));
        let newer = sample("2026-12-01T11:00:00.000Z", None, None);
        history.record_quality(&older).unwrap();
        history.record_quality(&newer).unwrap();
        assert_eq!(history.quality_runs(10).unwrap(), vec![newer.clone(), older]);
        assert_eq!(history.quality_runs(1).unwrap(), vec![newer]);
    }
}
