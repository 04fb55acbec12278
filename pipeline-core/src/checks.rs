//! Data quality check results (spec: "Data quality checks"): what was measured, against what, and the outcome.

use serde::{Deserialize, Serialize};

/// The outcome of one check. `Alert` is recorded and the run goes on; `Fail` stops the run after the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Within thresholds.
    Pass,
    /// Recorded; the run continues.
    Alert,
    /// The stage fails and later stages do not run.
    Fail,
}

impl CheckStatus {
    /// Lower-case name, as in events and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Alert => "alert",
            CheckStatus::Fail => "fail",
        }
    }
}

impl std::fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One evaluated check: which, on what, its level rule, the measured value and the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Check name from the spec, e.g. `parse_errors`, `orphans`, `null_share`.
    pub name: String,
    /// What it was measured on, e.g. `orders` or `customers.region`.
    pub subject: String,
    /// The rule, e.g. `ALERT if > 0, FAIL if > 1%`.
    pub rule: String,
    /// The measured value (a count or a share, as the rule says).
    pub measured: f64,
    /// The outcome.
    pub status: CheckStatus,
    /// A sentence for people.
    pub message: String,
    /// What the value was compared against beyond the rule text (a history band, a drift test), for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<CheckDetail>,
}

/// The comparison behind a history-aware check, kept so reports can draw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckDetail {
    /// A recorded metric against the band of its own history.
    Band(Band),
    /// A two-sample drift test of this run's output against the previous successful run's.
    Drift(DriftDetail),
}

/// A metric's history band: mean ± k·σ of the same market's earlier successful runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// The metric, e.g. `score.propensity.mean`.
    pub metric: String,
    /// The values it is compared with, oldest first.
    pub history: Vec<f64>,
    /// How many earlier runs the check needs before it judges.
    pub required: u32,
    /// Mean of `history`.
    pub mean: f64,
    /// Sample standard deviation of `history`.
    pub sd: f64,
    /// ALERT outside mean ± `alert_sigma`·σ.
    pub alert_sigma: f64,
    /// FAIL outside mean ± `fail_sigma`·σ.
    pub fail_sigma: f64,
}

impl Band {
    /// The ALERT band `(low, high)`.
    pub fn alert_range(&self) -> (f64, f64) {
        (self.mean - self.alert_sigma * self.sd, self.mean + self.alert_sigma * self.sd)
    }

    /// The FAIL band `(low, high)`.
    pub fn fail_range(&self) -> (f64, f64) {
        (self.mean - self.fail_sigma * self.sd, self.mean + self.fail_sigma * self.sd)
    }
}

/// A drift test and the two distributions it compared (as shares per bin or category), for drawing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftDetail {
    /// `ks` or `chi_square`.
    pub test: String,
    /// The test statistic.
    pub statistic: f64,
    /// The p-value.
    pub p_value: f64,
    /// ALERT when `p_value` is below this.
    pub alpha: f64,
    /// The run whose output was the baseline.
    pub baseline_run: String,
    /// Bin or category labels.
    pub labels: Vec<String>,
    /// This run's share per label.
    pub current: Vec<f64>,
    /// The baseline's share per label.
    pub baseline: Vec<f64>,
}

impl CheckResult {
    /// A check that has only a FAIL level: fails when `failed` holds.
    pub fn fail_if(name: &str, subject: &str, rule: &str, measured: f64, failed: bool, message: String) -> Self {
        let status = if failed { CheckStatus::Fail } else { CheckStatus::Pass };
        Self { name: name.into(), subject: subject.into(), rule: rule.into(), measured, status, message, detail: None }
    }

    /// A check that has only an ALERT level: alerts when `alerted` holds.
    pub fn alert_if(name: &str, subject: &str, rule: &str, measured: f64, alerted: bool, message: String) -> Self {
        let status = if alerted { CheckStatus::Alert } else { CheckStatus::Pass };
        Self { name: name.into(), subject: subject.into(), rule: rule.into(), measured, status, message, detail: None }
    }

    /// The spec's two-level count rule: ALERT if `count > 0`, FAIL if `count > fail_share * total`.
    pub fn count_share(name: &str, subject: &str, count: u64, total: u64, fail_share: f64, what: &str) -> Self {
        let share = if total == 0 { 0.0 } else { count as f64 / total as f64 };
        let status = if share > fail_share {
            CheckStatus::Fail
        } else if count > 0 {
            CheckStatus::Alert
        } else {
            CheckStatus::Pass
        };
        Self {
            name: name.into(),
            subject: subject.into(),
            rule: format!("ALERT if > 0, FAIL if > {}%", fail_share * 100.0),
            measured: count as f64,
            status,
            message: format!("{count} of {total} {what} ({:.3}%)", share * 100.0),
            detail: None,
        }
    }
}

/// How many offending keys a check message names before it says how many more there are.
pub const NAMED_OFFENDERS: usize = 5;

/// The first offenders (at most [`NAMED_OFFENDERS`] of `shown`) as a list for a message, followed by how many
/// more of the `total` there are, e.g. `"C01 (2 rows), C07 (3 rows) and 4 more"`; bounded like every message.
pub fn name_offenders(shown: &[String], total: usize) -> String {
    let named = &shown[..shown.len().min(NAMED_OFFENDERS)];
    let mut out = named.join(", ");
    if total > named.len() {
        out.push_str(&format!(" and {} more", total - named.len()));
    }
    crate::error::bounded(&out)
}

/// The worst status among `checks` (`Pass` when there are none).
pub fn worst(checks: &[CheckResult]) -> CheckStatus {
    checks.iter().map(|c| c.status).max().unwrap_or(CheckStatus::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_share_passes_alerts_and_fails_at_the_spec_levels() {
        let pass = CheckResult::count_share("orphans", "orders", 0, 1000, 0.01, "orders");
        let alert = CheckResult::count_share("orphans", "orders", 10, 1000, 0.01, "orders");
        let fail = CheckResult::count_share("orphans", "orders", 11, 1000, 0.01, "orders");
        assert_eq!(
            (pass.status, alert.status, fail.status),
            (CheckStatus::Pass, CheckStatus::Alert, CheckStatus::Fail)
        );
        assert_eq!(fail.rule, "ALERT if > 0, FAIL if > 1%");
        assert_eq!(fail.message, "11 of 1000 orders (1.100%)");
    }

    #[test]
    fn name_offenders_lists_the_first_five_and_counts_the_rest() {
        let keys: Vec<String> = (1..=7).map(|i| format!("C{i:02}")).collect();
        assert_eq!(name_offenders(&keys[..2], 2), "C01, C02");
        assert_eq!(name_offenders(&keys, 7), "C01, C02, C03, C04, C05 and 2 more");
        assert_eq!(name_offenders(&keys[..5], 9), "C01, C02, C03, C04, C05 and 4 more");
    }

    #[test]
    fn worst_orders_fail_above_alert_above_pass() {
        let a = CheckResult::alert_if("x", "t", "r", 1.0, true, String::new());
        let f = CheckResult::fail_if("y", "t", "r", 1.0, true, String::new());
        assert_eq!(worst(std::slice::from_ref(&a)), CheckStatus::Alert);
        assert_eq!(worst(&[a, f]), CheckStatus::Fail);
        assert_eq!(worst(&[]), CheckStatus::Pass);
    }
}
