//! Run history in SQLite (`.workbench/history.sqlite`): every `wb run`, its markets, stages, tables and checks.
//!
//! The run row is written when the run starts (status `running`), each stage as it finishes, each market when
//! its runner ends, and the run is closed in one transaction at the end, so a run is recorded even when it
//! fails. A `running` run whose `wb` process is gone (it crashed or was killed) is marked `interrupted` when the
//! history is next opened. The schema is created and migrated on open (`PRAGMA user_version`); WAL mode lets a
//! TUI read while a run writes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use pipeline_core::{RunStatus, StageRecord};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

/// Schema migrations, in order; `PRAGMA user_version` is how many have been applied.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE runs (
    run_id         TEXT PRIMARY KEY,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    status         TEXT NOT NULL,
    command        TEXT NOT NULL,
    git_commit     TEXT,
    git_dirty      INTEGER,
    backend        TEXT NOT NULL,
    endpoint       TEXT,
    markets        TEXT NOT NULL,
    stage          TEXT,
    as_of          TEXT,
    no_cache       INTEGER NOT NULL,
    pid            INTEGER NOT NULL,
    pid_start      INTEGER,
    duration_ms    INTEGER,
    peak_rss_bytes INTEGER,
    error          TEXT
);
CREATE INDEX runs_started ON runs (started_at);
CREATE TABLE run_markets (
    run_id         TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    market         TEXT NOT NULL,
    status         TEXT NOT NULL,
    as_of          TEXT,
    error          TEXT,
    duration_ms    INTEGER,
    peak_rss_bytes INTEGER,
    PRIMARY KEY (run_id, market)
);
CREATE INDEX run_markets_market ON run_markets (market, status);
CREATE TABLE stage_runs (
    run_id      TEXT NOT NULL,
    market      TEXT NOT NULL,
    stage       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    status      TEXT NOT NULL,
    cache_hit   INTEGER NOT NULL,
    cache_key   TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    produced_by TEXT NOT NULL,
    error       TEXT,
    PRIMARY KEY (run_id, market, stage),
    FOREIGN KEY (run_id, market) REFERENCES run_markets (run_id, market) ON DELETE CASCADE
);
CREATE TABLE stage_tables (
    run_id     TEXT NOT NULL,
    market     TEXT NOT NULL,
    stage      TEXT NOT NULL,
    table_name TEXT NOT NULL,
    rows       INTEGER NOT NULL,
    PRIMARY KEY (run_id, market, stage, table_name),
    FOREIGN KEY (run_id, market, stage) REFERENCES stage_runs (run_id, market, stage) ON DELETE CASCADE
);
CREATE TABLE checks (
    run_id   TEXT NOT NULL,
    market   TEXT NOT NULL,
    stage    TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    name     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    rule     TEXT NOT NULL,
    measured REAL NOT NULL,
    status   TEXT NOT NULL,
    message  TEXT NOT NULL,
    PRIMARY KEY (run_id, market, stage, seq),
    FOREIGN KEY (run_id, market, stage) REFERENCES stage_runs (run_id, market, stage) ON DELETE CASCADE
);
"#];

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The `.workbench/` directory could not be created.
    #[error("cannot create {path}: {source}; check that the workspace is writable")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error("cannot open run history {path}: {source}; check its permissions, or move it away to start afresh")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer `wb`.
    #[error(
        "run history {path} has schema version {found}, newer than this wb knows ({known}); update wb, or move \
         the file away to start afresh"
    )]
    Newer {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The latest version this build knows.
        known: i64,
    },
    /// A query or write failed.
    #[error("run history {path}: {source}; if it persists, move the file away to start afresh")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
}

/// Result alias of this module.
pub type Result<T, E = HistoryError> = std::result::Result<T, E>;

/// A run's (or a market's) status in history: a [`RunStatus`] once finished, `running` before, `interrupted`
/// when the process died without finishing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HistoryStatus {
    /// Started, not finished (yet).
    Running,
    /// Finished with this status.
    Done(RunStatus),
    /// Its `wb` process died before finishing it.
    Interrupted,
}

impl HistoryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryStatus::Running => "running",
            HistoryStatus::Done(status) => status.as_str(),
            HistoryStatus::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for HistoryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HistoryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "running" => HistoryStatus::Running,
            "interrupted" => HistoryStatus::Interrupted,
            "ok" => HistoryStatus::Done(RunStatus::Ok),
            "alert" => HistoryStatus::Done(RunStatus::Alert),
            "fail" => HistoryStatus::Done(RunStatus::Fail),
            "error" => HistoryStatus::Done(RunStatus::Error),
            "cancelled" => HistoryStatus::Done(RunStatus::Cancelled),
            other => return Err(format!("unknown run status '{other}'")),
        })
    }
}

/// A run as it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// Run id.
    pub run_id: String,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// The command line.
    pub command: String,
    /// `HEAD` of the workspace's repository, when there is one.
    pub git_commit: Option<String>,
    /// Tracked files differ from `HEAD` (None outside a repository).
    pub git_dirty: Option<bool>,
    /// Backend name.
    pub backend: String,
    /// Endpoint URL, once known.
    pub endpoint: Option<String>,
    /// Markets selected.
    pub markets: Vec<String>,
    /// Target stage (None: all).
    pub stage: Option<String>,
    /// as_of override.
    pub as_of: Option<String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// Process id of `wb`.
    pub pid: u32,
    /// Its start time in clock ticks since boot (tells it from a later process given the same pid).
    pub pid_start: Option<u64>,
}

/// How a market ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketEnd {
    /// Market.
    pub market: String,
    /// Outcome.
    pub status: RunStatus,
    /// as_of used.
    pub as_of: Option<String>,
    /// The error that ended it.
    pub error: Option<String>,
    /// Wall time.
    pub duration_ms: Option<u64>,
    /// The runner's peak RSS.
    pub peak_rss_bytes: Option<u64>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    /// Outcome.
    pub status: RunStatus,
    /// Endpoint URL (known only once the backend started).
    pub endpoint: Option<String>,
    /// Wall time.
    pub duration_ms: u64,
    /// `wb`'s own peak RSS.
    pub peak_rss_bytes: Option<u64>,
    /// The error that ended the run before or outside any market (backend, provisioning).
    pub error: Option<String>,
}

/// A row of `runs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    /// Run id.
    pub run_id: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC, once finished.
    pub finished_at: Option<String>,
    /// Status.
    pub status: HistoryStatus,
    /// The command line.
    pub command: String,
    /// Git commit.
    pub git_commit: Option<String>,
    /// Git dirty flag.
    pub git_dirty: Option<bool>,
    /// Backend.
    pub backend: String,
    /// Endpoint URL.
    pub endpoint: Option<String>,
    /// Markets selected.
    pub markets: Vec<String>,
    /// Target stage.
    pub stage: Option<String>,
    /// as_of override.
    pub as_of: Option<String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// Wall time.
    pub duration_ms: Option<u64>,
    /// `wb`'s peak RSS.
    pub peak_rss_bytes: Option<u64>,
    /// Run-level error.
    pub error: Option<String>,
}

/// A row of `run_markets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketRow {
    /// Market.
    pub market: String,
    /// Status.
    pub status: HistoryStatus,
    /// as_of used.
    pub as_of: Option<String>,
    /// Error.
    pub error: Option<String>,
    /// Wall time.
    pub duration_ms: Option<u64>,
    /// The runner's peak RSS.
    pub peak_rss_bytes: Option<u64>,
}

/// A row of `stage_runs` with its tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRow {
    /// Market.
    pub market: String,
    /// Stage name.
    pub stage: String,
    /// `ok`, `alert` or `fail`.
    pub status: String,
    /// Served from the cache.
    pub cache_hit: bool,
    /// Cache key.
    pub cache_key: String,
    /// Rows of the main output.
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Wall time.
    pub duration_ms: u64,
    /// The run that computed the output.
    pub produced_by: String,
    /// Error.
    pub error: Option<String>,
    /// Rows per output table.
    pub tables: BTreeMap<String, u64>,
}

/// A row of `checks`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    /// Market.
    pub market: String,
    /// Stage name.
    pub stage: String,
    /// Check name.
    pub name: String,
    /// What it measured.
    pub subject: String,
    /// Its rule.
    pub rule: String,
    /// The measured value.
    pub measured: f64,
    /// `pass`, `alert` or `fail`.
    pub status: String,
    /// Message.
    pub message: String,
}

/// The run history database.
#[derive(Debug)]
pub struct History {
    conn: Connection,
    path: PathBuf,
}

/// Now, as stored: RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl History {
    /// Opens (creating, migrating) the history at `path`, then marks runs whose process is gone `interrupted`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| HistoryError::Dir { path: dir.to_path_buf(), source })?;
        }
        let open_err = |source| HistoryError::Open { path: path.to_path_buf(), source };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        migrate(&mut conn, path)?;
        let history = Self { conn, path: path.to_path_buf() };
        history.mark_interrupted()?;
        Ok(history)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sql { path: self.path.clone(), source }
    }

    fn tx(&mut self) -> Result<Transaction<'_>> {
        let path = self.path.clone();
        self.conn.transaction().map_err(|source| HistoryError::Sql { path, source })
    }

    /// Records a run as `running`, with its markets.
    pub fn begin_run(&mut self, run: &NewRun) -> Result<()> {
        let markets = serde_json::to_string(&run.markets).expect("strings serialise");
        let tx = self.tx()?;
        let result = (|| {
            tx.execute(
                "INSERT INTO runs (run_id, started_at, status, command, git_commit, git_dirty, backend, endpoint,
                    markets, stage, as_of, no_cache, pid, pid_start)
                 VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    run.run_id,
                    run.started_at,
                    run.command,
                    run.git_commit,
                    run.git_dirty,
                    run.backend,
                    run.endpoint,
                    markets,
                    run.stage,
                    run.as_of,
                    run.no_cache,
                    run.pid,
                    run.pid_start.map(|t| t as i64),
                ],
            )?;
            for market in &run.markets {
                tx.execute(
                    "INSERT INTO run_markets (run_id, market, status) VALUES (?1, ?2, 'running')",
                    params![run.run_id, market],
                )?;
            }
            tx.commit()
        })();
        result.map_err(|e| self.sql(e))
    }

    /// Records a finished stage (its row, tables and checks) of `market` in `run_id`; `seq` orders stages.
    pub fn record_stage(&mut self, run_id: &str, market: &str, seq: usize, record: &StageRecord) -> Result<()> {
        let stage = record.stage.name();
        let tx = self.tx()?;
        let result = (|| {
            tx.execute(
                "INSERT OR REPLACE INTO stage_runs (run_id, market, stage, seq, status, cache_hit, cache_key, rows,
                    bytes, duration_ms, produced_by, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    run_id,
                    market,
                    stage,
                    seq as i64,
                    record.status.as_str(),
                    record.cache_hit,
                    record.cache_key,
                    record.rows as i64,
                    record.bytes as i64,
                    record.duration_ms as i64,
                    record.produced_by,
                    record.error,
                ],
            )?;
            for (table, rows) in &record.tables {
                tx.execute(
                    "INSERT INTO stage_tables (run_id, market, stage, table_name, rows) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![run_id, market, stage, table, *rows as i64],
                )?;
            }
            for (seq, check) in record.checks.iter().enumerate() {
                tx.execute(
                    "INSERT INTO checks (run_id, market, stage, seq, name, subject, rule, measured, status, message)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        run_id,
                        market,
                        stage,
                        seq as i64,
                        check.name,
                        check.subject,
                        check.rule,
                        check.measured,
                        check.status.as_str(),
                        check.message,
                    ],
                )?;
            }
            tx.commit()
        })();
        result.map_err(|e| self.sql(e))
    }

    /// Records how a market of `run_id` ended.
    pub fn finish_market(&mut self, run_id: &str, end: &MarketEnd) -> Result<()> {
        self.conn
            .execute(
                "UPDATE run_markets SET status = ?3, as_of = ?4, error = ?5, duration_ms = ?6, peak_rss_bytes = ?7
                 WHERE run_id = ?1 AND market = ?2",
                params![
                    run_id,
                    end.market,
                    end.status.as_str(),
                    end.as_of,
                    end.error,
                    end.duration_ms.map(|d| d as i64),
                    end.peak_rss_bytes.map(|b| b as i64),
                ],
            )
            .map(|_| ())
            .map_err(|e| self.sql(e))
    }

    /// Closes `run_id` in one transaction: its status, duration and error; markets still `running` (never
    /// started, e.g. the backend did not start) get the run's status.
    pub fn finish_run(&mut self, run_id: &str, end: &RunEnd) -> Result<()> {
        let tx = self.tx()?;
        let result = (|| {
            tx.execute(
                "UPDATE runs SET status = ?2, finished_at = ?3, duration_ms = ?4, peak_rss_bytes = ?5, error = ?6,
                    endpoint = COALESCE(?7, endpoint)
                 WHERE run_id = ?1",
                params![
                    run_id,
                    end.status.as_str(),
                    now(),
                    end.duration_ms as i64,
                    end.peak_rss_bytes.map(|b| b as i64),
                    end.error,
                    end.endpoint,
                ],
            )?;
            tx.execute(
                "UPDATE run_markets SET status = ?2 WHERE run_id = ?1 AND status = 'running'",
                params![run_id, end.status.as_str()],
            )?;
            tx.commit()
        })();
        result.map_err(|e| self.sql(e))
    }

    /// Marks every `running` run whose `wb` process is gone as `interrupted` (and its unfinished markets);
    /// returns their ids. Runs whose liveness cannot be told (no `/proc`) are left alone.
    pub fn mark_interrupted(&self) -> Result<Vec<String>> {
        let running: Vec<(String, u32, Option<i64>)> = self
            .conn
            .prepare("SELECT run_id, pid, pid_start FROM runs WHERE status = 'running'")
            .and_then(|mut stmt| stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
            .map_err(|e| self.sql(e))?;
        let mut interrupted = Vec::new();
        for (run_id, pid, pid_start) in running {
            if crate::sys::process_alive(pid, pid_start.map(|t| t as u64)) != Some(false) {
                continue;
            }
            let update = || -> rusqlite::Result<()> {
                self.conn.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = COALESCE(finished_at, ?2) WHERE run_id = ?1",
                    params![run_id, now()],
                )?;
                self.conn.execute(
                    "UPDATE run_markets SET status = 'interrupted' WHERE run_id = ?1 AND status = 'running'",
                    params![run_id],
                )?;
                Ok(())
            };
            update().map_err(|e| self.sql(e))?;
            interrupted.push(run_id);
        }
        Ok(interrupted)
    }

    /// Ingest row counts per table of `market`'s latest successful (ok or alert) run, for the `row_count`
    /// check; `None` when it has none.
    pub fn previous_rows(&self, market: &str) -> Result<Option<BTreeMap<String, u64>>> {
        let run_id: Option<String> = self
            .conn
            .query_row(
                "SELECT m.run_id FROM run_markets m JOIN runs r ON r.run_id = m.run_id
                 WHERE m.market = ?1 AND m.status IN ('ok', 'alert')
                   AND EXISTS (SELECT 1 FROM stage_runs s WHERE s.run_id = m.run_id AND s.market = m.market
                               AND s.stage = 'ingest')
                 ORDER BY r.started_at DESC, r.rowid DESC LIMIT 1",
                params![market],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        let Some(run_id) = run_id else { return Ok(None) };
        let rows: BTreeMap<String, u64> = self
            .conn
            .prepare("SELECT table_name, rows FROM stage_tables WHERE run_id = ?1 AND market = ?2 AND stage = 'ingest'")
            .and_then(|mut stmt| {
                stmt.query_map(params![run_id, market], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?
                    .collect()
            })
            .map_err(|e| self.sql(e))?;
        Ok(Some(rows))
    }

    /// The latest `limit` runs, newest first.
    pub fn list_runs(&self, limit: usize) -> Result<Vec<RunRow>> {
        self.runs_where("1 = 1 ORDER BY started_at DESC, rowid DESC LIMIT ?1", params![limit as i64])
    }

    /// One run.
    pub fn run(&self, run_id: &str) -> Result<Option<RunRow>> {
        Ok(self.runs_where("run_id = ?1", params![run_id])?.into_iter().next())
    }

    fn runs_where(&self, condition: &str, args: impl rusqlite::Params) -> Result<Vec<RunRow>> {
        let sql = format!(
            "SELECT run_id, started_at, finished_at, status, command, git_commit, git_dirty, backend, endpoint,
                markets, stage, as_of, no_cache, duration_ms, peak_rss_bytes, error
             FROM runs WHERE {condition}"
        );
        self.conn
            .prepare(&sql)
            .and_then(|mut stmt| {
                stmt.query_map(args, |r| {
                    let markets: String = r.get(9)?;
                    Ok(RunRow {
                        run_id: r.get(0)?,
                        started_at: r.get(1)?,
                        finished_at: r.get(2)?,
                        status: status(r, 3)?,
                        command: r.get(4)?,
                        git_commit: r.get(5)?,
                        git_dirty: r.get(6)?,
                        backend: r.get(7)?,
                        endpoint: r.get(8)?,
                        markets: serde_json::from_str(&markets).unwrap_or_default(),
                        stage: r.get(10)?,
                        as_of: r.get(11)?,
                        no_cache: r.get(12)?,
                        duration_ms: opt_u64(r, 13)?,
                        peak_rss_bytes: opt_u64(r, 14)?,
                        error: r.get(15)?,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.sql(e))
    }

    /// The markets of a run, in the order they were selected.
    pub fn run_markets(&self, run_id: &str) -> Result<Vec<MarketRow>> {
        self.conn
            .prepare(
                "SELECT market, status, as_of, error, duration_ms, peak_rss_bytes FROM run_markets
                 WHERE run_id = ?1 ORDER BY rowid",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![run_id], |r| {
                    Ok(MarketRow {
                        market: r.get(0)?,
                        status: status(r, 1)?,
                        as_of: r.get(2)?,
                        error: r.get(3)?,
                        duration_ms: opt_u64(r, 4)?,
                        peak_rss_bytes: opt_u64(r, 5)?,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.sql(e))
    }

    /// The stages of a run with their tables, by market (selection order) then execution order.
    pub fn run_stages(&self, run_id: &str) -> Result<Vec<StageRow>> {
        let mut stages: Vec<StageRow> = self
            .conn
            .prepare(
                "SELECT s.market, s.stage, s.status, s.cache_hit, s.cache_key, s.rows, s.bytes, s.duration_ms,
                    s.produced_by, s.error
                 FROM stage_runs s JOIN run_markets m ON m.run_id = s.run_id AND m.market = s.market
                 WHERE s.run_id = ?1 ORDER BY m.rowid, s.seq",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![run_id], |r| {
                    Ok(StageRow {
                        market: r.get(0)?,
                        stage: r.get(1)?,
                        status: r.get(2)?,
                        cache_hit: r.get(3)?,
                        cache_key: r.get(4)?,
                        rows: r.get::<_, i64>(5)? as u64,
                        bytes: r.get::<_, i64>(6)? as u64,
                        duration_ms: r.get::<_, i64>(7)? as u64,
                        produced_by: r.get(8)?,
                        error: r.get(9)?,
                        tables: BTreeMap::new(),
                    })
                })?
                .collect()
            })
            .map_err(|e| self.sql(e))?;
        let tables: Vec<(String, String, String, u64)> = self
            .conn
            .prepare("SELECT market, stage, table_name, rows FROM stage_tables WHERE run_id = ?1")
            .and_then(|mut stmt| {
                stmt.query_map(params![run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? as u64)))?
                    .collect()
            })
            .map_err(|e| self.sql(e))?;
        for (market, stage, table, rows) in tables {
            if let Some(row) = stages.iter_mut().find(|s| s.market == market && s.stage == stage) {
                row.tables.insert(table, rows);
            }
        }
        Ok(stages)
    }

    /// The checks of a run, by market, stage and order.
    pub fn run_checks(&self, run_id: &str) -> Result<Vec<CheckRow>> {
        self.conn
            .prepare(
                "SELECT c.market, c.stage, c.name, c.subject, c.rule, c.measured, c.status, c.message
                 FROM checks c
                 JOIN run_markets m ON m.run_id = c.run_id AND m.market = c.market
                 JOIN stage_runs s ON s.run_id = c.run_id AND s.market = c.market AND s.stage = c.stage
                 WHERE c.run_id = ?1 ORDER BY m.rowid, s.seq, c.seq",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![run_id], |r| {
                    Ok(CheckRow {
                        market: r.get(0)?,
                        stage: r.get(1)?,
                        name: r.get(2)?,
                        subject: r.get(3)?,
                        rule: r.get(4)?,
                        measured: r.get(5)?,
                        status: r.get(6)?,
                        message: r.get(7)?,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.sql(e))
    }
}

fn status(row: &rusqlite::Row, idx: usize) -> rusqlite::Result<HistoryStatus> {
    let text: String = row.get(idx)?;
    text.parse()
        .map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, e.into()))
}

fn opt_u64(row: &rusqlite::Row, idx: usize) -> rusqlite::Result<Option<u64>> {
    Ok(row.get::<_, Option<i64>>(idx)?.map(|v| v as u64))
}

/// Applies the migrations `user_version` says are missing, each in a transaction.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let open_err = |source| HistoryError::Open { path: path.to_path_buf(), source };
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(open_err)?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(HistoryError::Newer { path: path.to_path_buf(), found: version, known });
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(open_err)?;
        tx.execute_batch(migration).map_err(open_err)?;
        tx.pragma_update(None, "user_version", i as i64 + 1).map_err(open_err)?;
        tx.commit().map_err(open_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [
            HistoryStatus::Running,
            HistoryStatus::Interrupted,
            HistoryStatus::Done(RunStatus::Ok),
            HistoryStatus::Done(RunStatus::Alert),
            HistoryStatus::Done(RunStatus::Fail),
            HistoryStatus::Done(RunStatus::Error),
            HistoryStatus::Done(RunStatus::Cancelled),
        ] {
            assert_eq!(status.as_str().parse::<HistoryStatus>(), Ok(status));
        }
    }

    #[test]
    fn a_newer_schema_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let err = History::open(&path).unwrap_err().to_string();
        assert!(err.contains("schema version 99, newer than this wb knows (1); update wb"), "{err}");
    }

    #[test]
    fn reopening_keeps_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        drop(History::open(&path).unwrap());
        let history = History::open(&path).unwrap();
        let version: i64 = history.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 1);
        let mode: String = history.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }
}
