//! Run history in SQLite (`.workbench/history.sqlite`): every `wb run`, its markets, stages, tables and checks.
//!
//! The run row is written when the run starts (status `running`), each stage as it finishes, each market when
//! its runner ends, and the run is closed in one transaction at the end, so a run is recorded even when it
//! fails. A run whose runner did not compile is recorded whole in one transaction as `build_failed`
//! ([`History::record_build_failure`]). A `running` run whose `wb` process is gone (it crashed or was killed)
//! is marked `interrupted` when the history is next opened. The schema is created and migrated on open
//! (`PRAGMA user_version`; migrations are only ever appended, so old databases upgrade in place); WAL mode lets
//! a TUI read while a run writes.
//!
//! Reading: [`History::list_runs`] for the run list, [`History::resolve_run_id`] to turn what a person typed
//! (an id, a unique prefix, `last`) into an id, and [`History::run_detail`] for everything about one run in one
//! consistent snapshot (`wb show`, the TUI's run view). The other readers each have their typed query here,
//! one module per concern: [`History::last_full_run`] and the one full-run rule [`RunRow::is_full`] (`runs`),
//! [`History::latest_stage_states`] for the TUI's grid (`cells`), [`History::latest_output`] and
//! [`History::run_output`] for diffs (`outputs`), [`History::last_stage_keys`] and
//! [`History::computed_durations`] for `wb run --dry-run` (`plan`), the tests and coverage ([`quality`]), and
//! [`History::report_index`] for the report index published to S3 ([`reports`]).
//!
//! This module is the only place that knows SQL: the connection is private to it, and statuses are typed
//! ([`Status`] for runs and markets, [`StageStatus`] for stages, [`Level`] for checks), stored as their
//! lower-case names, so history files written before they were typed read unchanged.

mod cells;
pub mod metrics;
mod outputs;
mod plan;
pub mod quality;
pub mod reports;
mod runs;

pub use cells::StageState;
pub use outputs::StageOutput;
pub use pipeline_core::{CheckStatus as Level, StageStatus};

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use pipeline_core::{RunStatus, StageRecord};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

/// Schema migrations, in order; `PRAGMA user_version` is how many have been applied. Append only: a database
/// of any earlier version is upgraded by the ones it lacks, so never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
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
"#,
    // 2: the time from a file save to the run's results, set by the watch mode.
    "ALTER TABLE runs ADD COLUMN feedback_ms INTEGER;",
    // 3: test and coverage results of `wb coverage` and `wb check` (the KPI screen's tests and coverage).
    r#"
CREATE TABLE quality_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at      TEXT NOT NULL,
    command         TEXT NOT NULL,
    git_commit      TEXT,
    base            TEXT NOT NULL,
    tests_passed    INTEGER,
    tests_failed    INTEGER,
    tests_ignored   INTEGER,
    line_percent    REAL,
    patch_percent   REAL,
    line_threshold  REAL NOT NULL,
    patch_threshold REAL NOT NULL,
    passed          INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    report_path     TEXT
);
"#,
    // 4: what each stage measured (the history checks' and KPI trends' input), and each check's comparison
    // (history band or drift test) as JSON for reports.
    r#"
ALTER TABLE checks ADD COLUMN detail TEXT;
CREATE TABLE metrics (
    run_id TEXT NOT NULL,
    market TEXT NOT NULL,
    stage  TEXT NOT NULL,
    name   TEXT NOT NULL,
    value  REAL NOT NULL,
    PRIMARY KEY (run_id, market, name),
    FOREIGN KEY (run_id, market, stage) REFERENCES stage_runs (run_id, market, stage) ON DELETE CASCADE
);
CREATE INDEX metrics_market_name ON metrics (market, name);
"#,
];

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
    /// A query about one run failed.
    #[error("run history {path}, run {run_id}: {source}; if it persists, move the file away to start afresh")]
    RunSql {
        /// The database file.
        path: PathBuf,
        /// The run.
        run_id: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A run id prefix matches more than one run.
    #[error("run id '{prefix}' is ambiguous: it matches {}; type more of the id", candidate_list(candidates))]
    AmbiguousRunId {
        /// What was typed.
        prefix: String,
        /// The ids it matches, newest first.
        candidates: Vec<String>,
    },
    /// No run has this id.
    #[error("no run '{run_id}' in {path}: list runs with `wb runs`")]
    NoRun {
        /// The database file.
        path: PathBuf,
        /// The id asked for.
        run_id: String,
    },
}

/// How many candidates an ambiguous prefix's error lists before saying how many more there are.
const CANDIDATES_SHOWN: usize = 10;

fn candidate_list(candidates: &[String]) -> String {
    let shown = candidates.iter().take(CANDIDATES_SHOWN).map(String::as_str).collect::<Vec<_>>().join(", ");
    match candidates.len().saturating_sub(CANDIDATES_SHOWN) {
        0 => format!("{} runs: {shown}", candidates.len()),
        more => format!("{} runs: {shown} and {more} more", candidates.len()),
    }
}

/// Result alias of this module.
pub type Result<T, E = HistoryError> = std::result::Result<T, E>;

/// A run's (or a market's) status in history: a [`RunStatus`] once finished, `running` before, `interrupted`
/// when the process died without finishing it, `build_failed` when the runner did not compile.
///
/// Stored (and serialised, e.g. by `wb runs --json`) as its lower-case name, [`Status::as_str`]: `running`, `ok`,
/// `alert`, `fail`, `error`, `cancelled`, `interrupted`, `build_failed`. A stage's outcome is a [`StageStatus`]
/// (`ok`, `alert`, `fail`) and a check's a [`Level`] (`pass`, `alert`, `fail`): the runner's own types, stored
/// by the same names, so what a run reports and what history reads back cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Started, not finished (yet).
    Running,
    /// Finished with this status.
    Done(RunStatus),
    /// Its `wb` process died before finishing it.
    Interrupted,
    /// Never ran: building the runner from the current sources failed (the compiler's error is the run's).
    BuildFailed,
}

impl From<RunStatus> for Status {
    fn from(status: RunStatus) -> Self {
        Status::Done(status)
    }
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Done(status) => status.as_str(),
            Status::Interrupted => "interrupted",
            Status::BuildFailed => "build_failed",
        }
    }

    /// Finished with a pipeline outcome (ok, alert or fail): the stages ran to their verdict, unlike a run that
    /// errored, was cancelled, interrupted, failed to build or is still running.
    pub fn is_pipeline_outcome(self) -> bool {
        matches!(self, Status::Done(RunStatus::Ok | RunStatus::Alert | RunStatus::Fail))
    }
}

/// The name `Status` had before the history's statuses were all typed; kept so code written against it still
/// compiles. Use [`Status`].
pub type HistoryStatus = Status;

impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "running" => Status::Running,
            "interrupted" => Status::Interrupted,
            "build_failed" => Status::BuildFailed,
            "ok" => Status::Done(RunStatus::Ok),
            "alert" => Status::Done(RunStatus::Alert),
            "fail" => Status::Done(RunStatus::Fail),
            "error" => Status::Done(RunStatus::Error),
            "cancelled" => Status::Done(RunStatus::Cancelled),
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

/// A market of a run: how it ended. Written as a [`MarketEnd`] (a finished [`RunStatus`]) and read back as a
/// [`MarketRow`] (a [`Status`], which may also be `running`, `interrupted` or `build_failed`); one
/// definition so the two cannot drift apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketOutcome<S> {
    /// Market. A string, not a [`markets::MarketId`]: history keeps markets removed from the registry since.
    pub market: String,
    /// Outcome.
    pub status: S,
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
    pub status: Status,
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
    /// Markets selected. Strings, not [`markets::MarketId`]s: history keeps runs of markets that have since been
    /// removed from the registry, and they must still read.
    pub markets: Vec<String>,
    /// Target stage (None: every stage). A string for the same reason as [`StageRow::stage`].
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
    /// Time from the file save that triggered the run to its results (watch mode only).
    pub feedback_ms: Option<u64>,
}

/// How a market ended, as [`History::finish_market`] records it.
pub type MarketEnd = MarketOutcome<RunStatus>;

/// A row of `run_markets`, as read back.
pub type MarketRow = MarketOutcome<Status>;

/// A row of `stage_runs` with its tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRow {
    /// Market (a string: history keeps markets removed from the registry since).
    pub market: String,
    /// Stage name. A string, not a [`pipeline_core::Stage`]: a history file written by a `wb` whose pipeline had
    /// other stages must still read (the KPI screen lists such stages after the known ones).
    pub stage: String,
    /// Outcome.
    pub status: StageStatus,
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
    /// Market (a string: history keeps markets removed from the registry since).
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
    /// Outcome.
    pub status: Level,
    /// Message.
    pub message: String,
    /// The history band or drift test behind the check, when it has one (unreadable JSON reads as none).
    pub detail: Option<pipeline_core::CheckDetail>,
}

/// Everything recorded about one run, read in one snapshot: what `wb show` prints and the TUI's run view shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDetail {
    /// The run.
    pub run: RunRow,
    /// Its markets, in the order they were selected.
    pub markets: Vec<MarketRow>,
    /// Its stages with their tables, by market (selection order) then execution order.
    pub stages: Vec<StageRow>,
    /// Its checks, by market, stage and order.
    pub checks: Vec<CheckRow>,
    /// What its stages measured, by market then metric name.
    pub metrics: BTreeMap<String, BTreeMap<String, f64>>,
}

impl RunDetail {
    /// The stages of `market`, in execution order.
    pub fn stages_of<'a>(&'a self, market: &'a str) -> impl Iterator<Item = &'a StageRow> + 'a {
        self.stages.iter().filter(move |s| s.market == market)
    }

    /// The checks of `market`'s `stage`, in order.
    pub fn checks_of<'a>(&'a self, market: &'a str, stage: &'a str) -> impl Iterator<Item = &'a CheckRow> + 'a {
        self.checks.iter().filter(move |c| c.market == market && c.stage == stage)
    }
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
        wal_mode(&conn).map_err(open_err)?;
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

    /// The open connection. Private to `history` (its submodules see it): every query lives here, typed.
    fn connection(&self) -> &Connection {
        &self.conn
    }

    /// An SQL error on this database, with its path.
    fn sql(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sql { path: self.path.clone(), source }
    }

    /// An SQL error reading or writing `run_id`, with the path and the run.
    fn run_sql(&self, run_id: &str, source: rusqlite::Error) -> HistoryError {
        HistoryError::RunSql { path: self.path.clone(), run_id: run_id.to_string(), source }
    }

    fn tx(&mut self) -> Result<Transaction<'_>> {
        let path = self.path.clone();
        self.conn.transaction().map_err(|source| HistoryError::Sql { path, source })
    }

    /// Records a run as `running`, with its markets.
    pub fn begin_run(&mut self, run: &NewRun) -> Result<()> {
        let tx = self.tx()?;
        let result = insert_run(&tx, run, Status::Running, None).and_then(|()| tx.commit());
        result.map_err(|e| self.sql(e))
    }

    /// Records, in one transaction, a run that never ran because its runner failed to build (`cargo build`
    /// before a run, in the TUI): the run and each of its markets with status `build_failed`, finished now,
    /// `error` (the compiler's message) as the run's error, and `duration_ms` (the build's wall time).
    pub fn record_build_failure(&mut self, run: &NewRun, error: &str, duration_ms: u64) -> Result<()> {
        let tx = self.tx()?;
        let end = Some((error, duration_ms));
        let result = insert_run(&tx, run, Status::BuildFailed, end).and_then(|()| tx.commit());
        result.map_err(|e| self.sql(e))
    }

    /// Sets the time from the file save that triggered `run_id` to its results (set by the watch mode once the
    /// results are shown). Errors with [`HistoryError::NoRun`] when there is no such run.
    pub fn set_feedback_ms(&mut self, run_id: &str, ms: u64) -> Result<()> {
        let changed = self
            .conn
            .execute("UPDATE runs SET feedback_ms = ?2 WHERE run_id = ?1", params![run_id, ms as i64])
            .map_err(|e| self.sql(e))?;
        if changed == 0 {
            return Err(HistoryError::NoRun { path: self.path.clone(), run_id: run_id.to_string() });
        }
        Ok(())
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
                let detail = check.detail.as_ref().map(|d| serde_json::to_string(d).expect("details serialise"));
                tx.execute(
                    "INSERT INTO checks (run_id, market, stage, seq, name, subject, rule, measured, status, message,
                        detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
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
                        detail,
                    ],
                )?;
            }
            for (name, value) in &record.metrics {
                tx.execute(
                    "INSERT OR REPLACE INTO metrics (run_id, market, stage, name, value) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![run_id, market, stage, name, value],
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

    /// How many runs the history holds.
    pub fn run_count(&self) -> Result<u64> {
        let count: i64 = self.conn.query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0)).map_err(|e| self.sql(e))?;
        Ok(count.max(0) as u64)
    }

    /// One run.
    pub fn run(&self, run_id: &str) -> Result<Option<RunRow>> {
        Ok(self.runs_where("run_id = ?1", params![run_id])?.into_iter().next())
    }

    /// Everything about `run_id` (the run, its markets, stages with tables, checks), read in one transaction so
    /// a run being written meanwhile is seen whole or not at all; `None` when there is no such run.
    pub fn run_detail(&self, run_id: &str) -> Result<Option<RunDetail>> {
        // A read transaction: every query below sees the same snapshot (WAL), even while a run writes.
        let snapshot = self.conn.unchecked_transaction().map_err(|e| self.sql(e))?;
        let Some(run) = self.run(run_id)? else { return Ok(None) };
        let detail = RunDetail {
            run,
            markets: self.run_markets(run_id)?,
            stages: self.run_stages(run_id)?,
            checks: self.run_checks(run_id)?,
            metrics: self.run_metrics_by_market(run_id)?,
        };
        drop(snapshot);
        Ok(Some(detail))
    }

    /// The id of the run `what` names: `last` (the newest run), a full id, or a prefix of exactly one id (a
    /// full id wins over being a prefix of longer ones). `None` when nothing matches (or `what` is empty);
    /// [`HistoryError::AmbiguousRunId`] listing the candidates, newest first, when a prefix matches several.
    pub fn resolve_run_id(&self, what: &str) -> Result<Option<String>> {
        if what == "last" {
            return Ok(self.list_runs(1)?.into_iter().next().map(|r| r.run_id));
        }
        if what.is_empty() {
            return Ok(None);
        }
        let mut candidates: Vec<String> = self
            .conn
            .prepare(
                "SELECT run_id FROM runs WHERE substr(run_id, 1, length(?1)) = ?1
                 ORDER BY run_id = ?1 DESC, started_at DESC, rowid DESC",
            )
            .and_then(|mut stmt| stmt.query_map(params![what], |r| r.get(0))?.collect())
            .map_err(|e| self.sql(e))?;
        match candidates.len() {
            0 => Ok(None),
            1 => Ok(candidates.pop()),
            _ if candidates[0] == what => Ok(Some(candidates.swap_remove(0))),
            _ => Err(HistoryError::AmbiguousRunId { prefix: what.to_string(), candidates }),
        }
    }

    fn runs_where(&self, condition: &str, args: impl rusqlite::Params) -> Result<Vec<RunRow>> {
        self.conn
            .prepare(&runs_sql(condition))
            .and_then(|mut stmt| stmt.query_map(args, run_row)?.collect())
            .map_err(|e| self.sql(e))
    }

    /// The first run, in `condition`'s order, that `wanted` accepts; rows after it are not read.
    fn find_run_where(
        &self,
        condition: &str,
        args: impl rusqlite::Params,
        mut wanted: impl FnMut(&RunRow) -> bool,
    ) -> Result<Option<RunRow>> {
        let find = || -> rusqlite::Result<Option<RunRow>> {
            let mut stmt = self.conn.prepare(&runs_sql(condition))?;
            for row in stmt.query_map(args, run_row)? {
                let row = row?;
                if wanted(&row) {
                    return Ok(Some(row));
                }
            }
            Ok(None)
        };
        find().map_err(|e| self.sql(e))
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
            .map_err(|e| self.run_sql(run_id, e))
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
                        status: stage_status(r, 2)?,
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
            .map_err(|e| self.run_sql(run_id, e))?;
        let tables: Vec<(String, String, String, u64)> = self
            .conn
            .prepare("SELECT market, stage, table_name, rows FROM stage_tables WHERE run_id = ?1")
            .and_then(|mut stmt| {
                stmt.query_map(params![run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? as u64)))?
                    .collect()
            })
            .map_err(|e| self.run_sql(run_id, e))?;
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
                "SELECT c.market, c.stage, c.name, c.subject, c.rule, c.measured, c.status, c.message, c.detail
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
                        status: level(r, 6)?,
                        message: r.get(7)?,
                        detail: r.get::<_, Option<String>>(8)?.and_then(|json| serde_json::from_str(&json).ok()),
                    })
                })?
                .collect()
            })
            .map_err(|e| self.run_sql(run_id, e))
    }
}

/// Inserts `run` and its markets with `status`; `end` (error, duration) closes them at once (`finished_at` now).
fn insert_run(tx: &Transaction<'_>, run: &NewRun, status: Status, end: Option<(&str, u64)>) -> rusqlite::Result<()> {
    let markets = serde_json::to_string(&run.markets).expect("strings serialise");
    tx.execute(
        "INSERT INTO runs (run_id, started_at, status, command, git_commit, git_dirty, backend, endpoint, markets,
            stage, as_of, no_cache, pid, pid_start, finished_at, error, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            run.run_id,
            run.started_at,
            status.as_str(),
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
            end.map(|_| now()),
            end.map(|(error, _)| error),
            end.map(|(_, ms)| ms as i64),
        ],
    )?;
    for market in &run.markets {
        tx.execute(
            "INSERT INTO run_markets (run_id, market, status) VALUES (?1, ?2, ?3)",
            params![run.run_id, market, status.as_str()],
        )?;
    }
    Ok(())
}

/// Every column of `runs` that [`run_row`] reads, for the rows `condition` selects (and orders).
fn runs_sql(condition: &str) -> String {
    format!(
        "SELECT run_id, started_at, finished_at, status, command, git_commit, git_dirty, backend, endpoint,
            markets, stage, as_of, no_cache, duration_ms, peak_rss_bytes, error, feedback_ms
         FROM runs WHERE {condition}"
    )
}

fn run_row(r: &rusqlite::Row) -> rusqlite::Result<RunRow> {
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
        feedback_ms: opt_u64(r, 16)?,
    })
}

fn status(row: &rusqlite::Row, idx: usize) -> rusqlite::Result<Status> {
    let text: String = row.get(idx)?;
    text.parse().map_err(|e: String| conversion_error(idx, e))
}

/// A stage's stored outcome: `ok`, `alert` or `fail` ([`StageStatus::as_str`]).
fn stage_status(row: &rusqlite::Row, idx: usize) -> rusqlite::Result<StageStatus> {
    let text: String = row.get(idx)?;
    parse_stage_status(&text).ok_or_else(|| conversion_error(idx, format!("unknown stage status '{text}'")))
}

/// [`StageStatus`] from its stored name.
fn parse_stage_status(text: &str) -> Option<StageStatus> {
    [StageStatus::Ok, StageStatus::Alert, StageStatus::Fail].into_iter().find(|s| s.as_str() == text)
}

/// A check's stored level: `pass`, `alert` or `fail` ([`Level::as_str`]).
fn level(row: &rusqlite::Row, idx: usize) -> rusqlite::Result<Level> {
    let text: String = row.get(idx)?;
    [Level::Pass, Level::Alert, Level::Fail]
        .into_iter()
        .find(|l| l.as_str() == text)
        .ok_or_else(|| conversion_error(idx, format!("unknown check level '{text}'")))
}

fn conversion_error(idx: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, message.into())
}

fn opt_u64(row: &rusqlite::Row, idx: usize) -> rusqlite::Result<Option<u64>> {
    Ok(row.get::<_, Option<i64>>(idx)?.map(|v| v as u64))
}

/// Applies the migrations `user_version` says are missing, each in a transaction.
/// Switches the database to WAL. On a new database the switch needs the file to itself, and SQLite reports a
/// concurrent opener's switch as busy at once instead of waiting on the busy timeout, so two `wb` processes
/// opening a fresh workspace together retry here for up to 10 s.
fn wal_mode(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// The schema version this build writes (`PRAGMA user_version` of every history it opened).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let open_err = |source| HistoryError::Open { path: path.to_path_buf(), source };
    let known = MIGRATIONS.len() as i64;
    // One writer at a time: the version is read inside an immediate transaction, so two connections opening a
    // new database at once (the TUI's tasks, or `wb run` next to the TUI) cannot both apply the same migration.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(open_err)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(open_err)?;
    if version > known {
        return Err(HistoryError::Newer { path: path.to_path_buf(), found: version, known });
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(migration).map_err(open_err)?;
        tx.pragma_update(None, "user_version", i as i64 + 1).map_err(open_err)?;
    }
    tx.commit().map_err(open_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [
            Status::Running,
            Status::Interrupted,
            Status::BuildFailed,
            Status::Done(RunStatus::Ok),
            Status::Done(RunStatus::Alert),
            Status::Done(RunStatus::Fail),
            Status::Done(RunStatus::Error),
            Status::Done(RunStatus::Cancelled),
        ] {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        assert_eq!(Status::BuildFailed.as_str(), "build_failed");
    }

    #[test]
    fn statuses_serialise_as_their_stored_names() {
        let json = serde_json::json!([
            Status::BuildFailed,
            Status::Done(RunStatus::Cancelled),
            StageStatus::Alert,
            Level::Pass
        ]);
        assert_eq!(json.to_string(), r#"["build_failed","cancelled","alert","pass"]"#);
        for stage in [StageStatus::Ok, StageStatus::Alert, StageStatus::Fail] {
            assert_eq!(parse_stage_status(stage.as_str()), Some(stage));
        }
        assert_eq!(parse_stage_status("pass"), None);
    }

    #[test]
    fn an_ambiguous_prefix_lists_ten_candidates_then_how_many_more() {
        let ids: Vec<String> = (0..12).map(|i| format!("r{i:02}")).collect();
        let err = HistoryError::AmbiguousRunId { prefix: "r".into(), candidates: ids };
        assert_eq!(
            err.to_string(),
            "run id 'r' is ambiguous: it matches 12 runs: r00, r01, r02, r03, r04, r05, r06, r07, r08, r09 and 2 \
             more; type more of the id"
        );
    }

    #[test]
    fn a_newer_schema_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let err = History::open(&path).unwrap_err().to_string();
        assert!(err.contains("schema version 99, newer than this wb knows (4); update wb"), "{err}");
    }

    #[test]
    fn reopening_keeps_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        drop(History::open(&path).unwrap());
        let history = History::open(&path).unwrap();
        let version: i64 = history.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        assert_eq!(version, 4);
        let mode: String = history.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }
}
