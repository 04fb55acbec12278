//! Patch coverage: the lines added or changed since the merge base of HEAD with the base branch (committed,
//! staged, unstaged and untracked changes all count), against the LCOV hits. Only changed lines the tracefile
//! instruments (has a DA record for) count; the percentage is covered / instrumented changed lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::{DiffOptions, ErrorCode, Repository};
use serde::Serialize;

use crate::error::CoverageError;
use crate::lcov::Lcov;
use crate::summary::percent;

/// The new-side line numbers added or changed per file since the merge base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedLines {
    /// The base as given (branch, tag or commit).
    pub base: String,
    /// The merge base's commit id.
    pub merge_base: String,
    /// Path from the workspace root (`/`-separated) → 1-based line numbers in the working tree.
    pub files: BTreeMap<String, BTreeSet<u32>>,
}

/// Patch coverage of one changed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatchFile {
    /// Path from the workspace root.
    pub path: String,
    /// Every added or changed line.
    pub changed: Vec<u32>,
    /// The changed lines the tracefile instruments.
    pub instrumented: Vec<u32>,
    /// How many of those ran.
    pub covered: usize,
    /// Instrumented changed lines that never ran.
    pub uncovered: Vec<u32>,
}

/// Patch coverage of the whole change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchCoverage {
    /// The base as given.
    pub base: String,
    /// The merge base's commit id.
    pub merge_base: String,
    /// Added or changed lines, over every file.
    pub changed: usize,
    /// Of those, the instrumented ones.
    pub instrumented: usize,
    /// Of those, the ones that ran.
    pub covered: usize,
    /// covered / instrumented in percent; None when no changed line is instrumented.
    pub percent: Option<f64>,
    /// Per changed file (files with changed lines only), by path.
    pub files: Vec<PatchFile>,
}

/// The lines added or changed between the merge base of HEAD with `base` and the working tree (index and
/// untracked files included) of the repository holding `root`; paths are relative to `root`.
pub fn changed_lines(root: &Path, base: &str) -> Result<ChangedLines, CoverageError> {
    let repo = Repository::discover(root)
        .map_err(|source| CoverageError::NotARepository { root: root.to_path_buf(), source })?;
    let workdir: PathBuf = repo.workdir().unwrap_or(root).components().collect();
    let git = |action: &'static str| {
        let repo = workdir.clone();
        move |source: git2::Error| CoverageError::Git { repo, action, source }
    };
    let base_commit = match repo.revparse_single(base).and_then(|o| o.peel_to_commit()) {
        Ok(commit) => commit,
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec | ErrorCode::Ambiguous) => {
            return Err(CoverageError::BaseNotFound { base: base.to_string(), repo: workdir });
        }
        Err(e) => return Err(git("resolve the base")(e)),
    };
    let head = match repo.head() {
        Ok(head) => head.peel_to_commit().map_err(git("read HEAD"))?,
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => {
            return Err(CoverageError::NoMergeBase { base: base.to_string(), repo: workdir });
        }
        Err(e) => return Err(git("read HEAD")(e)),
    };
    let merge_base = match repo.merge_base(head.id(), base_commit.id()) {
        Ok(oid) => oid,
        Err(e) if e.code() == ErrorCode::NotFound => {
            return Err(CoverageError::NoMergeBase { base: base.to_string(), repo: workdir });
        }
        Err(e) => return Err(git("find the merge base")(e)),
    };
    let tree = repo.find_commit(merge_base).and_then(|c| c.tree()).map_err(git("read the merge base's tree"))?;
    let mut options = DiffOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true)
        .context_lines(0)
        .interhunk_lines(0);
    let diff =
        repo.diff_tree_to_workdir_with_index(Some(&tree), Some(&mut options)).map_err(git("diff the working tree"))?;
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let prefix = canonical(root).strip_prefix(canonical(&workdir)).map(Path::to_path_buf).unwrap_or_default();
    let mut files: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    diff.foreach(
        &mut |_, _| true,
        None,
        None,
        Some(&mut |delta, _hunk, line| {
            if line.origin() == '+'
                && let (Some(number), Some(path)) = (line.new_lineno(), delta.new_file().path())
                && let Ok(inside) = path.strip_prefix(&prefix)
            {
                let parts: Vec<String> =
                    inside.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                files.entry(parts.join("/")).or_default().insert(number);
            }
            true
        }),
    )
    .map_err(git("read the diff's lines"))?;
    Ok(ChangedLines { base: base.to_string(), merge_base: merge_base.to_string(), files })
}

/// Intersects the changed lines with the tracefile's hits (its paths made relative to `root`).
pub fn patch_coverage(changed: &ChangedLines, lcov: &Lcov, root: &Path) -> PatchCoverage {
    let by_path = lcov.relative_to(root);
    let mut files = Vec::new();
    for (path, lines) in &changed.files {
        let hits = by_path.get(path).map(|cov| &cov.lines);
        let instrumented: Vec<u32> =
            lines.iter().copied().filter(|l| hits.is_some_and(|h| h.contains_key(l))).collect();
        let uncovered: Vec<u32> =
            instrumented.iter().copied().filter(|l| hits.and_then(|h| h.get(l)).copied().unwrap_or(0) == 0).collect();
        files.push(PatchFile {
            path: path.clone(),
            changed: lines.iter().copied().collect(),
            covered: instrumented.len() - uncovered.len(),
            instrumented,
            uncovered,
        });
    }
    let changed_count = files.iter().map(|f| f.changed.len()).sum();
    let instrumented: usize = files.iter().map(|f| f.instrumented.len()).sum();
    let covered: usize = files.iter().map(|f| f.covered).sum();
    PatchCoverage {
        base: changed.base.clone(),
        merge_base: changed.merge_base.clone(),
        changed: changed_count,
        instrumented,
        covered,
        percent: percent(covered as u64, instrumented as u64),
        files,
    }
}
