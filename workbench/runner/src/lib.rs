//! The runner: the child side of `wb run`. It runs one market's request in its own process (so a panic, a
//! kill or an out-of-memory in a stage cannot take the workbench down, and a run is cancelled by ending the
//! process) and prints every [`Event`] as one JSON line on stdout, flushed per line.
//!
//! It is its own crate with its own small binary, `wb-runner`, which holds only the pipeline, the markets and
//! this protocol: after a market edit `wb watch` rebuilds that binary, not the whole workbench, and passes it to
//! `wb run --runner`. `wb runner` (the same code, linked into `wb`) serves when nothing else is built. Both take
//! the same command line: `runner` followed by [`RunnerArgs`].
//!
//! The S3 endpoint, credentials and bucket names come from the environment, set by the supervisor:
//! `WB_S3_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` and `WB_BUCKETS` (JSON).
//!
//! object_store retries transient S3 failures (5xx, connection errors) with a short bounded backoff; every retry
//! becomes a warning [`Event::Log`] line ([`retry_event`]), so it shows in `--json` output and under the market
//! in the progress display.

pub mod args;
pub mod rss;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use localstack::{Credentials, LocalAwsError, RetryEvent, RetryLog, S3Endpoint};
use object_store::ObjectStore;
use pipeline_core::engine::{KeyParts, PlannedStage, marker_key, marker_key_parts, plan_market};
use pipeline_core::events::LogLevel;
use pipeline_core::stages::BucketKind;
use pipeline_core::{Buckets, Event, Market, RunRequest, RunStatus, Stage, StageIo, run_market};
use serde::{Deserialize, Serialize};

pub use crate::args::RunnerArgs;

/// Variable holding the S3 endpoint URL.
pub const ENV_ENDPOINT: &str = "WB_S3_ENDPOINT";
/// Variable holding the bucket names as JSON (`{"raw": "...", "work": ..., "exports": ..., "quarantine": ...}`).
pub const ENV_BUCKETS: &str = "WB_BUCKETS";
/// Test hook: when set to a stage name, the runner aborts (as a crash would) right after printing that stage's
/// `stage_finished` event, so tests can check how a runner dying mid-run is reported.
pub const ENV_ABORT_AFTER_STAGE: &str = "WB_RUNNER_ABORT_AFTER_STAGE";
/// Test hook: when set to a number of milliseconds, the runner waits that long after each `stage_finished` event,
/// so tests can change files while a run is in progress (`wb watch` cancelling a superseded run).
pub const ENV_STAGE_DELAY_MS: &str = "WB_RUNNER_STAGE_DELAY_MS";

/// Why the runner could not start a run.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// A variable the supervisor sets is missing.
    #[error("runner: environment variable {var} is not set; start runs with `wb run`, which sets it")]
    MissingEnv {
        /// The variable.
        var: &'static str,
    },
    /// `WB_BUCKETS` is not valid JSON bucket names.
    #[error("runner: {ENV_BUCKETS} is not valid bucket names: {source}; start runs with `wb run`")]
    Buckets {
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// `WB_RUNNER_ABORT_AFTER_STAGE` names no stage.
    #[error("runner: {ENV_ABORT_AFTER_STAGE}: {message}; unset it or name a stage")]
    AbortHook {
        /// Why it does not parse.
        message: String,
    },
    /// A client for a bucket could not be built.
    #[error(transparent)]
    Client(Box<LocalAwsError>),
    /// The market did not load.
    #[error("runner: {0}")]
    Market(Box<pipeline_core::PipelineError>),
    /// The async runtime did not start.
    #[error("runner: cannot start the async runtime: {0}; check the process limits (threads, memory)")]
    Runtime(#[source] std::io::Error),
    /// The run history file (`--history`) could not be read.
    #[error("runner: cannot read the run history file {0}; start runs with `wb run`, which writes it")]
    History(String),
}

/// What a runner needs besides its arguments: where S3 is and the bucket names. The supervisor turns it into
/// environment variables ([`RunnerEnv::vars`]) and the runner reads it back ([`RunnerEnv::from_env`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerEnv {
    /// The S3 endpoint with its credentials.
    pub endpoint: S3Endpoint,
    /// Bucket names.
    pub buckets: Buckets,
}

impl RunnerEnv {
    /// The variables to set on a runner process.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        let c = &self.endpoint.credentials;
        vec![
            (ENV_ENDPOINT, self.endpoint.url.clone()),
            ("AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", c.secret_access_key.clone()),
            ("AWS_REGION", c.region.clone()),
            (ENV_BUCKETS, serde_json::to_string(&self.buckets).expect("bucket names serialise")),
        ]
    }

    /// Reads the variables [`RunnerEnv::vars`] sets from this process's environment.
    pub fn from_env() -> Result<Self, RunnerError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (tests need not touch the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, RunnerError> {
        let require = |var: &'static str| lookup(var).filter(|v| !v.is_empty()).ok_or(RunnerError::MissingEnv { var });
        let endpoint = S3Endpoint {
            url: require(ENV_ENDPOINT)?,
            credentials: Credentials {
                access_key_id: require("AWS_ACCESS_KEY_ID")?,
                secret_access_key: require("AWS_SECRET_ACCESS_KEY")?,
                region: require("AWS_REGION")?,
            },
        };
        let buckets = serde_json::from_str(&require(ENV_BUCKETS)?).map_err(|source| RunnerError::Buckets { source })?;
        Ok(Self { endpoint, buckets })
    }
}

/// Runs the market named in `args` and prints its events; the exit code is 0 whenever the run was attempted
/// (its outcome is in the `run_finished` event) and 2 when it could not start (reported the same way).
pub fn main(args: RunnerArgs) -> ExitCode {
    let (run_id, market) = (args.run_id.clone(), args.market.to_string());
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            print_event(&Event::RunFinished {
                run_id,
                market,
                status: RunStatus::Error,
                duration_ms: 0,
                error: Some(e.to_string()),
            });
            ExitCode::from(2)
        }
    }
}

/// Reads the run history file the control plane wrote for this runner.
fn read_history(path: &std::path::Path) -> Result<pipeline_core::quality::RunHistory, RunnerError> {
    let bytes = std::fs::read(path).map_err(|e| RunnerError::History(format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| RunnerError::History(format!("{}: {e}", path.display())))
}

fn run(args: RunnerArgs) -> Result<(), RunnerError> {
    let env = RunnerEnv::from_env()?;
    let abort_after = abort_hook()?;
    let market = markets::load(args.market.as_str()).map_err(|e| RunnerError::Market(Box::new(e)))?;
    let market_id = args.market.to_string();
    RetryLog::global().on_retry(move |retry| print_event(&retry_event(&market_id, retry)));
    let mut stores: BTreeMap<String, Arc<dyn ObjectStore>> = BTreeMap::new();
    for bucket in env.buckets.all() {
        let store = env.endpoint.object_store(bucket).map_err(|e| RunnerError::Client(Box::new(e)))?;
        stores.insert(bucket.to_string(), store);
    }
    let io = StageIo::new(env.buckets.clone(), |bucket| Arc::clone(&stores[bucket]));
    let request = RunRequest {
        run_id: args.run_id.clone(),
        target: args.stage,
        as_of: args.as_of,
        no_cache: args.no_cache,
        previous_rows: args.previous_rows,
        history: match &args.history {
            Some(path) => Some(read_history(path)?),
            None => None,
        },
    };
    // `run_market` moves heavy work off the async threads with `block_in_place`: it needs a multi-thread runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(RunnerError::Runtime)?;
    if args.plan {
        let previous = args.previous_keys.clone().unwrap_or_default();
        runtime.block_on(plan(&io, market.as_ref(), &request, &previous));
        return Ok(());
    }
    let delay =
        std::env::var(ENV_STAGE_DELAY_MS).ok().and_then(|ms| ms.parse().ok()).map(std::time::Duration::from_millis);
    let mut emit = move |event: Event| {
        print_event(&event);
        if let (Event::StageFinished { .. }, Some(delay)) = (&event, delay) {
            std::thread::sleep(delay);
        }
        if let (Event::StageFinished { record, .. }, Some(stage)) = (&event, abort_after)
            && record.stage == stage
        {
            std::process::abort();
        }
    };
    runtime.block_on(run_market(&io, market.as_ref(), &request, &mut emit));
    if let Some(peak_rss_bytes) = crate::rss::peak_rss_bytes() {
        print_event(&Event::Resources { market: args.market.to_string(), peak_rss_bytes });
    }
    Ok(())
}

/// One line of `wb runner --plan`: a planned stage of a market, and the last recorded key of that stage with
/// the parts its marker recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLine {
    /// Market.
    pub market: String,
    /// as_of the run would use.
    pub as_of: String,
    /// The stage, its current key, whether the cache would serve it, and the key's parts.
    pub planned: PlannedStage,
    /// The last recorded key of the stage, when history has one.
    pub previous: Option<PreviousKey>,
}

/// The last recorded key of a stage and what its marker says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousKey {
    /// The key.
    pub cache_key: String,
    /// Its marker is still in the work bucket.
    pub marker: bool,
    /// The parts its marker recorded (None when the marker is gone or predates key parts).
    pub key_parts: Option<KeyParts>,
}

/// Prints the plan of `request` as [`PlanLine`]s; a failure is a `run_finished` line with status error.
async fn plan(io: &StageIo, market: &dyn Market, request: &RunRequest, previous: &BTreeMap<Stage, String>) {
    let result: Result<(), pipeline_core::PipelineError> = async {
        let (as_of, stages) = plan_market(io, market, request).await?;
        for planned in stages {
            let previous = match previous.get(&planned.stage) {
                Some(key) => {
                    let marker = io.get(BucketKind::Work, &marker_key(market.id(), planned.stage, key)).await?;
                    Some(PreviousKey {
                        cache_key: key.clone(),
                        marker: marker.is_some(),
                        key_parts: marker.as_deref().and_then(marker_key_parts),
                    })
                }
                None => None,
            };
            let line = PlanLine { market: market.id().to_string(), as_of: as_of.to_string(), planned, previous };
            print_line(&serde_json::to_string(&line).expect("plan lines serialise"));
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        print_event(&Event::RunFinished {
            run_id: request.run_id.clone(),
            market: market.id().to_string(),
            status: RunStatus::Error,
            duration_ms: 0,
            error: Some(e.to_string()),
        });
    }
}

/// The event a retry becomes: a warning log line of the market, e.g. `S3 retry 1 of GET
/// http://127.0.0.1:41234/raw/foobar-au/_manifest.json after HTTP 503 Service Unavailable`.
pub fn retry_event(market: &str, retry: &RetryEvent) -> Event {
    Event::Log { market: market.to_string(), stage: None, level: LogLevel::Warn, message: retry.to_string() }
}

fn abort_hook() -> Result<Option<Stage>, RunnerError> {
    match std::env::var(ENV_ABORT_AFTER_STAGE) {
        Ok(name) if !name.is_empty() => name
            .parse()
            .map(Some)
            .map_err(|e: pipeline_core::PipelineError| RunnerError::AbortHook { message: e.to_string() }),
        _ => Ok(None),
    }
}

/// Writes one event line and flushes it. When stdout is gone the supervisor is gone: stop at once.
fn print_event(event: &Event) {
    print_line(&event.to_json_line());
}

/// Writes one line and flushes it; exits when stdout is gone.
fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_vars_round_trip() {
        let env = RunnerEnv {
            endpoint: S3Endpoint { url: "http://127.0.0.1:9".into(), credentials: Credentials::local() },
            buckets: Buckets { raw: "r".into(), ..Buckets::default() },
        };
        let vars: BTreeMap<&str, String> = env.vars().into_iter().collect();
        assert_eq!(RunnerEnv::from_lookup(|name| vars.get(name).cloned()).unwrap(), env);
    }

    #[test]
    fn a_retry_becomes_a_warning_log_line() {
        let retry = RetryEvent {
            method: "GET".into(),
            uri: "http://127.0.0.1:9/raw/foobar-au/_manifest.json".into(),
            retry: 2,
            cause: "HTTP 503 Service Unavailable".into(),
        };
        assert_eq!(
            retry_event("foobar-au", &retry).to_json_line(),
            r#"{"event":"log","market":"foobar-au","stage":null,"level":"warn","message":"S3 retry 2 of GET http://127.0.0.1:9/raw/foobar-au/_manifest.json after HTTP 503 Service Unavailable"}"#
        );
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = RunnerEnv::from_lookup(|_| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "runner: environment variable WB_S3_ENDPOINT is not set; start runs with `wb run`, which sets it"
        );
    }
}
