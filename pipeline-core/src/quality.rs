//! History-aware checks and model drift: a run's metrics against the same market's earlier successful runs
//! (mean ± k·σ), and its score and recommend outputs against the previous successful run's (KS on propensity,
//! chi-square on the action mix). Pure functions over values the engine hands in; run history itself lives in
//! the control plane, which passes it to the runner as a [`RunHistory`].

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::checks::{Band, CheckDetail, CheckResult, CheckStatus, DriftDetail};
use crate::config::QualitySettings;
use crate::drift::DriftTest;

/// Name of a history check (its subject is the metric).
pub const HISTORY_CHECK: &str = "history";
/// Name of the KS drift check on propensity.
pub const DRIFT_KS_CHECK: &str = "drift_ks";
/// Name of the chi-square drift check on the action mix.
pub const DRIFT_MIX_CHECK: &str = "drift_action_mix";
/// The most earlier runs the control plane hands a runner.
pub const MAX_HISTORY_RUNS: usize = 200;

/// What the control plane knows of a market's earlier successful runs, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunHistory {
    /// Earlier successful runs, newest first (at most [`MAX_HISTORY_RUNS`]).
    pub runs: Vec<PastRun>,
    /// Per stage name, the latest successful run that recorded the stage: the drift tests' baseline.
    pub baselines: BTreeMap<String, Baseline>,
}

/// One earlier successful run and what it measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastRun {
    /// Run id.
    pub run_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its metrics by name.
    pub metrics: BTreeMap<String, f64>,
}

/// An earlier successful run's output of one stage: where it is in the work bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Run id.
    pub run_id: String,
    /// The stage's cache key in that run.
    pub cache_key: String,
}

impl RunHistory {
    /// `metric`'s values in the runs `settings` compares with (the newest `history_runs`, within
    /// `history_days` of `now` when set), oldest first.
    pub fn values(&self, metric: &str, settings: &QualitySettings, now: DateTime<Utc>) -> Vec<f64> {
        let since = (settings.history_days > 0).then(|| now - Duration::days(i64::from(settings.history_days)));
        let mut values: Vec<f64> = self
            .runs
            .iter()
            .filter(|r| since.is_none_or(|s| r.started_at >= s))
            .take(settings.history_runs as usize)
            .filter_map(|r| r.metrics.get(metric).copied())
            .collect();
        values.reverse();
        values
    }
}

/// `metric` = `value` against its `history` (oldest first) with `settings`' bands: ALERT outside mean ±
/// alert_sigma·σ, FAIL outside mean ± fail_sigma·σ, and a pass saying "not enough history (n of M runs)" with
/// fewer than `min_history` values.
pub fn history_check(metric: &str, value: f64, history: &[f64], settings: &QualitySettings) -> CheckResult {
    let (alert_sigma, fail_sigma) = match settings.bands.get(metric) {
        Some(b) => (b.alert_sigma, b.fail_sigma),
        None => (settings.alert_sigma, settings.fail_sigma),
    };
    let rule = format!("ALERT outside mean ± {alert_sigma}σ, FAIL outside mean ± {fail_sigma}σ");
    let n = history.len();
    let required = settings.min_history;
    let mean = if n == 0 { 0.0 } else { history.iter().sum::<f64>() / n as f64 };
    let sd =
        if n < 2 { 0.0 } else { (history.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() };
    let sigma = sd.max(settings.min_sigma_share * mean.abs());
    let band = Band {
        metric: metric.to_string(),
        history: history.to_vec(),
        required,
        mean,
        sd: sigma,
        alert_sigma,
        fail_sigma,
    };
    let (status, message) = if n < required as usize {
        (CheckStatus::Pass, format!("not enough history ({n} of {required} runs)"))
    } else if sigma == 0.0 {
        if value == mean {
            (CheckStatus::Pass, format!("{} equals all {n} earlier runs", fmt(value)))
        } else {
            (CheckStatus::Alert, format!("{} but all {n} earlier runs were {}", fmt(value), fmt(mean)))
        }
    } else {
        let z = (value - mean) / sigma;
        let status = if z.abs() > fail_sigma {
            CheckStatus::Fail
        } else if z.abs() > alert_sigma {
            CheckStatus::Alert
        } else {
            CheckStatus::Pass
        };
        (status, format!("{} is {z:+.2}σ from the mean {} of {n} runs (σ {})", fmt(value), fmt(mean), fmt(sigma)))
    };
    CheckResult {
        name: HISTORY_CHECK.into(),
        subject: metric.into(),
        rule,
        measured: value,
        status,
        message,
        detail: Some(CheckDetail::Band(band)),
    }
}

/// A drift check from a test's outcome: ALERT when p < α. `None` (no baseline, or a sample too small to test)
/// passes and says why.
#[allow(clippy::too_many_arguments)]
pub fn drift_check(
    name: &str,
    subject: &str,
    test: Option<DriftTest>,
    alpha: f64,
    baseline_run: &str,
    labels: Vec<String>,
    current: Vec<f64>,
    baseline: Vec<f64>,
) -> CheckResult {
    let rule = format!("ALERT if p < {alpha}");
    let Some(test) = test else {
        return no_baseline(name, subject, alpha, &format!("nothing to compare with the baseline run {baseline_run}"));
    };
    let status = if test.p_value < alpha { CheckStatus::Alert } else { CheckStatus::Pass };
    let message = format!(
        "{} {:.4}, p = {:.4} against run {baseline_run} ({} vs {} rows)",
        if test.test == "ks" { "D" } else { "χ²" },
        test.statistic,
        test.p_value,
        test.n.0,
        test.n.1
    );
    CheckResult {
        name: name.into(),
        subject: subject.into(),
        rule,
        measured: test.p_value,
        status,
        message,
        detail: Some(CheckDetail::Drift(DriftDetail {
            test: test.test,
            statistic: test.statistic,
            p_value: test.p_value,
            alpha,
            baseline_run: baseline_run.into(),
            labels,
            current,
            baseline,
        })),
    }
}

/// A drift check that passes because there is nothing to compare with; `why` says so.
pub fn no_baseline(name: &str, subject: &str, alpha: f64, why: &str) -> CheckResult {
    CheckResult::alert_if(name, subject, &format!("ALERT if p < {alpha}"), 1.0, false, format!("no baseline: {why}"))
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{v:.0}") } else { format!("{v:.4}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MarketConfig;

    fn settings() -> QualitySettings {
        MarketConfig::resolve(
            "foobar-xx",
            "id = \"foobar-xx\"\ncurrency = \"EUR\"\nfx_to_usd = 1.0\ntimezone = \"UTC\"\nlanguages = [\"en\"]\n\
             channel_priority = [\"email\"]\nregions = [\"N\"]\n",
        )
        .unwrap()
        .quality
    }

    #[test]
    fn too_little_history_passes_and_says_how_much_there_is() {
        let c = history_check("ingest.rows.orders", 5.0, &[1.0, 2.0], &settings());
        assert_eq!((c.status, c.message.as_str()), (CheckStatus::Pass, "not enough history (2 of 5 runs)"));
    }

    #[test]
    fn a_value_outside_the_bands_alerts_then_fails() {
        let history = [100.0, 102.0, 98.0, 101.0, 99.0]; // mean 100, sd 1.58
        let s = settings();
        assert_eq!(history_check("m", 103.0, &history, &s).status, CheckStatus::Pass);
        assert_eq!(history_check("m", 106.0, &history, &s).status, CheckStatus::Alert);
        let fail = history_check("m", 111.0, &history, &s);
        assert_eq!(fail.status, CheckStatus::Fail);
        assert_eq!(fail.message, "111 is +6.96σ from the mean 100 of 5 runs (σ 1.5811)");
        let Some(CheckDetail::Band(band)) = fail.detail else { panic!("a band") };
        assert_eq!(band.alert_range(), (100.0 - 3.0 * band.sd, 100.0 + 3.0 * band.sd));
    }

    #[test]
    fn a_metric_that_never_moved_gets_the_minimum_sigma() {
        let history = [200.0; 6];
        let s = settings(); // min_sigma_share 0.01: σ = 2
        assert_eq!(history_check("m", 205.0, &history, &s).status, CheckStatus::Pass);
        assert_eq!(history_check("m", 207.0, &history, &s).status, CheckStatus::Alert);
        assert_eq!(history_check("m", 213.0, &history, &s).status, CheckStatus::Fail);
        let zero = history_check("m", 0.5, &[0.0; 6], &s);
        assert_eq!((zero.status, zero.message.as_str()), (CheckStatus::Alert, "0.5000 but all 6 earlier runs were 0"));
    }

    #[test]
    fn the_window_takes_the_newest_runs_within_the_days() {
        let now: DateTime<Utc> = "2026-12-07T00:00:00Z".parse().unwrap();
        let run = |days: i64, v: f64| PastRun {
            run_id: format!("r{days}"),
            started_at: now - Duration::days(days),
            metrics: BTreeMap::from([("m".to_string(), v)]),
        };
        let history = RunHistory { runs: vec![run(1, 1.0), run(2, 2.0), run(100, 3.0)], baselines: BTreeMap::new() };
        let mut s = settings();
        assert_eq!(history.values("m", &s, now), vec![2.0, 1.0], "90 days by default");
        s.history_days = 0;
        s.history_runs = 2;
        assert_eq!(history.values("m", &s, now), vec![2.0, 1.0]);
        s.history_runs = 20;
        assert_eq!(history.values("m", &s, now), vec![3.0, 2.0, 1.0]);
    }
}
