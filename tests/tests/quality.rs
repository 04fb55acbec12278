//! History-aware checks and model drift through the engine: metrics recorded per stage, a metric against the
//! market's earlier runs (not enough history, within the band, outside it), and the drift tests against a
//! baseline output in the work bucket (none, the same output, a shifted one).

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use pipeline_core::engine::table_key;
use pipeline_core::quality::{Baseline, PastRun, RunHistory};
use pipeline_core::stages::BucketKind;
use pipeline_core::{CheckDetail, CheckResult, CheckStatus, RunRequest, RunStatus, Stage};
use polars::prelude::*;
use workbench_tests::{Harness, by_stage, full_run};

const AU: &str = "foobar-au";

fn with_history(run_id: &str, history: RunHistory) -> RunRequest {
    RunRequest { history: Some(history), ..full_run(run_id) }
}

fn checks<'a>(outcome: &'a pipeline_core::RunOutcome, name: &str) -> Vec<&'a CheckResult> {
    outcome.stages.iter().flat_map(|s| &s.checks).filter(|c| c.name == name).collect()
}

/// `n` earlier runs, newest first, whose metric `name` takes `values(i)`.
fn past(n: usize, metrics: impl Fn(usize) -> BTreeMap<String, f64>) -> Vec<PastRun> {
    (0..n)
        .map(|i| PastRun {
            run_id: format!("past-{i}"),
            started_at: Utc::now() - Duration::hours(i as i64 + 1),
            metrics: metrics(i),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_stage_records_its_metrics_and_cached_stages_replay_them() {
    let h = Harness::start().await;
    h.provision_small(AU).await;
    let au = markets::load(AU).unwrap();
    let (first, _) = h.run(au.as_ref(), full_run("one")).await;
    let stages = by_stage(&first);
    let ingest = &stages[&Stage::Ingest].metrics;
    assert_eq!(ingest["ingest.rows.orders"], stages[&Stage::Ingest].tables["orders"] as f64);
    assert!(ingest["ingest.quarantine_share"] > 0.0, "the small fixture has deliberately bad lines");
    let score = &stages[&Stage::Score].metrics;
    assert!(score["score.propensity.p10"] <= score["score.propensity.p50"]);
    let recommend = &stages[&Stage::Recommend].metrics;
    let actions: f64 =
        ["offer", "nurture", "winback"].iter().map(|a| recommend[&format!("recommend.action_share.{a}")]).sum();
    assert!((actions - 1.0).abs() < 1e-9, "the action shares add up to 1, got {actions}");
    let (second, _) = h.run(au.as_ref(), full_run("two")).await;
    assert!(second.stages.iter().all(|s| s.cache_hit));
    for (a, b) in first.stages.iter().zip(&second.stages) {
        assert_eq!(a.metrics, b.metrics, "{} replays its metrics from the cache", a.stage);
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_history_the_checks_pass_and_say_so() {
    let h = Harness::start().await;
    h.provision_small(AU).await;
    let au = markets::load(AU).unwrap();
    let (outcome, _) = h.run(au.as_ref(), with_history("first", RunHistory::default())).await;
    let history = checks(&outcome, "history");
    assert_eq!(history.len(), au.config().quality.history_metrics.len(), "one check per listed metric");
    for check in history {
        assert_eq!((check.status, check.message.as_str()), (CheckStatus::Pass, "not enough history (0 of 5 runs)"));
    }
    for name in ["drift_ks", "drift_action_mix"] {
        let drift = checks(&outcome, name);
        assert_eq!(drift.len(), 1);
        assert_eq!(drift[0].status, CheckStatus::Pass);
        assert_eq!(drift[0].message, "no baseline: no earlier successful run");
    }
    // A bare engine call (no history given) has none of these checks.
    let (bare, _) = h.run(au.as_ref(), full_run("bare")).await;
    assert!(checks(&bare, "history").is_empty() && checks(&bare, "drift_ks").is_empty());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_metric_far_outside_its_history_fails_the_run_at_that_stage() {
    let h = Harness::start().await;
    h.provision_small(AU).await;
    let au = markets::load(AU).unwrap();
    let (first, _) = h.run(au.as_ref(), full_run("first")).await;
    let orders = by_stage(&first)[&Stage::Ingest].metrics["ingest.rows.orders"];

    // Five earlier runs close to today's count: within the band.
    let near =
        past(5, |i| BTreeMap::from([("ingest.rows.orders".to_string(), orders + [-2.0, 1.0, 0.0, 2.0, -1.0][i])]));
    let (ok, _) = h.run(au.as_ref(), with_history("near", RunHistory { runs: near, ..Default::default() })).await;
    let check = checks(&ok, "history").into_iter().find(|c| c.subject == "ingest.rows.orders").unwrap();
    assert_eq!(check.status, CheckStatus::Pass, "{}", check.message);

    // Five earlier runs with twice the orders: far outside; the run stops after ingest.
    let far = past(5, |i| BTreeMap::from([("ingest.rows.orders".to_string(), 2.0 * orders + i as f64)]));
    let (failed, _) = h.run(au.as_ref(), with_history("far", RunHistory { runs: far, ..Default::default() })).await;
    assert_eq!(failed.status, RunStatus::Fail);
    assert_eq!(failed.stages.len(), 1, "a FAIL stops the run after the stage");
    let check = checks(&failed, "history").into_iter().find(|c| c.subject == "ingest.rows.orders").unwrap();
    assert_eq!(check.status, CheckStatus::Fail);
    let Some(CheckDetail::Band(band)) = &check.detail else { panic!("the band is kept for the report") };
    assert_eq!(band.history.len(), 5);
    assert!(check.measured < band.fail_range().0);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_against_the_same_output_passes_and_against_a_shifted_one_alerts() {
    let h = Harness::start().await;
    h.provision_small(AU).await;
    let au = markets::load(AU).unwrap();
    let (first, _) = h.run(au.as_ref(), full_run("first")).await;
    let stages = by_stage(&first);
    let keys = |run: &str| -> BTreeMap<String, Baseline> {
        stages
            .iter()
            .map(|(s, r)| (s.name().to_string(), Baseline { run_id: run.into(), cache_key: r.cache_key.clone() }))
            .collect()
    };

    // Baseline = the same outputs: no drift, p = 1, recorded as metrics.
    let same = RunHistory { runs: Vec::new(), baselines: keys("first") };
    let (outcome, _) = h.run(au.as_ref(), with_history("same", same)).await;
    let ks = checks(&outcome, "drift_ks")[0];
    assert_eq!((ks.status, ks.measured), (CheckStatus::Pass, 1.0), "{}", ks.message);
    assert_eq!(by_stage(&outcome)[&Stage::Score].metrics["score.drift.ks_p"], 1.0);
    assert_eq!(by_stage(&outcome)[&Stage::Recommend].metrics["recommend.drift.action_chi2_p"], 1.0);

    // A baseline whose propensities are shifted by 0.2 and whose actions are all offers: both tests alert.
    let scores = h.output(AU, stages[&Stage::Score], "scores").await;
    let mut shifted = scores.lazy().with_column((col("propensity") * lit(0.6)).alias("propensity")).collect().unwrap();
    h.io.write_parquet(BucketKind::Work, &table_key(AU, Stage::Score, "shifted", "scores"), &mut shifted)
        .await
        .unwrap();
    let recs = h.output(AU, stages[&Stage::Recommend], "recommendations").await;
    let mut offers = recs.lazy().with_column(lit("offer").alias("action")).collect().unwrap();
    h.io.write_parquet(BucketKind::Work, &table_key(AU, Stage::Recommend, "offers", "recommendations"), &mut offers)
        .await
        .unwrap();
    let mut baselines = keys("older");
    baselines.get_mut("score").unwrap().cache_key = "shifted".into();
    baselines.get_mut("recommend").unwrap().cache_key = "offers".into();
    let (drifted, _) = h.run(au.as_ref(), with_history("drifted", RunHistory { runs: Vec::new(), baselines })).await;
    assert_eq!(drifted.status, RunStatus::Alert, "drift ALERTs, it never fails a run");
    for name in ["drift_ks", "drift_action_mix"] {
        let check = checks(&drifted, name)[0];
        assert_eq!(check.status, CheckStatus::Alert, "{name}: {}", check.message);
        assert!(check.measured < au.config().quality.drift_alpha);
        let Some(CheckDetail::Drift(detail)) = &check.detail else { panic!("{name} keeps its distributions") };
        assert_eq!(detail.baseline_run, "older");
        assert!((detail.current.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    // A baseline whose output is gone passes and says why.
    let mut gone = keys("gone");
    gone.get_mut("score").unwrap().cache_key = "deleted".into();
    let (outcome, _) = h.run(au.as_ref(), with_history("gone", RunHistory { runs: Vec::new(), baselines: gone })).await;
    let ks = checks(&outcome, "drift_ks")[0];
    assert_eq!(ks.status, CheckStatus::Pass);
    assert!(ks.message.starts_with("no baseline: the baseline output could not be read"), "{}", ks.message);
    h.shutdown().await;
}
