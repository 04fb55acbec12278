//! Compare a stage's output: two markets' latest outputs, or a market's with another run or git revision (built
//! and run in a worktree when it has not been run; see [`revision`]). A typed [`DiffQuery`] in, a
//! `workbench_diff::StageDiff` out; `wb diff`, `wb check` and the TUI's diff screen all come here.

use crate::services::revision;
pub use crate::services::revision::OutputRef;

use std::io::Cursor;
use std::sync::Arc;

use localstack::Backend;
use object_store::ObjectStore;
use pipeline_core::engine::table_key;
use pipeline_core::stages::BucketKind;
use pipeline_core::stages::export::{ExportManifest, file_key, manifest_key};
use pipeline_core::{Buckets, Stage, StageIo};
use polars::prelude::*;
use workbench_diff::{DiffError, Side, StageDiff, StageOptions, TablePair, diff_stage};

use crate::history::{History, HistoryError};
use crate::services::aws::session::{self, Session};
use crate::workspace::{Workspace, WorkspaceError};
use markets::MarketId;

/// Why `wb diff` could not compare.
#[derive(Debug, thiserror::Error)]
pub enum DiffQueryError {
    /// Neither two markets nor `--market` with `--against` were given.
    #[error(
        "say what to compare: two markets (`wb diff --stage {stage} foobar-au foobar-br`) or one market and a run \
         or revision (`wb diff --stage {stage} --market foobar-ca --against base`)"
    )]
    Usage {
        /// The stage asked for.
        stage: Stage,
    },
    /// No workspace, or a bad `workbench.toml`.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The run history could not be read.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The market has never produced the stage.
    #[error("{market} has no {stage} output yet: run `wb run --market {market} --stage {stage}` first")]
    NoOutput {
        /// Market.
        market: String,
        /// Stage.
        stage: Stage,
    },
    /// The run did not produce the stage for the market.
    #[error(
        "run {run_id} has no {stage} output for {market} (it did not run that market or stage, or the stage \
         failed): pick a run that did (`wb runs`), or run `wb run --market {market} --stage {stage}`"
    )]
    NoRunOutput {
        /// Run id.
        run_id: String,
        /// Market.
        market: String,
        /// Stage.
        stage: Stage,
    },
    /// `--against` is neither a run nor a revision.
    #[error(
        "--against {what}: no run in the history has this id and it is not a git revision: give a run id (`wb \
         runs`), a commit, branch or tag, or `base`"
    )]
    UnknownAgainst {
        /// What was given.
        what: String,
    },
    /// History names an output the backend no longer has.
    #[error(
        "{market} {stage} output {url} (run {run_id}) is not in the S3 backend any more (its data was reset or \
         removed): run `wb run --market {market} --stage {stage}` again"
    )]
    Gone {
        /// Market.
        market: String,
        /// Stage.
        stage: Stage,
        /// The missing object.
        url: String,
        /// The run that recorded it.
        run_id: String,
    },
    /// The export file was rewritten by a later run with another cache key.
    #[error(
        "the {market} export file {url} now holds the output of another run (cache key {found}, not {wanted} of run \
         {run_id}): diff the recommend stage instead, or re-run that revision"
    )]
    ExportReplaced {
        /// Market.
        market: String,
        /// The export file.
        url: String,
        /// Key in the manifest.
        found: String,
        /// Key wanted.
        wanted: String,
        /// The run wanted.
        run_id: String,
    },
    /// `--table` names no table of the stage.
    #[error("{stage} has no table {table}: use one of {}", tables.join(", "))]
    UnknownTable {
        /// Stage.
        stage: Stage,
        /// What was asked for.
        table: String,
        /// The stage's tables.
        tables: Vec<String>,
    },
    /// The backend did not start.
    #[error("cannot start the {backend} S3 backend to read outputs: {source}")]
    Backend {
        /// Which backend.
        backend: Backend,
        /// Why.
        #[source]
        source: localstack::LocalAwsError,
    },
    /// Reading an output failed.
    #[error("{0}")]
    Read(String),
    /// The tables cannot be compared (keys missing, of other types, repeated).
    #[error(transparent)]
    Diff(#[from] DiffError),
    /// Building or running another revision failed.
    #[error(transparent)]
    Revision(#[from] revision::RevisionError),
}

/// The latest output of `market`'s `stage`: the newest run that recorded it as ok or alert.
pub fn latest_output(
    history: &History,
    market: &str,
    stage: Stage,
    buckets: &Buckets,
) -> Result<Option<OutputRef>, HistoryError> {
    Ok(history.latest_output(market, stage)?.map(|o| OutputRef::new(market, stage, buckets, o)))
}

/// The output of `market`'s `stage` that run `run_id` recorded (ok or alert).
pub fn run_output(
    history: &History,
    run_id: &str,
    market: &str,
    stage: Stage,
    buckets: &Buckets,
) -> Result<Option<OutputRef>, HistoryError> {
    Ok(history.run_output(run_id, market, stage)?.map(|o| OutputRef::new(market, stage, buckets, o)))
}

/// The tables a stage's diff covers: its work tables (or `only`), or for export the exported file.
pub fn stage_tables(stage: Stage, only: Option<&str>) -> Result<Vec<String>, DiffQueryError> {
    let all: Vec<String> = if stage == Stage::Export {
        vec!["recommendations".to_string()]
    } else {
        stage.spec().outputs.iter().map(|t| t.to_string()).collect()
    };
    match only {
        None => Ok(all),
        Some(t) if all.iter().any(|a| a == t) => Ok(vec![t.to_string()]),
        Some(t) => Err(DiffQueryError::UnknownTable { stage, table: t.to_string(), tables: all }),
    }
}

/// Object stores for every bucket either side may read, keyed by bucket name.
fn stage_io(endpoint: &localstack::S3Endpoint, buckets: &Buckets) -> Result<StageIo, DiffQueryError> {
    let mut stores: std::collections::BTreeMap<String, Arc<dyn ObjectStore>> = std::collections::BTreeMap::new();
    for bucket in buckets.all() {
        let store = endpoint.object_store(bucket).map_err(|e| DiffQueryError::Read(e.to_string()))?;
        stores.insert(bucket.to_string(), store);
    }
    Ok(StageIo::new(buckets.clone(), |bucket| Arc::clone(&stores[bucket])))
}

/// Reads the tables of one side's output.
pub async fn load_tables(
    endpoint: &localstack::S3Endpoint,
    output: &OutputRef,
    tables: &[String],
) -> Result<Vec<(String, DataFrame)>, DiffQueryError> {
    let io = stage_io(endpoint, &output.buckets)?;
    let read_err = |e: pipeline_core::PipelineError| DiffQueryError::Read(format!("{e}; check that the backend runs"));
    if output.stage == Stage::Export {
        return Ok(vec![("recommendations".to_string(), load_export(&io, output).await?)]);
    }
    let mut frames = Vec::with_capacity(tables.len());
    for table in tables {
        let key = table_key(&output.market, output.stage, &output.cache_key, table);
        let frame =
            io.read_parquet(BucketKind::Work, &key).await.map_err(read_err)?.ok_or_else(|| DiffQueryError::Gone {
                market: output.market.clone(),
                stage: output.stage,
                url: io.url(BucketKind::Work, &key),
                run_id: output.run_id.clone(),
            })?;
        frames.push((table.clone(), frame));
    }
    Ok(frames)
}

/// The export file of a run: read as text (its delimiter taken from the header), with `propensity` and `rank`
/// as numbers; refused when a later run with another cache key replaced it.
async fn load_export(io: &StageIo, output: &OutputRef) -> Result<DataFrame, DiffQueryError> {
    let market = &output.market;
    let as_of =
        output.as_of.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).ok_or_else(
            || DiffQueryError::NoRunOutput {
                run_id: output.run_id.clone(),
                market: market.clone(),
                stage: Stage::Export,
            },
        )?;
    let read_err = |e: pipeline_core::PipelineError| DiffQueryError::Read(format!("{e}; check that the backend runs"));
    let gone = |key: &str| DiffQueryError::Gone {
        market: market.clone(),
        stage: Stage::Export,
        url: io.url(BucketKind::Exports, key),
        run_id: output.run_id.clone(),
    };
    let mkey = manifest_key(market, as_of);
    let manifest = io.get(BucketKind::Exports, &mkey).await.map_err(read_err)?.ok_or_else(|| gone(&mkey))?;
    let manifest: ExportManifest = serde_json::from_slice(&manifest).map_err(|e| {
        DiffQueryError::Read(format!("{}: not an export manifest: {e}", io.url(BucketKind::Exports, &mkey)))
    })?;
    let fkey = file_key(market, as_of);
    let found = manifest.cache_keys.get("export").cloned().unwrap_or_default();
    if found != output.cache_key {
        return Err(DiffQueryError::ExportReplaced {
            market: market.clone(),
            url: io.url(BucketKind::Exports, &fkey),
            found,
            wanted: output.cache_key.clone(),
            run_id: output.run_id.clone(),
        });
    }
    let bytes = io.get(BucketKind::Exports, &fkey).await.map_err(read_err)?.ok_or_else(|| gone(&fkey))?;
    read_export_csv(&bytes).map_err(|e| DiffQueryError::Read(format!("{}: {e}", io.url(BucketKind::Exports, &fkey))))
}

/// An export CSV as a frame: the delimiter is the character after the header's first column name, every column
/// is text except `propensity` (number) and `rank` (integer).
pub fn read_export_csv(bytes: &[u8]) -> Result<DataFrame, ExportCsvError> {
    let header = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter =
        header.iter().copied().find(|b| matches!(b, b',' | b';' | b'\t' | b'|')).ok_or(ExportCsvError::Delimiter)?;
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_parse_options(CsvParseOptions::default().with_separator(delimiter).with_missing_is_null(true))
        .into_reader_with_file_handle(Cursor::new(bytes.to_vec()))
        .finish()
        .map_err(ExportCsvError::Csv)?;
    let mut casts = Vec::new();
    if frame.column("propensity").is_ok() {
        casts.push(col("propensity").strict_cast(DataType::Float64));
    }
    if frame.column("rank").is_ok() {
        casts.push(col("rank").strict_cast(DataType::Int64));
    }
    frame.lazy().with_columns(casts).collect().map_err(ExportCsvError::NotANumber)
}

/// Why an exported CSV file could not be read back as a frame.
#[derive(Debug, thiserror::Error)]
pub enum ExportCsvError {
    /// The header line holds none of `,`, `;`, tab or `|`.
    #[error("cannot tell the delimiter from the header line")]
    Delimiter,
    /// polars could not parse it.
    #[error("cannot read as CSV: {0}")]
    Csv(PolarsError),
    /// `propensity` or `rank` holds a value that is not a number.
    #[error("propensity or rank is not a number: {0}")]
    NotANumber(PolarsError),
}

/// A side's description for the diff: its label and where it came from.
fn side(label: String, output: &OutputRef, location: String) -> Side {
    Side {
        label,
        market: output.market.clone(),
        run_id: Some(output.run_id.clone()),
        revision: output.revision.clone(),
        cache_key: Some(output.cache_key.clone()),
        location: Some(location),
    }
}

fn location(output: &OutputRef) -> String {
    if output.stage == Stage::Export {
        let as_of = output.as_of.clone().unwrap_or_default();
        format!("s3://{}/{}/{as_of}/recommendations.csv", output.buckets.exports, output.market)
    } else {
        format!("s3://{}/{}/{}/{}/", output.buckets.work, output.market, output.stage, output.cache_key)
    }
}

/// What `--against` resolved to.
enum Against {
    /// A run in the history.
    Run(String),
    /// A git revision (`base` resolved to the merge base).
    Revision(revision::Revision),
}

/// What to compare, typed: the stage, the two sides, and how rows are matched and shown.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffQuery {
    /// The stage whose outputs are compared.
    pub stage: Stage,
    /// Side A and side B.
    pub sides: Sides,
    /// Key columns matching rows (empty: the stage's key).
    pub keys: Vec<String>,
    /// Only this output table (default: every table of the stage).
    pub table: Option<String>,
    /// Numbers within this absolute difference count as equal.
    pub tolerance: f64,
    /// How many changed rows (and added and removed keys) to show per table.
    pub sample: usize,
    /// The backend to read outputs from when no endpoint is given (default: the one `wb aws up` left running,
    /// else `[aws] backend` in workbench.toml, else embedded).
    pub backend: Option<Backend>,
}

/// The two sides of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sides {
    /// Market A's latest output against market B's.
    Markets(MarketId, MarketId),
    /// `market`'s latest output (B) against a run id (or unique prefix, or `last`), a git revision or `base` (A).
    Against {
        /// The market (side B).
        market: MarketId,
        /// What it is compared with (side A).
        against: String,
    },
}

impl DiffQuery {
    /// A query with the default matching and sample size (10 rows, exact numbers, every table).
    pub fn new(stage: Stage, sides: Sides) -> Self {
        Self { stage, sides, keys: Vec::new(), table: None, tolerance: 0.0, sample: 10, backend: None }
    }
}

/// Finds both sides, reads them and diffs them: against `endpoint` when given (the TUI's running backend: nothing
/// is started or printed), else against a backend started (or attached to) for the diff.
pub async fn compare(
    workspace: &Workspace,
    args: &DiffQuery,
    endpoint: Option<localstack::S3Endpoint>,
) -> Result<StageDiff, DiffQueryError> {
    let stage = args.stage;
    let tables = stage_tables(stage, args.table.as_deref())?;
    let workspace = workspace.clone();
    let buckets = workspace.settings().buckets.clone();
    // A resolved side, or a revision still to be run once the backend is up. (The history is closed before the
    // first await, so the future can run on any thread: the TUI computes diffs on a task.)
    let (a, b, pending) = {
        let history = History::open(&workspace.history_path())?;
        let latest = |market: &MarketId| -> Result<OutputRef, DiffQueryError> {
            latest_output(&history, market.as_str(), stage, &buckets)?
                .ok_or_else(|| DiffQueryError::NoOutput { market: market.to_string(), stage })
        };
        match &args.sides {
            Sides::Markets(ma, mb) => (Some((ma.to_string(), latest(ma)?)), (mb.to_string(), latest(mb)?), None),
            Sides::Against { market: m, against: what } => {
                let b = (m.to_string(), latest(m)?);
                match resolve_against(&history, &workspace, what)? {
                    Against::Run(run_id) => {
                        let output = run_output(&history, &run_id, m.as_str(), stage, &buckets)?.ok_or_else(|| {
                            DiffQueryError::NoRunOutput { run_id: run_id.clone(), market: m.to_string(), stage }
                        })?;
                        (Some((format!("{m}@{run_id}"), output)), b, None)
                    }
                    Against::Revision(rev) => (None, b, Some((m.clone(), rev))),
                }
            }
        }
    };

    let (running, endpoint) = match endpoint {
        Some(endpoint) => (None, endpoint),
        None => {
            let choice = session::choose(&workspace, args.backend).await;
            let backend = choice.backend();
            let running = Session::start(&workspace, choice, "wb diff")
                .await
                .map_err(|source| DiffQueryError::Backend { backend, source })?;
            let endpoint = running.endpoint();
            (Some(running), endpoint)
        }
    };
    let result = async {
        let a = match (a, pending) {
            (Some(a), _) => a,
            (None, Some((market, rev))) => {
                let output = revision::output_at(&workspace, &rev, &market, stage, &endpoint).await?;
                (format!("{market}@{}", rev.label()), output)
            }
            (None, None) => unreachable!("a side A or a revision to run"),
        };
        let frames_a = load_tables(&endpoint, &a.1, &tables).await?;
        let frames_b = load_tables(&endpoint, &b.1, &tables).await?;
        let pairs: Vec<TablePair> = frames_a
            .into_iter()
            .zip(frames_b)
            .map(|((table, fa), (_, fb))| TablePair { table, a: fa, b: fb })
            .collect();
        let options = StageOptions {
            keys: (!args.keys.is_empty()).then(|| args.keys.clone()),
            tolerance: args.tolerance,
            sample_rows: args.sample,
            ..StageOptions::default()
        };
        let side_a = side(a.0, &a.1, location(&a.1));
        let side_b = side(b.0, &b.1, location(&b.1));
        Ok::<_, DiffQueryError>(tokio::task::block_in_place(|| diff_stage(stage, side_a, side_b, &pairs, &options))?)
    }
    .await;
    if let Some(running) = running {
        running.shutdown().await;
    }
    result
}

/// `--against`: a run in the history (id, unique prefix or `last`) first, else `base`, else a git revision.
fn resolve_against(history: &History, workspace: &Workspace, what: &str) -> Result<Against, DiffQueryError> {
    if what != "base"
        && let Some(run_id) = history.resolve_run_id(what)?
    {
        return Ok(Against::Run(run_id));
    }
    match revision::resolve(workspace.root(), what)? {
        Some(rev) => Ok(Against::Revision(rev)),
        None => Err(DiffQueryError::UnknownAgainst { what: what.to_string() }),
    }
}
