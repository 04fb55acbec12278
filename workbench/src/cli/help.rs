//! `wb help`: its options.

use clap::Args;

/// Options of `wb help`.
#[derive(Debug, Clone, Args)]
pub struct HelpArgs {
    /// A command (`run`, `aws up`: its help, as with `--help`) or a topic (cache-keys, backends, checks,
    /// affected-rules); none for the overview and the list of topics.
    #[arg(value_name = "COMMAND|TOPIC")]
    pub topic: Vec<String>,
    /// Print one JSON object (`topic`, `title`, `text`) instead of text.
    #[arg(long)]
    pub json: bool,
}
