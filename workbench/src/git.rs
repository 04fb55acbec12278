//! The commit a run was made from, through the `git` command line, for run history. Optional by design: outside
//! a repository, or without `git` installed, there is simply no commit to record.

use std::path::Path;
use std::process::{Command, Stdio};

/// The checked-out commit and whether tracked files differ from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitState {
    /// Full hash of `HEAD`.
    pub commit: String,
    /// Tracked files have uncommitted changes.
    pub dirty: bool,
}

/// The state of the repository holding `root`, or `None` outside a repository or without `git`.
pub fn state(root: &Path) -> Option<GitState> {
    let commit = git(root, &["rev-parse", "--verify", "HEAD"])?;
    let status = git(root, &["status", "--porcelain", "--untracked-files=no"])?;
    Some(GitState { commit: commit.trim().to_string(), dirty: !status.trim().is_empty() })
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let output =
        Command::new("git").arg("-C").arg(root).args(args).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}
