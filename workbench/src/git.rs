//! The repository the workspace lives in, read through libgit2 (`git2`), never the `git` command line: the
//! commit a run was made from (run history) and the state the TUI's header shows (repository, branch, HEAD,
//! changed files). Optional by design: outside a repository there is simply nothing to record or show, so both
//! functions return `None` rather than an error.
//!
//! Both are cheap enough to call every few seconds: one repository discovery and one status walk that skips
//! ignored files, submodules and rename detection.

use std::path::Path;

use git2::{Repository, Status, StatusOptions};

/// The checked-out commit and whether tracked files differ from it, as recorded with each run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitState {
    /// Full hash of `HEAD`.
    pub commit: String,
    /// Tracked files have uncommitted changes (staged or not); untracked files do not count.
    pub dirty: bool,
}

/// What the TUI's header shows about the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoStatus {
    /// The repository's name: its working directory's folder name.
    pub name: String,
    /// The checked-out branch; `None` when `HEAD` is detached (see [`RepoStatus::branch_label`]).
    pub branch: Option<String>,
    /// Full hash of `HEAD`; `None` on a branch with no commit yet.
    pub commit: Option<String>,
    /// The first 7 characters of [`RepoStatus::commit`].
    pub short_commit: Option<String>,
    /// Files with any change: staged, unstaged or untracked (not ignored), each file counted once.
    pub changed_files: usize,
    /// Files whose index differs from `HEAD` (added, modified, deleted, renamed, type changed).
    pub staged: usize,
    /// Tracked files whose working copy differs from the index (modified, deleted, type changed, conflicted).
    pub unstaged: usize,
    /// Files not tracked and not ignored.
    pub untracked: usize,
    /// Tracked files have uncommitted changes (staged or not): the same meaning as [`GitState::dirty`], so the
    /// header's flag matches what a run started now records.
    pub dirty: bool,
}

impl RepoStatus {
    /// The branch name, or `detached`.
    pub fn branch_label(&self) -> &str {
        self.branch.as_deref().unwrap_or("detached")
    }
}

/// The number of characters of a short commit hash.
pub const SHORT_HASH: usize = 7;

const STAGED: Status = Status::INDEX_NEW
    .union(Status::INDEX_MODIFIED)
    .union(Status::INDEX_DELETED)
    .union(Status::INDEX_RENAMED)
    .union(Status::INDEX_TYPECHANGE);

const UNSTAGED: Status = Status::WT_MODIFIED
    .union(Status::WT_DELETED)
    .union(Status::WT_RENAMED)
    .union(Status::WT_TYPECHANGE)
    .union(Status::CONFLICTED);

/// The state of the repository holding `root` (searched upwards from it), or `None` outside a repository, in a
/// bare one, or before the first commit.
pub fn state(root: &Path) -> Option<GitState> {
    let repo = Repository::discover(root).ok()?;
    if repo.is_bare() {
        return None;
    }
    let commit = repo.head().ok()?.peel_to_commit().ok()?.id().to_string();
    let counts = counts(&repo, false)?;
    Some(GitState { commit, dirty: counts.staged + counts.unstaged > 0 })
}

/// The header's view of the repository holding `root` (searched upwards from it), or `None` outside a
/// repository or in a bare one (no working directory to compare).
pub fn repo_status(root: &Path) -> Option<RepoStatus> {
    let repo = Repository::discover(root).ok()?;
    let workdir = repo.workdir()?;
    let name =
        workdir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| workdir.display().to_string());
    let detached = repo.head_detached().unwrap_or(false);
    let branch = if detached { None } else { branch_name(&repo) };
    let commit = repo.head().ok().and_then(|h| h.peel_to_commit().ok()).map(|c| c.id().to_string());
    let short_commit = commit.as_ref().map(|c| c.chars().take(SHORT_HASH).collect());
    let counts = counts(&repo, true)?;
    Some(RepoStatus {
        name,
        branch,
        commit,
        short_commit,
        changed_files: counts.changed,
        staged: counts.staged,
        unstaged: counts.unstaged,
        untracked: counts.untracked,
        dirty: counts.staged + counts.unstaged > 0,
    })
}

/// The branch `HEAD` points to, read from the symbolic reference so it works before the first commit too.
fn branch_name(repo: &Repository) -> Option<String> {
    let head = repo.find_reference("HEAD").ok()?;
    match head.symbolic_target().ok()? {
        Some(target) => Some(target.strip_prefix("refs/heads/").unwrap_or(target).to_string()),
        None => repo.head().ok()?.shorthand().ok().map(str::to_string),
    }
}

#[derive(Debug, Default)]
struct Counts {
    changed: usize,
    staged: usize,
    unstaged: usize,
    untracked: usize,
}

/// Counts changed files in one status walk: ignored files and submodules are skipped, and untracked files
/// (inside untracked folders too) are listed only when `untracked` is asked for.
fn counts(repo: &Repository, untracked: bool) -> Option<Counts> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(untracked)
        .recurse_untracked_dirs(untracked)
        .include_ignored(false)
        .include_unmodified(false)
        .exclude_submodules(true);
    let statuses = repo.statuses(Some(&mut options)).ok()?;
    let mut counts = Counts::default();
    for entry in statuses.iter() {
        let status = entry.status();
        let staged = status.intersects(STAGED);
        let unstaged = status.intersects(UNSTAGED);
        let new = status.contains(Status::WT_NEW);
        counts.staged += usize::from(staged);
        counts.unstaged += usize::from(unstaged);
        counts.untracked += usize::from(new);
        counts.changed += usize::from(staged || unstaged || new);
    }
    Some(counts)
}
