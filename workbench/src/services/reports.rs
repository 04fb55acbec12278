//! A report per run in S3: after a run is recorded, each market's report is built from the history
//! ([`RunReport`]: the run, its stages, every check with its level, value and thresholds, the history bands and
//! drift tests the checks compared against, the metrics) and published as
//! `s3://{reports}/{market}/{run_id}/report.json` and `report.html`, and the index over the newest runs
//! (`s3://{reports}/index.html`, `index.json`) is written again.
//!
//! Rendering is not done here: services never import `present`, so the caller hands in the HTML renderers as a
//! [`ReportRenderer`] (`present::run_report::RENDERER`), and the JSON is the types' serde form. The index is
//! built from one history query ([`History::report_index`]) so it stays fast after thousands of runs. Nothing
//! here prints; a failure is a [`ReportsError`] naming the bucket and key, which the run reports as a warning
//! without changing its outcome.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use localstack::{Backend, LocalAwsError, S3Endpoint};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use pipeline_core::{CheckDetail, StageStatus};
use serde::{Deserialize, Serialize};

use crate::history::reports::IndexRun;
use crate::history::{History, HistoryError, Level, RunDetail};

/// How many runs the index page lists (newest first); older runs stay in their own folders and in `wb runs`.
pub const INDEX_RUNS: usize = 1000;

/// A market report's page.
pub const REPORT_HTML: &str = "report.html";
/// A market report's data.
pub const REPORT_JSON: &str = "report.json";
/// The index page, at the bucket's root.
pub const INDEX_HTML: &str = "index.html";
/// The index's data, at the bucket's root.
pub const INDEX_JSON: &str = "index.json";

/// The key of one of a market report's files (`{market}/{run_id}/{file}`); the index links it relatively.
pub fn report_key(market: &str, run_id: &str, file: &str) -> String {
    format!("{market}/{run_id}/{file}")
}

/// One market's report of one run: what `report.json` holds and `report.html` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The run.
    pub run_id: String,
    /// The market.
    pub market: String,
    /// The market's status in the run (`ok`, `alert`, `fail`, `error`, `cancelled`, …).
    pub status: String,
    /// The whole run's status.
    pub run_status: String,
    /// When the run started (RFC 3339 UTC).
    pub started_at: String,
    /// When it finished.
    pub finished_at: Option<String>,
    /// The market's as_of.
    pub as_of: Option<String>,
    /// The commit the run was made from (none outside a repository).
    pub git_commit: Option<String>,
    /// Whether the work tree had changes.
    pub git_dirty: Option<bool>,
    /// The S3 backend (`embedded`, `localstack`, …).
    pub backend: String,
    /// The command line recorded with the run.
    pub command: String,
    /// The market's wall time.
    pub duration_ms: Option<u64>,
    /// The error that ended the market, if any.
    pub error: Option<String>,
    /// Its stages, in execution order.
    pub stages: Vec<StageReport>,
    /// Every check, by stage and order.
    pub checks: Vec<CheckReport>,
    /// The metrics the stages recorded, by name.
    pub metrics: BTreeMap<String, f64>,
}

/// One stage in a [`RunReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageReport {
    /// Stage name.
    pub stage: String,
    /// Outcome.
    pub status: StageStatus,
    /// Wall time.
    pub duration_ms: u64,
    /// Served from the cache.
    pub cache_hit: bool,
    /// Rows of its main output.
    pub rows: u64,
}

/// One check in a [`RunReport`]: its level, the value measured, the rule (thresholds) and what it compared
/// against (a history band or a drift test) when it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// The stage it ran after.
    pub stage: String,
    /// Check name.
    pub name: String,
    /// What it measured.
    pub subject: String,
    /// Outcome.
    pub level: Level,
    /// The measured value.
    pub measured: f64,
    /// The rule, with its thresholds.
    pub rule: String,
    /// A sentence for people.
    pub message: String,
    /// The history band or drift test behind it.
    pub detail: Option<CheckDetail>,
}

impl RunReport {
    /// `market`'s report from the run's history and its metrics; `None` when the run has no such market.
    pub fn from_detail(detail: &RunDetail, market: &str, metrics: BTreeMap<String, f64>) -> Option<Self> {
        let row = detail.markets.iter().find(|m| m.market == market)?;
        let run = &detail.run;
        Some(Self {
            run_id: run.run_id.clone(),
            market: market.to_string(),
            status: row.status.as_str().to_string(),
            run_status: run.status.as_str().to_string(),
            started_at: run.started_at.clone(),
            finished_at: run.finished_at.clone(),
            as_of: row.as_of.clone().or_else(|| run.as_of.clone()),
            git_commit: run.git_commit.clone(),
            git_dirty: run.git_dirty,
            backend: run.backend.clone(),
            command: run.command.clone(),
            duration_ms: row.duration_ms,
            error: row.error.clone(),
            stages: detail
                .stages_of(market)
                .map(|s| StageReport {
                    stage: s.stage.clone(),
                    status: s.status,
                    duration_ms: s.duration_ms,
                    cache_hit: s.cache_hit,
                    rows: s.rows,
                })
                .collect(),
            checks: detail
                .checks
                .iter()
                .filter(|c| c.market == market)
                .map(|c| CheckReport {
                    stage: c.stage.clone(),
                    name: c.name.clone(),
                    subject: c.subject.clone(),
                    level: c.status,
                    measured: c.measured,
                    rule: c.rule.clone(),
                    message: c.message.clone(),
                    detail: c.detail.clone(),
                })
                .collect(),
            metrics,
        })
    }

    /// How many checks ended at `level`.
    pub fn count(&self, level: Level) -> usize {
        self.checks.iter().filter(|c| c.level == level).count()
    }
}

/// The index over the newest runs: what `index.json` holds and `index.html` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportIndex {
    /// The newest runs (at most [`INDEX_RUNS`]), newest first.
    pub runs: Vec<IndexRun>,
    /// Whether older runs exist that the index does not list.
    pub truncated: bool,
}

/// The HTML renderers [`objects`] writes with (pure functions of the reports; `present::run_report` has them).
#[derive(Clone, Copy)]
pub struct ReportRenderer {
    /// A market's report page.
    pub report: fn(&RunReport) -> String,
    /// The index page.
    pub index: fn(&ReportIndex) -> String,
}

impl std::fmt::Debug for ReportRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReportRenderer")
    }
}

/// Where a market's report of a run is: its S3 URL, and on the embedded backend the file the store keeps it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportLink {
    /// The market.
    pub market: String,
    /// `s3://{bucket}/{market}/{run_id}/report.html`.
    pub url: String,
    /// `{s3_dir}/{bucket}/{market}/{run_id}/report.html`, only for runs on the embedded backend (the one whose
    /// objects are plain files).
    pub path: Option<PathBuf>,
}

/// The report links of each market of `detail`'s run, in the reports `bucket`; `s3_dir` is the embedded
/// store's folder (`.workbench/s3`). None for a run that ended before its markets ran (it recorded no
/// endpoint): reports are published only after the markets ran.
pub fn links(detail: &RunDetail, bucket: &str, s3_dir: &Path) -> Vec<ReportLink> {
    if detail.run.endpoint.is_none() {
        return Vec::new();
    }
    let embedded = detail.run.backend == Backend::Embedded.to_string();
    detail
        .markets
        .iter()
        .map(|m| {
            let key = report_key(&m.market, &detail.run.run_id, REPORT_HTML);
            ReportLink {
                market: m.market.clone(),
                url: format!("s3://{bucket}/{key}"),
                path: embedded.then(|| s3_dir.join(bucket).join(&key)),
            }
        })
        .collect()
}

/// Why reports could not be built or published.
#[derive(Debug, thiserror::Error)]
pub enum ReportsError {
    /// The run could not be read from history.
    #[error("cannot read run {run_id} for its report: {source}")]
    History {
        /// The run.
        run_id: String,
        /// Why.
        #[source]
        source: Box<HistoryError>,
    },
    /// The run is not in history.
    #[error("run {run_id} is not in the run history; nothing to report")]
    NoRun {
        /// The run.
        run_id: String,
    },
    /// No client for the reports bucket.
    #[error("cannot reach the reports bucket `{bucket}`: {source}")]
    Client {
        /// The bucket.
        bucket: String,
        /// Why.
        #[source]
        source: Box<LocalAwsError>,
    },
    /// An object could not be written.
    #[error("cannot write s3://{bucket}/{key}: {source}; check that the backend runs (`wb aws status`)")]
    Store {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// What the store said.
        #[source]
        source: Box<object_store::Error>,
    },
}

/// Each market's report of `run_id`, from the history (the run's detail and each market's metrics).
pub fn build(history: &History, run_id: &str) -> Result<Vec<RunReport>, ReportsError> {
    let err = |source| ReportsError::History { run_id: run_id.to_string(), source: Box::new(source) };
    let detail =
        history.run_detail(run_id).map_err(err)?.ok_or_else(|| ReportsError::NoRun { run_id: run_id.into() })?;
    let mut reports = Vec::with_capacity(detail.markets.len());
    for market in &detail.markets {
        let metrics = history.run_metrics(run_id, &market.market).map_err(err)?;
        reports.extend(RunReport::from_detail(&detail, &market.market, metrics));
    }
    Ok(reports)
}

/// The index over the newest `limit` runs: one history query.
pub fn index(history: &History, limit: usize) -> Result<ReportIndex, HistoryError> {
    let mut runs = history.report_index(limit + 1)?;
    let truncated = runs.len() > limit;
    runs.truncate(limit);
    Ok(ReportIndex { runs, truncated })
}

/// What [`write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Every key written, in order (each market's JSON and HTML, then the index's).
    pub keys: Vec<String>,
}

/// The objects publishing `run_id` writes, as (key, bytes), in order: each market's `report.json` and
/// `report.html`, then `index.json` and `index.html`. Reads the history here, before any await, so the
/// connection is not held across the writes ([`write`]).
pub fn objects(
    history: &History,
    run_id: &str,
    render: ReportRenderer,
) -> Result<Vec<(String, Vec<u8>)>, ReportsError> {
    let reports = build(history, run_id)?;
    let index = index(history, INDEX_RUNS)
        .map_err(|source| ReportsError::History { run_id: run_id.into(), source: Box::new(source) })?;
    let mut objects: Vec<(String, Vec<u8>)> = Vec::with_capacity(2 * reports.len() + 2);
    for report in &reports {
        let json = serde_json::to_vec_pretty(report).expect("reports serialise");
        objects.push((report_key(&report.market, run_id, REPORT_JSON), json));
        objects.push((report_key(&report.market, run_id, REPORT_HTML), (render.report)(report).into()));
    }
    objects.push((INDEX_JSON.to_string(), serde_json::to_vec(&index).expect("index serialises")));
    objects.push((INDEX_HTML.to_string(), (render.index)(&index).into()));
    Ok(objects)
}

/// Writes `objects` (key, bytes) to `bucket`, in order.
pub async fn write(
    endpoint: &S3Endpoint,
    bucket: &str,
    objects: Vec<(String, Vec<u8>)>,
) -> Result<Published, ReportsError> {
    let store = endpoint
        .object_store(bucket)
        .map_err(|source| ReportsError::Client { bucket: bucket.to_string(), source: Box::new(source) })?;
    let mut keys = Vec::with_capacity(objects.len());
    for (key, bytes) in objects {
        store.put(&ObjectPath::from(key.as_str()), PutPayload::from(bytes)).await.map_err(|source| {
            ReportsError::Store { bucket: bucket.to_string(), key: key.clone(), source: Box::new(source) }
        })?;
        keys.push(key);
    }
    Ok(Published { keys })
}
