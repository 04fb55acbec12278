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
//! [`check_cmd`] is `wb check`, the reviewer's one command: all of those in one verdict and report.

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
use crate::services::supervisor::RunnerCommand;

/// Parses the command line and runs it; the binary's whole `main`.
pub fn main() -> ExitCode {
    // `wb` alone opens the terminal workbench.
    if std::env::args_os().len() == 1 {
        return tui::main(cli::TuiArgs::default());
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Runner(args) => runner::main(args),
        Command::Affected(args) => ExitCode::from(commands::affected::main(&args)),
        Command::Watch(args) => match runtime() {
            Ok(runtime) => ExitCode::from(runtime.block_on(commands::watch::watch(args))),
            Err(code) => code,
        },
        Command::Tui(args) => tui::main(args),
        Command::Runs(args) => ExitCode::from(commands::runs::runs(&args)),
        Command::Show(args) => ExitCode::from(commands::runs::show(&args)),
        Command::Diff(args) => match runtime() {
            Ok(runtime) => ExitCode::from(runtime.block_on(commands::diff::diff(args))),
            Err(code) => code,
        },
        Command::Explore(args) => ExitCode::from(commands::diff::explore(&args)),
        Command::Coverage(args) => ExitCode::from(commands::coverage::main(&args)),
        Command::Check(args) => match runtime() {
            Ok(runtime) => ExitCode::from(runtime.block_on(commands::check::check(args))),
            Err(code) => code,
        },
        Command::Aws(args) => match runtime() {
            Ok(runtime) => ExitCode::from(runtime.block_on(commands::aws::main(args))),
            Err(code) => code,
        },
        Command::Run(args) => {
            let runner = match run_runner(args.runner.as_deref()) {
                Ok(runner) => runner,
                Err(message) => {
                    eprintln!("error: {message}");
                    return ExitCode::from(ExitStatus::Error);
                }
            };
            let runtime = match runtime() {
                Ok(runtime) => runtime,
                Err(code) => return code,
            };
            let command_line = std::iter::once("wb".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>();
            let invocation = commands::run::Invocation { args, runner, command_line: command_line.join(" ") };
            ExitCode::from(runtime.block_on(commands::run::run(invocation)))
        }
    }
}

/// The runner `wb run` starts: the `--runner` binary when given (it must exist), else this very `wb`.
fn run_runner(runner: Option<&std::path::Path>) -> Result<RunnerCommand, String> {
    match runner {
        Some(path) if path.is_file() => Ok(RunnerCommand::new(path)),
        Some(path) => Err(format!(
            "--runner {}: no such file; build it with `cargo build -p workbench-runner --bin wb-runner`",
            path.display()
        )),
        None => RunnerCommand::current_exe()
            .map_err(|e| format!("cannot locate the wb executable to start runners: {e}; run wb from a file path")),
    }
}

/// A multi-thread tokio runtime, or the exit code after saying why there is none.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}; check the process limits");
        ExitCode::from(ExitStatus::Error)
    })
}
