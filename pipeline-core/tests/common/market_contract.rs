//! The hook contract every market keeps: `Market::overrides()` lists exactly the hooks whose behaviour differs
//! from the base, each with the workspace path of the file that holds it and that file's text.
//!
//! Shared by the pipeline-core tests (`common::market_contract`) and the market crates' tests, which include this
//! file with `#[path = "../../../pipeline-core/tests/common/market_contract.rs"] mod market_contract;`.

#![allow(dead_code, missing_docs)]

use std::path::Path;

use pipeline_core::hooks::{BASE_SOURCE, base, hook_source};
use pipeline_core::raw::{RawFile, read_strings};
use pipeline_core::{Hook, Market};
use polars::prelude::*;

/// Asserts that every override `market.overrides()` lists lives where it says: the file exists under `root` (the
/// workspace root) with exactly the listed source text and defines `pub fn <hook>`, and that each unlisted hook's
/// cache-key source is the base's. The list itself is declared once, in the market's `pipeline_core::market!`.
pub fn assert_overrides_listed(market: &dyn Market, root: &Path) {
    let listed: Vec<Hook> = market.overrides().iter().map(|o| o.hook).collect();
    for o in market.overrides() {
        let path = root.join(o.file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: override file {} of {} cannot be read: {e}", market.id(), o.file, o.hook));
        assert!(text == o.source, "{}: the source of {} is not the text of {}", market.id(), o.hook, o.file);
        assert!(
            text.contains(&format!("pub fn {}(", o.hook.name())),
            "{}: {} must define `pub fn {}`",
            market.id(),
            o.file,
            o.hook.name()
        );
        assert_eq!(hook_source(market, o.hook), o.source);
    }
    for hook in Hook::ALL {
        if !listed.contains(&hook) {
            assert!(hook_source(market, hook) == BASE_SOURCE, "{}: unlisted {hook} must key on the base", market.id());
        }
    }
}

/// Asserts that every hook `overrides()` does not list gives the base's result on every sample: an override the
/// market forgot to declare would escape the cache keys. `raw` are extracts in the market's own format.
pub fn assert_unlisted_hooks_behave_as_base(market: &dyn Market, raw: &[RawFile]) {
    for hook in Hook::ALL {
        let listed = market.overrides().iter().any(|o| o.hook == hook);
        if !listed {
            assert!(
                behaves_as_base(market, hook, raw),
                "{}: {hook} differs from the base but the market does not declare it in `overrides: [...]`",
                market.id()
            );
        }
    }
}

/// Asserts that each hook behaves as the base exactly when `overrides()` does not list it: an unlisted hook gives
/// the base's result on every sample, a listed one differs on at least one. `raw` are extracts in the market's
/// own format, the samples for `normalize`.
pub fn assert_listed_hooks_are_exactly_the_changed_ones(market: &dyn Market, raw: &[RawFile]) {
    for hook in Hook::ALL {
        let listed = market.overrides().iter().any(|o| o.hook == hook);
        let same = behaves_as_base(market, hook, raw);
        assert_eq!(
            same,
            !listed,
            "{}: {hook} {} the base but overrides() {} it",
            market.id(),
            if same { "behaves as" } else { "differs from" },
            if listed { "lists" } else { "does not list" },
        );
    }
}

fn behaves_as_base(market: &dyn Market, hook: Hook, raw: &[RawFile]) -> bool {
    let config = market.config();
    match hook {
        Hook::Normalize => raw.iter().all(|file| {
            let ours = read_strings(file, &config.raw).and_then(|r| market.normalize(r));
            let base = read_strings(file, &config.raw).and_then(|r| base::normalize(config, r));
            match (ours, base) {
                (Ok(a), Ok(b)) => a.frame.equals_missing(&b.frame) && a.rejected == b.rejected,
                (Err(a), Err(b)) => a.to_string() == b.to_string(),
                _ => false,
            }
        }),
        Hook::EligibleChannels => {
            let customers = every_opt_in_combination();
            let eval = |channels: Vec<(&'static str, Expr)>| {
                let exprs: Vec<Expr> = channels.into_iter().map(|(ch, cond)| cond.alias(ch)).collect();
                customers.clone().lazy().select(exprs).collect().unwrap()
            };
            eval(market.eligible_channels()).equals_missing(&eval(base::eligible_channels()))
        }
        Hook::Content => {
            let frame = df!(
                "action" => ["offer", "nurture", "winback", "offer", "offer", "offer", "offer"],
                "language" => [Some("en"), Some("fr"), Some("pt"), Some("ja"), Some("de"), Some("xx"), None],
            )
            .unwrap();
            let eval = |e: Expr| frame.clone().lazy().select([e.alias("content_id")]).collect().unwrap();
            eval(market.content(col("action"), col("language"))).equals_missing(&eval(base::content(
                config,
                col("action"),
                col("language"),
            )))
        }
        Hook::Schedule => {
            let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 9).unwrap();
            (0..14)
                .map(|k| monday + chrono::Days::new(k))
                .all(|day| market.schedule(day) == base::schedule(config, day))
        }
        Hook::ExportFormat => market.export_format() == base::export_format(),
    }
}

/// Customers with every combination of the three opt-ins, doi_confirmed and segment A/B (64 rows).
fn every_opt_in_combination() -> DataFrame {
    let bit = |k: usize, b: usize| k >> b & 1 == 1;
    let n = 64;
    df!(
        "segment" => (0..n).map(|k| if bit(k, 4) { "A" } else { "B" }).collect::<Vec<_>>(),
        "email_opt_in" => (0..n).map(|k| bit(k, 0)).collect::<Vec<_>>(),
        "sms_opt_in" => (0..n).map(|k| bit(k, 1)).collect::<Vec<_>>(),
        "phone_opt_in" => (0..n).map(|k| bit(k, 2)).collect::<Vec<_>>(),
        "doi_confirmed" => (0..n).map(|k| bit(k, 3)).collect::<Vec<_>>(),
        "language" => (0..n).map(|k| if bit(k, 5) { "en" } else { "de" }).collect::<Vec<_>>(),
    )
    .unwrap()
}
