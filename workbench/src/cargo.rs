//! The cargo the workbench starts (runner builds for `wb watch`, `wb check`, the TUI and `wb diff --against`):
//! `$CARGO` when set (a `wb` started by cargo uses the same toolchain), else `cargo` on the PATH, without the
//! variables Cargo sets for the programs it runs ([`workbench_coverage::run::cargo_run_vars`]), so a build from
//! `cargo run -- watch` reuses what a build from the shell compiled instead of rebuilding every dependency; and
//! the target directory those builds write to ([`target_dir`]).

/// A `cargo` command with a clean environment, for tokio.
pub fn command() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for var in workbench_coverage::run::cargo_run_vars() {
        command.env_remove(var);
    }
    command
}

/// The cargo target directory of the workspace at `root`: `$CARGO_TARGET_DIR` (relative to `root` when relative,
/// as cargo reads it from there), else `root/target`. Where the runner binaries the workbench builds end up.
pub fn target_dir(root: &std::path::Path) -> std::path::PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}
