//! The report index after many runs (`just bench-reports`): fills a temp run history with RUNS runs (default
//! 1,000) of every registered market, each market with six stages, three checks per stage (some alerting or
//! failing, the score stage's with a history band and a drift test) and eight metrics per stage, then times
//!
//! - (a) the index's one history query plus its HTML rendering (`services::reports::index` + `index_html`),
//! - (b) writing `index.html` and `index.json` to an embedded S3 (`services::reports::write`),
//! - (c) "load": reading `index.html` back from that S3 (an HTTP GET, as a browser on the bucket would) and
//!   parsing all of it headless (every tag tokenised, nesting checked, rows and links counted), as a stand-in for
//!   a browser's load,
//!
//! each repeated and reported as median and maximum, with the page's size, against the 1 s target.
//!
//! Usage: `cargo bench -p workbench --bench reports_index -- [RUNS]`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use localstack::{Credentials, EmbeddedS3};
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use pipeline_core::{
    Band, CheckDetail, CheckResult, CheckStatus, DriftDetail, RunStatus, Stage, StageRecord, StageStatus,
};
use workbench::history::{History, MarketEnd, NewRun, RunEnd};
use workbench::present::run_report::index_html;
use workbench::services::reports::{self, INDEX_HTML, INDEX_JSON, INDEX_RUNS};

const TARGET: Duration = Duration::from_secs(1);
const REPEAT: usize = 15;

fn main() {
    let runs: usize =
        std::env::args().skip(1).find(|a| !a.starts_with('-')).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temp dir");
    let markets = markets::ids();
    let filling = Instant::now();
    let mut history = History::open(&dir.path().join("history.sqlite")).expect("history");
    let (checks, metrics) = fill(&mut history, runs, &markets);
    println!(
        "history: {runs} runs × {} markets, {checks} checks, {metrics} metrics (filled in {:.1} s)",
        markets.len(),
        filling.elapsed().as_secs_f64()
    );

    // (a) the query and the rendering.
    let mut page = String::new();
    let (mut query_render, mut query) = (Vec::new(), Vec::new());
    for _ in 0..REPEAT {
        let started = Instant::now();
        let index = reports::index(&history, INDEX_RUNS).expect("index");
        query.push(started.elapsed());
        page = index_html(&index);
        query_render.push(started.elapsed());
    }
    let index = reports::index(&history, INDEX_RUNS).expect("index");
    let json = serde_json::to_vec(&index).expect("json");

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (write, load, parsed) = runtime.block_on(async {
        let s3 = EmbeddedS3::start(&dir.path().join("s3"), Credentials::local()).await.expect("embedded S3");
        let endpoint = s3.endpoint();
        endpoint.create_bucket("reports").await.expect("bucket");
        // (b) the writes.
        let mut write = Vec::new();
        for _ in 0..REPEAT {
            let objects =
                vec![(INDEX_JSON.to_string(), json.clone()), (INDEX_HTML.to_string(), page.clone().into_bytes())];
            let started = Instant::now();
            reports::write(&endpoint, "reports", objects).await.expect("write");
            write.push(started.elapsed());
        }
        // (c) the load: GET and parse.
        let store = endpoint.object_store("reports").expect("store");
        let mut load = Vec::new();
        let mut parsed = Parsed::default();
        for _ in 0..REPEAT {
            let started = Instant::now();
            let bytes = store.get(&ObjectPath::from(INDEX_HTML)).await.expect("get").bytes().await.expect("bytes");
            let text = std::str::from_utf8(&bytes).expect("utf-8");
            parsed = parse(text);
            load.push(started.elapsed());
        }
        (write, load, parsed)
    });
    assert_eq!(parsed.rows, index.runs.len() + 1, "one table row per run plus the heading");

    let (a, b, c) = (median(&query_render), median(&write), median(&load));
    let total = a + b + c;
    println!(
        "index page: {} runs listed, {:.0} KB HTML, {:.0} KB JSON; {} elements, {} links",
        index.runs.len(),
        page.len() as f64 / 1024.0,
        json.len() as f64 / 1024.0,
        parsed.elements,
        parsed.links
    );
    println!(
        "(a) history query + render   median {:>8}  max {:>8}  (query alone: median {})",
        ms(a),
        ms(max(&query_render)),
        ms(median(&query))
    );
    println!("(b) write to embedded S3     median {:>8}  max {:>8}", ms(b), ms(max(&write)));
    println!("(c) load: GET + parse        median {:>8}  max {:>8}", ms(c), ms(max(&load)));
    println!(
        "a + b + c                    median {:>8}  target {:>8}  {}",
        ms(total),
        ms(TARGET),
        if total <= TARGET { "within" } else { "OVER" }
    );
}

/// Records `runs` runs of `markets`, an hour apart; returns how many checks and metrics were written.
fn fill(history: &mut History, runs: usize, markets: &[&str]) -> (usize, usize) {
    let (mut checks, mut metrics) = (0, 0);
    for i in 0..runs {
        let hour = i as i64;
        let started = chrono::DateTime::from_timestamp(1_763_000_000 + hour * 3600, 0).unwrap();
        let run_id = format!("{}-{i:x}", started.format("%Y%m%dT%H%M%S%3fZ"));
        let run = NewRun {
            run_id: run_id.clone(),
            started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            command: "wb run --all".into(),
            git_commit: Some(format!("{i:040x}")),
            git_dirty: Some(false),
            backend: "embedded".into(),
            endpoint: None,
            markets: markets.iter().map(|m| m.to_string()).collect(),
            stage: None,
            as_of: Some("2026-11-15".into()),
            no_cache: false,
            pid: std::process::id(),
            pid_start: None,
        };
        history.begin_run(&run).expect("begin");
        let mut run_status = RunStatus::Ok;
        for (m, market) in markets.iter().enumerate() {
            let mut market_status = RunStatus::Ok;
            for (seq, stage) in Stage::ALL.into_iter().enumerate() {
                let level = match (i + m * 7 + seq * 3) % 97 {
                    0 => CheckStatus::Fail,
                    1..=6 => CheckStatus::Alert,
                    _ => CheckStatus::Pass,
                };
                let mut stage_checks: Vec<CheckResult> = (0..3)
                    .map(|k| CheckResult {
                        name: format!("check_{k}"),
                        subject: format!("{}.table", stage.name()),
                        rule: "ALERT if > 0, FAIL if > 1%".into(),
                        measured: k as f64,
                        status: if k == 0 { level } else { CheckStatus::Pass },
                        message: format!("{k} of 1000 rows"),
                        detail: None,
                    })
                    .collect();
                if stage == Stage::Score {
                    stage_checks[1].detail = Some(CheckDetail::Band(Band {
                        metric: "score.propensity.mean".into(),
                        history: (0..20).map(|h| 0.4 + (h % 5) as f64 * 0.01).collect(),
                        required: 5,
                        mean: 0.42,
                        sd: 0.014,
                        alert_sigma: 2.0,
                        fail_sigma: 3.0,
                    }));
                    stage_checks[2].detail = Some(CheckDetail::Drift(DriftDetail {
                        test: "ks".into(),
                        statistic: 0.03,
                        p_value: 0.4,
                        alpha: 0.01,
                        baseline_run: "previous".into(),
                        labels: (0..10).map(|b| format!("{b}")).collect(),
                        current: vec![0.1; 10],
                        baseline: vec![0.1; 10],
                    }));
                }
                checks += stage_checks.len();
                let stage_metrics: BTreeMap<String, f64> =
                    (0..8).map(|k| (format!("{}.metric_{k}", stage.name()), (i * k) as f64 * 0.5)).collect();
                metrics += stage_metrics.len();
                let status = match level {
                    CheckStatus::Fail => StageStatus::Fail,
                    CheckStatus::Alert => StageStatus::Alert,
                    CheckStatus::Pass => StageStatus::Ok,
                };
                let record = StageRecord {
                    metrics: stage_metrics,
                    stage,
                    cache_key: format!("{market}-{}-{i}", stage.name()),
                    status,
                    cache_hit: i % 2 == 1,
                    rows: 1000,
                    tables: BTreeMap::new(),
                    bytes: 4096,
                    duration_ms: 100 + seq as u64,
                    checks: stage_checks,
                    outputs: Vec::new(),
                    produced_by: run_id.clone(),
                    error: None,
                };
                history.record_stage(&run_id, market, seq, &record).expect("stage");
                match status {
                    StageStatus::Fail => {
                        market_status = RunStatus::Fail;
                        break;
                    }
                    StageStatus::Alert if market_status == RunStatus::Ok => market_status = RunStatus::Alert,
                    _ => {}
                }
            }
            run_status = run_status.max(market_status);
            let end = MarketEnd {
                market: market.to_string(),
                status: market_status,
                as_of: Some("2026-11-15".into()),
                error: None,
                duration_ms: Some(900),
                peak_rss_bytes: None,
            };
            history.finish_market(&run_id, &end).expect("market");
        }
        let end = RunEnd {
            status: run_status,
            endpoint: Some("http://127.0.0.1:1".into()),
            duration_ms: 1000,
            peak_rss_bytes: None,
            error: None,
        };
        history.finish_run(&run_id, &end).expect("run");
    }
    (checks, metrics)
}

/// What the headless parse found.
#[derive(Debug, Default)]
struct Parsed {
    elements: usize,
    rows: usize,
    links: usize,
}

/// Tokenises every tag of `html`, checks that each non-void element is closed in order, and counts elements,
/// table rows and links. Panics on a page that does not nest (the bench's pages must).
fn parse(html: &str) -> Parsed {
    const VOID: [&str; 4] = ["meta", "br", "link", "img"];
    let mut parsed = Parsed::default();
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("every tag closes") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name.trim()), "</{name}> closes what is open");
            continue;
        }
        let name = tag.split([' ', '/']).next().unwrap_or_default();
        parsed.elements += 1;
        match name {
            "tr" => parsed.rows += 1,
            "a" => parsed.links += 1,
            _ => {}
        }
        if !VOID.contains(&name) && !tag.ends_with('/') {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
    parsed
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn max(times: &[Duration]) -> Duration {
    times.iter().copied().max().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
