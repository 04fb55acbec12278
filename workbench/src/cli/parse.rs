//! Value parsers of the command line: markets are checked against the registry, stages, dates and backends parsed,
//! so the rest of the workbench never handles raw strings. The runner's own parsers are shared.
//!
//! Markets, stages and backends are parsed by [`Listed`] parsers, which also name their valid values: clap shows
//! them in `--help` and `wb completions` offers them to the shell, while the parse and its error stay the plain
//! function's.

use clap::builder::{PossibleValue, TypedValueParser};
use localstack::Backend;
use pipeline_core::Stage;

pub use markets::MarketId;
pub use workbench_runner::args::{parse_date, parse_stage};

/// Parses a backend name; the error lists the backends.
pub fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse::<Backend>().map_err(|e| e.to_string())
}

/// A value parser over a fixed list: `parse` checks and converts (its error is clap's usual "invalid value ... :
/// <error>"), `values` names every valid value for help and shell completions.
#[derive(Clone, Copy)]
pub struct Listed<T> {
    parse: fn(&str) -> Result<T, String>,
    values: fn() -> Vec<&'static str>,
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Listed<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        self.parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new((self.values)().into_iter().map(PossibleValue::new)))
    }
}

/// `--market`: a registered market id ([`MarketId::parse`]); the registry's ids are the possible values.
pub fn market_parser() -> Listed<MarketId> {
    Listed { parse: MarketId::parse, values: markets::ids }
}

/// `--stage`: a stage name ([`parse_stage`]); the six stages, in execution order, are the possible values.
pub fn stage_parser() -> Listed<Stage> {
    Listed { parse: parse_stage, values: || Stage::ALL.iter().map(|s| s.name()).collect() }
}

/// `--aws`: a backend name ([`parse_backend`]); the four backends are the possible values.
pub fn backend_parser() -> Listed<Backend> {
    Listed { parse: parse_backend, values: || Backend::ALL.iter().map(|b| b.as_str()).collect() }
}
