//! `wb run --dry-run`: what a run would do, without running a stage. The backend is started (or the shared one
//! used) and provisioned as for a run, since the raw objects' ETags are part of the ingest key; then one runner per
//! market plans (`wb runner --plan`): each stage's key for the current code, config and data, whether the cache
//! would serve it (its marker exists, the same test a run makes), and what the key is made of.
//!
//! A miss is explained by comparing its key's parts with those recorded in the marker of the stage's last
//! recorded key (run history): "raw customers.csv changed", "hook schedule (markets/br/src/schedule.rs)
//! changed", "config key `contact_share` changed", "upstream ingest changed", or "never run". The expected time
//! of a stage is the median of its recorded non-cached durations for the market ("no history" when there are
//! none); the total over the misses is set against the 15-minute budget. Nothing is recorded in the history.

use pipeline_core::engine::KeyParts;
use pipeline_core::{Event, Stage};
use serde::Serialize;

use std::path::PathBuf;

use localstack::{Backend, LocalAwsError};

use crate::history::{History, HistoryError};
use crate::services::aws::session::{self, Session};
use crate::services::provision::{self, ProvisionError};
use crate::services::supervisor::{MarketJob, RunnerCommand};
use crate::workspace::Workspace;
use markets::MarketId;
use workbench_runner::args::PreviousKeys;
use workbench_runner::{PlanLine, RunnerEnv};

pub use crate::services::runs::BUDGET_MS;
use crate::services::runs::duration;

/// The run id planning runners get (nothing is written under it).
const PLAN_RUN_ID: &str = "dry-run";

/// What a plan is for: the stage to reach, the as_of override, and whether the cache is bypassed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanTarget {
    /// The stage to reach (`None`: every stage).
    pub stage: Option<Stage>,
    /// as_of override.
    pub as_of: Option<chrono::NaiveDate>,
    /// `--no-cache`.
    pub no_cache: bool,
}

/// One cell of the plan: a stage of a market, served from the cache or not, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedCell {
    /// Market.
    pub market: String,
    /// Stage.
    pub stage: Stage,
    /// as_of the run would use.
    pub as_of: String,
    /// The key for the current code, config and data.
    pub cache_key: String,
    /// Whether the cache would serve it.
    pub hit: bool,
    /// Why it misses (None for a hit).
    pub why: Option<String>,
    /// Median of the stage's recorded non-cached durations for the market: what computing it costs.
    pub compute_ms: Option<u64>,
    /// How many recorded durations the median is taken over.
    pub samples: usize,
}

/// The totals of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanTotals {
    /// Expected time of the misses that have history.
    pub expected_ms: u64,
    /// The budget.
    pub budget_ms: u64,
    /// Cells planned.
    pub stages: usize,
    /// Cells the cache would serve.
    pub hits: usize,
    /// Cells that would be computed.
    pub misses: usize,
    /// Misses without recorded durations (not in `expected_ms`).
    pub without_history: usize,
}

impl PlanTotals {
    /// Totals of `cells`.
    pub fn of(cells: &[PlannedCell]) -> Self {
        let misses: Vec<&PlannedCell> = cells.iter().filter(|c| !c.hit).collect();
        Self {
            expected_ms: misses.iter().filter_map(|c| c.compute_ms).sum(),
            budget_ms: BUDGET_MS,
            stages: cells.len(),
            hits: cells.len() - misses.len(),
            misses: misses.len(),
            without_history: misses.iter().filter(|c| c.compute_ms.is_none()).count(),
        }
    }

    /// `expected 3.4s for 2 of 6 stages (4 from the cache): 0.4% of the 15-minute budget (15m00s)`.
    pub fn sentence(&self) -> String {
        let unknown = match self.without_history {
            0 => String::new(),
            n => format!(", {n} without history not counted"),
        };
        let share = self.expected_ms as f64 * 100.0 / self.budget_ms as f64;
        let verdict = if self.expected_ms <= self.budget_ms {
            format!("{share:.1}% of the 15-minute budget")
        } else {
            format!("over the 15-minute budget by {}", duration(self.expected_ms - self.budget_ms))
        };
        format!(
            "expected {} for {} of {} stages to compute ({} from the cache{unknown}): {verdict}",
            duration(self.expected_ms),
            self.misses,
            self.stages,
            self.hits
        )
    }
}

/// What to plan: `wb run --dry-run`'s markets, target, fixtures, runner and backend.
#[derive(Debug, Clone)]
pub struct DryRunRequest {
    /// The workspace.
    pub workspace: Workspace,
    /// The markets, in order.
    pub markets: Vec<MarketId>,
    /// Stage, as_of and cache bypass.
    pub target: PlanTarget,
    /// The raw fixtures directory (absolute).
    pub fixtures: PathBuf,
    /// The program that plans markets.
    pub runner: RunnerCommand,
    /// The backend asked for (`--aws`).
    pub aws: Option<Backend>,
}

/// What planning reports as it goes.
#[derive(Debug)]
pub enum PlanProgress {
    /// The backend is up and provisioned; the markets are planned next.
    Ready {
        /// Which backend.
        backend: Backend,
    },
    /// The history could not be read: misses are not explained.
    HistoryUnread(HistoryError),
    /// One market's plan.
    Planned(Vec<PlannedCell>),
    /// A market could not be planned.
    Failed {
        /// Market.
        market: MarketId,
        /// Why.
        error: PlanError,
    },
}

/// Why one market could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The runner process could not be started.
    #[error("cannot start the runner {}: {source}; check the wb binary", program.display())]
    Start {
        /// The runner program.
        program: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The runner reported a run-wide error (its own message says what to do).
    #[error("{0}")]
    Runner(String),
    /// The runner ended without printing a plan; the end of its stderr says why.
    #[error("the planning runner ended ({status}) without a plan: {stderr_tail}")]
    NoPlan {
        /// The runner's exit status.
        status: String,
        /// Its last stderr lines, joined with ` | `.
        stderr_tail: String,
    },
}

/// The plan of every market that could be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRun {
    /// The cells, market by market.
    pub cells: Vec<PlannedCell>,
    /// Some market could not be planned.
    pub failed: bool,
}

/// What stopped a dry run before its markets were planned.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    /// The run history could not be opened.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The fixtures are missing, or could not be provisioned.
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    /// The backend did not start.
    #[error("cannot start the {backend} S3 backend: {source}")]
    Backend {
        /// Which backend.
        backend: Backend,
        /// Why.
        #[source]
        source: LocalAwsError,
    },
}

/// Plans `request`: starts (or uses the shared) backend, provisions it, plans each market in a runner child and
/// reports each market's plan through `progress`. Nothing is recorded.
pub async fn dry_run(request: DryRunRequest, mut progress: impl FnMut(PlanProgress)) -> Result<DryRun, DryRunError> {
    let DryRunRequest { workspace, markets, target, fixtures, runner, aws } = request;
    let history = History::open(&workspace.history_path())?;
    provision::check_fixtures(&fixtures, &markets)?;
    let choice = session::choose(&workspace, aws).await;
    let backend = choice.backend();
    let running = Session::start(&workspace, choice, "wb run --dry-run")
        .await
        .map_err(|source| DryRunError::Backend { backend, source })?;
    let endpoint = running.endpoint();
    let buckets = workspace.settings().buckets.clone();
    let index = workspace.fixture_index_path();
    if let Err(e) = provision::provision(&endpoint, &buckets, &fixtures, &markets, &index).await {
        running.shutdown().await;
        return Err(e.into());
    }
    let env = RunnerEnv { endpoint, buckets };
    progress(PlanProgress::Ready { backend });
    let mut cells = Vec::new();
    let mut failed = false;
    for market in &markets {
        let previous = last_keys(&history, market.as_str()).unwrap_or_else(|e| {
            progress(PlanProgress::HistoryUnread(e));
            PreviousKeys::new()
        });
        let lines = match plan(&runner, &env, market, target, &previous).await {
            Ok(lines) => lines,
            Err(error) => {
                failed = true;
                progress(PlanProgress::Failed { market: market.clone(), error });
                continue;
            }
        };
        let planned: Vec<PlannedCell> = lines
            .iter()
            .map(|line| {
                let (compute_ms, samples) = compute_time(&history, market.as_str(), line.planned.stage);
                PlannedCell {
                    market: line.market.clone(),
                    stage: line.planned.stage,
                    as_of: line.as_of.clone(),
                    cache_key: line.planned.cache_key.clone(),
                    hit: line.planned.hit,
                    why: (!line.planned.hit).then(|| why_miss(line, target.no_cache)),
                    compute_ms,
                    samples,
                }
            })
            .collect();
        cells.extend(planned.iter().cloned());
        progress(PlanProgress::Planned(planned));
    }
    running.shutdown().await;
    Ok(DryRun { cells, failed })
}

/// Why a planned stage misses: what differs between its key's parts and those of the stage's last recorded key.
pub fn why_miss(line: &PlanLine, no_cache: bool) -> String {
    if no_cache {
        return "--no-cache recomputes every stage".to_string();
    }
    let Some(previous) = &line.previous else { return "never run".to_string() };
    if previous.cache_key == line.planned.cache_key {
        return if previous.marker {
            "its cached output is incomplete (key unchanged; the export file is gone?)".to_string()
        } else {
            "its cached output is gone (key unchanged)".to_string()
        };
    }
    let Some(before) = &previous.key_parts else {
        return if previous.marker {
            "key changed since the last run (recorded before key parts were kept, so what changed is unknown)"
                .to_string()
        } else {
            "key changed since the last run (its cached output is gone, so what changed is unknown)".to_string()
        };
    };
    let changes = describe_changes(before, &line.planned.key_parts);
    if changes.is_empty() { "key changed (the key's composition changed)".to_string() } else { changes.join("; ") }
}

/// Phrases for the parts that differ, causes first and upstream stages last.
pub fn describe_changes(before: &KeyParts, after: &KeyParts) -> Vec<String> {
    let changed: Vec<&String> = {
        let mut labels: Vec<&String> = before.keys().chain(after.keys()).collect();
        labels.sort();
        labels.dedup();
        labels.into_iter().filter(|l| before.get(*l) != after.get(*l)).collect()
    };
    let with = |prefix: &str| -> Vec<&str> { changed.iter().filter_map(|l| l.strip_prefix(prefix)).collect() };
    let mut out = Vec::new();
    let files = with("src:");
    if !files.is_empty() {
        let shown: Vec<&str> = files.iter().take(3).copied().collect();
        let more = if files.len() > 3 { format!(" (+{} more)", files.len() - 3) } else { String::new() };
        out.push(format!("code changed: {}{more}", shown.join(", ")));
    }
    if changed.iter().any(|l| *l == "cargo_lock") {
        out.push("Cargo.lock changed".to_string());
    }
    let keys = with("config:");
    if !keys.is_empty() {
        let plural = if keys.len() == 1 { "key" } else { "keys" };
        let names: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
        out.push(format!("config {plural} {} changed", names.join(", ")));
    }
    if changed.iter().any(|l| *l == "model") {
        out.push("model changed".to_string());
    }
    if changed.iter().any(|l| *l == "as_of") {
        let show = |p: &KeyParts| p.get("as_of").cloned().unwrap_or_else(|| "none".to_string());
        out.push(format!("as_of changed ({} → {})", show(before), show(after)));
    }
    for table in with("raw:") {
        out.push(format!("raw {table}.csv changed"));
    }
    let upstream: Vec<&str> = {
        let names = with("upstream:");
        pipeline_core::engine::plan(None).iter().map(|s| s.name()).filter(|s| names.contains(s)).collect()
    };
    if !upstream.is_empty() {
        out.push(format!("upstream {} changed", upstream.join(", ")));
    }
    out
}

/// Plans one market in a runner child: its plan lines, or why there are none.
pub async fn plan(
    runner: &RunnerCommand,
    env: &RunnerEnv,
    market: &MarketId,
    target: PlanTarget,
    previous: &PreviousKeys,
) -> Result<Vec<PlanLine>, PlanError> {
    let job = MarketJob {
        market: market.clone(),
        stage: target.stage,
        as_of: target.as_of,
        no_cache: target.no_cache,
        run_id: PLAN_RUN_ID.to_string(),
        previous_rows: None,
        history_file: None,
    };
    let mut command = runner.command(&job, env);
    command.arg("--plan");
    if !previous.is_empty() {
        command.arg("--previous-keys").arg(serde_json::to_string(previous).expect("keys serialise"));
    }
    let output = command
        .output()
        .await
        .map_err(|source| PlanError::Start { program: runner.program().to_path_buf(), source })?;
    let mut lines = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Ok(plan) = serde_json::from_str::<PlanLine>(line) {
            lines.push(plan);
        } else if let Ok(Event::RunFinished { error: Some(error), .. }) = serde_json::from_str::<Event>(line) {
            return Err(PlanError::Runner(error));
        }
    }
    if lines.is_empty() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(PlanError::NoPlan { status: output.status.to_string(), stderr_tail: tail.join(" | ") });
    }
    Ok(lines)
}

/// The last recorded key of each stage of `market` (from runs that did not fail that stage).
pub fn last_keys(history: &History, market: &str) -> Result<PreviousKeys, HistoryError> {
    history.last_stage_keys(market)
}

/// Median of the recorded non-cached durations of `stage` for `market`, and how many there are.
pub fn compute_time(history: &History, market: &str, stage: Stage) -> (Option<u64>, usize) {
    let durations = history.computed_durations(market, stage).unwrap_or_default();
    (median(&durations), durations.len())
}

/// The median (the mean of the middle two for an even count, rounded down).
pub fn median(values: &[u64]) -> Option<u64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(entries: &[(&str, &str)]) -> KeyParts {
        entries.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn changed_parts_read_as_causes_then_upstream_stages() {
        let before = parts(&[
            ("src:pipeline-core/src/engine.rs", "a"),
            ("src:markets/br/src/schedule.rs", "b"),
            ("config:contact_share", "c"),
            ("config:languages", "d"),
            ("as_of", "2026-11-15"),
            ("upstream:score", "k1"),
            ("upstream:ingest", "k2"),
        ]);
        let after = parts(&[
            ("src:pipeline-core/src/engine.rs", "a"),
            ("src:markets/br/src/schedule.rs", "B"),
            ("config:contact_share", "C"),
            ("config:languages", "D"),
            ("as_of", "2026-11-22"),
            ("upstream:score", "K1"),
            ("upstream:ingest", "K2"),
        ]);
        assert_eq!(
            describe_changes(&before, &after),
            [
                "code changed: markets/br/src/schedule.rs",
                "config keys `contact_share`, `languages` changed",
                "as_of changed (2026-11-15 → 2026-11-22)",
                "upstream ingest, score changed",
            ]
        );
        let raw = describe_changes(&parts(&[("raw:customers", "e1")]), &parts(&[("raw:customers", "e2")]));
        assert_eq!(raw, ["raw customers.csv changed"]);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[30, 10, 20]), Some(20));
        assert_eq!(median(&[40, 10, 20, 30]), Some(25));
    }

    #[test]
    fn totals_count_misses_against_the_budget() {
        let cell = |stage, hit, compute_ms| PlannedCell {
            market: "foobar-au".into(),
            stage,
            as_of: "2026-11-15".into(),
            cache_key: "k".into(),
            hit,
            why: None,
            compute_ms,
            samples: 1,
        };
        let totals = PlanTotals::of(&[
            cell(Stage::Ingest, true, Some(1000)),
            cell(Stage::Validate, false, Some(1500)),
            cell(Stage::Features, false, None),
            cell(Stage::Score, false, Some(2100)),
        ]);
        assert_eq!(
            totals.sentence(),
            "expected 3.6s for 3 of 4 stages to compute (1 from the cache, 1 without history not counted): 0.4% of \
             the 15-minute budget"
        );
        let over = PlanTotals::of(&[cell(Stage::Ingest, false, Some(BUDGET_MS + 61_000))]);
        assert_eq!(
            over.sentence(),
            "expected 16m01s for 1 of 1 stages to compute (0 from the cache): over the 15-minute budget by 1m01s"
        );
    }
}
