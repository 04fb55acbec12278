//! `wb outbox`: its options.

use clap::{Args, Subcommand};

/// Options of `wb outbox`: the list, or `show` for one message.
#[derive(Debug, Clone, Args)]
pub struct OutboxArgs {
    /// `show FILE|latest`; without it, the list.
    #[command(subcommand)]
    pub command: Option<OutboxCommand>,
    /// Print one JSON array (file, market, run_id, subject, date, from, to) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// What `wb outbox` does besides listing.
#[derive(Debug, Clone, Subcommand)]
pub enum OutboxCommand {
    /// Print one message: its headers and its text.
    Show(OutboxShowArgs),
}

/// Options of `wb outbox show`.
#[derive(Debug, Clone, Args)]
pub struct OutboxShowArgs {
    /// The message: a file name of the outbox (as `wb outbox` lists it, `.eml` optional), or `latest`.
    #[arg(value_name = "FILE|latest")]
    pub which: String,
    /// Print one JSON object (the list's fields and `body`) instead of text.
    #[arg(long)]
    pub json: bool,
}
