//! `wb aws` and its subcommands: its options.

use clap::{Args, Subcommand};
use localstack::Backend;

use super::parse::backend_parser;

/// `wb aws`: its subcommand.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AwsCommand,
}

/// The `wb aws` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum AwsCommand {
    /// Start a backend and leave it running (state in .workbench/aws.json); prints its endpoint, version and
    /// start-up time. For `endpoint`, only checks that AWS_ENDPOINT_URL answers.
    Up(AwsUpArgs),
    /// Show the running backend (endpoint, version, pid, uptime, buckets with object counts and sizes) and the
    /// measured start-up times of the embedded S3 and of the LocalStack host process.
    Status(AwsStatusArgs),
    /// Stop the running backend and remove its state file.
    Down(AwsDownArgs),
    /// Create (first time, ~90 s, needs PyPI) or check the LocalStack venv in .workbench/localstack-venv.
    Venv,
    /// Internal: start a backend and serve it until SIGTERM (started detached by `wb aws up`).
    #[command(hide = true)]
    Serve(AwsServeArgs),
}

/// Options of `wb aws up`.
#[derive(Debug, Clone, Args)]
pub struct AwsUpArgs {
    /// Backend: embedded, localstack, container or endpoint (default: `[aws] backend` in workbench.toml, else
    /// embedded).
    #[arg(long, value_name = "BACKEND", value_parser = backend_parser())]
    pub aws: Option<Backend>,
}

/// Options of `wb aws status`.
#[derive(Debug, Clone, Args)]
pub struct AwsStatusArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `wb aws down`.
#[derive(Debug, Clone, Args)]
pub struct AwsDownArgs {
    /// Only stop the running backend if it is this one.
    #[arg(long, value_name = "BACKEND", value_parser = backend_parser())]
    pub aws: Option<Backend>,
}

/// Options of the hidden `wb aws serve`.
#[derive(Debug, Clone, Args)]
pub struct AwsServeArgs {
    /// The backend to serve.
    #[arg(long, value_name = "BACKEND", value_parser = backend_parser())]
    pub aws: Backend,
}
