//! The per-run reports: a report built from a real history (with a history band, a drift test and metrics)
//! rendered as self-contained HTML with its SVG charts and every hostile string escaped, its JSON round trip,
//! the index from a history of several runs (one query, newest first, counts, relative links), and `wb run`
//! end to end publishing each market's report to the embedded S3, linked by `wb show last --json`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Root, describe, stdout};
use pipeline_core::{
    Band, CheckDetail, CheckResult, CheckStatus, DriftDetail, RunStatus, Stage, StageRecord, StageStatus,
};
use serde_json::Value;
use workbench::history::{History, MarketEnd, NewRun, RunEnd};
use workbench::present::run_report::{index_html, report_html};
use workbench::services::reports::{self, ReportIndex, RunReport};

const HOSTILE: &str = r#"<script>alert("x")</script> & 'q'"#;
const HOSTILE_ESCAPED: &str = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;";

fn band() -> Band {
    Band {
        metric: "score.propensity.mean".into(),
        history: vec![0.40, 0.42, 0.41, 0.43, 0.39],
        required: 5,
        mean: 0.41,
        sd: 0.0158,
        alert_sigma: 2.0,
        fail_sigma: 3.0,
    }
}

fn drift() -> DriftDetail {
    DriftDetail {
        test: "chi_square".into(),
        statistic: 12.5,
        p_value: 0.0019,
        alpha: 0.01,
        baseline_run: "20261122T090000000Z-1".into(),
        labels: vec!["email".into(), "sms".into(), HOSTILE.into()],
        current: vec![0.5, 0.3, 0.2],
        baseline: vec![0.6, 0.3, 0.1],
    }
}

fn check(name: &str, subject: &str, measured: f64, status: CheckStatus, detail: Option<CheckDetail>) -> CheckResult {
    CheckResult {
        name: name.into(),
        subject: subject.into(),
        rule: "ALERT outside mean ± 2σ, FAIL outside mean ± 3σ".into(),
        measured,
        status,
        message: format!("{name} message"),
        detail,
    }
}

fn new_run(run_id: &str, started_at: &str, markets: &[&str]) -> NewRun {
    NewRun {
        run_id: run_id.into(),
        started_at: started_at.into(),
        command: "wb run --all".into(),
        git_commit: Some("0123456789abcdef".into()),
        git_dirty: Some(false),
        backend: "embedded".into(),
        endpoint: None,
        markets: markets.iter().map(|m| m.to_string()).collect(),
        stage: None,
        as_of: None,
        no_cache: false,
        pid: std::process::id(),
        pid_start: None,
    }
}

fn stage(stage: Stage, checks: Vec<CheckResult>, metrics: &[(&str, f64)]) -> StageRecord {
    let status = match pipeline_core::checks::worst(&checks) {
        CheckStatus::Pass => StageStatus::Ok,
        CheckStatus::Alert => StageStatus::Alert,
        CheckStatus::Fail => StageStatus::Fail,
    };
    StageRecord {
        metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        stage,
        cache_key: format!("{}-key", stage.name()),
        status,
        cache_hit: false,
        rows: 100,
        tables: BTreeMap::new(),
        bytes: 10,
        duration_ms: 1500,
        checks,
        outputs: Vec::new(),
        produced_by: "r".into(),
        error: None,
    }
}

/// Records `run_id` over `markets`: per market a score stage with a history band check (alert) and a drift check
/// (pass, a hostile label and name), and a validate stage with a failing check in `fails` markets.
fn record(history: &mut History, run_id: &str, started_at: &str, markets: &[&str], fails: &[&str]) {
    history.begin_run(&new_run(run_id, started_at, markets)).unwrap();
    let mut run_status = RunStatus::Alert;
    for market in markets {
        let failed = fails.contains(market);
        let validate = stage(
            Stage::Validate,
            vec![check(
                "orphans",
                "orders",
                if failed { 5.0 } else { 0.0 },
                if failed { CheckStatus::Fail } else { CheckStatus::Pass },
                None,
            )],
            &[("validate.orders.rows", 100.0)],
        );
        history.record_stage(run_id, market, 0, &validate).unwrap();
        let status = if failed {
            run_status = RunStatus::Fail;
            RunStatus::Fail
        } else {
            let score = stage(
                Stage::Score,
                vec![
                    check(
                        "history",
                        "score.propensity.mean",
                        0.46,
                        CheckStatus::Alert,
                        Some(CheckDetail::Band(band())),
                    ),
                    check(HOSTILE, HOSTILE, 0.0019, CheckStatus::Pass, Some(CheckDetail::Drift(drift()))),
                ],
                &[("score.propensity.mean", 0.46), ("score.rows", 100.0)],
            );
            history.record_stage(run_id, market, 1, &score).unwrap();
            RunStatus::Alert
        };
        let end = MarketEnd {
            market: market.to_string(),
            status,
            as_of: Some("2026-11-15".into()),
            error: None,
            duration_ms: Some(2000),
            peak_rss_bytes: None,
        };
        history.finish_market(run_id, &end).unwrap();
    }
    let end = RunEnd {
        status: run_status,
        endpoint: Some("http://127.0.0.1:9".into()),
        duration_ms: 2500,
        peak_rss_bytes: None,
        error: None,
    };
    history.finish_run(run_id, &end).unwrap();
}

fn history_in(dir: &Path) -> History {
    History::open(&dir.join("history.sqlite")).unwrap()
}

#[test]
fn a_report_from_history_renders_its_checks_bands_and_drift_as_escaped_self_contained_html() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = history_in(dir.path());
    record(&mut history, "20261122T090000000Z-1", "2026-11-22T09:00:00.000Z", &["foobar-au"], &[]);
    let built = reports::build(&history, "20261122T090000000Z-1").unwrap();
    assert_eq!(built.len(), 1);
    let report = &built[0];
    assert_eq!(
        (report.market.as_str(), report.status.as_str(), report.backend.as_str()),
        ("foobar-au", "alert", "embedded")
    );
    assert_eq!(report.as_of.as_deref(), Some("2026-11-15"));
    assert_eq!(report.stages.iter().map(|s| s.stage.as_str()).collect::<Vec<_>>(), ["validate", "score"]);
    assert_eq!(report.checks.len(), 3);
    assert_eq!(report.metrics.get("score.propensity.mean"), Some(&0.46));
    assert_eq!(report.metrics.len(), 3);

    let html = report_html(report);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    // Self-contained: no script, no stylesheet or image fetched, no link leaving the page.
    for banned in ["<script", "<link", " src=", "href=\"http", "url("] {
        assert!(!html.contains(banned), "{banned} in the page");
    }
    // Every hostile string (check name, subject, drift label) is escaped wherever it appears.
    assert!(!html.contains(HOSTILE));
    assert!(html.contains(HOSTILE_ESCAPED));
    // The history band: five history points, the mean line, both bands shaded, the current value marked.
    assert_eq!(html.matches("<svg class=\"band\"").count(), 1);
    assert_eq!(html.matches("<circle class=\"point\"").count(), 5);
    assert_eq!(html.matches("<circle class=\"current\"").count(), 1);
    assert!(html.contains("<line class=\"mean\""));
    assert!(html.contains("<rect class=\"alert-band\""));
    assert!(html.contains("<rect class=\"fail-band\""));
    assert!(html.contains("<title>this run 0.46</title>"));
    // Thresholds: the rule and the ranges (0.41 ± 2·0.0158 and ± 3·0.0158).
    assert!(
        html.contains(
            "ALERT outside [0.3784, 0.4416] (mean 0.41 ± 2σ, σ 0.0158), FAIL outside [0.3626, 0.4574] (± 3σ)"
        ),
        "{html}"
    );
    assert!(html.contains("<title>alert-band 0.3784 to 0.4416</title>"));
    // The drift test: paired bars per label, the statistic, p and α written.
    assert_eq!(html.matches("<svg class=\"drift\"").count(), 1);
    assert_eq!(html.matches("<rect class=\"current\"").count(), 3);
    assert_eq!(html.matches("<rect class=\"baseline\"").count(), 3);
    assert!(html.contains("chi_square: statistic 12.5, p 0.0019, α 0.01"));
    assert!(html.contains("<title>sms current 0.3</title>"));
    assert!(html.contains("ALERT if p &lt; α = 0.01"));
    // Levels, measured values, metrics.
    assert!(html.contains("<td><span class=\"alert\">alert</span></td><td class=\"n\">0.46</td>"));
    assert!(html.contains("<tr><td>score.rows</td><td class=\"n\">100</td></tr>"));
    assert!(html.contains("2 pass, 1 alert, 0 fail"));
}

#[test]
fn a_report_round_trips_through_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = history_in(dir.path());
    record(&mut history, "20261122T090000000Z-1", "2026-11-22T09:00:00.000Z", &["foobar-au"], &[]);
    let report = reports::build(&history, "20261122T090000000Z-1").unwrap().remove(0);
    let json = serde_json::to_string_pretty(&report).unwrap();
    let back: RunReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    let value: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["checks"][1]["detail"]["kind"], "band");
    assert_eq!(value["checks"][2]["detail"]["kind"], "drift");
    assert_eq!(value["checks"][2]["level"], "pass");
}

#[test]
fn a_missing_run_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let history = history_in(dir.path());
    let err = reports::build(&history, "nope").unwrap_err();
    assert_eq!(err.to_string(), "run nope is not in the run history; nothing to report");
}

#[test]
fn the_index_lists_every_run_newest_first_with_market_counts_and_relative_links() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = history_in(dir.path());
    let all = markets::ids();
    let first = all[0];
    record(&mut history, "r1", "2026-11-22T09:00:00.000Z", &all, &[]);
    record(&mut history, "r2", "2026-11-22T10:00:00.000Z", &all, &[first]);
    record(&mut history, "r3", "2026-11-22T11:00:00.000Z", &[first], &[]);
    // A run still going: listed, its market running with no checks yet.
    history.begin_run(&new_run("r4", "2026-11-22T12:00:00.000Z", &[first])).unwrap();

    let rows = history.report_index(10).unwrap();
    assert_eq!(rows.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(), ["r4", "r3", "r2", "r1"]);
    assert_eq!(rows[0].status, "running");
    let running = &rows[0].markets;
    assert_eq!(running.len(), 1);
    assert_eq!((running[0].status.as_str(), running[0].alerts, running[0].fails), ("running", 0, 0));
    assert_eq!(rows[2].markets.iter().map(|m| m.market.as_str()).collect::<Vec<_>>(), all);
    let failed = &rows[2].markets[0];
    assert_eq!((failed.status.as_str(), failed.alerts, failed.fails), ("fail", 0, 1));
    assert!(rows[2].markets[1..].iter().all(|m| (m.status.as_str(), m.alerts, m.fails) == ("alert", 1, 0)));

    let index = reports::index(&history, 2).unwrap();
    assert_eq!(index, ReportIndex { runs: rows[..2].to_vec(), truncated: true });
    let index = reports::index(&history, 10).unwrap();
    assert!(!index.truncated);
    let html = index_html(&index);
    let positions: Vec<usize> =
        ["r4", "r3", "r2", "r1"].iter().map(|id| html.find(&format!(">{id}<")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "newest first: {positions:?}");
    for market in &all {
        assert!(html.contains(&format!("<a href=\"{market}/r1/report.html\">{market}</a>")), "{market}");
    }
    assert!(html.contains(&format!("<a href=\"{first}/r2/report.html\">r2</a>")));
    assert!(
        html.contains(&format!("<a href=\"{first}/r2/report.html\">{first}</a> <span class=\"fail\">fail</span> 0/1"))
    );
    assert!(!html.contains("<svg") && !html.contains("<script"));
}

#[test]
fn wb_run_publishes_each_markets_report_and_the_index_and_wb_show_links_them() {
    let all = markets::ids();
    let root = Root::with_fixtures(&all);
    let run = root.run(&["run", "--all", "--json"]);
    assert!(matches!(run.status.code(), Some(0 | 1)), "{}", describe(&run));
    assert!(!common::stderr(&run).contains("reports not published"), "{}", describe(&run));

    let show = root.run(&["show", "last", "--json"]);
    assert_eq!(show.status.code(), Some(0), "{}", describe(&show));
    let shown: Value = serde_json::from_str(&stdout(&show)).unwrap();
    let run_id = shown["run_id"].as_str().unwrap().to_string();
    let shown_markets = shown["markets"].as_array().unwrap();
    assert_eq!(shown_markets.len(), all.len());
    for (market, shown) in all.iter().zip(shown_markets) {
        let html = root.object_file("reports", &format!("{market}/{run_id}/report.html"));
        let json = root.object_file("reports", &format!("{market}/{run_id}/report.json"));
        assert!(html.is_file() && json.is_file(), "{market}: no report in the embedded store");
        let report: RunReport = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!((report.run_id.as_str(), report.market.as_str()), (run_id.as_str(), *market));
        assert_eq!(report.status, shown["status"].as_str().unwrap());
        assert!(!report.checks.is_empty(), "{market}: no checks in the report");
        assert!(std::fs::read_to_string(&html).unwrap().contains(&format!("<h1>{market} · run {run_id}</h1>")));
        let link = &shown["report"];
        assert_eq!(link["url"], format!("s3://reports/{market}/{run_id}/report.html"));
        let path = Path::new(link["path"].as_str().unwrap());
        assert_eq!(std::fs::canonicalize(path).unwrap(), std::fs::canonicalize(&html).unwrap());
    }
    let index = std::fs::read_to_string(root.object_file("reports", "index.html")).unwrap();
    assert!(index.contains(&format!("<a href=\"{}/{run_id}/report.html\">{run_id}</a>", all[0])), "{index}");
    let index: ReportIndex =
        serde_json::from_slice(&std::fs::read(root.object_file("reports", "index.json")).unwrap()).unwrap();
    assert_eq!(index.runs[0].run_id, run_id);

    // The text form names the URL and the file.
    let text = stdout(&root.run(&["show", "last"]));
    assert!(text.contains(&format!("  report: s3://reports/{}/{run_id}/report.html\n  file:   ", all[0])), "{text}");
}

#[test]
fn a_report_that_cannot_be_written_is_a_warning_naming_the_object_and_the_outcome_stands() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let bucket = root.path().join(".workbench/s3/reports");
    // Slow stages leave time to take the reports bucket away after provisioning created it.
    let child = root
        .wb()
        .args(["run", "--market", "foobar-au", "--json"])
        .env("WB_RUNNER_STAGE_DELAY_MS", "300")
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !bucket.is_dir() {
        assert!(std::time::Instant::now() < deadline, "provisioning never created {}", bucket.display());
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::fs::remove_dir_all(&bucket).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", describe(&output));
    let run_id = root.history().list_runs(1).unwrap().remove(0).run_id;
    let warning = format!("reports not published: cannot write s3://reports/foobar-au/{run_id}/report.json: ");
    assert!(common::stderr(&output).contains(&format!("warning: {warning}")), "{}", describe(&output));
    let summary = common::json_lines(&output).pop().unwrap();
    assert_eq!(summary["event"], "summary");
    assert!(summary["warnings"][0].as_str().unwrap().starts_with(&warning), "{summary}");
    let status = root.history().run(&run_id).unwrap().unwrap().status;
    assert_eq!(summary["status"], status.as_str(), "the recorded outcome is the summary's");
}
