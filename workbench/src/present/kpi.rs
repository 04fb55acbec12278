//! What `wb kpi` prints: the KPI figures of [`crate::services::kpi`] as aligned text with sparklines (one column
//! per run, oldest on the left, `·` where a run has no point) or as one JSON object, and the metric catalog.

use serde_json::{Value, json};

use crate::services::kpi::{CheckCounts, DriftKpi, Kpis};

/// Sparkline levels, lowest first.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One character per value scaled from `lo` to `hi` (`·` for `None`; all `▄` when `hi <= lo`).
pub fn spark(values: &[Option<f64>], lo: f64, hi: f64) -> String {
    let level = |v: f64| {
        if hi <= lo { BARS[3] } else { BARS[(((v - lo) / (hi - lo)) * 7.0).round().clamp(0.0, 7.0) as usize] }
    };
    values.iter().map(|v| v.map_or('·', level)).collect()
}

/// A p-value with its verdict against α: `0.0003 ALERT` or `0.8123`; `-` when not tested.
pub fn p_value(p: Option<f64>, alpha: f64) -> String {
    match p {
        None => "-".into(),
        Some(p) if p < alpha => format!("{p:.4} ALERT"),
        Some(p) => format!("{p:.4}"),
    }
}

fn counts(c: Option<CheckCounts>) -> String {
    c.map_or("-".into(), |c| format!("{} pass, {} alert, {} fail", c.pass, c.alert, c.fail))
}

/// The text report of `wb kpi`.
pub fn kpi_text(kpis: &Kpis) -> String {
    if kpis.is_empty() {
        return "nothing recorded yet: `wb run --all` records runs, `wb coverage` the tests and coverage\n".into();
    }
    let width = kpis.markets.iter().map(|m| m.market.len()).max().unwrap_or(6).max(6);
    let mut out = format!("KPIs over the last {} runs (oldest → newest, · not run)\n\n", kpis.runs.len());
    out.push_str("checks (alerts + failures per run)\n");
    for m in &kpis.markets {
        let problems: Vec<Option<f64>> = m.trend.iter().map(|c| c.map(|c| f64::from(c.problems()))).collect();
        let max = problems.iter().flatten().fold(0.0f64, |a, b| a.max(*b));
        out.push_str(&format!("  {:<width$}  {}  {}\n", m.market, spark(&problems, 0.0, max), counts(m.latest())));
    }
    out.push_str("\nmodel drift (p-values; a p below α ALERTs)\n");
    for d in &kpis.drift {
        out.push_str(&drift_line(d, width));
    }
    out.push_str("\nmetrics\n");
    for m in &kpis.metrics {
        let lo = m.values.iter().flatten().fold(f64::INFINITY, |a, b| a.min(*b));
        let hi = m.values.iter().flatten().fold(f64::NEG_INFINITY, |a, b| a.max(*b));
        let latest = m.latest().map_or("-".into(), |v| format!("{v:.4}"));
        out.push_str(&format!("  {:<width$}  {:<30} {}  {latest}\n", m.market, m.metric, spark(&m.values, lo, hi)));
    }
    out.push_str("\nstages (mean computed time per market)\n");
    for s in &kpis.stages {
        let values: Vec<Option<f64>> = s.computed_ms.iter().map(|d| d.map(|d| d as f64)).collect();
        let latest = s.latest().map_or("-".into(), crate::services::runs::duration);
        out.push_str(&format!("  {:<10} {}  {latest}\n", s.stage, spark(&values, 0.0, s.max().unwrap_or(0) as f64)));
    }
    out.push('\n');
    match (&kpis.latest_full, kpis.within_budget()) {
        (Some(full), Some(within)) => out.push_str(&format!(
            "budget     latest full run {} of {} ({})\n",
            crate::services::runs::duration(full.duration_ms),
            crate::services::runs::duration(kpis.budget_ms),
            if within { "within" } else { "OVER" }
        )),
        _ => out.push_str("budget     no full run in the window\n"),
    }
    let rate = |r: Option<f64>| r.map_or("-".into(), |p| format!("{p:.0}%"));
    out.push_str(&format!(
        "cache      latest {} · window {}\n",
        rate(kpis.latest_hit_rate().and_then(|r| r.percent())),
        rate(kpis.window_hit_rate().percent())
    ));
    match &kpis.quality {
        Some(q) => {
            let pct = |p: Option<f64>| p.map_or("-".into(), |p| format!("{p:.1}%"));
            out.push_str(&format!(
                "tests      {} passed, {} failed · line {} (≥ {}%) · patch {} (≥ {}%)\n",
                q.tests_passed.map_or("-".into(), |n| n.to_string()),
                q.tests_failed.map_or("-".into(), |n| n.to_string()),
                pct(q.line.percent),
                q.line.threshold,
                pct(q.patch.percent),
                q.patch.threshold
            ));
        }
        None => out.push_str("tests      none recorded: `wb coverage` records them\n"),
    }
    out
}

fn drift_line(d: &DriftKpi, width: usize) -> String {
    format!(
        "  {:<width$}  KS (propensity) {} {:<13}  χ² (action mix) {} {:<13}  α {}\n",
        d.market,
        spark(&d.ks_p, 0.0, 1.0),
        p_value(d.latest_ks(), d.alpha),
        spark(&d.mix_p, 0.0, 1.0),
        p_value(d.latest_mix(), d.alpha),
        d.alpha
    )
}

/// The JSON object of `wb kpi --json`: the runs of the window, then per market its checks, drift and metrics,
/// each series aligned with `runs`.
pub fn kpi_json(kpis: &Kpis) -> Value {
    let runs: Vec<Value> = kpis
        .runs
        .iter()
        .map(|r| {
            json!({"run_id": r.run_id, "started_at": r.started_at, "status": r.status.to_string(), "full": r.full,
                   "duration_ms": r.duration_ms})
        })
        .collect();
    let markets: Vec<Value> = kpis
        .markets
        .iter()
        .map(|m| {
            let drift = kpis.drift.iter().find(|d| d.market == m.market);
            let metrics: serde_json::Map<String, Value> = kpis
                .metrics
                .iter()
                .filter(|x| x.market == m.market)
                .map(|x| (x.metric.clone(), json!(x.values)))
                .collect();
            json!({
                "market": m.market,
                "checks": m.trend.iter().map(|c| c.map(|c| json!({"pass": c.pass, "alert": c.alert, "fail": c.fail})))
                    .collect::<Vec<_>>(),
                "drift": drift.map(|d| json!({
                    "alpha": d.alpha,
                    "ks_p": d.ks_p,
                    "chi2_p": d.mix_p,
                    "latest_ks_p": d.latest_ks(),
                    "latest_chi2_p": d.latest_mix(),
                    "alert": d.latest_ks().is_some_and(|p| p < d.alpha) || d.latest_mix().is_some_and(|p| p < d.alpha),
                })),
                "metrics": metrics,
            })
        })
        .collect();
    let stages: Vec<Value> =
        kpis.stages.iter().map(|s| json!({"stage": s.stage, "computed_ms": s.computed_ms})).collect();
    json!({
        "runs": runs,
        "markets": markets,
        "stages": stages,
        "budget_ms": kpis.budget_ms,
        "latest_full": kpis.latest_full.as_ref().map(|f| json!({"run_id": f.run_id, "duration_ms": f.duration_ms})),
        "within_budget": kpis.within_budget(),
        "cache": {
            "latest_percent": kpis.latest_hit_rate().and_then(|r| r.percent()),
            "window_percent": kpis.window_hit_rate().percent(),
        },
        "quality": kpis.quality.as_ref().map(|q| json!({
            "started_at": q.started_at, "command": q.command, "tests_passed": q.tests_passed,
            "tests_failed": q.tests_failed, "tests_ignored": q.tests_ignored,
            "line_percent": q.line.percent, "line_threshold": q.line.threshold,
            "patch_percent": q.patch.percent, "patch_threshold": q.patch.threshold,
        })),
    })
}

/// `wb kpi --metrics`: one metric name per line.
pub fn metrics_text(catalog: &[String]) -> String {
    catalog.iter().map(|m| format!("{m}\n")).collect()
}

/// `wb kpi --metrics --json`: the names as a JSON array.
pub fn metrics_json(catalog: &[String]) -> Value {
    json!(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_say_alert_below_alpha_only() {
        assert_eq!(p_value(Some(0.0004), 0.01), "0.0004 ALERT");
        assert_eq!(p_value(Some(0.01), 0.01), "0.0100");
        assert_eq!(p_value(None, 0.01), "-");
    }

    #[test]
    fn spark_scales_between_bounds_and_marks_gaps() {
        assert_eq!(spark(&[Some(0.0), None, Some(1.0), Some(0.5)], 0.0, 1.0), "▁·█▅");
        assert_eq!(spark(&[Some(3.0)], 3.0, 3.0), "▄");
    }
}
