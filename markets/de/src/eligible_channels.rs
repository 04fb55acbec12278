//! German law requires double opt-in for marketing email: `email` is eligible only with `doi_confirmed`.

use pipeline_core::hooks::base;
use polars::prelude::*;

/// The base channels, with email also requiring `doi_confirmed`.
pub fn eligible_channels() -> Vec<(&'static str, Expr)> {
    base::eligible_channels()
        .into_iter()
        .map(|(channel, condition)| {
            if channel == "email" {
                (channel, condition.and(col("doi_confirmed").fill_null(lit(false))))
            } else {
                (channel, condition)
            }
        })
        .collect()
}
