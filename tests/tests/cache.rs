//! The stage cache, both ways: an unchanged stage is skipped, and a change to its input, config, model or code
//! re-runs it and everything after it, while the stages before stay cached.

use std::path::Path;

use chrono::NaiveDate;
use pipeline_core::cache::{KeyInputs, stage_key, stage_key_over};
use pipeline_core::engine::marker_key;
use pipeline_core::sources::{CodeSet, SourceFile};
use pipeline_core::stages::BucketKind;
use pipeline_core::stages::export::file_key;
use pipeline_core::{Hook, HookOverride, Market, MarketDef, RunRequest, RunStatus, Stage};
use workbench_tests::{Harness, full_run};

const AU: &str = "foobar-au";

fn au_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../markets/au").join(name)).expect("AU file")
}

/// AU with its config or model text edited, and optionally other crate sources (an edited hook override).
struct Edited {
    def: MarketDef,
    overrides: &'static [HookOverride],
    sources: &'static [SourceFile],
}

impl Edited {
    fn new(market_toml: &str, model_toml: &str, overrides: &'static [HookOverride]) -> Self {
        let sources = markets::load(AU).unwrap().sources();
        Self { def: MarketDef::load(AU, market_toml, model_toml).expect("edited AU loads"), overrides, sources }
    }
}

impl Market for Edited {
    fn def(&self) -> &MarketDef {
        &self.def
    }

    fn sources(&self) -> &'static [SourceFile] {
        self.sources
    }

    fn overrides(&self) -> &'static [HookOverride] {
        self.overrides
    }
}

fn hits(outcome: &pipeline_core::RunOutcome) -> Vec<(Stage, bool)> {
    outcome.stages.iter().map(|r| (r.stage, r.cache_hit)).collect()
}

fn expect_hits(cached_until: Option<Stage>) -> Vec<(Stage, bool)> {
    Stage::ALL.iter().map(|s| (*s, cached_until.is_some_and(|c| *s <= c))).collect()
}

async fn baseline() -> (Harness, pipeline_core::RunOutcome) {
    let h = Harness::start().await;
    h.provision_small(AU).await;
    let au = markets::load(AU).unwrap();
    let (first, _) = h.run(au.as_ref(), full_run("first")).await;
    assert_eq!(hits(&first), expect_hits(None), "a fresh store computes every stage");
    (h, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_rerun_is_served_entirely_from_cache() {
    let (h, first) = baseline().await;
    let au = markets::load(AU).unwrap();
    let (second, _) = h.run(au.as_ref(), full_run("second")).await;
    assert_eq!(second.status, RunStatus::Alert);
    assert_eq!(hits(&second), expect_hits(Some(Stage::Export)));
    for (a, b) in first.stages.iter().zip(&second.stages) {
        assert_eq!(a.cache_key, b.cache_key);
        assert_eq!(b.produced_by, "first", "{} came from the first run", b.stage);
        assert_eq!(a.rows, b.rows);
        assert_eq!(b.bytes, 0, "a cache hit writes nothing");
    }
    // Checks are replayed from the cache, so a cached run reports the same alerts.
    assert_eq!(
        first.stages.iter().map(|r| r.checks.len()).collect::<Vec<_>>(),
        second.stages.iter().map(|r| r.checks.len()).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cache_recomputes_every_stage_with_the_same_keys() {
    let (h, first) = baseline().await;
    let au = markets::load(AU).unwrap();
    let (again, _) = h.run(au.as_ref(), RunRequest { no_cache: true, ..full_run("again") }).await;
    assert_eq!(hits(&again), expect_hits(None));
    let keys = |o: &pipeline_core::RunOutcome| o.stages.iter().map(|r| r.cache_key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&first), keys(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_raw_input_reruns_ingest_and_everything_after() {
    let (h, first) = baseline().await;
    let mut orders = std::fs::read(fixtures::small_fixture_dir().join(AU).join("orders.csv")).unwrap();
    orders.extend_from_slice(b"O9999999,C000002,2026-11-14,1,10.00\n");
    h.put_raw(AU, "orders.csv", orders).await;
    let au = markets::load(AU).unwrap();
    let (second, _) = h.run(au.as_ref(), full_run("second")).await;
    assert_eq!(hits(&second), expect_hits(None));
    assert_eq!(second.stages[0].tables["orders"], first.stages[0].tables["orders"] + 1);
    for (a, b) in first.stages.iter().zip(&second.stages) {
        assert_ne!(a.cache_key, b.cache_key, "{}", a.stage);
    }
}

/// Any config key is in every stage's key (hook code can read any of them), so a config change re-runs every stage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_config_reruns_every_stage() {
    let (h, first) = baseline().await;
    let edited = Edited::new(
        &au_file("market.toml").replace("currency = \"AUD\"", "currency = \"AUD\"\ncontact_share = 0.45"),
        &au_file("model.toml"),
        &[],
    );
    let (second, _) = h.run(&edited, full_run("second")).await;
    assert_eq!(hits(&second), expect_hits(None), "every stage can read contact_share");
    assert!(second.stages[4].rows < first.stages[4].rows, "a smaller share keeps fewer rows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_fx_rate_reruns_every_stage() {
    let (h, _) = baseline().await;
    let edited = Edited::new(
        &au_file("market.toml").replace("fx_to_usd = 0.65", "fx_to_usd = 0.66"),
        &au_file("model.toml"),
        &[],
    );
    let (second, _) = h.run(&edited, full_run("second")).await;
    assert_eq!(hits(&second), expect_hits(None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_model_reruns_every_stage() {
    let (h, _) = baseline().await;
    let edited = Edited::new(&au_file("market.toml"), &au_file("model.toml").replace("b = -1.20", "b = -1.25"), &[]);
    let (second, _) = h.run(&edited, full_run("second")).await;
    assert_eq!(hits(&second), expect_hits(None), "hooks can read the model, so every stage's key covers it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_hook_code_reruns_the_stages_that_call_the_hook() {
    static SCHEDULE: &[HookOverride] = &[HookOverride {
        hook: Hook::Schedule,
        file: "markets/au/src/schedule.rs",
        source: "// a market's schedule override\n",
    }];
    // AU's crate as if it had a schedule override: lib.rs lists it, so recommend (which calls schedule) reaches it.
    let with_schedule = |text: &'static str| -> &'static [SourceFile] {
        let mut sources: Vec<SourceFile> = markets::load(AU).unwrap().sources().to_vec();
        for file in &mut sources {
            if file.path == "markets/au/src/lib.rs" {
                let lib = String::from_utf8_lossy(file.bytes).replace("overrides: [];", "overrides: [schedule];");
                assert!(lib.contains("overrides: [schedule];"), "AU's lib.rs lists its overrides: {lib}");
                file.bytes = Box::leak(lib.into_bytes().into_boxed_slice());
            }
        }
        sources.push(SourceFile { path: "markets/au/src/schedule.rs", bytes: text.as_bytes() });
        Box::leak(sources.into_boxed_slice())
    };
    let h = Harness::start().await;
    h.provision_small(AU).await;
    let mut edited = Edited::new(&au_file("market.toml"), &au_file("model.toml"), SCHEDULE);
    edited.sources = with_schedule(SCHEDULE[0].source);
    let (first, _) = h.run(&edited, full_run("first")).await;
    assert_eq!(hits(&first), expect_hits(None));
    edited.sources = with_schedule("// a market's schedule override, edited\n");
    let (second, _) = h.run(&edited, full_run("second")).await;
    assert_eq!(hits(&second), expect_hits(Some(Stage::Score)), "schedule is called by recommend");
}

/// pipeline-core is keyed whole (its stage dispatch reaches every module), so a stage module's edit changes every
/// stage's key.
#[test]
fn changed_core_code_changes_every_stage_key() {
    let au = markets::load(AU).unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
    let upstream = [(Stage::Features, "feature-key".to_string())];
    let inputs = KeyInputs { as_of, upstream: &upstream, raw_etags: &[] };
    let compiled = CodeSet::compiled(au.as_ref());
    let mut edited = compiled.clone();
    let score_module: &[u8] = b"// score, edited\n";
    for (path, bytes) in &mut edited.core {
        if *path == "pipeline-core/src/stages/score.rs" {
            *bytes = score_module;
        }
    }
    for stage in Stage::ALL {
        let spec = stage.spec();
        assert_eq!(stage_key(spec, au.as_ref(), &inputs), stage_key_over(spec, au.as_ref(), &inputs, &compiled));
        assert_ne!(
            stage_key_over(spec, au.as_ref(), &inputs, &compiled),
            stage_key_over(spec, au.as_ref(), &inputs, &edited),
            "{stage}"
        );
    }
    assert_eq!(
        stage_key(Stage::Score.spec(), au.as_ref(), &inputs),
        stage_key(Stage::Score.spec(), au.as_ref(), &inputs),
        "keys are stable"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_without_its_marker_is_recomputed_even_if_its_tables_exist() {
    let (h, first) = baseline().await;
    let features = &first.stages[2];
    let marker = marker_key(AU, Stage::Features, &features.cache_key);
    std::fs::remove_file(h.dir.path().join("s3/work").join(&marker)).expect("marker is a plain file");
    assert!(!h.has_marker(AU, Stage::Features, &features.cache_key).await);
    let au = markets::load(AU).unwrap();
    let (second, _) = h.run(au.as_ref(), full_run("second")).await;
    let expected: Vec<(Stage, bool)> = Stage::ALL.iter().map(|s| (*s, *s != Stage::Features)).collect();
    assert_eq!(hits(&second), expected, "only the stage whose marker is gone is recomputed; its key is unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_export_file_is_written_again() {
    let (h, first) = baseline().await;
    let key = file_key(AU, first.as_of.unwrap());
    let before = h.object(BucketKind::Exports, &key).await;
    std::fs::remove_file(h.dir.path().join("s3/exports").join(&key)).unwrap();
    let au = markets::load(AU).unwrap();
    let (second, _) = h.run(au.as_ref(), full_run("second")).await;
    assert_eq!(hits(&second), expect_hits(Some(Stage::Recommend)));
    assert_eq!(h.object(BucketKind::Exports, &key).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_stage_runs_only_what_it_needs() {
    let h = Harness::start().await;
    h.provision_small(AU).await;
    let au = markets::load(AU).unwrap();
    let (outcome, _) = h.run(au.as_ref(), RunRequest { target: Some(Stage::Features), ..full_run("f") }).await;
    assert_eq!(
        outcome.stages.iter().map(|r| r.stage).collect::<Vec<_>>(),
        [Stage::Ingest, Stage::Validate, Stage::Features]
    );
    let (score, _) = h.run(au.as_ref(), RunRequest { target: Some(Stage::Score), ..full_run("s") }).await;
    assert_eq!(
        hits(&score),
        [(Stage::Ingest, true), (Stage::Validate, true), (Stage::Features, true), (Stage::Score, false)]
    );
}

/// Regression: the export cache hit used to check only that the file existed, so after a run on other inputs wrote
/// the same export path, a run on the committed fixtures reported export `cached` while the file held the other
/// run's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_export_is_published_again_when_another_run_overwrote_it() {
    let (h, first) = baseline().await;
    let key = file_key(AU, first.as_of.unwrap());
    let committed = h.object(BucketKind::Exports, &key).await;
    let orders = std::fs::read(fixtures::small_fixture_dir().join(AU).join("orders.csv")).unwrap();
    // The variant lacks the 400 most recent orders (the file is in date order), which the features read.
    let lines: Vec<&[u8]> = orders.split_inclusive(|b| *b == b'\n').collect();
    let variant: Vec<u8> = lines[..lines.len() - 400].concat();
    h.put_raw(AU, "orders.csv", variant).await;
    let au = markets::load(AU).unwrap();
    let (variant_run, _) = h.run(au.as_ref(), full_run("variant")).await;
    assert_eq!(variant_run.status, RunStatus::Alert, "{:?}", variant_run.error);
    assert!(h.object(BucketKind::Exports, &key).await != committed, "the variant wrote its own export");
    h.put_raw(AU, "orders.csv", orders).await;
    let (third, _) = h.run(au.as_ref(), full_run("third")).await;
    assert_eq!(hits(&third), expect_hits(Some(Stage::Recommend)), "export is not a hit: its file is the variant's");
    assert!(h.object(BucketKind::Exports, &key).await == committed, "the committed export is published again");
}

/// Regression: the raw ETag went into the key at HEAD time and the bytes were fetched later without a condition,
/// so a file re-provisioned in between was computed under the old file's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_read_is_pinned_to_the_etag_in_the_key() {
    let h = Harness::start().await;
    h.provision_small(AU).await;
    let key = format!("{AU}/orders.csv");
    let etag = h.io.head(BucketKind::Raw, &key).await.unwrap().unwrap().e_tag.unwrap();
    let same = h.io.get_if_match(BucketKind::Raw, &key, &etag).await.unwrap().unwrap();
    assert_eq!(same, h.object(BucketKind::Raw, &key).await);
    h.put_raw(AU, "orders.csv", b"order_id,customer_id,order_date,quantity,amount\n".to_vec()).await;
    let err = h.io.get_if_match(BucketKind::Raw, &key, &etag).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "s3://raw/{key} changed while this run was reading it (its ETag was {etag} when the cache key was \
             computed): another process re-provisioned it; run again"
        )
    );
    assert!(err.is_environment(), "a changed input is the environment's, not the data's");
}
