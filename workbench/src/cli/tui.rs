//! `wb tui` (and `wb` alone): its options.

use clap::Args;
use localstack::Backend;

use super::parse::parse_backend;

/// Options of `wb tui` (what `wb` with no arguments runs with defaults).
#[derive(Debug, Clone, Default, Args)]
pub struct TuiArgs {
    /// S3 backend: embedded, localstack, container or endpoint (default: the backend `wb aws up` left running,
    /// else `[aws] backend` in workbench.toml, else embedded).
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    pub aws: Option<Backend>,
    /// How many markets run at once (default: `[run] jobs` in workbench.toml, else the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<std::num::NonZeroUsize>,
}
