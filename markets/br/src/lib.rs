//! `foobar-br`, Brazil: Portuguese column names in the raw extracts (hook `normalize`) and a `;`/`DD/MM/YYYY`
//! export file (hook `export_format`). Delimiter, date formats, decimal comma and `S`/`N` booleans are config.

pipeline_core::market! {
    /// The Brazilian market.
    pub struct FoobarBr;
    overrides: [normalize, export_format];
}
