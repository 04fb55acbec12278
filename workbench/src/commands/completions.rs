//! `wb completions bash|zsh|fish`: the shell completion script generated from the command line's own definition
//! (`clap_complete`), so it never lags behind a new command or option. Hidden commands stay hidden; markets,
//! stages and backends complete to their valid values.

use std::io::Write;

use clap::builder::ArgGroup;
use clap::{Command, CommandFactory};
use clap_complete::Shell;

use crate::cli::{Cli, CompletionShell, CompletionsArgs};
use crate::exit::ExitStatus;

/// Writes the completion script for the chosen shell to stdout.
pub fn main(args: &CompletionsArgs) -> ExitStatus {
    let mut script = Vec::new();
    clap_complete::generate(shell(args.shell), &mut visible(&Cli::command()), "wb", &mut script);
    match std::io::stdout().lock().write_all(&script) {
        Ok(()) => ExitStatus::Ok,
        Err(e) => {
            eprintln!("error: cannot write the completion script to stdout: {e}; redirect it to a file instead");
            ExitStatus::Error
        }
    }
}

/// The `clap_complete` generator of a shell `wb completions` supports.
fn shell(shell: CompletionShell) -> Shell {
    match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    }
}

/// `cmd` without its hidden subcommands and options, recursively: `clap_complete` would offer those too (`wb
/// runner`, `wb aws serve`, `--wb`). Clap has no way to remove a subcommand or an argument, so the command is built
/// again from the visible parts: names, descriptions, version, arguments and groups, which is all a completion
/// script reads.
pub fn visible(cmd: &Command) -> Command {
    let kept: Vec<_> = cmd.get_arguments().filter(|a| !a.is_hide_set()).cloned().collect();
    let groups: Vec<ArgGroup> = cmd
        .get_groups()
        .map(|g| {
            let args = g.get_args().filter(|id| kept.iter().any(|a| a.get_id() == *id)).cloned();
            // `is_multiple` takes `&mut self` (it settles the default), hence the clone.
            let multiple = g.clone().is_multiple();
            ArgGroup::new(g.get_id().clone()).args(args).multiple(multiple).required(g.is_required_set())
        })
        .collect();
    let mut out = Command::new(leak(cmd.get_name()))
        .disable_help_subcommand(cmd.is_disable_help_subcommand_set())
        .propagate_version(cmd.is_propagate_version_set())
        .args(kept)
        .groups(groups)
        .subcommands(cmd.get_subcommands().filter(|c| !c.is_hide_set()).map(visible));
    if let Some(about) = cmd.get_about() {
        out = out.about(about.clone());
    }
    if let Some(version) = cmd.get_version() {
        out = out.version(leak(version));
    }
    out
}

/// A name for the rebuilt command: clap takes only `'static` names without its `string` feature, and this
/// process ends right after writing the script.
fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}
