//! The command line, parsed at the edge into typed values: markets are checked against the registry, stages,
//! dates and backends are parsed here, so the rest of the workbench never handles raw strings.

use clap::{Parser, Subcommand};
pub use workbench_runner::args::RunnerArgs;

pub mod affected;
pub mod aws;
pub mod check;
pub mod completions;
pub mod coverage;
pub mod diff;
pub mod doctor;
pub mod help;
pub mod kpi;
pub mod new_market;
pub mod options;
pub mod outbox;
pub mod parse;
pub mod run;
pub mod runs;
pub mod tui;
pub mod watch;

pub use self::affected::AffectedArgs;
pub use self::aws::{AwsArgs, AwsCommand, AwsDownArgs, AwsServeArgs, AwsStatusArgs, AwsUpArgs};
pub use self::check::CheckArgs;
pub use self::completions::{CompletionShell, CompletionsArgs};
pub use self::coverage::CoverageArgs;
pub use self::diff::{DiffArgs, ExploreArgs};
pub use self::doctor::DoctorArgs;
pub use self::help::HelpArgs;
pub use self::kpi::KpiArgs;
pub use self::new_market::NewMarketArgs;
pub use self::options::{BackendOption, RunnerOptions};
pub use self::outbox::{OutboxArgs, OutboxCommand, OutboxShowArgs};
pub use self::parse::{MarketId, backend_parser, market_parser, parse_backend, parse_date, parse_stage, stage_parser};
pub use self::run::RunArgs;
pub use self::runs::{RunsArgs, ShowArgs};
pub use self::tui::TuiArgs;
pub use self::watch::WatchArgs;

/// `wb`: run the pipeline's stages per market, locally, with run history.
#[derive(Debug, Parser)]
#[command(
    name = "wb",
    version,
    about = "Workbench for the per-market data pipeline",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The terminal workbench (what `wb` with no arguments opens), with options.
    Tui(TuiArgs),
    /// Run a stage (and what it needs upstream, from cache where valid) for one or more markets.
    Run(RunArgs),
    /// Start, inspect and stop a local AWS backend that outlives the command (`wb run` uses it while it runs).
    #[command(after_help = "The four backends: wb help backends")]
    Aws(AwsArgs),
    /// List the latest runs from the run history, newest first.
    Runs(RunsArgs),
    /// Show one run (id, unique prefix, or `last`): its markets, stages, cache use and checks.
    Show(ShowArgs),
    /// List the alert emails written to the outbox (runs on the embedded backend), or `show` one.
    Outbox(OutboxArgs),
    /// Which markets and stages the changes since the base branch touch, and why.
    #[command(after_help = "The rules, file by file: wb help affected-rules")]
    Affected(AffectedArgs),
    /// Watch the workspace and, on every save, rebuild and re-run exactly the affected markets and stages.
    Watch(WatchArgs),
    /// Compare a stage's output between two markets, or a market's with another run or git revision.
    Diff(DiffArgs),
    /// The market explorer: hook overrides (file and line), resolved config, model, raw format; two side by side.
    Explore(ExploreArgs),
    /// Line, function and region coverage per crate, patch coverage since the base branch, and which market
    /// hook overrides the tests execute, checked against the thresholds of workbench.toml.
    Coverage(CoverageArgs),
    /// The reviewer's one command: build, run the affected markets, test under coverage, check the thresholds and
    /// the data-quality checks, diff the outputs against the base; a verdict and a report in .workbench/reports/.
    Check(CheckArgs),
    /// The quality KPIs per market over recent runs: checks, model drift p-values (KS on propensity,
    /// chi-square on the action mix), recorded metrics, stage times, budget, cache, tests and coverage.
    Kpi(KpiArgs),
    /// What works on this machine, what does not, and the command that fixes each (toolchain, Python, Docker...).
    Doctor(DoctorArgs),
    /// Create a market from an existing one in one step: its crate, registration, fixtures and goldens, then
    /// the hooks to change for each kind of difference.
    NewMarket(NewMarketArgs),
    /// Write a shell completion script to stdout: bash, zsh or fish (see the README for where it goes).
    Completions(CompletionsArgs),
    /// Print this overview and the list of topics, a command's help (`wb help run`), or a topic (`wb help checks`).
    Help(HelpArgs),
    /// Internal: run one market in this process and print its events as JSON lines (started by `wb run`).
    #[command(hide = true)]
    Runner(RunnerArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use clap::CommandFactory;
    use localstack::Backend;
    use pipeline_core::Stage;
    use std::collections::BTreeMap;
    use std::num::NonZeroUsize;

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
        assert_eq!(args.backend.aws, Some(Backend::Endpoint));
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
            MarketId::parse("foobar-zz").unwrap_err(),
            format!("unknown market 'foobar-zz': use one of {}", markets::ids().join(", "))
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
