//! The workbench behind `wb`: runs the pipeline's stages per market in runner processes against a local (or
//! any) S3 backend, shows progress, and keeps run history.
//!
//! One concern per module: [`cli`] parses the command line into typed values, [`workspace`] finds the root and
//! its settings, [`provision`] creates buckets and loads fixtures, [`runner`] is the child process running one
//! market, [`supervisor`] starts runners and turns their output into typed updates, [`history`] is the SQLite
//! run history, [`report`] renders what people read, and [`run`] ties them into `wb run`. [`aws`] is `wb aws`:
//! a local AWS backend left running for a session of work, which `wb run` then uses.

pub mod aws;
pub mod cli;
pub mod git;
pub mod history;
pub mod provision;
pub mod report;
pub mod run;
pub mod runner;
pub mod supervisor;
pub mod sys;
pub mod workspace;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::supervisor::RunnerCommand;

/// Parses the command line and runs it; the binary's whole `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Runner(args) => runner::main(args),
        Command::Aws(args) => match runtime() {
            Ok(runtime) => ExitCode::from(runtime.block_on(aws::main(args))),
            Err(code) => code,
        },
        Command::Run(args) => {
            let runner = match RunnerCommand::current_exe() {
                Ok(runner) => runner,
                Err(e) => {
                    eprintln!("error: cannot locate the wb executable to start runners: {e}; run wb from a file path");
                    return ExitCode::from(run::EXIT_ERROR);
                }
            };
            let runtime = match runtime() {
                Ok(runtime) => runtime,
                Err(code) => return code,
            };
            let command_line = std::iter::once("wb".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>();
            let invocation = run::Invocation { args, runner, command_line: command_line.join(" ") };
            ExitCode::from(runtime.block_on(run::run(invocation)))
        }
    }
}

/// A multi-thread tokio runtime, or the exit code after saying why there is none.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}; check the process limits");
        ExitCode::from(run::EXIT_ERROR)
    })
}
