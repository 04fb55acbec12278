//! The engine: plans the stages a request needs, computes their cache keys, serves unchanged stages from the
//! cache, runs the rest, runs each stage's check right after it, stops on FAIL, and reports every step as an
//! [`Event`]. The stage's cache marker is written last, so an interrupted stage never looks complete.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use bytes::Bytes;
use chrono::NaiveDate;
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::cache::KeyParts;
use crate::cache::{KeyInputs, key_from_material, key_material, key_parts};
use crate::checks::CheckResult;
use crate::error::{PipelineError, PolarsContext, Result};
use crate::events::{Event, LogLevel, RunStatus, StageRecord, StageStatus};
use crate::hooks::{DeclaredHooks, Market};
use crate::io::StageIo;
use crate::quality::{self, RunHistory};
use crate::raw::RawFile;
use crate::schema::Table;
use crate::sources::CodeSet;
use crate::stages::{BucketKind, Input, Stage, StageContext, StageInputs, StageOutput, StageSpec};

/// What to run for one market.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// Run id, unique across runs (quarantine paths and history use it).
    pub run_id: String,
    /// The stage to reach; `None` runs every stage.
    pub target: Option<Stage>,
    /// Overrides the raw manifest's as_of.
    pub as_of: Option<NaiveDate>,
    /// Recompute every stage even when its cached output is valid.
    pub no_cache: bool,
    /// Row counts per ingest table of the market's previous successful run (from run history), for the
    /// `row_count` check.
    pub previous_rows: Option<BTreeMap<String, u64>>,
    /// The market's earlier successful runs (their metrics and the drift baseline), from run history. `None`
    /// leaves the history and drift checks out (a bare engine call has no history); `Some` of an empty history
    /// gives checks that say "not enough history" and "no baseline".
    pub history: Option<RunHistory>,
}

/// How a market's run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Overall status.
    pub status: RunStatus,
    /// as_of used, when it could be determined.
    pub as_of: Option<NaiveDate>,
    /// Every stage that started, in order.
    pub stages: Vec<StageRecord>,
    /// The error that ended the run.
    pub error: Option<String>,
}

/// The stages needed to produce `target` (or all), in execution order, derived from the declared inputs.
pub fn plan(target: Option<Stage>) -> Vec<Stage> {
    let Some(target) = target else { return Stage::ALL.to_vec() };
    let mut needed = BTreeSet::new();
    let mut todo = vec![target];
    while let Some(stage) = todo.pop() {
        if needed.insert(stage) {
            todo.extend(upstream(stage.spec()));
        }
    }
    topological(needed)
}

/// The stages a stage reads from.
pub fn upstream(spec: &StageSpec) -> Vec<Stage> {
    let mut stages: Vec<Stage> = spec
        .inputs
        .iter()
        .filter_map(|i| match i {
            Input::Output(s, _) => Some(*s),
            Input::Raw(_) => None,
        })
        .collect();
    stages.sort();
    stages.dedup();
    stages
}

/// Orders stages so each comes after the stages it reads from (ties in spec order).
fn topological(stages: BTreeSet<Stage>) -> Vec<Stage> {
    let mut ordered = Vec::with_capacity(stages.len());
    let mut left: Vec<Stage> = stages.into_iter().collect();
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|s| upstream(s.spec()).iter().all(|u| ordered.contains(u) || !left.contains(u)))
            .expect("stage inputs form no cycle");
        ordered.push(left.remove(ready));
    }
    ordered
}

/// Work-bucket prefix of a stage's output for a key.
pub fn output_prefix(market: &str, stage: Stage, key: &str) -> String {
    format!("{market}/{stage}/{key}")
}

/// Key of a stage's cache marker; written last, its presence means the output is complete.
pub fn marker_key(market: &str, stage: Stage, key: &str) -> String {
    format!("{}/_SUCCESS.json", output_prefix(market, stage, key))
}

/// Key of a stage's output table.
pub fn table_key(market: &str, stage: Stage, key: &str, table: &str) -> String {
    format!("{}/{table}.parquet", output_prefix(market, stage, key))
}

/// Key of the raw manifest holding as_of.
pub fn raw_manifest_key(market: &str) -> String {
    format!("{market}/_manifest.json")
}

/// Runs a request for one market, reporting through `emit`. Never panics on bad data: every failure ends as a
/// `RunFinished` event with the error.
pub async fn run_market(
    io: &StageIo,
    market: &dyn Market,
    req: &RunRequest,
    emit: &mut (dyn FnMut(Event) + Send),
) -> RunOutcome {
    let started = Instant::now();
    let mut run = Run::new(io, market, req, emit);
    let result = run.execute().await;
    let (status, as_of, error) = match result {
        Ok((status, as_of)) => (status, Some(as_of), None),
        Err((status, as_of, e)) => (status, as_of, Some(crate::error::bounded(&e.to_string()))),
    };
    (run.emit)(Event::RunFinished {
        run_id: req.run_id.clone(),
        market: market.id().to_string(),
        status,
        duration_ms: started.elapsed().as_millis() as u64,
        error: error.clone(),
    });
    RunOutcome { status, as_of, stages: run.records, error }
}

type RunError = (RunStatus, Option<NaiveDate>, PipelineError);

struct Run<'a> {
    io: &'a StageIo,
    market: &'a dyn Market,
    req: &'a RunRequest,
    emit: &'a mut (dyn FnMut(Event) + Send),
    market_id: String,
    records: Vec<StageRecord>,
    frames: BTreeMap<(Stage, String), DataFrame>,
    /// What each planned stage's key is made of, written into its marker.
    parts: BTreeMap<Stage, KeyParts>,
    /// The ETag of each raw extract as it went into the keys; the extract is then read with If-Match on it.
    raw_etags: BTreeMap<Table, String>,
}

/// Status of a failed run from its error: storage trouble is the environment's, the rest is the data's or code's.
fn failure(e: PipelineError, as_of: Option<NaiveDate>) -> RunError {
    let status = if e.is_environment() { RunStatus::Error } else { RunStatus::Fail };
    (status, as_of, e)
}

impl<'a> Run<'a> {
    fn new(
        io: &'a StageIo,
        market: &'a dyn Market,
        req: &'a RunRequest,
        emit: &'a mut (dyn FnMut(Event) + Send),
    ) -> Self {
        let market_id = market.id().to_string();
        Run {
            io,
            market,
            req,
            emit,
            market_id,
            records: Vec::new(),
            frames: BTreeMap::new(),
            parts: BTreeMap::new(),
            raw_etags: BTreeMap::new(),
        }
    }

    fn log(&mut self, stage: Option<Stage>, level: LogLevel, message: String) {
        (self.emit)(Event::Log { market: self.market_id.clone(), stage, level, message });
    }

    async fn execute(&mut self) -> std::result::Result<(RunStatus, NaiveDate), RunError> {
        let as_of = self.as_of().await.map_err(|e| failure(e, None))?;
        let stages = plan(self.req.target);
        (self.emit)(Event::RunStarted {
            run_id: self.req.run_id.clone(),
            market: self.market_id.clone(),
            stages: stages.clone(),
            as_of: as_of.to_string(),
        });
        let keys = self.keys(&stages, as_of).await.map_err(|e| failure(e, Some(as_of)))?;
        let mut overall = RunStatus::Ok;
        for stage in stages {
            let record = self.stage(stage, as_of, &keys).await;
            let status = record.status;
            let error = record.error.clone();
            self.records.push(record.clone());
            (self.emit)(Event::StageFinished { market: self.market_id.clone(), record });
            match status {
                StageStatus::Ok => {}
                StageStatus::Alert => overall = RunStatus::Alert,
                StageStatus::Fail => {
                    let e = match error {
                        Some(e) => e,
                        None => format!("stage {stage} failed its checks; later stages did not run"),
                    };
                    let status = if record_is_environment(&self.records) { RunStatus::Error } else { RunStatus::Fail };
                    return Err((status, Some(as_of), PipelineError::Other(e)));
                }
            }
        }
        Ok((overall, as_of))
    }

    async fn as_of(&self) -> Result<NaiveDate> {
        if let Some(as_of) = self.req.as_of {
            return Ok(as_of);
        }
        #[derive(Deserialize)]
        struct Manifest {
            as_of: NaiveDate,
        }
        let key = raw_manifest_key(self.market.id());
        let url = self.io.url(BucketKind::Raw, &key);
        let bytes = self.io.get(BucketKind::Raw, &key).await?.ok_or(PipelineError::MissingFile { url: url.clone() })?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| PipelineError::Other(format!("{url}: expected {{\"as_of\": \"YYYY-MM-DD\"}}: {e}")))?;
        Ok(manifest.as_of)
    }

    /// Cache keys of every planned stage, and of the upstream stages they chain from; what each key is made of
    /// goes to `self.parts`.
    async fn keys(&mut self, stages: &[Stage], as_of: NaiveDate) -> Result<BTreeMap<Stage, String>> {
        let mut keys: BTreeMap<Stage, String> = BTreeMap::new();
        let code = CodeSet::compiled(self.market);
        for stage in plan(stages.last().copied()) {
            let spec = stage.spec();
            let mut raw_etags = Vec::new();
            for input in spec.inputs {
                if let Input::Raw(table) = input {
                    let key = format!("{}/{}", self.market.id(), table.raw_file());
                    let meta = self
                        .io
                        .head(BucketKind::Raw, &key)
                        .await?
                        .ok_or_else(|| PipelineError::MissingFile { url: self.io.url(BucketKind::Raw, &key) })?;
                    let etag = meta.e_tag.ok_or_else(|| {
                        PipelineError::Other(format!(
                            "{} has no ETag, so the cache key cannot pin its content: use an S3 backend that sends \
                             ETags (every supported one does)",
                            self.io.url(BucketKind::Raw, &key)
                        ))
                    })?;
                    self.raw_etags.insert(*table, etag.clone());
                    raw_etags.push((*table, etag));
                }
            }
            let upstream: Vec<(Stage, String)> = upstream(spec).into_iter().map(|s| (s, keys[&s].clone())).collect();
            let inputs = KeyInputs { as_of, upstream: &upstream, raw_etags: &raw_etags };
            let material = key_material(spec, self.market, &inputs, &code);
            self.parts.insert(stage, key_parts(&material));
            keys.insert(stage, key_from_material(stage, self.market.id(), &material));
        }
        Ok(keys)
    }

    async fn stage(&mut self, stage: Stage, as_of: NaiveDate, keys: &BTreeMap<Stage, String>) -> StageRecord {
        let started = Instant::now();
        let key = keys[&stage].clone();
        (self.emit)(Event::StageStarted { market: self.market_id.clone(), stage, cache_key: key.clone() });
        let result = match self.cached(stage, &key).await {
            Ok(Some(record)) => Ok(record),
            Ok(None) => self.compute(stage, &key, as_of, keys).await,
            Err(e) => Err(e),
        };
        let mut record = match result {
            Ok(record) => record,
            Err(e) => {
                self.log(Some(stage), LogLevel::Error, crate::error::bounded(&e.to_string()));
                StageRecord {
                    metrics: Default::default(),
                    stage,
                    cache_key: key,
                    status: StageStatus::Fail,
                    cache_hit: false,
                    rows: 0,
                    tables: BTreeMap::new(),
                    bytes: 0,
                    duration_ms: 0,
                    checks: Vec::new(),
                    outputs: Vec::new(),
                    produced_by: self.req.run_id.clone(),
                    error: Some(crate::error::bounded(&environment_tag(&e))),
                }
            }
        };
        if stage == Stage::Validate && record.error.is_none() {
            // Row counts against the previous successful run: history changes between runs, so this check is
            // evaluated every run rather than cached with the stage.
            let current = self.records.iter().find(|r| r.stage == Stage::Ingest).map(|r| r.tables.clone());
            if let Some(current) = current {
                record.checks.extend(row_count_checks(
                    &current,
                    self.req.previous_rows.as_ref(),
                    self.market.config().checks.row_count_change_alert,
                ));
                record.status = StageStatus::from_checks(&record.checks);
            }
        }
        if record.error.is_none()
            && let Some(history) = &self.req.history
        {
            // Against run history: evaluated every run, cached or not, like row_count.
            let history = history.clone();
            let checks = self.history_checks(stage, &record, &history, keys).await;
            for check in checks {
                if let Some(metric) = drift_metric(&check.name)
                    && !check.message.starts_with("no baseline")
                {
                    record.metrics.insert(metric.to_string(), check.measured);
                }
                record.checks.push(check);
            }
            record.status = StageStatus::from_checks(&record.checks);
        }
        for result in &record.checks {
            (self.emit)(Event::Check { market: self.market_id.clone(), stage, result: result.clone() });
        }
        record.duration_ms = started.elapsed().as_millis() as u64;
        record
    }

    /// The stage's record from its cache marker, when caching is on and the output is complete.
    async fn cached(&mut self, stage: Stage, key: &str) -> Result<Option<StageRecord>> {
        if self.req.no_cache {
            return Ok(None);
        }
        let Some(bytes) = self.io.get(BucketKind::Work, &marker_key(self.market.id(), stage, key)).await? else {
            return Ok(None);
        };
        let (Ok(mut record), Ok(published)) =
            (serde_json::from_slice::<StageRecord>(&bytes), serde_json::from_slice::<MarkerPublished>(&bytes))
        else {
            self.log(Some(stage), LogLevel::Warn, format!("unreadable cache marker for {stage} {key}; recomputing"));
            return Ok(None);
        };
        if stage == Stage::Export && published.published.is_none() {
            self.log(Some(stage), LogLevel::Info, format!("cache marker of {stage} {key} predates verified exports"));
            return Ok(None);
        }
        for (object, expected) in published.published.unwrap_or_default() {
            if let Some(why) = self.differs(&object, &expected).await? {
                self.log(Some(stage), LogLevel::Warn, format!("{why}; publishing again from this key's inputs"));
                return Ok(None);
            }
        }
        record.cache_hit = true;
        record.bytes = 0;
        record.checks.retain(|c| c.name != "row_count");
        Ok(Some(record))
    }

    async fn compute(
        &mut self,
        stage: Stage,
        key: &str,
        as_of: NaiveDate,
        keys: &BTreeMap<Stage, String>,
    ) -> Result<StageRecord> {
        let spec = stage.spec();
        let market_id = self.market_id.clone();
        let inputs = self.load_inputs(spec, keys).await?;
        let loaded: u64 = inputs.tables.values().map(|df| df.height() as u64).sum();
        (self.emit)(Event::StageProgress {
            market: market_id.clone(),
            stage,
            rows: loaded,
            message: "inputs loaded".into(),
        });
        let market = self.market;
        let run_id = self.req.run_id.as_str();
        let stage_keys: BTreeMap<Stage, String> =
            keys.iter().filter(|(s, _)| **s <= stage).map(|(s, k)| (*s, k.clone())).collect();
        type Computed = (StageOutput, Vec<CheckResult>, BTreeMap<String, f64>);
        let (output, checks, metrics) = tokio::task::block_in_place(|| -> Result<Computed> {
            let declared = DeclaredHooks::new(market, spec.stage, spec.hooks);
            let ctx = StageContext { market: &declared, as_of, run_id, cache_keys: &stage_keys };
            let output = (spec.run)(&ctx, &inputs)?;
            let checks = (spec.check)(&ctx, &output)?;
            declared.verify()?;
            let metrics = crate::metrics::measure(stage, &output).ctx(&market_id, stage)?;
            Ok((output, checks, metrics))
        })?;
        drop(inputs);
        (self.emit)(Event::StageProgress {
            market: market_id.clone(),
            stage,
            rows: output.rows(),
            message: "computed".into(),
        });

        let mut outputs = Vec::new();
        let mut bytes = 0u64;
        let mut tables = BTreeMap::new();
        let rows = output.rows();
        for (name, mut frame) in output.tables {
            let table_key = table_key(&market_id, stage, key, &name);
            bytes += self.io.write_parquet(BucketKind::Work, &table_key, &mut frame).await?;
            outputs.push(self.io.url(BucketKind::Work, &table_key));
            tables.insert(name.clone(), frame.height() as u64);
            self.frames.insert((stage, name), frame);
        }
        let mut published = BTreeMap::new();
        for artifact in output.artifacts {
            bytes += artifact.bytes.len() as u64;
            let sha256 = hex::encode(Sha256::digest(&artifact.bytes));
            let etag = self.io.put_etag(artifact.bucket, &artifact.key, artifact.bytes).await?;
            if artifact.bucket == BucketKind::Exports {
                published.insert(artifact.key.clone(), Published { etag, sha256 });
            }
            let url = self.io.url(artifact.bucket, &artifact.key);
            if artifact.bucket == BucketKind::Quarantine {
                self.log(Some(stage), LogLevel::Warn, format!("rejected rows written to {url}"));
            }
            outputs.push(url);
        }
        let record = StageRecord {
            metrics,
            stage,
            cache_key: key.to_string(),
            status: StageStatus::from_checks(&checks),
            cache_hit: false,
            rows,
            tables,
            bytes,
            duration_ms: 0,
            checks,
            outputs,
            produced_by: self.req.run_id.clone(),
            error: None,
        };
        let key_parts = self.parts.get(&stage);
        let marker = serde_json::to_vec_pretty(&Marker { record: &record, key_parts, published: Some(&published) })
            .expect("records serialise");
        self.io.put(BucketKind::Work, &marker_key(&market_id, stage, key), Bytes::from(marker)).await?;
        Ok(record)
    }

    /// Why the exports object at `key` is not what a cached stage published (`None` when it is): gone, or
    /// replaced (its ETag differs, or, with no ETag recorded, its sha256 does). A later run with other inputs
    /// overwrites the same export path, so a marker alone does not prove the file is this key's.
    async fn differs(&self, key: &str, expected: &Published) -> Result<Option<String>> {
        let url = self.io.url(BucketKind::Exports, key);
        let Some(meta) = self.io.head(BucketKind::Exports, key).await? else {
            return Ok(Some(format!("{url} is gone")));
        };
        if let (Some(then), Some(now)) = (&expected.etag, &meta.e_tag) {
            return Ok((then != now).then(|| format!("{url} was overwritten since this key published it")));
        }
        let Some(bytes) = self.io.get(BucketKind::Exports, key).await? else {
            return Ok(Some(format!("{url} is gone")));
        };
        let same = hex::encode(Sha256::digest(&bytes)) == expected.sha256;
        Ok((!same).then(|| format!("{url} was overwritten since this key published it")))
    }

    /// The history checks of `stage`'s metrics and, after score and recommend, the drift test against the
    /// previous successful run's output.
    async fn history_checks(
        &mut self,
        stage: Stage,
        record: &StageRecord,
        history: &RunHistory,
        keys: &BTreeMap<Stage, String>,
    ) -> Vec<CheckResult> {
        let settings = self.market.config().quality.clone();
        let now = chrono::Utc::now();
        let prefix = format!("{stage}.");
        let mut checks: Vec<CheckResult> = settings
            .history_metrics
            .iter()
            .filter(|m| m.starts_with(&prefix))
            .filter_map(|m| {
                let value = record.metrics.get(m)?;
                Some(quality::history_check(m, *value, &history.values(m, &settings, now), &settings))
            })
            .collect();
        let drift = match stage {
            Stage::Score => Some((quality::DRIFT_KS_CHECK, "scores", "scores.propensity")),
            Stage::Recommend => Some((quality::DRIFT_MIX_CHECK, "recommendations", "recommendations.action")),
            _ => None,
        };
        if let Some((name, table, subject)) = drift {
            let alpha = settings.drift_alpha;
            let check = match self.drift(stage, table, history, keys).await {
                Ok(Some((current, baseline, run))) => drift_test(name, subject, &current, &baseline, alpha, &run),
                Ok(None) => quality::no_baseline(name, subject, alpha, "no earlier successful run"),
                Err(e) => {
                    let why = format!("the baseline output could not be read: {e}");
                    self.log(Some(stage), LogLevel::Warn, crate::error::bounded(&why));
                    quality::no_baseline(name, subject, alpha, &why)
                }
            };
            checks.push(check);
        }
        checks
    }

    /// This run's and the baseline run's `table` of `stage`, and the baseline's run id; `None` when there is no
    /// baseline or it did not record the stage.
    async fn drift(
        &mut self,
        stage: Stage,
        table: &str,
        history: &RunHistory,
        keys: &BTreeMap<Stage, String>,
    ) -> Result<Option<(DataFrame, DataFrame, String)>> {
        let Some(baseline) = history.baselines.get(stage.name()) else { return Ok(None) };
        let base_key = &baseline.cache_key;
        let current = match self.frames.get(&(stage, table.to_string())) {
            Some(frame) => frame.clone(),
            None => self.work_table(stage, &keys[&stage], table).await?,
        };
        // The same key is the same output: no need to read it twice.
        let base =
            if *base_key == keys[&stage] { current.clone() } else { self.work_table(stage, base_key, table).await? };
        Ok(Some((current, base, baseline.run_id.clone())))
    }

    async fn work_table(&self, stage: Stage, key: &str, table: &str) -> Result<DataFrame> {
        let object = table_key(self.market.id(), stage, key, table);
        self.io.read_parquet(BucketKind::Work, &object).await?.ok_or_else(|| PipelineError::MissingOutput {
            market: self.market_id.clone(),
            stage: stage.to_string(),
            url: self.io.url(BucketKind::Work, &object),
        })
    }

    async fn load_inputs(&mut self, spec: &StageSpec, keys: &BTreeMap<Stage, String>) -> Result<StageInputs> {
        let mut inputs = StageInputs::default();
        for input in spec.inputs {
            match *input {
                Input::Raw(table) => {
                    let key = format!("{}/{}", self.market.id(), table.raw_file());
                    let url = self.io.url(BucketKind::Raw, &key);
                    let etag = self.raw_etags.get(&table).cloned().ok_or_else(|| {
                        PipelineError::Other(format!("{url}: no ETag was recorded for it when the keys were computed"))
                    })?;
                    let bytes = self
                        .io
                        .get_if_match(BucketKind::Raw, &key, &etag)
                        .await?
                        .ok_or(PipelineError::MissingFile { url: url.clone() })?;
                    inputs.raw.insert(table, RawFile { table, url, bytes });
                }
                Input::Output(stage, name) => {
                    let frame = match self.frames.get(&(stage, name.to_string())) {
                        Some(frame) => frame.clone(),
                        None => {
                            let key = table_key(self.market.id(), stage, &keys[&stage], name);
                            self.io.read_parquet(BucketKind::Work, &key).await?.ok_or_else(|| {
                                PipelineError::MissingOutput {
                                    market: self.market_id.clone(),
                                    stage: stage.to_string(),
                                    url: self.io.url(BucketKind::Work, &key),
                                }
                            })?
                        }
                    };
                    inputs.tables.insert((stage, name.to_string()), frame);
                }
            }
        }
        Ok(inputs)
    }
}

/// The metric a drift check's p-value is recorded under.
fn drift_metric(check: &str) -> Option<&'static str> {
    match check {
        quality::DRIFT_KS_CHECK => Some(crate::metrics::KS_P),
        quality::DRIFT_MIX_CHECK => Some(crate::metrics::ACTION_CHI2_P),
        _ => None,
    }
}

/// Bins of the propensity histogram drawn in reports.
const DRIFT_BINS: usize = 20;

/// The drift check `name` of this run's frame against the baseline's: KS on propensity, chi-square on the
/// action mix.
fn drift_test(
    name: &str,
    subject: &str,
    current: &DataFrame,
    baseline: &DataFrame,
    alpha: f64,
    run: &str,
) -> CheckResult {
    let measured = || -> polars::prelude::PolarsResult<CheckResult> {
        if name == quality::DRIFT_KS_CHECK {
            let values = |frame: &DataFrame| -> polars::prelude::PolarsResult<Vec<f64>> {
                Ok(frame.column("propensity")?.as_materialized_series().f64()?.iter().flatten().collect())
            };
            let (now, then) = (values(current)?, values(baseline)?);
            let test = crate::drift::ks_two_sample(&now, &then);
            let labels = (0..DRIFT_BINS).map(|i| format!("{:.2}", i as f64 / DRIFT_BINS as f64)).collect();
            let hist_now = crate::drift::histogram(&now, 0.0, 1.0, DRIFT_BINS);
            let hist_then = crate::drift::histogram(&then, 0.0, 1.0, DRIFT_BINS);
            Ok(quality::drift_check(name, subject, test, alpha, run, labels, hist_now, hist_then))
        } else {
            let (now, then) = (crate::metrics::counts(current, "action")?, crate::metrics::counts(baseline, "action")?);
            let test = crate::drift::chi_square_mix(&now, &then);
            let labels: Vec<String> =
                now.keys().chain(then.keys()).cloned().collect::<BTreeSet<_>>().into_iter().collect();
            let shares = |mix: &BTreeMap<String, u64>| -> Vec<f64> {
                let total = mix.values().sum::<u64>().max(1) as f64;
                labels.iter().map(|l| mix.get(l).copied().unwrap_or(0) as f64 / total).collect()
            };
            let (s_now, s_then) = (shares(&now), shares(&then));
            Ok(quality::drift_check(name, subject, test, alpha, run, labels, s_now, s_then))
        }
    };
    measured().unwrap_or_else(|e| quality::no_baseline(name, subject, alpha, &format!("cannot read the output: {e}")))
}

/// A stage's cache marker as written: its record, plus the parts of its key (absent in markers written before
/// they were recorded; readers of the record ignore them).
#[derive(Serialize)]
struct Marker<'a> {
    #[serde(flatten)]
    record: &'a StageRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_parts: Option<&'a KeyParts>,
    /// Objects the stage published outside the work bucket (the export file and manifest), by key: a cache hit
    /// is granted only while they are still the ones this key produced.
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<&'a BTreeMap<String, Published>>,
}

/// What was published at an object key: the store's ETag for it (when it sent one) and the bytes' sha256.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Published {
    etag: Option<String>,
    sha256: String,
}

/// The `published` field of a marker (absent in markers written before exports were verified).
#[derive(Deserialize)]
struct MarkerPublished {
    #[serde(default)]
    published: Option<BTreeMap<String, Published>>,
}

/// The key parts recorded in a cache marker's bytes; `None` when the marker does not parse or predates them.
pub fn marker_key_parts(marker: &[u8]) -> Option<KeyParts> {
    #[derive(Deserialize)]
    struct Parts {
        #[serde(default)]
        key_parts: Option<KeyParts>,
    }
    serde_json::from_slice::<Parts>(marker).ok()?.key_parts
}

/// One stage of a plan: its key, whether the cache would serve it, and what its key is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStage {
    /// The stage.
    pub stage: Stage,
    /// Its cache key for the current code, config and data.
    pub cache_key: String,
    /// Whether a run would serve it from the cache (never with `no_cache`).
    pub hit: bool,
    /// What the key is made of.
    pub key_parts: KeyParts,
}

/// What a run of `req` would do, without running anything: as_of, then per planned stage its key and whether
/// the cache would serve it (the same test a run makes).
pub async fn plan_market(
    io: &StageIo,
    market: &dyn Market,
    req: &RunRequest,
) -> Result<(NaiveDate, Vec<PlannedStage>)> {
    let mut emit = |_: Event| {};
    let mut run = Run::new(io, market, req, &mut emit);
    let as_of = run.as_of().await?;
    let stages = plan(req.target);
    let keys = run.keys(&stages, as_of).await?;
    let mut planned = Vec::with_capacity(stages.len());
    for stage in stages {
        let hit = run.cached(stage, &keys[&stage]).await?.is_some();
        let key_parts = run.parts.get(&stage).cloned().unwrap_or_default();
        planned.push(PlannedStage { stage, cache_key: keys[&stage].clone(), hit, key_parts });
    }
    Ok((as_of, planned))
}

const ENVIRONMENT: &str = "[environment] ";

/// The error text of a failed stage; storage errors are tagged so the run is reported as an environment error.
fn environment_tag(e: &PipelineError) -> String {
    if e.is_environment() { format!("{ENVIRONMENT}{e}") } else { e.to_string() }
}

fn record_is_environment(records: &[StageRecord]) -> bool {
    records.last().and_then(|r| r.error.as_deref()).is_some_and(|e| e.starts_with(ENVIRONMENT))
}

/// `row_count` per ingest table: ALERT when the count moved more than `alert_share` from the previous successful
/// run. Without history the check passes and says so.
pub fn row_count_checks(
    current: &BTreeMap<String, u64>,
    previous: Option<&BTreeMap<String, u64>>,
    alert_share: f64,
) -> Vec<CheckResult> {
    Table::ALL
        .iter()
        .filter_map(|t| current.get(t.name()).map(|n| (t.name(), *n)))
        .map(|(table, now)| {
            let rule = format!("ALERT if outside ±{}% of the previous successful run", alert_share * 100.0);
            match previous.and_then(|p| p.get(table)) {
                Some(&before) if before > 0 => {
                    let change = (now as f64 - before as f64) / before as f64;
                    CheckResult::alert_if(
                        "row_count",
                        table,
                        &rule,
                        change,
                        change.abs() > alert_share,
                        format!("{now} rows, {before} in the previous successful run ({:+.1}%)", change * 100.0),
                    )
                }
                _ => CheckResult::alert_if(
                    "row_count",
                    table,
                    &rule,
                    0.0,
                    false,
                    format!("{now} rows; no previous successful run"),
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MarketDef;
    use crate::events::StageStatus;

    const MARKET: &str = "id = \"foobar-t\"\ncurrency = \"AUD\"\nfx_to_usd = 0.65\ntimezone = \"Australia/Sydney\"\n\
                          languages = [\"en\"]\nchannel_priority = [\"email\", \"sms\", \"call\", \"visit\"]\n\
                          regions = [\"NSW\"]\n";
    const MODEL: &str = "b = -1.2\nw_freq = 0.8\nw_mon = 0.25\nw_rec = 1.5\nw_open = 0.9\nw_click = 1.2\n";

    struct TestMarket(MarketDef);

    impl Market for TestMarket {
        fn def(&self) -> &MarketDef {
            &self.0
        }

        fn sources(&self) -> &'static [crate::sources::SourceFile] {
            &[]
        }
    }

    fn market(extra: &str) -> TestMarket {
        TestMarket(MarketDef::load("foobar-t", &format!("{MARKET}{extra}"), MODEL).unwrap())
    }

    fn both(stage: Stage, market: &TestMarket, as_of: NaiveDate, upstream: &[(Stage, String)]) -> (String, KeyParts) {
        let inputs = KeyInputs { as_of, upstream, raw_etags: &[] };
        let material = key_material(stage.spec(), market, &inputs, &CodeSet::compiled(market));
        let key = crate::cache::stage_key(stage.spec(), market, &inputs);
        assert_eq!(key, key_from_material(stage, market.id(), &material), "one derivation");
        (key, key_parts(&material))
    }

    /// Which labels differ between two sets of parts.
    fn changed(a: &KeyParts, b: &KeyParts) -> Vec<String> {
        a.keys()
            .chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    #[test]
    fn key_parts_change_exactly_where_the_key_does_and_name_the_part() {
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
        let later = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let base = market("");
        let up = [(Stage::Score, "aaaa".to_string()), (Stage::Ingest, "bbbb".to_string())];
        let (key, parts) = both(Stage::Recommend, &base, as_of, &up);
        let labels: Vec<&str> = parts.keys().map(String::as_str).collect();
        for label in ["as_of", "cargo_lock", "config:contact_share", "config:fx_to_usd", "model", "upstream:score"] {
            assert!(labels.contains(&label), "{label} missing from {labels:?}");
        }
        assert!(labels.contains(&"src:pipeline-core/src/stages/recommend.rs"));
        assert!(labels.contains(&"src:pipeline-core/src/hooks.rs"), "base hooks are reached by every stage");
        let share = market("contact_share = 0.25\n");
        let (key2, parts2) = both(Stage::Recommend, &share, as_of, &up);
        assert_ne!(key, key2);
        assert_eq!(changed(&parts, &parts2), ["config:contact_share"]);
        let (key3, parts3) = both(Stage::Recommend, &base, later, &up);
        assert_ne!(key, key3);
        assert_eq!(changed(&parts, &parts3), ["as_of"]);
        assert_eq!(parts3["as_of"], "2026-11-22");
        let up2 = [(Stage::Score, "cccc".to_string()), (Stage::Ingest, "bbbb".to_string())];
        let (key4, parts4) = both(Stage::Recommend, &base, as_of, &up2);
        assert_ne!(key, key4);
        assert_eq!(changed(&parts, &parts4), ["upstream:score"]);
        // Any config key is part of every key: hook code can read all of them.
        let fx = TestMarket(MarketDef::load("foobar-t", &MARKET.replace("0.65", "0.7"), MODEL).unwrap());
        let (key5, parts5) = both(Stage::Ingest, &fx, as_of, &[]);
        assert_ne!(key5, both(Stage::Ingest, &base, as_of, &[]).0);
        assert_eq!(changed(&both(Stage::Ingest, &base, as_of, &[]).1, &parts5), ["config:fx_to_usd"]);
    }

    #[test]
    fn markers_carry_key_parts_and_still_read_as_records() {
        let record = StageRecord {
            metrics: Default::default(),
            stage: Stage::Score,
            cache_key: "k".into(),
            status: StageStatus::Ok,
            cache_hit: false,
            rows: 3,
            tables: BTreeMap::new(),
            bytes: 10,
            duration_ms: 5,
            checks: Vec::new(),
            outputs: Vec::new(),
            produced_by: "r1".into(),
            error: None,
        };
        let parts = KeyParts::from([("model".to_string(), "abcd".to_string())]);
        let bytes = serde_json::to_vec(&Marker { record: &record, key_parts: Some(&parts), published: None }).unwrap();
        assert_eq!(serde_json::from_slice::<StageRecord>(&bytes).unwrap(), record);
        assert_eq!(marker_key_parts(&bytes), Some(parts));
        // A marker written before key parts were recorded has none.
        let old = serde_json::to_vec(&record).unwrap();
        assert_eq!(marker_key_parts(&old), None);
    }
}
