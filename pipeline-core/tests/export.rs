//! The export stage (spec, stage 6): the CRM file in rank order with propensity printed with 6 decimals, and its
//! manifest with market, as_of, rows, the file's sha256 and every stage's cache key.

mod common;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use common::*;
use pipeline_core::Stage;
use pipeline_core::stages::{BucketKind, StageContext, StageOutput};
use polars::prelude::*;
use sha2::{Digest, Sha256};

/// Recommendations `(customer_id, action, channel, content_id, propensity)` in rank order, scheduled 2026-11-16.
fn recommendations(rows: &[(&str, &str, &str, &str, f64)]) -> DataFrame {
    df!(
        "customer_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "action" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "channel" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "scheduled_date" => rows.iter().map(|_| d(2026, 11, 16)).collect::<Vec<NaiveDate>>(),
        "content_id" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        "propensity" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        "rank" => (1..=rows.len() as i64).collect::<Vec<_>>(),
    )
    .unwrap()
}

fn export(recs: DataFrame, keys: &BTreeMap<Stage, String>) -> StageOutput {
    let market = TestMarket::new();
    let ctx = StageContext { market: &market, as_of: as_of(), run_id: "run-1", cache_keys: keys };
    let inputs = inputs(vec![(Stage::Recommend, "recommendations", recs)]);
    (Stage::Export.spec().run)(&ctx, &inputs).unwrap()
}

fn artifact<'a>(out: &'a StageOutput, key: &str) -> &'a [u8] {
    let a = out.artifacts.iter().find(|a| a.key == key).unwrap_or_else(|| panic!("no artifact {key}"));
    assert_eq!(a.bucket, BucketKind::Exports, "{key} goes to the exports bucket");
    &a.bytes
}

const FILE: &str = "foobar-xx/2026-11-15/recommendations.csv";
const MANIFEST: &str = "foobar-xx/2026-11-15/manifest.json";

#[test]
fn export_file_is_the_exact_csv_in_rank_order_with_6_decimal_propensity() {
    let recs = recommendations(&[
        ("C7", "offer", "email", "foobar-offer-fr", 1.0),
        ("C2", "nurture", "sms", "foobar-nurture-en", 0.5),
        ("C1", "winback", "call", "foobar-winback-en", 0.123457),
        ("C9", "winback", "visit", "foobar-winback-en", 0.000001),
    ]);
    let out = export(recs, &BTreeMap::new());
    let expected = "customer_id,action,channel,scheduled_date,content_id,propensity,rank\n\
                    C7,offer,email,2026-11-16,foobar-offer-fr,1.000000,1\n\
                    C2,nurture,sms,2026-11-16,foobar-nurture-en,0.500000,2\n\
                    C1,winback,call,2026-11-16,foobar-winback-en,0.123457,3\n\
                    C9,winback,visit,2026-11-16,foobar-winback-en,0.000001,4\n";
    assert_eq!(std::str::from_utf8(artifact(&out, FILE)).unwrap(), expected);
    assert_eq!(out.rows, Some(4));
}

#[test]
fn manifest_lists_market_as_of_rows_sha256_of_the_file_and_every_cache_key() {
    let keys: BTreeMap<Stage, String> = Stage::ALL.iter().map(|s| (*s, format!("key-{}", s.name()))).collect();
    let out = export(recommendations(&[("C1", "offer", "email", "foobar-offer-en", 0.9)]), &keys);
    let sha = hex::encode(Sha256::digest(artifact(&out, FILE)));
    let manifest: serde_json::Value = serde_json::from_slice(artifact(&out, MANIFEST)).unwrap();
    let expected = serde_json::json!({
        "market": "foobar-xx",
        "as_of": "2026-11-15",
        "rows": 1,
        "sha256": sha,
        "cache_keys": {
            "ingest": "key-ingest",
            "validate": "key-validate",
            "features": "key-features",
            "score": "key-score",
            "recommend": "key-recommend",
            "export": "key-export",
        },
    });
    assert_eq!(manifest, expected);
    assert_eq!(out.artifacts.len(), 2, "the file and the manifest, nothing else");
}

#[test]
fn empty_recommendations_export_the_header_only() {
    let out = export(recommendations(&[]), &BTreeMap::new());
    assert_eq!(
        std::str::from_utf8(artifact(&out, FILE)).unwrap(),
        "customer_id,action,channel,scheduled_date,content_id,propensity,rank\n"
    );
    let manifest: serde_json::Value = serde_json::from_slice(artifact(&out, MANIFEST)).unwrap();
    assert_eq!(manifest["rows"], 0);
}
