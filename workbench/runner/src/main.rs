//! `wb-runner`: the runner alone (pipeline, markets, JSON-lines protocol), for `wb run --runner` and `wb watch`.
//! Its command line is `wb runner`'s: `wb-runner runner --market foobar-br --run-id ...`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use workbench_runner::RunnerArgs;

/// `wb-runner`: runs one market and prints its events as JSON lines (started by `wb run --runner`).
#[derive(Debug, Parser)]
#[command(name = "wb-runner", version, about = "Runs one market's stages and prints events as JSON lines")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one market in this process and print its events as JSON lines.
    Runner(RunnerArgs),
}

fn main() -> ExitCode {
    let Command::Runner(args) = Cli::parse().command;
    workbench_runner::main(args)
}
