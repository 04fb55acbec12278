//! `foobar-ca`, Canada: interaction timestamps arrive in UTC and are converted to America/Toronto local time
//! (hook `normalize`), so an evening interaction counts on its local day. English and French content.

pipeline_core::market! {
    /// The Canadian market.
    pub struct FoobarCa;
    overrides: [normalize];
}
