//! Value parsers of the command line: markets are checked against the registry, stages, dates and backends parsed,
//! so the rest of the workbench never handles raw strings. The runner's own parsers are shared.

use localstack::Backend;

pub use markets::MarketId;
pub use workbench_runner::args::{parse_date, parse_stage};

/// Parses a backend name; the error lists the backends.
pub fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse::<Backend>().map_err(|e| e.to_string())
}
