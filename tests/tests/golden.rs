//! Full pipeline per market on the committed fixtures, every stage's output compared with its golden file value
//! by value, plus the export file byte for byte, the manifest, the quarantine files and every check result.
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test -p workbench-tests --test golden`
//! and review the diff of `fixtures/golden/`.

use pipeline_core::RunStatus;
use pipeline_core::stages::BucketKind;
use pipeline_core::stages::export::{ExportManifest, file_key, manifest_key, sha256_hex};
use pipeline_core::{CheckResult, Stage};
use polars::prelude::*;
use workbench_tests::{Harness, check_golden_bytes, check_golden_frame, full_run, golden_dir};

fn checks_frame(rows: &[(Stage, &CheckResult)]) -> DataFrame {
    df!(
        "stage" => rows.iter().map(|(s, _)| s.name()).collect::<Vec<_>>(),
        "check" => rows.iter().map(|(_, c)| c.name.as_str()).collect::<Vec<_>>(),
        "subject" => rows.iter().map(|(_, c)| c.subject.as_str()).collect::<Vec<_>>(),
        "status" => rows.iter().map(|(_, c)| c.status.as_str()).collect::<Vec<_>>(),
        "measured" => rows.iter().map(|(_, c)| c.measured).collect::<Vec<_>>(),
        "message" => rows.iter().map(|(_, c)| c.message.as_str()).collect::<Vec<_>>(),
    )
    .expect("checks frame")
}

async fn golden_run(market_id: &str) {
    let market = markets::load(market_id).expect("market loads");
    let h = Harness::start().await;
    h.provision_small(market_id).await;
    let (outcome, _) = h.run(market.as_ref(), full_run("golden")).await;
    assert_eq!(outcome.error, None, "{market_id}: the fixture run must complete");
    // The fixtures deliberately contain malformed rows and orphans, so the run passes with alerts.
    assert_eq!(outcome.status, RunStatus::Alert, "{market_id}");
    assert_eq!(outcome.stages.iter().map(|r| r.stage).collect::<Vec<_>>(), Stage::ALL.to_vec());

    let golden = golden_dir().join(market_id);
    let mut checks = Vec::new();
    for record in &outcome.stages {
        for table in record.stage.spec().outputs {
            let frame = h.output(market_id, record, table).await;
            let what = format!("{market_id} {}/{table}", record.stage);
            check_golden_frame(&golden.join(record.stage.name()).join(format!("{table}.csv")), &frame, &what);
        }
        checks.extend(record.checks.iter().map(|c| (record.stage, c)));
    }
    check_golden_frame(&golden.join("checks.csv"), &checks_frame(&checks), &format!("{market_id} check results"));

    let as_of = outcome.as_of.expect("as_of known");
    let export = h.object(BucketKind::Exports, &file_key(market_id, as_of)).await;
    check_golden_bytes(&golden.join("export/recommendations.csv"), &export, &format!("{market_id} export file"));
    let manifest: ExportManifest =
        serde_json::from_slice(&h.object(BucketKind::Exports, &manifest_key(market_id, as_of)).await)
            .expect("manifest");
    assert_eq!(manifest.market, market_id);
    assert_eq!(manifest.as_of, as_of.to_string());
    assert_eq!(manifest.rows as usize, export.iter().filter(|&&b| b == b'\n').count() - 1);
    assert_eq!(manifest.sha256, sha256_hex(&export));
    let stages: Vec<&str> = manifest.cache_keys.keys().map(String::as_str).collect();
    assert_eq!(stages, ["export", "features", "ingest", "recommend", "score", "validate"]);
    for record in &outcome.stages {
        assert_eq!(manifest.cache_keys[record.stage.name()], record.cache_key);
    }

    for table in ["customers", "orders", "interactions"] {
        let key = format!("{market_id}/golden/{table}.csv");
        let quarantined = h.object(BucketKind::Quarantine, &key).await;
        check_golden_bytes(
            &golden.join(format!("quarantine/{table}.csv")),
            &quarantined,
            &format!("{market_id} {key}"),
        );
    }
}

macro_rules! golden_tests {
    ($($krate:ident = $id:literal),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $krate() {
                golden_run($id).await;
            }
        )*
    };
}

/// One test per registered market, named after its crate (`matches_golden_outputs::foobar_au`), so a new market
/// is checked against its goldens without editing this file.
mod matches_golden_outputs {
    use super::*;

    markets::for_each_market!(golden_tests);
}
