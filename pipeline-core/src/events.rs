//! The runner's newline-delimited JSON events: what the headless CLI prints with `--json` and what the TUI reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checks::{CheckResult, CheckStatus};
use crate::stages::Stage;

/// The outcome of one stage in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// Ran (or was cached) and every check passed.
    Ok,
    /// Ran and at least one check alerted.
    Alert,
    /// A check failed, or the stage could not complete (bad input, missing file).
    Fail,
}

impl StageStatus {
    /// The status a set of checks gives.
    pub fn from_checks(checks: &[CheckResult]) -> Self {
        match crate::checks::worst(checks) {
            CheckStatus::Pass => StageStatus::Ok,
            CheckStatus::Alert => StageStatus::Alert,
            CheckStatus::Fail => StageStatus::Fail,
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            StageStatus::Ok => "ok",
            StageStatus::Alert => "alert",
            StageStatus::Fail => "fail",
        }
    }
}

/// Everything known about one stage's execution in a run; also the content of its cache marker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// The stage.
    pub stage: Stage,
    /// Its cache key.
    pub cache_key: String,
    /// Outcome.
    pub status: StageStatus,
    /// Whether the output came from the cache.
    pub cache_hit: bool,
    /// Rows of its main output.
    pub rows: u64,
    /// Rows per output table.
    pub tables: BTreeMap<String, u64>,
    /// Bytes written (0 on a cache hit).
    pub bytes: u64,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Check results.
    pub checks: Vec<CheckResult>,
    /// URLs of everything it wrote.
    pub outputs: Vec<String>,
    /// The run that computed the output.
    pub produced_by: String,
    /// The error that stopped the stage, when there was one.
    pub error: Option<String>,
    /// What the stage measured on its output (`pipeline_core::metrics`), by metric name; kept in the cache
    /// marker so a cached stage reports the same metrics, and recorded in run history for the history checks.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
}

/// Log level of a [`Event::Log`] line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Routine information.
    Info,
    /// Something worth a look.
    Warn,
    /// An error.
    Error,
}

/// Overall outcome of a market's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every stage passed.
    Ok,
    /// Passed with alerts.
    Alert,
    /// A check failed or a stage could not complete.
    Fail,
    /// The environment failed (storage unreachable, runner died).
    Error,
    /// Cancelled by the user.
    Cancelled,
}

impl RunStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Alert => "alert",
            RunStatus::Fail => "fail",
            RunStatus::Error => "error",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

/// One line of the runner's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A market's run began.
    RunStarted {
        /// Run id.
        run_id: String,
        /// Market.
        market: String,
        /// The stages that will run or be served from cache, in order.
        stages: Vec<Stage>,
        /// The run date.
        as_of: String,
    },
    /// A stage began.
    StageStarted {
        /// Market.
        market: String,
        /// Stage.
        stage: Stage,
        /// Its cache key.
        cache_key: String,
    },
    /// A stage made progress.
    StageProgress {
        /// Market.
        market: String,
        /// Stage.
        stage: Stage,
        /// Rows processed so far.
        rows: u64,
        /// What it is doing.
        message: String,
    },
    /// One check's result.
    Check {
        /// Market.
        market: String,
        /// Stage the check ran after.
        stage: Stage,
        /// The result.
        result: CheckResult,
    },
    /// A log line.
    Log {
        /// Market.
        market: String,
        /// Stage, when the line belongs to one.
        stage: Option<Stage>,
        /// Level.
        level: LogLevel,
        /// Text.
        message: String,
    },
    /// A stage finished (ran, was cached, or failed).
    StageFinished {
        /// Market.
        market: String,
        /// The stage's record.
        record: StageRecord,
    },
    /// Resources the runner process used, sent just before it exits (benchmarks read it).
    Resources {
        /// Market.
        market: String,
        /// Peak resident memory of the runner process in bytes (Linux `VmHWM`).
        peak_rss_bytes: u64,
    },
    /// A market's run finished.
    RunFinished {
        /// Run id.
        run_id: String,
        /// Market.
        market: String,
        /// Outcome.
        status: RunStatus,
        /// Wall time in milliseconds.
        duration_ms: u64,
        /// The error that ended the run, when there was one.
        error: Option<String>,
    },
}

impl Event {
    /// The event as one JSON line (without the newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("events serialise")
    }
}
