//! `wb tui` (and `wb` alone): its options.

use clap::Args;

use super::options::BackendOption;

/// Options of `wb tui` (what `wb` with no arguments runs with defaults).
#[derive(Debug, Clone, Default, Args)]
pub struct TuiArgs {
    /// The S3 backend.
    #[command(flatten)]
    pub backend: BackendOption,
    /// How many markets run at once (default: `[run] jobs` in workbench.toml, else the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<std::num::NonZeroUsize>,
}
