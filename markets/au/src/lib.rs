//! `foobar-au`, Australia: the reference market. Canonical raw extracts and the base behaviour of every hook;
//! only its configuration (`market.toml`) and model (`model.toml`) are its own.

pipeline_core::market! {
    /// The Australian market.
    pub struct FoobarAu;
    overrides: [];
}
