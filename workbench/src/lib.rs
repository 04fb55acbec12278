//! The workbench behind `wb`: runs the pipeline's stages per market in runner processes against a local (or
//! any) S3 backend, shows progress, and keeps run history.
//!
//! One concern per module: [`cli`] parses the command line into typed values, [`workspace`] finds the root and
//! its settings, [`provision`] creates buckets and loads fixtures, [`runner`] (crate `workbench-runner`) is the
//! child process running one market, [`supervisor`] starts runners and turns their output into typed updates,
//! [`history`] is the SQLite run history, [`report`] renders what people read, and [`run`] ties them into `wb run`.
//! [`aws`] is `wb aws`: a local AWS backend left running for a session of work, which `wb run` then uses.
//! [`recorder`] is one run's bookkeeping (markets' state, history writes), shared by `wb run` and the TUI.
//!
//! [`tui`] is `wb` with no arguments: the terminal workbench. [`runs_cmd`] is `wb runs` / `wb show`: run history
//! readable without the TUI; [`git`] reads the repository through git2. [`affected_cmd`] (`wb affected`),
//! [`dry_run`] (`wb run --dry-run`) and [`watch`] (`wb watch`) say and re-run what a change touches;
//! [`diff_cmd`] is `wb diff` and `wb explore` over the `workbench-diff` engine. [`coverage_cmd`] is `wb coverage`:
//! coverage per crate, patch coverage and the hook override matrix against the thresholds (`workbench-coverage`).
//! [`check_cmd`] is `wb check`, the reviewer's one command: all of those in one verdict and report. `wb doctor`
//! ([`commands::doctor`]) says what works on this machine and the command that fixes what does not.

pub mod cli;
pub mod commands;
pub mod exit;
pub mod git;
pub mod history;
pub mod present;
pub mod services;
pub mod sys;
pub mod tui;
pub mod workspace;

/// The runner, the child process of `wb run` (its own crate and `wb-runner` binary; see [`workbench_runner`]).
pub use workbench_runner as runner;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::exit::ExitStatus;

/// Parses the command line and hands it to its command; the binary's whole `main`.
pub fn main() -> ExitCode {
    // `wb` alone opens the terminal workbench.
    if std::env::args_os().len() == 1 {
        return tui::main(cli::TuiArgs::default());
    }
    match Cli::parse().command {
        Command::Runner(args) => runner::main(args),
        Command::Tui(args) => tui::main(args),
        Command::Completions(args) => commands::completions::main(&args).into(),
        Command::Help(args) => commands::help::main(&args).into(),
        Command::Affected(args) => commands::affected::main(&args).into(),
        Command::Runs(args) => commands::runs::runs(&args).into(),
        Command::Show(args) => commands::runs::show(&args).into(),
        Command::Outbox(args) => commands::outbox::main(&args).into(),
        Command::Explore(args) => commands::diff::explore(&args).into(),
        Command::Coverage(args) => commands::coverage::main(&args).into(),
        Command::Doctor(args) => commands::doctor::main(&args).into(),
        Command::Kpi(args) => commands::kpi::main(&args).into(),
        Command::NewMarket(args) => commands::new_market::main(&args).into(),
        Command::Watch(args) => block_on(commands::watch::watch(args)),
        Command::Diff(args) => block_on(commands::diff::diff(args)),
        Command::Check(args) => block_on(commands::check::check(args)),
        Command::Aws(args) => block_on(commands::aws::main(args)),
        Command::Run(args) => match commands::run::invocation(args) {
            Ok(invocation) => block_on(commands::run::run(invocation)),
            Err(status) => status.into(),
        },
    }
}

/// Runs an async command on a multi-thread tokio runtime, or says why there is none (exit 2).
fn block_on(command: impl std::future::Future<Output = ExitStatus>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(command).into(),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}; check the process limits");
            ExitStatus::Error.into()
        }
    }
}
