//! Bad input through the whole engine: missing, empty and malformed raw files fail the run with a message that
//! names the file and column, malformed rows go to quarantine, and a FAIL check stops the later stages.

use pipeline_core::stages::BucketKind;
use pipeline_core::{Event, RunRequest, RunStatus, Stage, StageStatus};
use workbench_tests::{Harness, full_run};

const AU: &str = "foobar-au";

async fn au_with(file: &str, content: Option<&str>) -> (pipeline_core::RunOutcome, Vec<Event>, Harness) {
    let h = Harness::start().await;
    h.provision_small(AU).await;
    match content {
        Some(text) => h.put_raw(AU, file, text.to_string()).await,
        None => std::fs::remove_file(h.dir.path().join("s3/raw").join(AU).join(file)).unwrap(),
    }
    let au = markets::load(AU).unwrap();
    let (outcome, events) = h.run(au.as_ref(), full_run("bad")).await;
    (outcome, events, h)
}

fn finished_error(events: &[Event]) -> Option<String> {
    events.iter().find_map(|e| match e {
        Event::RunFinished { error, .. } => error.clone(),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_raw_file_fails_the_run_naming_the_file() {
    let (outcome, events, _h) = au_with("orders.csv", None).await;
    assert_eq!(outcome.status, RunStatus::Fail);
    let expected = "missing raw file s3://raw/foobar-au/orders.csv: provision the raw bucket (`wb run` loads \
                    fixtures/data) or check the market's extract";
    assert_eq!(outcome.error.as_deref(), Some(expected));
    assert_eq!(finished_error(&events).as_deref(), Some(expected), "the run_finished event carries the error");
    assert!(outcome.stages.is_empty(), "no stage starts without its raw files");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_raw_file_fails_ingest_naming_the_file() {
    let (outcome, _, _h) = au_with("orders.csv", Some("order_id,customer_id,order_date,quantity,amount\n")).await;
    assert_eq!(outcome.status, RunStatus::Fail);
    assert_eq!(
        outcome.error.as_deref(),
        Some("raw file s3://raw/foobar-au/orders.csv has no data rows: the extract is empty")
    );
    assert_eq!(outcome.stages.len(), 1);
    assert_eq!(outcome.stages[0].status, StageStatus::Fail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_column_fails_ingest_naming_file_and_column() {
    let (outcome, _, _h) =
        au_with("orders.csv", Some("order_id,customer_id,order_date,amount\nO1,C000001,2026-11-01,5.00\n")).await;
    assert_eq!(
        outcome.error.as_deref(),
        Some(
            "raw file s3://raw/foobar-au/orders.csv is missing required column 'quantity' \
             (header has: order_id,customer_id,order_date,amount)"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_malformed_rows_fail_ingest_and_are_all_quarantined() {
    let mut text = String::from("order_id,customer_id,order_date,quantity,amount\n");
    for i in 0..97 {
        text.push_str(&format!("O{i},C000001,2026-11-01,1,5.00\n"));
    }
    text.push_str("O97,C000001,01/11/2026,1,5.00\n");
    text.push_str("O98,C000001,2026-11-01,one,5.00\n");
    text.push_str("O99,C000001,2026-11-01,1\n");
    let (outcome, events, h) = au_with("orders.csv", Some(&text)).await;
    assert_eq!(outcome.status, RunStatus::Fail);
    assert_eq!(outcome.stages.iter().map(|r| r.stage).collect::<Vec<_>>(), [Stage::Ingest], "later stages do not run");
    let parse = outcome.stages[0].checks.iter().find(|c| c.subject == "orders").unwrap();
    assert_eq!(parse.status, pipeline_core::CheckStatus::Fail);
    assert_eq!(parse.message, "3 of 100 lines quarantined (3.000%)");
    let quarantine = h.object(BucketKind::Quarantine, "foobar-au/bad/orders.csv").await;
    assert_eq!(
        String::from_utf8(quarantine.to_vec()).unwrap(),
        "line,reason,raw_line\n\
         99,column 'order_date': cannot parse '01/11/2026' as date (expected %Y-%m-%d),\"O97,C000001,01/11/2026,1,5.00\"\n\
         100,column 'quantity': cannot parse 'one' as integer,\"O98,C000001,2026-11-01,one,5.00\"\n\
         101,\"expected 5 fields, found 4\",\"O99,C000001,2026-11-01,1\"\n"
    );
    assert!(events.iter().any(|e| matches!(e, Event::Log { message, .. } if message == "rejected rows written to s3://quarantine/foobar-au/bad/orders.csv")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_customer_fails_validate_and_stops_the_run() {
    let mut customers = std::fs::read_to_string(fixtures::small_fixture_dir().join(AU).join("customers.csv")).unwrap();
    customers.push_str("C000001,A,NSW,en,2021-11-11,true,false,true\n");
    let (outcome, _, _h) = au_with("customers.csv", Some(&customers)).await;
    assert_eq!(outcome.status, RunStatus::Fail);
    assert_eq!(outcome.stages.iter().map(|r| r.stage).collect::<Vec<_>>(), [Stage::Ingest, Stage::Validate]);
    let check = outcome.stages[1].checks.iter().find(|c| c.name == "customer_id").unwrap();
    assert_eq!(check.message, "0 null and 1 duplicate customer ids: C000001 (2 rows)");
    assert_eq!(outcome.error.as_deref(), Some("stage validate failed its checks; later stages did not run"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_manifest_names_the_manifest() {
    let h = Harness::start().await;
    h.provision_small(AU).await;
    h.io.put(BucketKind::Raw, &Harness::manifest_key(AU), "{\"asof\": 1}".into()).await.unwrap();
    let au = markets::load(AU).unwrap();
    let (outcome, _) = h.run(au.as_ref(), full_run("m")).await;
    let error = outcome.error.unwrap();
    assert!(
        error.starts_with(
            "s3://raw/foobar-au/_manifest.json: expected {\"as_of\": \"YYYY-MM-DD\"}: missing field `as_of`"
        ),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_days_move_the_scheduled_date_per_market() {
    // The fixture's as_of is a Sunday, where no market's next day is quiet; a Friday run shows the difference:
    // AU has no quiet day, BR only Sunday, DE Saturday and Sunday.
    let friday = chrono::NaiveDate::from_ymd_opt(2026, 11, 13).unwrap();
    for (market, expected) in [("foobar-au", "2026-11-14"), ("foobar-br", "2026-11-14"), ("foobar-de", "2026-11-16")] {
        let h = Harness::start().await;
        h.provision_small(market).await;
        let m = markets::load(market).unwrap();
        let req = RunRequest { as_of: Some(friday), target: Some(Stage::Recommend), ..full_run("friday") };
        let (outcome, _) = h.run(m.as_ref(), req).await;
        let recs = h.output(market, &outcome.stages[4], "recommendations").await;
        let dates = recs.column("scheduled_date").unwrap().unique().unwrap();
        assert_eq!(dates.len(), 1, "{market}");
        assert_eq!(dates.get(0).unwrap().to_string(), expected, "{market}");
    }
}

/// The small fixture's raw file `file` of AU with the given 1-based lines replaced by raw bytes.
fn au_fixture_with(file: &str, replace: &[(usize, &[u8])]) -> Vec<u8> {
    let text = std::fs::read(fixtures::small_fixture_dir().join(AU).join(file)).unwrap();
    let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    for &(line, bytes) in replace {
        lines[line - 1] = bytes;
    }
    lines.join(&b'\n')
}

/// The committed golden quarantine of `table` for AU, without its header row.
fn golden_quarantine_rows(table: &str) -> String {
    let golden =
        std::fs::read_to_string(workbench_tests::golden_dir().join(AU).join("quarantine").join(table)).unwrap();
    golden.split_once('\n').unwrap().1.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_and_a_stray_quote_quarantine_their_lines_and_the_market_completes() {
    // Line 10 gets a byte that is not UTF-8, line 20 a quote opening its last field that never closes (its field
    // count still matches the header): before, either failed the whole market, and the stray quote's error quoted
    // the rest of the file (316,742 characters).
    let customers = au_fixture_with(
        "customers.csv",
        &[
            (10, b"C000009,C,S\xffA,ja,2021-07-15,false,true,true"),
            (20, b"C000019,C,QLD,de,2020-10-31,true,false,\"false"),
        ],
    );
    let h = Harness::start().await;
    h.provision_small(AU).await;
    h.put_raw(AU, "customers.csv", customers).await;
    let au = markets::load(AU).unwrap();
    let (outcome, events) = h.run(au.as_ref(), full_run("bytes")).await;
    assert_eq!(outcome.error, None);
    assert_ne!(outcome.status, RunStatus::Fail);
    assert_eq!(outcome.stages.len(), 6, "every stage ran: {:?}", outcome.stages);
    assert!(outcome.stages.iter().all(|s| s.status != StageStatus::Fail), "{:?}", outcome.stages);
    let parse = outcome.stages[0].checks.iter().find(|c| c.subject == "customers").unwrap();
    assert_eq!(parse.message, "6 of 2404 lines quarantined (0.250%)");
    let quarantine = h.object(BucketKind::Quarantine, "foobar-au/bytes/customers.csv").await;
    assert_eq!(
        String::from_utf8(quarantine.to_vec()).unwrap(),
        format!(
            "line,reason,raw_line\n\
             10,invalid UTF-8 at byte 445,\"C000009,C,S\u{fffd}A,ja,2021-07-15,false,true,true\"\n\
             20,unbalanced quote,\"C000019,C,QLD,de,2020-10-31,true,false,\"\"false\"\n{}",
            golden_quarantine_rows("customers.csv")
        )
    );
    let ingested = h.output(AU, &outcome.stages[0], "customers").await;
    assert_eq!(ingested.height(), 2398, "2404 data lines, the 4 committed bad ones and these 2 quarantined");
    let ids = ingested.column("customer_id").unwrap().str().unwrap();
    let has = |id: &str| ids.iter().any(|c| c == Some(id));
    assert_eq!(
        [has("C000008"), has("C000009"), has("C000010"), has("C000019"), has("C000020")],
        [true, false, true, false, true]
    );
    assert!(events.iter().all(|e| !matches!(e, Event::RunFinished { error: Some(_), .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nan_amount_is_quarantined_and_a_1e12_amount_fails_validate_naming_the_order() {
    // Before, NaN passed ingest and validate and counted as 0 in features; 1e12 passed validate unflagged.
    let orders = au_fixture_with(
        "orders.csv",
        &[(2, b"O0000001,C000013,2025-05-16,2,1e12"), (3, b"O0000002,C000032,2025-05-16,2,NaN")],
    );
    let h = Harness::start().await;
    h.provision_small(AU).await;
    h.put_raw(AU, "orders.csv", orders).await;
    let au = markets::load(AU).unwrap();
    let (outcome, _) = h.run(au.as_ref(), full_run("amounts")).await;
    assert_eq!(outcome.status, RunStatus::Fail);
    assert_eq!(outcome.stages.iter().map(|r| r.stage).collect::<Vec<_>>(), [Stage::Ingest, Stage::Validate]);
    let quarantine = h.object(BucketKind::Quarantine, "foobar-au/amounts/orders.csv").await;
    assert_eq!(
        String::from_utf8(quarantine.to_vec()).unwrap(),
        format!(
            "line,reason,raw_line\n\
             3,column 'amount': 'NaN' is not a finite number,\"O0000002,C000032,2025-05-16,2,NaN\"\n{}",
            golden_quarantine_rows("orders.csv")
        )
    );
    let check = outcome.stages[1].checks.iter().find(|c| c.name == "amount_max").unwrap();
    assert_eq!(check.status, pipeline_core::CheckStatus::Fail);
    assert_eq!(check.message, "1 orders with amount > 1000000 (1 > 1000000000): O0000001 (1000000000000)");
    assert_eq!(outcome.error.as_deref(), Some("stage validate failed its checks; later stages did not run"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_error_longer_than_500_characters_is_cut_saying_how_much() {
    // A 3,000-column header without `quantity`: the missing-column error lists the whole header and is cut.
    let mut header: Vec<String> = (0..3000).map(|i| format!("x{i:04}")).collect();
    header.splice(0..0, ["order_id", "customer_id", "order_date", "amount"].map(String::from));
    let values = vec!["1"; header.len()].join(",");
    let (outcome, events, _h) = au_with("orders.csv", Some(&format!("{}\n{values}\n", header.join(",")))).await;
    let full = format!(
        "raw file s3://raw/foobar-au/orders.csv is missing required column 'quantity' (header has: {})",
        header.join(",")
    );
    assert_eq!(full.chars().count(), 18_129);
    let expected = format!("{}… (17,659 more characters cut)", &full[..470]);
    assert_eq!(expected.chars().count(), 500);
    assert_eq!(outcome.error.as_deref(), Some(expected.as_str()));
    assert_eq!(finished_error(&events).as_deref(), Some(expected.as_str()));
    assert_eq!(outcome.stages[0].error.as_deref(), Some(expected.as_str()));
}
