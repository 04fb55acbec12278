//! The quality KPIs aggregated from a real SQLite run history: checks per market, computed time per stage, the
//! full run against the budget, the cache hit rate, tests and coverage against the thresholds, and the empty
//! history.

mod common;

use common::tui::{StageSpec, quality_run, record_run};

use pipeline_core::CheckStatus::{Alert, Fail, Pass};
use pipeline_core::RunStatus;
use pipeline_core::Stage::{Ingest, Validate};
use workbench::history::{History, Status};
use workbench::services::kpi::{CheckCounts, FullRun, HitRate, Kpis, Verdict};
use workbench_coverage::Thresholds;

const AU: &str = "foobar-au";
const BR: &str = "foobar-br";

fn counts(pass: u32, alert: u32, fail: u32) -> Option<CheckCounts> {
    Some(CheckCounts { pass, alert, fail })
}

/// Four finished runs of two markets and one still running:
/// r1 full (fail, 10 min), r2 foobar-au up to validate, r3 full (alert, 16m40s: over the budget), r4 a cancelled
/// full run, r5 running; and two test and coverage measurements.
fn history() -> (tempfile::TempDir, History) {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join(".workbench/history.sqlite")).unwrap();
    let r1: &[StageSpec] = &[
        (AU, Ingest, false, 1000, &[Pass, Pass]),
        (AU, Validate, false, 3000, &[Pass, Alert]),
        (BR, Ingest, false, 2001, &[Pass]),
        (BR, Validate, false, 5000, &[Fail, Alert]),
    ];
    record_run(&mut history, "r1", "2026-12-01T10:00:00.000Z", &[AU, BR], None, r1, Some((RunStatus::Fail, 600_000)));
    let r2: &[StageSpec] = &[(AU, Ingest, true, 10, &[Pass, Pass]), (AU, Validate, false, 4000, &[Pass, Pass])];
    let end = Some((RunStatus::Ok, 5000));
    record_run(&mut history, "r2", "2026-12-01T11:00:00.000Z", &[AU], Some("validate"), r2, end);
    let r3: &[StageSpec] = &[
        (AU, Ingest, true, 5, &[]),
        (AU, Validate, true, 5, &[]),
        (BR, Ingest, false, 3000, &[]),
        (BR, Validate, false, 7000, &[Alert]),
    ];
    let end = Some((RunStatus::Alert, 1_000_000));
    record_run(&mut history, "r3", "2026-12-01T12:00:00.000Z", &[AU, BR], None, r3, end);
    let r4: &[StageSpec] = &[(AU, Ingest, false, 2000, &[])];
    let end = Some((RunStatus::Cancelled, 2500));
    record_run(&mut history, "r4", "2026-12-01T13:00:00.000Z", &[AU, BR], None, r4, end);
    let r5: &[StageSpec] = &[(AU, Ingest, false, 999, &[Fail])];
    record_run(&mut history, "r5", "2026-12-01T14:00:00.000Z", &[AU, BR], None, r5, None);
    history.record_quality(&quality_run("2026-12-01T09:00:00.000Z", Some((100, 0, 2)), Some(78.5), None)).unwrap();
    history
        .record_quality(&quality_run("2026-12-01T15:00:00.000Z", Some((120, 2, 3)), Some(82.25), Some(71.0)))
        .unwrap();
    (dir, history)
}

/// The recorded runs, newest first, as `Kpis::load` reads them (but against two markets only).
fn aggregate(history: &History, thresholds: Thresholds) -> Kpis {
    let details: Vec<_> =
        history.list_runs(20).unwrap().iter().map(|r| history.run_detail(&r.run_id).unwrap().unwrap()).collect();
    assert_eq!(details.len(), 5, "r5 is still running and is read too");
    let quality = history.quality_runs(20).unwrap();
    Kpis::aggregate(&details, &quality, thresholds, &[AU, BR])
}

#[test]
fn runs_are_aggregated_oldest_first_without_the_running_one() {
    let (_dir, history) = history();
    let kpis = aggregate(&history, Thresholds::default());

    let ids: Vec<&str> = kpis.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2", "r3", "r4"]);
    let full: Vec<bool> = kpis.runs.iter().map(|r| r.full).collect();
    assert_eq!(full, [true, false, true, false], "r2 is partial, r4 was cancelled");
    assert_eq!(kpis.runs[3].status, Status::Done(RunStatus::Cancelled));

    let markets: Vec<&str> = kpis.markets.iter().map(|m| m.market.as_str()).collect();
    assert_eq!(markets, [AU, BR]);
    assert_eq!(kpis.markets[0].trend, [counts(3, 1, 0), counts(4, 0, 0), counts(0, 0, 0), counts(0, 0, 0)]);
    assert_eq!(kpis.markets[1].trend, [counts(1, 1, 1), None, counts(0, 1, 0), None]);
    assert_eq!(kpis.markets[0].latest(), counts(0, 0, 0));
    assert_eq!(kpis.markets[1].latest(), counts(0, 1, 0), "foobar-br's latest run with a stage is r3");

    let stages: Vec<&str> = kpis.stages.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(stages, ["ingest", "validate", "features", "score", "recommend", "export"]);
    // Mean computed time per market; cache hits are not computed time (r2's ingest, r3's foobar-au).
    assert_eq!(kpis.stages[0].computed_ms, [Some(1500), None, Some(3000), Some(2000)]);
    assert_eq!(kpis.stages[1].computed_ms, [Some(4000), Some(4000), Some(7000), None]);
    assert_eq!(kpis.stages[2].computed_ms, [None, None, None, None]);
    assert_eq!((kpis.stages[0].latest(), kpis.stages[0].max()), (Some(2000), Some(3000)));
    assert_eq!((kpis.stages[1].latest(), kpis.stages[1].max()), (Some(7000), Some(7000)));
    assert_eq!((kpis.stages[2].latest(), kpis.stages[2].max()), (None, None));

    let rate = |hits, total| Some(HitRate { hits, total });
    assert_eq!(kpis.cache, [rate(0, 4), rate(1, 2), rate(2, 4), rate(0, 1)]);
    assert_eq!(kpis.latest_hit_rate(), rate(0, 1));
    assert_eq!(kpis.window_hit_rate(), HitRate { hits: 3, total: 11 });
    assert_eq!(kpis.window_hit_rate().percent().map(|p| format!("{p:.1}")), Some("27.3".to_string()));

    assert_eq!(kpis.budget_ms, 900_000);
    assert_eq!(kpis.full_trend, [600_000, 1_000_000]);
    assert_eq!(kpis.latest_full, Some(FullRun { run_id: "r3".into(), duration_ms: 1_000_000 }));
    assert_eq!(kpis.within_budget(), Some(false));
    assert!(!kpis.is_empty());
}

#[test]
fn tests_and_coverage_are_the_latest_measurement_against_the_thresholds() {
    let (_dir, history) = history();
    let quality = aggregate(&history, Thresholds::default()).quality.unwrap();
    assert_eq!((quality.tests_passed, quality.tests_failed, quality.tests_ignored), (Some(120), Some(2), Some(3)));
    assert_eq!(
        (quality.started_at.as_str(), quality.command.as_str()),
        ("2026-12-01T15:00:00.000Z", "wb check --base main")
    );
    assert_eq!((quality.line.percent, quality.line.threshold), (Some(82.25), 80.0));
    assert_eq!(quality.line.trend, [Some(78.5), Some(82.25)]);
    assert_eq!(quality.line.verdict(), Verdict::Met);
    assert_eq!((quality.patch.percent, quality.patch.threshold), (Some(71.0), 90.0));
    assert_eq!(quality.patch.trend, [None, Some(71.0)]);
    assert_eq!(quality.patch.verdict(), Verdict::Below);

    // The thresholds are the workspace's, not the ones recorded with the measurement.
    let strict = aggregate(&history, Thresholds { line: 82.5, patch: 71.0 }).quality.unwrap();
    assert_eq!((strict.line.verdict(), strict.patch.verdict()), (Verdict::Below, Verdict::Met));
}

#[test]
fn a_measurement_without_coverage_is_unmeasured() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join("history.sqlite")).unwrap();
    history.record_quality(&quality_run("2026-12-01T09:00:00.000Z", None, None, None)).unwrap();
    let kpis = Kpis::load(&history, Thresholds::default(), 20).unwrap();
    let quality = kpis.quality.clone().unwrap();
    assert_eq!((quality.tests_passed, quality.tests_failed), (None, None));
    assert_eq!((quality.line.verdict(), quality.patch.verdict()), (Verdict::Unmeasured, Verdict::Unmeasured));
    assert!(kpis.runs.is_empty());
    assert!(!kpis.is_empty(), "a measurement alone is something to show");
}

#[test]
fn load_reads_the_history_against_the_registered_markets() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join("history.sqlite")).unwrap();
    let registered = markets::ids();
    let two: &[StageSpec] = &[(AU, Ingest, false, 100, &[Pass])];
    record_run(&mut history, "r1", "2026-12-01T10:00:00.000Z", &[AU, BR], None, two, Some((RunStatus::Ok, 700)));
    let every: Vec<StageSpec> = registered.iter().map(|m| (*m, Ingest, true, 4, &[][..])).collect();
    record_run(&mut history, "r2", "2026-12-01T11:00:00.000Z", &registered, None, &every, Some((RunStatus::Ok, 800)));
    record_run(&mut history, "r3", "2026-12-01T12:00:00.000Z", &[AU], None, &[], None);

    let kpis = Kpis::load(&history, Thresholds::default(), 20).unwrap();
    let runs: Vec<(&str, bool)> = kpis.runs.iter().map(|r| (r.run_id.as_str(), r.full)).collect();
    assert_eq!(runs, [("r1", false), ("r2", true)], "a full run covers every registered market");
    let markets: Vec<&str> = kpis.markets.iter().map(|m| m.market.as_str()).collect();
    assert_eq!(markets, registered);
    assert_eq!(kpis.markets[2].trend, [None, counts(0, 0, 0)]);
    assert_eq!(kpis.latest_full, Some(FullRun { run_id: "r2".into(), duration_ms: 800 }));
    assert_eq!(kpis.within_budget(), Some(true));
    let n = registered.len() as u32;
    assert_eq!(kpis.latest_hit_rate(), Some(HitRate { hits: n, total: n }));
    assert_eq!(kpis.quality, None);

    // The limit counts the newest runs, the running one included.
    let newest = Kpis::load(&history, Thresholds::default(), 2).unwrap();
    let ids: Vec<&str> = newest.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["r2"]);
}

#[test]
fn an_empty_history_has_no_figures() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(&dir.path().join("history.sqlite")).unwrap();
    let kpis = Kpis::load(&history, Thresholds::default(), 20).unwrap();
    assert!(kpis.is_empty());
    assert!(kpis.runs.is_empty() && kpis.cache.is_empty() && kpis.full_trend.is_empty());
    assert_eq!(kpis.markets.len(), markets::ids().len());
    assert!(kpis.markets.iter().all(|m| m.trend.is_empty() && m.latest().is_none()));
    assert_eq!(kpis.stages.len(), 6);
    assert!(kpis.stages.iter().all(|s| s.computed_ms.is_empty() && s.latest().is_none()));
    assert_eq!((kpis.latest_full.clone(), kpis.within_budget()), (None, None));
    assert_eq!((kpis.latest_hit_rate(), kpis.window_hit_rate().percent()), (None, None));
    assert_eq!(kpis.quality, None);
}

/// A run to record: id, markets, `--stage`, outcome, wall time.
type RunSpec<'a> = (&'a str, &'a [&'a str], Option<&'a str>, RunStatus, u64);

/// The regression: after two full runs the TUI header said "no full run yet" while the KPI screen counted both.
/// The header's last full run ([`History::last_full_run`]) and the KPI screen's full runs are now one rule
/// (`RunRow::is_full`), read here from a real SQLite file: both see the two full runs; a `--stage` run, a
/// one-market run, an errored run and a run of as many markets as are registered but not the registered ones
/// (which the header's old SQL, counting markets, called full) are full for neither; a run of every registered
/// market plus one since removed is full for both.
#[test]
fn the_tui_header_and_the_kpis_agree_on_which_runs_are_full() {
    const GONE: &str = "foobar-gone";
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join(".workbench/history.sqlite")).unwrap();
    let stages: &[StageSpec] = &[(AU, Ingest, false, 1000, &[Pass]), (BR, Ingest, false, 1000, &[Pass])];
    let runs: [RunSpec; 6] = [
        ("full-1", &[AU, BR], None, RunStatus::Ok, 400_000),
        ("full-2", &[AU, BR], None, RunStatus::Alert, 500_000),
        ("stage", &[AU, BR], Some("validate"), RunStatus::Ok, 1000),
        ("one-market", &[AU], None, RunStatus::Ok, 2000),
        ("errored", &[AU, BR], None, RunStatus::Error, 3000),
        ("removed-market", &[AU, GONE], None, RunStatus::Ok, 4000),
    ];
    for (i, (run_id, markets, stage, status, ms)) in runs.iter().enumerate() {
        let started = format!("2026-12-02T1{i}:00:00.000Z");
        let ran: Vec<StageSpec> = stages.iter().filter(|s| markets.contains(&s.0)).cloned().collect();
        record_run(&mut history, run_id, &started, markets, *stage, &ran, Some((*status, *ms)));
    }
    let registered = [AU, BR];

    let header = history.last_full_run(&registered).unwrap().expect("two full runs: the header has one");
    assert_eq!((header.run_id.as_str(), header.duration_ms), ("full-2", Some(500_000)));

    let details: Vec<_> =
        history.list_runs(20).unwrap().iter().map(|r| history.run_detail(&r.run_id).unwrap().unwrap()).collect();
    let kpis = Kpis::aggregate(&details, &[], Thresholds::default(), &registered);
    let full: Vec<(&str, bool)> = kpis.runs.iter().map(|r| (r.run_id.as_str(), r.full)).collect();
    assert_eq!(
        full,
        [
            ("full-1", true),
            ("full-2", true),
            ("stage", false),
            ("one-market", false),
            ("errored", false),
            ("removed-market", false)
        ]
    );
    assert_eq!(kpis.latest_full, Some(FullRun { run_id: header.run_id.clone(), duration_ms: 500_000 }));
    assert_eq!(kpis.full_trend, [400_000, 500_000]);
    for detail in &details {
        let point = kpis.runs.iter().find(|p| p.run_id == detail.run.run_id).unwrap();
        assert_eq!(detail.run.is_full(&registered), point.full, "{}", detail.run.run_id);
    }

    // Every registered market and one removed since: full for both.
    let end = Some((RunStatus::Fail, 600_000));
    record_run(&mut history, "full-3", "2026-12-02T17:00:00.000Z", &[AU, BR, GONE], None, stages, end);
    let header = history.last_full_run(&registered).unwrap().unwrap();
    assert_eq!(header.run_id, "full-3");
    let details: Vec<_> =
        history.list_runs(20).unwrap().iter().map(|r| history.run_detail(&r.run_id).unwrap().unwrap()).collect();
    let kpis = Kpis::aggregate(&details, &[], Thresholds::default(), &registered);
    assert_eq!(kpis.latest_full.map(|f| f.run_id), Some("full-3".to_string()));

    // Nothing registered, nothing full.
    assert_eq!(history.last_full_run(&[]).unwrap(), None);
}

/// Adds a stage with `metrics` to a recorded run of `market`, as the runner's record of it would.
fn record_metrics(
    history: &mut History,
    run_id: &str,
    market: &str,
    stage: pipeline_core::Stage,
    seq: usize,
    metrics: &[(&str, f64)],
) {
    let record = pipeline_core::StageRecord {
        stage,
        cache_key: format!("{market}-{stage}"),
        status: pipeline_core::StageStatus::Ok,
        cache_hit: false,
        rows: 1,
        tables: Default::default(),
        bytes: 1,
        duration_ms: 1,
        checks: Vec::new(),
        outputs: Vec::new(),
        produced_by: run_id.into(),
        error: None,
        metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    };
    history.record_stage(run_id, market, seq, &record).unwrap();
}

#[test]
fn drift_p_values_and_metrics_come_from_the_recorded_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let mut history = History::open(&dir.path().join(".workbench/history.sqlite")).unwrap();
    let ok = Some((RunStatus::Ok, 1000));
    for (i, run) in ["r1", "r2"].into_iter().enumerate() {
        let at = format!("2026-12-01T1{i}:00:00.000Z");
        record_run(&mut history, run, &at, &[AU, BR], None, &[(AU, Ingest, false, 10, &[Pass])], ok);
    }
    use pipeline_core::Stage::{Recommend, Score};
    record_metrics(&mut history, "r1", AU, Score, 1, &[("score.drift.ks_p", 0.5), ("score.propensity.mean", 0.41)]);
    record_metrics(&mut history, "r1", AU, Recommend, 2, &[("recommend.drift.action_chi2_p", 0.9)]);
    record_metrics(&mut history, "r2", AU, Score, 1, &[("score.drift.ks_p", 0.003)]);
    record_metrics(&mut history, "r2", AU, Recommend, 2, &[("recommend.drift.action_chi2_p", 0.2)]);
    let kpis = Kpis::load_for(&history, Thresholds::default(), 20, &[AU, BR]).unwrap();
    let au = kpis.drift.iter().find(|d| d.market == AU).unwrap();
    assert_eq!(au.ks_p, vec![Some(0.5), Some(0.003)]);
    assert_eq!(au.mix_p, vec![Some(0.9), Some(0.2)]);
    assert_eq!((au.latest_ks(), au.latest_mix(), au.alpha), (Some(0.003), Some(0.2), 0.01));
    let br = kpis.drift.iter().find(|d| d.market == BR).unwrap();
    assert_eq!((br.ks_p.clone(), br.latest_ks()), (vec![None, None], None), "BR ran no drift test");
    let mean = kpis.metrics.iter().find(|m| m.market == AU && m.metric == "score.propensity.mean").unwrap();
    assert_eq!(mean.values, vec![Some(0.41), None]);

    let text = workbench::present::kpi::kpi_text(&kpis);
    assert!(
        text.contains("  foobar-au  KS (propensity) ▅▁ 0.0030 ALERT   χ² (action mix) ▇▂ 0.2000         α 0.01\n"),
        "{text}"
    );
    let json = workbench::present::kpi::kpi_json(&kpis);
    assert_eq!(json["markets"][0]["drift"]["ks_p"], serde_json::json!([0.5, 0.003]));
    assert_eq!(json["markets"][0]["drift"]["alert"], serde_json::json!(true));
    assert_eq!(json["markets"][0]["metrics"]["score.propensity.mean"], serde_json::json!([0.41, null]));
}
