//! The changed files, through git2 (no git command line): everything that differs between the merge base of
//! `HEAD` with the base branch and the working tree, counting commits since the merge base, staged and unstaged
//! edits and untracked files (ignored files are not counted). Paths are relative to the workspace root, with `/`.

use std::path::{Path, PathBuf};

use git2::{Delta, DiffOptions, ErrorCode, Repository};
use serde::Serialize;

use crate::error::AffectedError;

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// New since the merge base (committed, staged or untracked).
    Added,
    /// Its content or type differs.
    Modified,
    /// Gone from the working tree.
    Deleted,
}

impl FileStatus {
    /// The past participle people read: `added`, `changed`, `deleted`.
    pub fn verb(self) -> &'static str {
        match self {
            FileStatus::Added => "added",
            FileStatus::Modified => "changed",
            FileStatus::Deleted => "deleted",
        }
    }
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Path from the workspace root, `/`-separated.
    pub path: String,
    /// How it changed.
    pub status: FileStatus,
    /// Its content at the merge base (None when it was added).
    pub before: Option<Vec<u8>>,
}

/// The changed files since the merge base with a base branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    /// The base as given.
    pub base: String,
    /// The merge base of `HEAD` with it (full hash).
    pub merge_base: String,
    /// The changed files, in path order.
    pub files: Vec<ChangedFile>,
}

/// The files that differ between the merge base of `HEAD` with `base` (a branch, tag or commit) and the working
/// tree of the repository holding `root`.
pub fn changed_files(root: &Path, base: &str) -> Result<ChangeSet, AffectedError> {
    let repo = Repository::discover(root)
        .map_err(|source| AffectedError::NotARepository { root: root.to_path_buf(), source })?;
    // `workdir()` ends with a separator; components() drops it, so messages read `/path/repo`.
    let workdir: PathBuf = repo.workdir().unwrap_or(root).components().collect();
    let git = |action: &'static str| {
        let repo = workdir.clone();
        move |source: git2::Error| AffectedError::Git { repo, action, source }
    };
    let base_commit = match repo.revparse_single(base).and_then(|o| o.peel_to_commit()) {
        Ok(commit) => commit,
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec | ErrorCode::Ambiguous) => {
            return Err(AffectedError::BaseNotFound {
                base: base.to_string(),
                repo: workdir.clone(),
                branches: local_branches(&repo),
            });
        }
        Err(e) => return Err(git("resolve the base")(e)),
    };
    let head = match repo.head() {
        Ok(head) => head.peel_to_commit().map_err(git("read HEAD"))?,
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => {
            return Err(AffectedError::NoHead { repo: workdir });
        }
        Err(e) => return Err(git("read HEAD")(e)),
    };
    let merge_base = match repo.merge_base(head.id(), base_commit.id()) {
        Ok(oid) => oid,
        Err(e) if e.code() == ErrorCode::NotFound => {
            return Err(AffectedError::NoMergeBase { base: base.to_string(), repo: workdir });
        }
        Err(e) => return Err(git("find the merge base")(e)),
    };
    let tree = repo.find_commit(merge_base).and_then(|c| c.tree()).map_err(git("read the merge base's tree"))?;
    let mut options = DiffOptions::new();
    options.include_untracked(true).recurse_untracked_dirs(true).include_typechange(true);
    let diff =
        repo.diff_tree_to_workdir_with_index(Some(&tree), Some(&mut options)).map_err(git("diff the working tree"))?;
    let prefix = root_prefix(&workdir, root);
    let mut files = Vec::new();
    for delta in diff.deltas() {
        let status = match delta.status() {
            Delta::Added | Delta::Untracked | Delta::Copied => FileStatus::Added,
            Delta::Deleted => FileStatus::Deleted,
            Delta::Modified | Delta::Renamed | Delta::Typechange => FileStatus::Modified,
            Delta::Unmodified | Delta::Ignored | Delta::Unreadable | Delta::Conflicted => continue,
        };
        let file = if status == FileStatus::Deleted { delta.old_file() } else { delta.new_file() };
        let Some(path) = file.path().and_then(|p| relative(p, &prefix)) else { continue };
        let old = delta.old_file();
        let before = if status == FileStatus::Added || old.id().is_zero() {
            None
        } else {
            Some(repo.find_blob(old.id()).map_err(git("read a file at the merge base"))?.content().to_vec())
        };
        files.push(ChangedFile { path, status, before });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    Ok(ChangeSet { base: base.to_string(), merge_base: merge_base.to_string(), files })
}

/// The content of `path` (from the workspace root) in `HEAD`, or None when it is not there (or there is no
/// repository): what `wb watch` compares a file's first change with.
pub fn head_content(root: &Path, path: &str) -> Option<Vec<u8>> {
    let repo = Repository::discover(root).ok()?;
    let workdir = repo.workdir()?.to_path_buf();
    let prefix = root_prefix(&workdir, root);
    let in_repo = prefix.join(path);
    let tree = repo.head().ok()?.peel_to_tree().ok()?;
    let entry = tree.get_path(&in_repo).ok()?;
    Some(repo.find_blob(entry.id()).ok()?.content().to_vec())
}

/// The local branches, sorted.
fn local_branches(repo: &Repository) -> Vec<String> {
    let mut names: Vec<String> = repo
        .branches(Some(git2::BranchType::Local))
        .map(|branches| branches.flatten().filter_map(|(b, _)| b.name().ok().flatten().map(str::to_string)).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// Where the workspace root is inside the work tree (empty when it is the work tree).
fn root_prefix(workdir: &Path, root: &Path) -> PathBuf {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    canonical(root).strip_prefix(canonical(workdir)).map(Path::to_path_buf).unwrap_or_default()
}

/// A repository path relative to the workspace root, `/`-separated; None outside the root.
fn relative(path: &Path, prefix: &Path) -> Option<String> {
    let inside = path.strip_prefix(prefix).ok()?;
    let parts: Vec<String> = inside.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}
