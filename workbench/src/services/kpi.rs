//! The quality KPIs of the TUI's KPI screen (`K`) and `wb kpi`, aggregated from the run history: per market the
//! latest run's checks and their trend, the model drift tests' p-values and a few recorded metrics per run
//! (propensity mean, quarantine share, offer share), per stage the computed time over runs, the latest full run against the 15-minute
//! budget, the cache hit rate, and the latest tests and coverage against the thresholds of `workbench.toml`.
//!
//! [`Kpis::aggregate`] is pure (recorded runs and measurements in, figures out), so every figure is testable with
//! fixed values; [`Kpis::load`] reads its inputs from [`History`].
//!
//! The window is the newest `limit` runs less any still `running` (its figures would be partial).
//! Every per-run series is aligned with [`Kpis::runs`], oldest first, so one column is one run on every line of
//! the screen; a `None` point means the run has nothing to say there (the market or stage did not run in it).

use pipeline_core::Stage;
use workbench_coverage::Thresholds;

use crate::history::quality::QualityRun;
use crate::history::{History, Level, Result, RunDetail, Status};
use crate::services::runs::BUDGET_MS;

/// How many recent runs (and test and coverage measurements) the KPI screen aggregates.
pub const WINDOW: usize = 20;

/// How many checks of a market's run passed, alerted and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckCounts {
    /// Checks that passed.
    pub pass: u32,
    /// Checks that alerted.
    pub alert: u32,
    /// Checks that failed.
    pub fail: u32,
}

impl CheckCounts {
    /// Checks that did not pass (alerts and failures): the height of the trend's sparkline.
    pub fn problems(self) -> u32 {
        self.alert + self.fail
    }

    /// Every check.
    pub fn total(self) -> u32 {
        self.pass + self.alert + self.fail
    }
}

/// One run of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPoint {
    /// Run id.
    pub run_id: String,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// How it ended.
    pub status: Status,
    /// A full run: every registered market, every stage, finished ok, alert or fail
    /// ([`crate::history::RunRow::is_full`], the rule the TUI header's last full run is found by too).
    pub full: bool,
    /// Wall time.
    pub duration_ms: Option<u64>,
}

/// A market's checks over the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketKpi {
    /// Market id.
    pub market: String,
    /// Per run (aligned with [`Kpis::runs`]): its checks, `None` when the market ran no stage in that run.
    pub trend: Vec<Option<CheckCounts>>,
}

impl MarketKpi {
    /// The checks of the newest run in which the market ran a stage.
    pub fn latest(&self) -> Option<CheckCounts> {
        self.trend.iter().rev().find_map(|c| *c)
    }
}

/// A stage's computed time over the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageKpi {
    /// Stage name.
    pub stage: String,
    /// Per run (aligned with [`Kpis::runs`]): the mean wall time of the stage per market that computed it (cache
    /// misses only: a cache hit measures a read, not the stage), rounded down; `None` when no market computed it
    /// in that run. A mean per market, not a sum, so a one-market run and a full run compare.
    pub computed_ms: Vec<Option<u64>>,
}

impl StageKpi {
    /// The newest computed time.
    pub fn latest(&self) -> Option<u64> {
        self.computed_ms.iter().rev().find_map(|d| *d)
    }

    /// The longest computed time of the window.
    pub fn max(&self) -> Option<u64> {
        self.computed_ms.iter().flatten().max().copied()
    }
}

/// Stage executions served from the cache, out of all stage executions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HitRate {
    /// Served from the cache.
    pub hits: u32,
    /// Every stage execution (markets × stages).
    pub total: u32,
}

impl HitRate {
    /// Hits in percent (None when nothing ran).
    pub fn percent(self) -> Option<f64> {
        (self.total > 0).then(|| f64::from(self.hits) * 100.0 / f64::from(self.total))
    }
}

/// The recorded metrics the KPIs trend per market.
pub const TREND_METRICS: [&str; 3] =
    ["score.propensity.mean", "ingest.quarantine_share", "recommend.action_share.offer"];

/// A market's model drift over the window: the drift tests' p-values per run (a low p is a shift).
#[derive(Debug, Clone, PartialEq)]
pub struct DriftKpi {
    /// Market id.
    pub market: String,
    /// Per run (aligned with [`Kpis::runs`]): the KS test's p on propensity, `None` when not tested in that run.
    pub ks_p: Vec<Option<f64>>,
    /// Per run: the chi-square test's p on the action mix.
    pub mix_p: Vec<Option<f64>>,
    /// The market's α (`[quality] drift_alpha`): a p below it ALERTs.
    pub alpha: f64,
}

impl DriftKpi {
    /// The newest KS p-value.
    pub fn latest_ks(&self) -> Option<f64> {
        self.ks_p.iter().rev().find_map(|p| *p)
    }

    /// The newest chi-square p-value.
    pub fn latest_mix(&self) -> Option<f64> {
        self.mix_p.iter().rev().find_map(|p| *p)
    }
}

/// A recorded metric of a market over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricKpi {
    /// Market id.
    pub market: String,
    /// Metric name.
    pub metric: String,
    /// Per run (aligned with [`Kpis::runs`]), `None` when the run did not record it.
    pub values: Vec<Option<f64>>,
}

impl MetricKpi {
    /// The newest value.
    pub fn latest(&self) -> Option<f64> {
        self.values.iter().rev().find_map(|v| *v)
    }
}

/// The latest full run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullRun {
    /// Run id.
    pub run_id: String,
    /// Wall time.
    pub duration_ms: u64,
}

/// Whether a coverage measurement meets its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// At or above the threshold.
    Met,
    /// Below the threshold.
    Below,
    /// Nothing measured (no instrumented line, or no changed line).
    Unmeasured,
}

/// Line or patch coverage: the latest measurement against the threshold, and its trend.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageKpi {
    /// The latest measurement in percent.
    pub percent: Option<f64>,
    /// The threshold of `workbench.toml` (`[coverage]`).
    pub threshold: f64,
    /// Per measurement, oldest first.
    pub trend: Vec<Option<f64>>,
}

impl CoverageKpi {
    /// The latest measurement against the threshold.
    pub fn verdict(&self) -> Verdict {
        match self.percent {
            None => Verdict::Unmeasured,
            Some(p) if p >= self.threshold => Verdict::Met,
            Some(_) => Verdict::Below,
        }
    }
}

/// The latest test and coverage measurement (`wb coverage` / `wb check`) and the coverage trend.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityKpi {
    /// When the latest measurement started (RFC 3339 UTC).
    pub started_at: String,
    /// Its command line.
    pub command: String,
    /// Tests passed (None when the tests did not run).
    pub tests_passed: Option<u64>,
    /// Tests failed.
    pub tests_failed: Option<u64>,
    /// Tests ignored.
    pub tests_ignored: Option<u64>,
    /// Line coverage of the workspace.
    pub line: CoverageKpi,
    /// Coverage of the changed lines.
    pub patch: CoverageKpi,
}

/// Every figure of the KPI screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpis {
    /// The window's runs, oldest first; every per-run series is aligned with it.
    pub runs: Vec<RunPoint>,
    /// Per market (registered markets in registry order, then any other market seen in the window).
    pub markets: Vec<MarketKpi>,
    /// Per stage (pipeline order, then any other stage name seen).
    pub stages: Vec<StageKpi>,
    /// The feedback budget of a full run.
    pub budget_ms: u64,
    /// The newest full run of the window.
    pub latest_full: Option<FullRun>,
    /// Wall times of the window's full runs, oldest first.
    pub full_trend: Vec<u64>,
    /// Per run (aligned with [`Kpis::runs`]): its cache hit rate, `None` when it ran no stage.
    pub cache: Vec<Option<HitRate>>,
    /// The latest tests and coverage, when any were recorded.
    pub quality: Option<QualityKpi>,
    /// Per market (same order as `markets`): the drift tests' p-values.
    pub drift: Vec<DriftKpi>,
    /// Per market and [`TREND_METRICS`] metric: its values.
    pub metrics: Vec<MetricKpi>,
}

impl Kpis {
    /// Aggregates `runs` (newest first, as [`History::list_runs`] orders them; `running` ones are skipped) and
    /// `quality` (newest first) against `thresholds`; `markets` are the registered markets (listed even when
    /// they did not run, and what a full run must cover).
    pub fn aggregate(runs: &[RunDetail], quality: &[QualityRun], thresholds: Thresholds, markets: &[&str]) -> Self {
        let window: Vec<&RunDetail> = runs.iter().rev().filter(|d| d.run.status != Status::Running).collect();
        let points: Vec<RunPoint> = window
            .iter()
            .map(|d| RunPoint {
                run_id: d.run.run_id.clone(),
                started_at: d.run.started_at.clone(),
                status: d.run.status,
                full: d.run.is_full(markets),
                duration_ms: d.run.duration_ms,
            })
            .collect();

        let mut market_names: Vec<String> = markets.iter().map(|m| m.to_string()).collect();
        for detail in &window {
            for name in detail.markets.iter().map(|m| &m.market).chain(detail.stages.iter().map(|s| &s.market)) {
                if !market_names.contains(name) {
                    market_names.push(name.clone());
                }
            }
        }
        let metric = |d: &RunDetail, market: &str, name: &str| d.metrics.get(market).and_then(|m| m.get(name)).copied();
        let drift = market_names
            .iter()
            .map(|market| DriftKpi {
                market: market.clone(),
                ks_p: window.iter().map(|d| metric(d, market, pipeline_core::metrics::KS_P)).collect(),
                mix_p: window.iter().map(|d| metric(d, market, pipeline_core::metrics::ACTION_CHI2_P)).collect(),
                alpha: drift_alpha(market),
            })
            .collect();
        let metrics = market_names
            .iter()
            .flat_map(|market| {
                TREND_METRICS.iter().map(|name| MetricKpi {
                    market: market.clone(),
                    metric: name.to_string(),
                    values: window.iter().map(|d| metric(d, market, name)).collect(),
                })
            })
            .collect();
        let market_kpis = market_names
            .into_iter()
            .map(|market| {
                let trend = window.iter().map(|d| checks_of(d, &market)).collect();
                MarketKpi { market, trend }
            })
            .collect();

        let mut stage_names: Vec<String> = Stage::ALL.iter().map(|s| s.name().to_string()).collect();
        for detail in &window {
            for stage in &detail.stages {
                if !stage_names.contains(&stage.stage) {
                    stage_names.push(stage.stage.clone());
                }
            }
        }
        let stage_kpis = stage_names
            .into_iter()
            .map(|stage| {
                let computed_ms = window.iter().map(|d| computed_ms(d, &stage)).collect();
                StageKpi { stage, computed_ms }
            })
            .collect();

        let cache = window
            .iter()
            .map(|d| {
                let total = d.stages.len() as u32;
                let hits = d.stages.iter().filter(|s| s.cache_hit).count() as u32;
                (total > 0).then_some(HitRate { hits, total })
            })
            .collect();

        let full: Vec<&RunPoint> = points.iter().filter(|p| p.full && p.duration_ms.is_some()).collect();
        let full_trend: Vec<u64> = full.iter().filter_map(|p| p.duration_ms).collect();
        let latest_full =
            full.last().map(|p| FullRun { run_id: p.run_id.clone(), duration_ms: p.duration_ms.unwrap_or(0) });

        Self {
            runs: points,
            markets: market_kpis,
            stages: stage_kpis,
            budget_ms: BUDGET_MS,
            latest_full,
            full_trend,
            cache,
            quality: quality_kpi(quality, thresholds),
            drift,
            metrics,
        }
    }

    /// Reads the newest `limit` runs (a `running` one among them is left out) and the newest `limit` test and
    /// coverage measurements from `history`, and aggregates them against `thresholds` and the registered markets.
    pub fn load(history: &History, thresholds: Thresholds, limit: usize) -> Result<Self> {
        Self::load_for(history, thresholds, limit, &markets::ids())
    }

    /// [`Kpis::load`] against the given `markets` instead of the registered ones (a view of some markets).
    pub fn load_for(history: &History, thresholds: Thresholds, limit: usize, markets: &[&str]) -> Result<Self> {
        let mut details = Vec::new();
        for run in history.list_runs(limit)? {
            if run.status == Status::Running {
                continue;
            }
            if let Some(detail) = history.run_detail(&run.run_id)? {
                details.push(detail);
            }
        }
        let quality = history.quality_runs(limit)?;
        Ok(Self::aggregate(&details, &quality, thresholds, markets))
    }

    /// Keeps only the figures of `markets` (the runs and stages stay: they are the window).
    pub fn retain_markets(&mut self, markets: &[&str]) {
        self.markets.retain(|m| markets.contains(&m.market.as_str()));
        self.drift.retain(|m| markets.contains(&m.market.as_str()));
        self.metrics.retain(|m| markets.contains(&m.market.as_str()));
    }

    /// Nothing recorded yet: no run and no test or coverage measurement.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty() && self.quality.is_none()
    }

    /// The cache hit rate of the newest run that ran a stage.
    pub fn latest_hit_rate(&self) -> Option<HitRate> {
        self.cache.iter().rev().find_map(|r| *r)
    }

    /// The cache hit rate over every stage execution of the window.
    pub fn window_hit_rate(&self) -> HitRate {
        self.cache
            .iter()
            .flatten()
            .fold(HitRate::default(), |acc, r| HitRate { hits: acc.hits + r.hits, total: acc.total + r.total })
    }

    /// Whether the latest full run stayed within the budget (None without a full run).
    pub fn within_budget(&self) -> Option<bool> {
        self.latest_full.as_ref().map(|f| f.duration_ms <= self.budget_ms)
    }
}

/// A market's drift α from its compiled config (the base's default for a market no longer registered).
fn drift_alpha(market: &str) -> f64 {
    match markets::load(market) {
        Ok(m) => m.config().quality.drift_alpha,
        Err(_) => pipeline_core::MarketConfig::base_quality().drift_alpha,
    }
}

/// The checks of `market` in a run; `None` when the market ran no stage in it.
fn checks_of(detail: &RunDetail, market: &str) -> Option<CheckCounts> {
    if !detail.stages.iter().any(|s| s.market == market) {
        return None;
    }
    let mut counts = CheckCounts::default();
    for check in detail.checks.iter().filter(|c| c.market == market) {
        match check.status {
            Level::Pass => counts.pass += 1,
            Level::Alert => counts.alert += 1,
            Level::Fail => counts.fail += 1,
        }
    }
    Some(counts)
}

/// The mean computed (not cached) wall time of `stage` per market in a run.
fn computed_ms(detail: &RunDetail, stage: &str) -> Option<u64> {
    let computed: Vec<u64> =
        detail.stages.iter().filter(|s| s.stage == stage && !s.cache_hit).map(|s| s.duration_ms).collect();
    (!computed.is_empty()).then(|| computed.iter().sum::<u64>() / computed.len() as u64)
}

fn quality_kpi(quality: &[QualityRun], thresholds: Thresholds) -> Option<QualityKpi> {
    let latest = quality.first()?;
    let oldest_first: Vec<&QualityRun> = quality.iter().rev().collect();
    let coverage = |percent: Option<f64>, threshold: f64, pick: fn(&QualityRun) -> Option<f64>| CoverageKpi {
        percent,
        threshold,
        trend: oldest_first.iter().map(|q| pick(q)).collect(),
    };
    Some(QualityKpi {
        started_at: latest.started_at.clone(),
        command: latest.command.clone(),
        tests_passed: latest.tests_passed,
        tests_failed: latest.tests_failed,
        tests_ignored: latest.tests_ignored,
        line: coverage(latest.line_percent, thresholds.line, |q| q.line_percent),
        patch: coverage(latest.patch_percent, thresholds.patch, |q| q.patch_percent),
    })
}
