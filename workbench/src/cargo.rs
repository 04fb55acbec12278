//! The cargo the workbench starts (runner builds for `wb watch`, `wb check`, the TUI and `wb diff --against`):
//! `$CARGO` when set (a `wb` started by cargo uses the same toolchain), else `cargo` on the PATH, without the
//! variables Cargo sets for the programs it runs ([`workbench_coverage::run::cargo_run_vars`]), so a build from
//! `cargo run -- watch` reuses what a build from the shell compiled instead of rebuilding every dependency.

/// A `cargo` command with a clean environment, for tokio.
pub fn command() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for var in workbench_coverage::run::cargo_run_vars() {
        command.env_remove(var);
    }
    command
}
