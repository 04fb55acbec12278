//! Option groups several commands share, defined once and flattened into their `*Args`.

use std::path::PathBuf;

use clap::Args;
use localstack::Backend;

use super::parse::backend_parser;

/// `--aws`: the S3 backend a command's runs or reads use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct BackendOption {
    /// S3 backend: embedded, endpoint (AWS_ENDPOINT_URL), localstack or container (default: the backend `wb aws
    /// up` left running, else `[aws] backend` in workbench.toml, else embedded).
    #[arg(long, value_name = "BACKEND", value_parser = backend_parser())]
    pub aws: Option<Backend>,
}

/// The runner of the commands that rebuild it after an edit (`wb watch`, `wb check`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct RunnerOptions {
    /// The runner binary the runs start per market (`wb run --runner`; default: the workspace's
    /// target/debug/wb-runner, or target/release/wb-runner with `wb watch --release`, rebuilt first). Any program
    /// taking `runner` and its arguments will do, `wb` too.
    #[arg(long, value_name = "PATH")]
    pub runner: Option<PathBuf>,
    /// Do not rebuild the runner: use the runner binary as it is.
    #[arg(long)]
    pub no_build: bool,
    /// No effect, kept so existing command lines still parse: the runs are made in process by the run service, so
    /// no wb binary is started.
    #[arg(long, value_name = "PATH", hide = true)]
    pub wb: Option<PathBuf>,
}
