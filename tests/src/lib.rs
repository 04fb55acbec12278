//! Shared harness for the cross-crate integration tests: an embedded S3 in a temp dir, provisioned with a
//! market's fixtures, running the real engine, and comparing frames with golden files value by value.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use localstack::{Backend, RunningBackend, S3Endpoint};
use pipeline_core::engine::{marker_key, raw_manifest_key, table_key};
use pipeline_core::stages::BucketKind;
use pipeline_core::{Buckets, Event, Market, RunOutcome, RunRequest, Stage, StageIo, StageRecord};
use polars::prelude::*;

/// A running S3 backend (the embedded one unless a test starts another) with the four buckets, and the IO over it.
pub struct Harness {
    /// The backend; stopped when the harness is shut down or dropped.
    pub backend: Option<RunningBackend>,
    /// Its endpoint.
    pub endpoint: S3Endpoint,
    /// Stage IO over the four buckets.
    pub io: StageIo,
    /// The temp dir holding the S3 data.
    pub dir: tempfile::TempDir,
}

impl Harness {
    /// Starts an embedded S3 in a fresh temp dir (data under `dir/s3`) and creates the buckets.
    pub async fn start() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = Backend::Embedded.start(dir.path()).await.expect("embedded S3 starts");
        Self::on(backend, dir).await
    }

    /// Uses an already running backend and creates the buckets on it, through the same code path as every backend.
    pub async fn on(backend: RunningBackend, dir: tempfile::TempDir) -> Harness {
        let endpoint = backend.endpoint();
        let backend = Some(backend);
        let buckets = Buckets::default();
        for bucket in buckets.all() {
            endpoint.create_bucket(bucket).await.expect("bucket created");
        }
        let io = StageIo::new(buckets, |bucket| endpoint.object_store(bucket).expect("store"));
        Harness { backend, endpoint, io, dir }
    }

    /// Stops the backend and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(backend) = self.backend.take() {
            backend.shutdown().await;
        }
    }

    /// Uploads a market's fixture folder into `raw/{market}/`.
    pub async fn provision(&self, market: &str, fixture_dir: &Path) {
        self.endpoint.upload_dir("raw", market, fixture_dir).await.expect("fixtures uploaded");
    }

    /// Uploads the committed small fixture of a market.
    pub async fn provision_small(&self, market: &str) {
        self.provision(market, &fixtures::small_fixture_dir().join(market)).await;
    }

    /// Replaces one raw object.
    pub async fn put_raw(&self, market: &str, file: &str, bytes: impl Into<bytes::Bytes>) {
        self.io.put(BucketKind::Raw, &format!("{market}/{file}"), bytes.into()).await.expect("raw put");
    }

    /// Runs the engine and returns the outcome and every event.
    pub async fn run(&self, market: &dyn Market, req: RunRequest) -> (RunOutcome, Vec<Event>) {
        let mut events = Vec::new();
        let outcome = pipeline_core::run_market(&self.io, market, &req, &mut |e| events.push(e)).await;
        (outcome, events)
    }

    /// Reads one output table of a stage record.
    pub async fn output(&self, market: &str, record: &StageRecord, table: &str) -> DataFrame {
        let key = table_key(market, record.stage, &record.cache_key, table);
        self.io.read_parquet(BucketKind::Work, &key).await.expect("read").unwrap_or_else(|| panic!("{key} missing"))
    }

    /// Reads any object, panicking with its key when absent.
    pub async fn object(&self, bucket: BucketKind, key: &str) -> bytes::Bytes {
        self.io.get(bucket, key).await.expect("get").unwrap_or_else(|| panic!("{} missing", self.io.url(bucket, key)))
    }

    /// Whether a stage's cache marker exists.
    pub async fn has_marker(&self, market: &str, stage: Stage, key: &str) -> bool {
        self.io.get(BucketKind::Work, &marker_key(market, stage, key)).await.expect("get").is_some()
    }

    /// The raw manifest's key (for tests that replace it).
    pub fn manifest_key(market: &str) -> String {
        raw_manifest_key(market)
    }
}

/// A request for a full run with a fixed run id.
pub fn full_run(run_id: &str) -> RunRequest {
    RunRequest { run_id: run_id.into(), ..Default::default() }
}

/// Records by stage.
pub fn by_stage(outcome: &RunOutcome) -> BTreeMap<Stage, &StageRecord> {
    outcome.stages.iter().map(|r| (r.stage, r)).collect()
}

/// Where golden outputs live: `fixtures/golden/{market}/{stage}/{table}.csv`.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/golden")
}

/// Whether golden files are being rewritten (`UPDATE_GOLDEN=1`) instead of compared.
pub fn updating_golden() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Writes a frame as golden CSV.
pub fn write_golden_frame(path: &Path, frame: &DataFrame) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("golden dir");
    let mut frame = frame.clone();
    let mut file = std::fs::File::create(path).expect("golden file");
    CsvWriter::new(&mut file).finish(&mut frame).expect("golden written");
}

/// Reads a golden CSV with the schema of `like`, so every value is compared in the actual frame's types.
pub fn read_golden_frame(path: &Path, like: &DataFrame) -> DataFrame {
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "golden file {} unreadable ({e}); regenerate with UPDATE_GOLDEN=1 cargo test -p workbench-tests",
            path.display()
        )
    });
    CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(like.schema().clone()))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .unwrap_or_else(|e| panic!("golden file {} does not match the output's schema: {e}", path.display()))
}

/// Compares two frames value by value. On a difference, the message names the first differing rows, columns
/// and values, and how many rows differ.
pub fn assert_frames_equal(actual: &DataFrame, expected: &DataFrame, what: &str) {
    assert_eq!(actual.get_column_names(), expected.get_column_names(), "{what}: columns differ");
    assert_eq!(actual.height(), expected.height(), "{what}: row counts differ");
    if actual.equals_missing(expected) {
        return;
    }
    let mut report = Vec::new();
    let mut differing = 0usize;
    for row in 0..actual.height() {
        let mut cells = Vec::new();
        for (a, e) in actual.columns().iter().zip(expected.columns()) {
            let (av, ev) = (a.get(row).expect("row"), e.get(row).expect("row"));
            if av != ev {
                cells.push(format!("{}: expected {ev}, got {av}", a.name()));
            }
        }
        if !cells.is_empty() {
            differing += 1;
            if report.len() < 10 {
                report.push(format!("row {row}: {}", cells.join("; ")));
            }
        }
    }
    panic!("{what}: {differing} rows differ\n{}", report.join("\n"));
}

/// Compares `actual` with the golden file at `path`, or rewrites it when updating.
pub fn check_golden_frame(path: &Path, actual: &DataFrame, what: &str) {
    if updating_golden() {
        write_golden_frame(path, actual);
        return;
    }
    let expected = read_golden_frame(path, actual);
    assert_frames_equal(actual, &expected, what);
}

/// Compares bytes with a golden file, or rewrites it when updating.
pub fn check_golden_bytes(path: &Path, actual: &[u8], what: &str) {
    if updating_golden() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("golden dir");
        std::fs::write(path, actual).expect("golden written");
        return;
    }
    let expected = std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "golden file {} unreadable ({e}); regenerate with UPDATE_GOLDEN=1 cargo test -p workbench-tests",
            path.display()
        )
    });
    if expected != actual {
        let (e, a) = (String::from_utf8_lossy(&expected), String::from_utf8_lossy(actual));
        let line =
            e.lines().zip(a.lines()).position(|(x, y)| x != y).unwrap_or(e.lines().count().min(a.lines().count()));
        panic!(
            "{what}: differs from {} at line {}:\nexpected: {:?}\n     got: {:?}",
            path.display(),
            line + 1,
            e.lines().nth(line),
            a.lines().nth(line)
        );
    }
}
