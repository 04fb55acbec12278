//! `wb doctor`: its options.

use clap::Args;

/// Options of `wb doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Print one JSON object (`ok` and every check with its status, what was found and its fix) instead of text.
    #[arg(long)]
    pub json: bool,
}
