//! Stage cache keys cover the config a stage's run and check read (design: "a changed one is never served
//! stale"). On a cache hit the engine replays the stage's recorded checks, so a threshold a check reads must be
//! part of that stage's key; since hooks may read any key, every key is.

mod common;

use common::*;
use pipeline_core::Stage;
use pipeline_core::cache::{KeyInputs, stage_key};

fn key(stage: Stage, market: &TestMarket) -> String {
    stage_key(stage.spec(), market, &KeyInputs { as_of: as_of(), upstream: &[], raw_etags: &[] })
}

#[test]
fn validate_key_changes_with_the_check_thresholds_it_reads() {
    let stricter = TestMarket::with(&[("checks", "{ null_share_alert = 0.01 }")]);
    assert_ne!(key(Stage::Validate, &TestMarket::new()), key(Stage::Validate, &stricter));
}

#[test]
fn recommend_key_changes_with_contact_share() {
    let smaller = TestMarket::with(&[("contact_share", "0.25")]);
    assert_ne!(key(Stage::Recommend, &TestMarket::new()), key(Stage::Recommend, &smaller));
}

/// Hook code can read any config key, so no stage key may leave one out (it once did: features' key ignored the
/// check thresholds, which was right only as long as no code path read them).
#[test]
fn every_stage_key_changes_with_any_config_key() {
    let stricter = TestMarket::with(&[("checks", "{ null_share_alert = 0.01 }")]);
    for stage in Stage::ALL {
        assert_ne!(key(stage, &TestMarket::new()), key(stage, &stricter), "{stage}");
    }
}

#[test]

fn ingest_key_changes_with_the_parse_errors_threshold_its_check_reads() {
    let looser = TestMarket::with(&[("checks", "{ parse_errors_fail_share = 0.05 }")]);
    assert_ne!(key(Stage::Ingest, &TestMarket::new()), key(Stage::Ingest, &looser));
}
