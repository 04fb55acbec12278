//! The command line, parsed at the edge into typed values: markets are checked against the registry, stages,
//! dates and backends are parsed here, so the rest of the workbench never handles raw strings.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use localstack::Backend;
use pipeline_core::Stage;
pub use workbench_runner::args::{
    MarketId, PreviousKeys, PreviousRows, RunnerArgs, parse_date, parse_previous_keys, parse_previous_rows, parse_stage,
};

/// `wb`: run the pipeline's stages per market, locally, with run history.
#[derive(Debug, Parser)]
#[command(name = "wb", version, about = "Workbench for the per-market data pipeline", propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The terminal workbench (what `wb` with no arguments opens), with options.
    Tui(crate::tui::TuiArgs),
    /// Run a stage (and what it needs upstream, from cache where valid) for one or more markets.
    Run(RunArgs),
    /// Start, inspect and stop a local AWS backend that outlives the command (`wb run` uses it while it runs).
    Aws(AwsArgs),
    /// List the latest runs from the run history, newest first.
    Runs(crate::runs_cmd::RunsArgs),
    /// Show one run (id, unique prefix, or `last`): its markets, stages, cache use and checks.
    Show(crate::runs_cmd::ShowArgs),
    /// Which markets and stages the changes since the base branch touch, and why.
    Affected(crate::affected_cmd::AffectedArgs),
    /// Watch the workspace and, on every save, rebuild and re-run exactly the affected markets and stages.
    Watch(crate::watch::WatchArgs),
    /// Compare a stage's output between two markets, or a market's with another run or git revision.
    Diff(crate::diff_cmd::DiffArgs),
    /// The market explorer: hook overrides (file and line), resolved config, model, raw format; two side by side.
    Explore(crate::diff_cmd::ExploreArgs),
    /// Line, function and region coverage per crate, patch coverage since the base branch, and which market
    /// hook overrides the tests execute, checked against the thresholds of workbench.toml.
    Coverage(crate::coverage_cmd::CoverageArgs),
    /// The reviewer's one command: build, run the affected markets, test under coverage, check the thresholds and
    /// the data-quality checks, diff the outputs against the base; a verdict and a report in .workbench/reports/.
    Check(crate::check_cmd::CheckArgs),
    /// Internal: run one market in this process and print its events as JSON lines (started by `wb run`).
    #[command(hide = true)]
    Runner(RunnerArgs),
}

/// `wb aws`: its subcommand.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AwsCommand,
}

/// The `wb aws` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum AwsCommand {
    /// Start a backend and leave it running (state in .workbench/aws.json); prints its endpoint, version and
    /// start-up time. For `endpoint`, only checks that AWS_ENDPOINT_URL answers.
    Up(AwsUpArgs),
    /// Show the running backend (endpoint, version, pid, uptime, buckets with object counts and sizes) and the
    /// measured start-up times of the embedded S3 and of the LocalStack host process.
    Status(AwsStatusArgs),
    /// Stop the running backend and remove its state file.
    Down(AwsDownArgs),
    /// Create (first time, ~90 s, needs PyPI) or check the LocalStack venv in .workbench/localstack-venv.
    Venv,
    /// Internal: start a backend and serve it until SIGTERM (started detached by `wb aws up`).
    #[command(hide = true)]
    Serve(AwsServeArgs),
}

/// Options of `wb aws up`.
#[derive(Debug, Clone, Args)]
pub struct AwsUpArgs {
    /// Backend: embedded, localstack, container or endpoint (default: `[aws] backend` in workbench.toml, else
    /// embedded).
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    pub aws: Option<Backend>,
}

/// Options of `wb aws status`.
#[derive(Debug, Clone, Args)]
pub struct AwsStatusArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `wb aws down`.
#[derive(Debug, Clone, Args)]
pub struct AwsDownArgs {
    /// Only stop the running backend if it is this one.
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    pub aws: Option<Backend>,
}

/// Options of the hidden `wb aws serve`.
#[derive(Debug, Clone, Args)]
pub struct AwsServeArgs {
    /// The backend to serve.
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    pub aws: Backend,
}

/// Options of `wb run`.
#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["markets", "all"]))]
pub struct RunArgs {
    /// Market to run (repeatable), e.g. foobar-au.
    #[arg(long = "market", value_name = "MARKET", value_parser = MarketId::parse)]
    pub markets: Vec<MarketId>,
    /// Run every registered market.
    #[arg(long)]
    pub all: bool,
    /// The stage to reach; the stages it needs run first (default: every stage).
    #[arg(long, value_parser = parse_stage)]
    pub stage: Option<Stage>,
    /// Run date, overriding the raw manifest's as_of.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Recompute every stage even when its cached output is valid.
    #[arg(long)]
    pub no_cache: bool,
    /// Print the runner's events as JSON lines (plus a final summary line) instead of the progress display.
    #[arg(long)]
    pub json: bool,
    /// S3 backend: embedded (default), endpoint (AWS_ENDPOINT_URL), localstack or container. Without it, the
    /// backend `wb aws up` left running is used, else `[aws] backend` in workbench.toml, else embedded.
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    pub aws: Option<Backend>,
    /// Directory holding `<market>/{customers,orders,interactions}.csv` and `_manifest.json` (default:
    /// fixtures/data in the workspace).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// How many markets run at once (default: `[run] jobs` in workbench.toml, else the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
    /// Run nothing: print per market and stage whether the cache would serve it (and why not), the expected time
    /// from recorded durations, and the total against the 15-minute budget.
    #[arg(long)]
    pub dry_run: bool,
    /// The runner to start per market instead of this wb's own (`wb runner`): a `wb-runner` binary (`cargo build
    /// -p workbench-runner`). `wb watch` rebuilds that small binary after an edit and passes it here.
    #[arg(long, value_name = "PATH")]
    pub runner: Option<PathBuf>,
}

impl RunArgs {
    /// The markets selected, in registry order for `--all`, else in the order given, without repeats.
    pub fn selected_markets(&self) -> Vec<MarketId> {
        if self.all {
            return MarketId::all();
        }
        let mut seen = Vec::new();
        for m in &self.markets {
            if !seen.contains(m) {
                seen.push(m.clone());
            }
        }
        seen
    }
}

/// Parses a backend name; the error lists the backends.
pub fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse::<Backend>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::collections::BTreeMap;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_parses_typed_values() {
        let cli = Cli::try_parse_from([
            "wb",
            "run",
            "--market",
            "foobar-br",
            "--market",
            "foobar-au",
            "--market",
            "foobar-br",
            "--stage",
            "features",
            "--as-of",
            "2026-11-15",
            "--aws",
            "endpoint",
            "--jobs",
            "2",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else { panic!("expected run") };
        assert_eq!(
            args.selected_markets().iter().map(MarketId::as_str).collect::<Vec<_>>(),
            ["foobar-br", "foobar-au"]
        );
        assert_eq!(args.stage, Some(Stage::Features));
        assert_eq!(args.as_of, NaiveDate::from_ymd_opt(2026, 11, 15));
        assert_eq!(args.aws, Some(Backend::Endpoint));
        assert_eq!(args.jobs, NonZeroUsize::new(2));
    }

    #[test]
    fn all_selects_every_market_in_registry_order() {
        let Command::Run(args) = Cli::try_parse_from(["wb", "run", "--all"]).unwrap().command else { panic!() };
        assert_eq!(args.selected_markets(), MarketId::all());
    }

    #[test]
    fn a_market_or_all_is_required() {
        assert!(Cli::try_parse_from(["wb", "run"]).is_err());
        assert!(Cli::try_parse_from(["wb", "run", "--all", "--market", "foobar-au"]).is_err());
    }

    #[test]
    fn bad_values_say_what_is_valid() {
        assert_eq!(
            MarketId::parse("foobar-xx").unwrap_err(),
            "unknown market 'foobar-xx': use one of foobar-au, foobar-br, foobar-ca, foobar-jp, foobar-de"
        );
        assert_eq!(
            parse_stage("feature").unwrap_err(),
            "unknown stage 'feature': use one of ingest, validate, features, score, recommend, export"
        );
        assert_eq!(
            parse_date("2026-13-01").unwrap_err(),
            "'2026-13-01' is not a date (input is out of range): use YYYY-MM-DD, e.g. 2026-11-15"
        );
    }

    #[test]
    fn aws_subcommands_parse_their_backend() {
        let Command::Aws(args) = Cli::try_parse_from(["wb", "aws", "up", "--aws", "localstack"]).unwrap().command
        else {
            panic!("expected aws")
        };
        assert!(matches!(args.command, AwsCommand::Up(AwsUpArgs { aws: Some(Backend::LocalStack) })));
        let Command::Aws(args) = Cli::try_parse_from(["wb", "aws", "status", "--json"]).unwrap().command else {
            panic!("expected aws")
        };
        assert!(matches!(args.command, AwsCommand::Status(AwsStatusArgs { json: true })));
        let Command::Aws(args) = Cli::try_parse_from(["wb", "aws", "serve", "--aws", "embedded"]).unwrap().command
        else {
            panic!("expected aws")
        };
        assert!(matches!(args.command, AwsCommand::Serve(AwsServeArgs { aws: Backend::Embedded })));
        let err = Cli::try_parse_from(["wb", "aws", "up", "--aws", "moto"]).unwrap_err().to_string();
        assert!(
            err.contains("unknown backend `moto`; expected one of embedded, localstack, container, endpoint"),
            "{err}"
        );
    }

    #[test]
    fn runner_reads_previous_rows_as_json() {
        let cli = Cli::try_parse_from([
            "wb",
            "runner",
            "--market",
            "foobar-au",
            "--run-id",
            "r1",
            "--previous-rows",
            r#"{"orders": 10}"#,
        ])
        .unwrap();
        let Command::Runner(args) = cli.command else { panic!("expected runner") };
        assert_eq!(args.previous_rows, Some(BTreeMap::from([("orders".to_string(), 10)])));
    }
}
