//! Why coverage could not be measured or read; each message names the file, line, repository or command and
//! says what to do next.

use std::path::PathBuf;

/// The exact instructions printed when `cargo llvm-cov` cannot run.
pub const INSTALL_HINT: &str = "cargo-llvm-cov is not installed: run `cargo install cargo-llvm-cov --locked` and \
                                `rustup component add llvm-tools-preview`";

/// Why a coverage report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    /// A report file could not be read.
    #[error("cannot read {path}: {source}; run `wb coverage` without --lcov to produce it, or check the path")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// An LCOV file has a malformed record.
    #[error("{path}:{line}: {message}; regenerate the file with `cargo llvm-cov report --lcov`")]
    Lcov {
        /// The LCOV file.
        path: PathBuf,
        /// 1-based line number in it.
        line: usize,
        /// What is wrong with the record.
        message: String,
    },
    /// The `cargo llvm-cov --json` export is not what was expected.
    #[error("{path}: not a cargo llvm-cov JSON export ({message}); regenerate it with `cargo llvm-cov report --json`")]
    Json {
        /// The JSON file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `cargo llvm-cov` (or the llvm tools) is missing.
    #[error("{INSTALL_HINT} ({detail})")]
    ToolMissing {
        /// What happened when it was tried.
        detail: String,
    },
    /// `cargo llvm-cov` ran and failed (a test failed, a build error).
    #[error("`{command}` failed with {status}: fix the failing build or test above, then run `wb coverage` again")]
    ToolFailed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
    },
    /// The workspace is not inside a git repository.
    #[error("{root} is not inside a git repository ({source}); run this in a clone of the workspace")]
    NotARepository {
        /// The workspace root.
        root: PathBuf,
        /// What git2 said.
        #[source]
        source: git2::Error,
    },
    /// The base branch does not resolve.
    #[error(
        "base branch `{base}` does not exist in {repo}: pass --base <branch> naming the branch this work started from"
    )]
    BaseNotFound {
        /// The base as given.
        base: String,
        /// The repository's work tree.
        repo: PathBuf,
    },
    /// HEAD and the base have no common ancestor, or HEAD has no commit.
    #[error(
        "HEAD and `{base}` share no history in {repo}: commit once, or pass --base <branch> naming the branch HEAD was made from"
    )]
    NoMergeBase {
        /// The base as given.
        base: String,
        /// The repository's work tree.
        repo: PathBuf,
    },
    /// Any other git failure.
    #[error("git in {repo}: cannot {action}: {source}; check the repository with `git status`")]
    Git {
        /// The repository's work tree.
        repo: PathBuf,
        /// What was being done.
        action: &'static str,
        /// What git2 said.
        #[source]
        source: git2::Error,
    },
    /// A `[coverage]` threshold in workbench.toml is invalid.
    #[error("[coverage] {key} = {value}: a threshold is a percentage from 0 to 100; fix workbench.toml")]
    Threshold {
        /// The key (`line` or `patch`).
        key: &'static str,
        /// The value given.
        value: f64,
    },
    /// A registered market does not load, so its overrides are unknown.
    #[error("market {market} does not load: {message}; fix it (cargo test -p {market}) and try again")]
    Market {
        /// The market id.
        market: String,
        /// Why it does not load.
        message: String,
    },
}
