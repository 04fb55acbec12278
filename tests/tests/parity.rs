//! Backend parity: the full pipeline for every market on real LocalStack (host process, and in a container)
//! produces exports byte-identical to the embedded S3's, and the same output tables value by value.
//!
//! CI (`CI=true`) prepares Python's venv and the local image and fails if either is missing. Elsewhere, when
//! Python >= 3.13 or Docker is truly absent, the tests say what is missing and how to get it, and pass.

use std::path::PathBuf;

use localstack::{Backend, LocalAwsError};
use pipeline_core::stages::BucketKind;
use pipeline_core::stages::export::file_key;
use pipeline_core::{RunStatus, Stage};
use workbench_tests::{Harness, assert_frames_equal, full_run};

/// The workspace's state dir, so the LocalStack venv (~90 s to build) is made once and reused.
fn state_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.workbench")
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Starts `backend`, or explains what is missing: a failure on CI, a skip elsewhere.
async fn start(backend: Backend) -> Option<Harness> {
    let state = state_dir();
    std::fs::create_dir_all(&state).expect("state dir");
    match backend.start(&state).await {
        Ok(running) => Some(Harness::on(running, tempfile::tempdir().expect("temp dir")).await),
        Err(
            e @ (LocalAwsError::PythonNotFound { .. }
            | LocalAwsError::Venv { .. }
            | LocalAwsError::DockerUnavailable { .. }
            | LocalAwsError::ImageMissing { .. }),
        ) => {
            assert!(!on_ci(), "CI=true, so the {backend} backend is required: {e}");
            eprintln!("SKIPPED {backend} parity (set CI=true to make this a failure): {e}");
            None
        }
        Err(e) => panic!("the {backend} backend did not start: {e}"),
    }
}

async fn parity(backend: Backend) {
    let Some(other) = start(backend).await else { return };
    let embedded = Harness::start().await;
    for market_id in markets::ids() {
        let market = markets::load(market_id).unwrap();
        embedded.provision_small(market_id).await;
        other.provision_small(market_id).await;
        let (want, _) = embedded.run(market.as_ref(), full_run("parity")).await;
        let (got, _) = other.run(market.as_ref(), full_run("parity")).await;
        assert_eq!(got.error, None, "{market_id} on {backend}");
        assert_eq!((got.status, want.status), (RunStatus::Alert, RunStatus::Alert), "{market_id} on {backend}");
        for (w, g) in want.stages.iter().zip(&got.stages) {
            assert_eq!(
                w.cache_key, g.cache_key,
                "{market_id} {}: same inputs give the same key on any backend",
                w.stage
            );
            for table in w.stage.spec().outputs {
                let what = format!("{market_id} {}/{table} on {backend}", w.stage);
                assert_frames_equal(
                    &other.output(market_id, g, table).await,
                    &embedded.output(market_id, w, table).await,
                    &what,
                );
            }
        }
        let key = file_key(market_id, want.as_of.unwrap());
        let (w, g) = (embedded.object(BucketKind::Exports, &key).await, other.object(BucketKind::Exports, &key).await);
        assert!(w == g, "{market_id}: the export on {backend} differs from the embedded S3's");
        // A second run is served from the cache on this backend too.
        let (again, _) = other.run(market.as_ref(), full_run("parity-again")).await;
        assert!(again.stages.iter().all(|r| r.cache_hit), "{market_id} on {backend}: {:?}", again.stages);
        assert_eq!(again.stages.last().map(|r| r.stage), Some(Stage::Export));
    }
    other.shutdown().await;
    embedded.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localstack_host_process_produces_exports_identical_to_embedded() {
    parity(Backend::LocalStack).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localstack_container_produces_exports_identical_to_embedded() {
    parity(Backend::Container).await;
}
