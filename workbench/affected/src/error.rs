//! Why the affected analysis could not be made; each message names the repository, branch or file and says what
//! to do next.

use std::path::PathBuf;

/// Why the changed files or the declarations could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AffectedError {
    /// The workspace is not inside a git repository.
    #[error("{root} is not inside a git repository ({source}); run this in a clone of the workspace")]
    NotARepository {
        /// The workspace root.
        root: PathBuf,
        /// What git2 said.
        #[source]
        source: git2::Error,
    },
    /// The base branch does not exist.
    #[error(
        "base branch `{base}` does not exist in {repo}{}: pass --base <branch> naming the branch this work started \
         from{}",
        list_branches(branches),
        suggest(branches)
    )]
    BaseNotFound {
        /// The base as given.
        base: String,
        /// The repository's work tree.
        repo: PathBuf,
        /// Its local branches, to choose from.
        branches: Vec<String>,
    },
    /// `HEAD` has no commit, so there is no merge base.
    #[error("HEAD of {repo} has no commit yet: commit once, then compare with --base <branch>")]
    NoHead {
        /// The repository's work tree.
        repo: PathBuf,
    },
    /// `HEAD` and the base have no common ancestor.
    #[error("HEAD and `{base}` share no history in {repo}: pass --base <branch> naming the branch HEAD was made from")]
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
    /// A directory of the workspace could not be read.
    #[error("cannot read {path}: {source}; check that the workspace is readable")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A registered market does not load, so its hook overrides are unknown.
    #[error("market {market} does not load: {source}; fix it (cargo test -p {market}) and try again")]
    Market {
        /// The market id.
        market: String,
        /// Why it does not load.
        #[source]
        source: Box<pipeline_core::PipelineError>,
    },
}

fn list_branches(branches: &[String]) -> String {
    if branches.is_empty() { String::new() } else { format!(" (its branches: {})", branches.join(", ")) }
}

fn suggest(branches: &[String]) -> String {
    branches.first().map(|b| format!(", e.g. --base {b}")).unwrap_or_default()
}
