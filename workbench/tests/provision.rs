//! Provisioning against the real embedded S3: buckets, fixture upload, skipping unchanged files, mirroring.

mod common;

use localstack::{Credentials, EmbeddedS3};
use markets::MarketId;
use pipeline_core::Buckets;
use workbench::services::provision::provision;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_new_or_changed_fixture_files_are_uploaded_and_raw_mirrors_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures");
    let market_dir = fixtures.join("foobar-au");
    std::fs::create_dir_all(&market_dir).unwrap();
    common::write_minimal_fixture(&market_dir);
    let (s3_dir, index) = (dir.path().join("s3"), dir.path().join("index.json"));
    let s3 = EmbeddedS3::start(&s3_dir, Credentials::local()).await.unwrap();
    let endpoint = s3.endpoint();
    let buckets = Buckets::default();
    let markets = [MarketId::parse("foobar-au").unwrap()];

    let first = provision(&endpoint, &buckets, &fixtures, &markets, &index).await.unwrap();
    let all =
        ["foobar-au/_manifest.json", "foobar-au/customers.csv", "foobar-au/interactions.csv", "foobar-au/orders.csv"];
    assert_eq!(first.uploaded, all);
    assert!(first.unchanged.is_empty());
    for bucket in buckets.all() {
        assert!(s3_dir.join(bucket).is_dir(), "bucket {bucket} was not created");
    }
    assert_eq!(
        std::fs::read(s3_dir.join("raw/foobar-au/orders.csv")).unwrap(),
        std::fs::read(market_dir.join("orders.csv")).unwrap()
    );

    let second = provision(&endpoint, &buckets, &fixtures, &markets, &index).await.unwrap();
    assert!(second.uploaded.is_empty());
    assert_eq!(second.unchanged, all);

    let orders = market_dir.join("orders.csv");
    let mut text = std::fs::read_to_string(&orders).unwrap();
    text.push_str("O9999999,C000001,2026-11-14,1,1.00\n");
    std::fs::write(&orders, text).unwrap();
    std::fs::remove_file(market_dir.join("interactions.csv")).unwrap();
    // An object edited in place in the S3 folder no longer matches its fixture and is uploaded again.
    std::fs::write(s3_dir.join("raw/foobar-au/customers.csv"), "edited by hand\n").unwrap();
    let third = provision(&endpoint, &buckets, &fixtures, &markets, &index).await.unwrap();
    assert_eq!(third.uploaded, ["foobar-au/customers.csv", "foobar-au/orders.csv"]);
    assert_eq!(third.unchanged, ["foobar-au/_manifest.json"]);
    assert_eq!(third.removed, ["foobar-au/interactions.csv"]);
    assert!(!s3_dir.join("raw/foobar-au/interactions.csv").exists());
    assert_eq!(
        std::fs::read(s3_dir.join("raw/foobar-au/customers.csv")).unwrap(),
        std::fs::read(market_dir.join("customers.csv")).unwrap()
    );
    s3.shutdown().await;
}

/// Provisioning skipped an upload when a fixture's size and mtime were unchanged: an edit that keeps both (a
/// same-length fix, an mtime restored by a copy tool) never reached the store, and runs used the old bytes.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_keeping_size_and_mtime_still_reaches_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures");
    let market_dir = fixtures.join("foobar-au");
    std::fs::create_dir_all(&market_dir).unwrap();
    common::write_minimal_fixture(&market_dir);
    let (s3_dir, index) = (dir.path().join("s3"), dir.path().join("index.json"));
    let s3 = EmbeddedS3::start(&s3_dir, Credentials::local()).await.unwrap();
    let endpoint = s3.endpoint();
    let buckets = Buckets::default();
    let markets = [MarketId::parse("foobar-au").unwrap()];
    provision(&endpoint, &buckets, &fixtures, &markets, &index).await.unwrap();

    // Same length, same mtime, other bytes: `NSW` becomes `VIC` in the first customer row.
    let customers = market_dir.join("customers.csv");
    let before = std::fs::read_to_string(&customers).unwrap();
    let mtime = std::fs::metadata(&customers).unwrap().modified().unwrap();
    let after = before.replacen("NSW", "VIC", 1);
    assert_eq!((after.len(), after != before), (before.len(), true));
    std::fs::write(&customers, &after).unwrap();
    std::fs::File::options().write(true).open(&customers).unwrap().set_modified(mtime).unwrap();
    assert_eq!(std::fs::metadata(&customers).unwrap().modified().unwrap(), mtime);

    let again = provision(&endpoint, &buckets, &fixtures, &markets, &index).await.unwrap();
    assert_eq!(again.uploaded, ["foobar-au/customers.csv"]);
    assert_eq!(std::fs::read_to_string(s3_dir.join("raw/foobar-au/customers.csv")).unwrap(), after);
    s3.shutdown().await;
}
