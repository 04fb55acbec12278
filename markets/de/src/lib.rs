//! `foobar-de`, Germany: email needs double opt-in (`doi_confirmed`, hook `eligible_channels`), so the customers
//! extract must carry that column (hook `normalize`); `;`, `DD.MM.YYYY` and decimal commas are config; nothing
//! is scheduled on weekends.

pipeline_core::market! {
    /// The German market.
    pub struct FoobarDe;
    overrides: [normalize, eligible_channels];
}
