//! The alert email of one market run, as text: a pure function of the run as history recorded it
//! ([`RunDetail`]), the market's `[alerts]` settings and the link to the run's report.
//!
//! It lives under `services/` rather than `present/` because the alerts service sends it, and services may not
//! import `present` (`workbench/tests/architecture.rs`); it is still pure (no IO, no clock) and tested with
//! exact text below.

use pipeline_core::config::AlertSettings;

use crate::history::{Level, RunDetail, Status};

/// One alert message: sender, recipients, subject, plain-text body, and the run it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEmail {
    /// The market.
    pub market: String,
    /// The run id.
    pub run_id: String,
    /// The sender (`[alerts] sender`).
    pub from: String,
    /// The recipients (`[alerts] recipients`).
    pub to: Vec<String>,
    /// `[workbench] foobar-au run 20261207T101500123Z-4f2a ALERT: 3 alerts, 0 failures`.
    pub subject: String,
    /// The body (plain text, lines end with `\n`).
    pub text: String,
}

/// Where a run's HTML report is published: `s3://{bucket}/{market}/{run_id}/report.html` (the reports
/// convention of issue 19).
pub fn report_link(reports_bucket: &str, market: &str, run_id: &str) -> String {
    format!("s3://{reports_bucket}/{market}/{run_id}/report.html")
}

/// Whether `market`'s part of the run calls for an alert: it ended `alert` or `fail`, or one of its checks did
/// not pass.
pub fn needs_alert(detail: &RunDetail, market: &str) -> bool {
    let ended_badly = detail.markets.iter().any(|m| {
        m.market == market
            && matches!(m.status, Status::Done(pipeline_core::RunStatus::Alert | pipeline_core::RunStatus::Fail))
    });
    ended_badly || detail.checks.iter().any(|c| c.market == market && c.status != Level::Pass)
}

/// The alert email for `market` in `detail`, or `None` when the market is not in the run or needs no alert
/// ([`needs_alert`]). Recipients are taken as they are; an empty list is the caller's to handle.
pub fn render(detail: &RunDetail, market: &str, settings: &AlertSettings, report: &str) -> Option<AlertEmail> {
    let row = detail.markets.iter().find(|m| m.market == market)?;
    if !needs_alert(detail, market) {
        return None;
    }
    let run_id = &detail.run.run_id;
    let checks: Vec<_> = detail.checks.iter().filter(|c| c.market == market && c.status != Level::Pass).collect();
    let alerts = checks.iter().filter(|c| c.status == Level::Alert).count();
    let failures = checks.iter().filter(|c| c.status == Level::Fail).count();
    let status = row.status.as_str();
    let subject = format!(
        "[workbench] {market} run {run_id} {}: {}, {}",
        status.to_uppercase(),
        count(alerts, "alert", "alerts"),
        count(failures, "failure", "failures")
    );

    let mut text = String::new();
    let mut line = |s: &str| {
        text.push_str(s);
        text.push('\n');
    };
    line(&format!("{market}: run {run_id} ended {status} with {}.", subject_counts(alerts, failures)));
    line("");
    line(&format!("market   {market}"));
    line(&format!("run      {run_id}"));
    line(&format!("status   {status}"));
    line(&format!("as_of    {}", row.as_of.as_deref().unwrap_or("-")));
    line(&format!("backend  {}", detail.run.backend));
    line(&format!("report   {report}"));
    line("");
    if checks.is_empty() {
        line("No check failed or alerted; the run's status says what happened.");
    } else {
        line("Checks that did not pass:");
        for (i, check) in checks.iter().enumerate() {
            line("");
            line(&format!(
                "{}. {} {} / {} / {}",
                i + 1,
                check.status.as_str().to_uppercase(),
                check.stage,
                check.name,
                check.subject
            ));
            line(&format!("   measured  {}", check.measured));
            line(&format!("   rule      {}", check.rule));
            line(&format!("   message   {}", check.message));
        }
    }
    let stage_errors: Vec<_> =
        detail.stages.iter().filter(|s| s.market == market).filter_map(|s| Some((s, s.error.as_deref()?))).collect();
    if !stage_errors.is_empty() || row.error.is_some() {
        line("");
        line("What stopped the run:");
        for (stage, error) in &stage_errors {
            line(&format!("   {}: {error}", stage.stage));
        }
        if let Some(error) = row.error.as_deref().filter(|e| !stage_errors.iter().any(|(_, s)| s == e)) {
            line(&format!("   {error}"));
        }
    }
    line("");
    line(&format!("`wb show {run_id}` prints the whole run."));
    Some(AlertEmail {
        market: market.to_string(),
        run_id: run_id.clone(),
        from: settings.sender.clone(),
        to: settings.recipients.clone(),
        subject,
        text,
    })
}

/// `1 alert`, `3 alerts`, `0 failures`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `2 alerts and 1 failure`.
fn subject_counts(alerts: usize, failures: usize) -> String {
    format!("{} and {}", count(alerts, "alert", "alerts"), count(failures, "failure", "failures"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{CheckRow, MarketRow, RunRow, StageRow};
    use pipeline_core::{RunStatus, StageStatus};
    use std::collections::BTreeMap;

    fn stage(market: &str, name: &str, status: StageStatus, error: Option<&str>) -> StageRow {
        StageRow {
            market: market.into(),
            stage: name.into(),
            status,
            cache_hit: false,
            cache_key: "k".into(),
            rows: 10,
            bytes: 100,
            duration_ms: 5,
            produced_by: "r1".into(),
            error: error.map(str::to_string),
            tables: BTreeMap::new(),
        }
    }

    fn check(
        market: &str,
        stage: &str,
        name: &str,
        subject: &str,
        status: Level,
        measured: f64,
        message: &str,
    ) -> CheckRow {
        CheckRow {
            market: market.into(),
            stage: stage.into(),
            name: name.into(),
            subject: subject.into(),
            rule: format!("{name} rule"),
            measured,
            status,
            message: message.into(),
            detail: None,
        }
    }

    fn market(name: &str, status: RunStatus, error: Option<&str>) -> MarketRow {
        MarketRow {
            market: name.into(),
            status: Status::Done(status),
            as_of: Some("2026-11-15".into()),
            error: error.map(str::to_string),
            duration_ms: Some(1200),
            peak_rss_bytes: None,
        }
    }

    fn detail(markets: Vec<MarketRow>, stages: Vec<StageRow>, checks: Vec<CheckRow>) -> RunDetail {
        RunDetail {
            run: RunRow {
                run_id: "20261207T101500123Z-4f2a".into(),
                started_at: "2026-12-07T10:15:00.123Z".into(),
                finished_at: Some("2026-12-07T10:16:00.000Z".into()),
                status: Status::Done(RunStatus::Fail),
                command: "wb run --all".into(),
                git_commit: None,
                git_dirty: None,
                backend: "embedded".into(),
                endpoint: None,
                markets: markets.iter().map(|m| m.market.clone()).collect(),
                stage: None,
                as_of: None,
                no_cache: false,
                duration_ms: Some(60_000),
                peak_rss_bytes: None,
                error: None,
                feedback_ms: None,
            },
            markets,
            stages,
            checks,
            metrics: Default::default(),
        }
    }

    fn settings() -> AlertSettings {
        AlertSettings { sender: "wb@foobar.example".into(), recipients: vec!["dq@foobar.example".into()] }
    }

    fn sample() -> RunDetail {
        detail(
            vec![
                market("foobar-au", RunStatus::Alert, None),
                market("foobar-br", RunStatus::Fail, Some("validate: a FAIL check stopped the run")),
                market("foobar-ca", RunStatus::Ok, None),
            ],
            vec![
                stage("foobar-au", "ingest", StageStatus::Alert, None),
                stage("foobar-br", "ingest", StageStatus::Ok, None),
                stage("foobar-br", "validate", StageStatus::Fail, Some("3 rows with a null customer_id")),
                stage("foobar-ca", "ingest", StageStatus::Ok, None),
            ],
            vec![
                check(
                    "foobar-au",
                    "ingest",
                    "parse_errors",
                    "customers",
                    Level::Alert,
                    4.0,
                    "4 of 2404 lines quarantined (0.166%)",
                ),
                check("foobar-au", "ingest", "parse_errors", "orders", Level::Pass, 0.0, "no bad lines"),
                check("foobar-au", "ingest", "history", "rows.orders", Level::Alert, 0.25, "outside mean ± 3σ"),
                check(
                    "foobar-br",
                    "validate",
                    "nulls",
                    "customer_id",
                    Level::Fail,
                    3.0,
                    "3 rows with a null customer_id",
                ),
                check("foobar-ca", "ingest", "parse_errors", "customers", Level::Pass, 0.0, "no bad lines"),
            ],
        )
    }

    #[test]
    fn an_alerting_market_gets_every_non_pass_check_with_its_rule_and_the_report_link() {
        let detail = sample();
        let link = report_link("reports", "foobar-au", "20261207T101500123Z-4f2a");
        let email = render(&detail, "foobar-au", &settings(), &link).unwrap();
        assert_eq!(email.subject, "[workbench] foobar-au run 20261207T101500123Z-4f2a ALERT: 2 alerts, 0 failures");
        assert_eq!(
            (email.from.as_str(), email.to.clone()),
            ("wb@foobar.example", vec!["dq@foobar.example".to_string()])
        );
        assert_eq!(
            email.text,
            "foobar-au: run 20261207T101500123Z-4f2a ended alert with 2 alerts and 0 failures.\n\
             \n\
             market   foobar-au\n\
             run      20261207T101500123Z-4f2a\n\
             status   alert\n\
             as_of    2026-11-15\n\
             backend  embedded\n\
             report   s3://reports/foobar-au/20261207T101500123Z-4f2a/report.html\n\
             \n\
             Checks that did not pass:\n\
             \n\
             1. ALERT ingest / parse_errors / customers\n   \
                measured  4\n   \
                rule      parse_errors rule\n   \
                message   4 of 2404 lines quarantined (0.166%)\n\
             \n\
             2. ALERT ingest / history / rows.orders\n   \
                measured  0.25\n   \
                rule      history rule\n   \
                message   outside mean ± 3σ\n\
             \n\
             `wb show 20261207T101500123Z-4f2a` prints the whole run.\n"
        );
    }

    #[test]
    fn a_failed_market_says_what_stopped_it_once() {
        let detail = sample();
        let email = render(&detail, "foobar-br", &settings(), "s3://reports/x/report.html").unwrap();
        assert_eq!(email.subject, "[workbench] foobar-br run 20261207T101500123Z-4f2a FAIL: 0 alerts, 1 failure");
        let tail = email.text.split_once("Checks that did not pass:\n").unwrap().1;
        assert_eq!(
            tail,
            "\n\
             1. FAIL validate / nulls / customer_id\n   \
                measured  3\n   \
                rule      nulls rule\n   \
                message   3 rows with a null customer_id\n\
             \n\
             What stopped the run:\n   \
                validate: 3 rows with a null customer_id\n   \
                validate: a FAIL check stopped the run\n\
             \n\
             `wb show 20261207T101500123Z-4f2a` prints the whole run.\n"
        );
    }

    #[test]
    fn a_passing_market_or_one_not_in_the_run_gets_none() {
        let detail = sample();
        assert!(needs_alert(&detail, "foobar-au") && needs_alert(&detail, "foobar-br"));
        assert!(!needs_alert(&detail, "foobar-ca"));
        assert_eq!(render(&detail, "foobar-ca", &settings(), "l"), None);
        assert_eq!(render(&detail, "foobar-jp", &settings(), "l"), None);
    }
}
