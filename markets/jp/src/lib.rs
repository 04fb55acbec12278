//! `foobar-jp`, Japan: raw customers carry no `sms_opt_in` column and Japan has no sms channel (hook
//! `normalize` sets it false); `YYYY/MM/DD` dates and integer yen amounts are config.

pipeline_core::market! {
    /// The Japanese market.
    pub struct FoobarJp;
    overrides: [normalize];
}
