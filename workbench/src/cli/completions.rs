//! `wb completions`: its options.

use clap::{Args, ValueEnum};

/// Options of `wb completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// The shells `wb completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// Bash: `source <(wb completions bash)`.
    Bash,
    /// Zsh: a `_wb` file on `$fpath`.
    Zsh,
    /// Fish: `~/.config/fish/completions/wb.fish`.
    Fish,
}
