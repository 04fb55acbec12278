//! Patch coverage on a real git repository in a temp dir: a base on `main`, a branch with committed, staged,
//! unstaged and untracked changes (and `main` moving on after the branch), a hand-written LCOV file; the changed
//! lines, the instrumented subset, the covered count, the percentage and the uncovered lines, line by line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use git2::Repository;
use workbench_coverage::patch::{changed_lines, patch_coverage};
use workbench_coverage::{CoverageError, Lcov, PatchFile};
use workbench_testkit::{Lcov as TraceFile, commit, init_repo, write};

const BASE_LIB: &str = "fn a() {\n    let x = 1;\n    let y = 2;\n}\nfn b() {\n    println!(\"b\");\n}\n";

/// The repository described in the module doc, checked out on `feature`.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = init_repo(root);
    write(root, "src/lib.rs", BASE_LIB);
    write(root, "src/other.rs", "fn other() {}\n");
    commit(&repo, &["src/lib.rs", "src/other.rs"], "base");
    let base = repo.head().unwrap().peel_to_commit().unwrap();
    repo.branch("feature", &base, false).unwrap();

    // `main` moves on after the branch: not part of this change.
    write(root, "src/other.rs", "fn other() {}\nfn more() {}\n");
    commit(&repo, &["src/other.rs"], "main moves on");
    repo.set_head("refs/heads/feature").unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force())).unwrap();
    assert_eq!(std::fs::read_to_string(root.join("src/other.rs")).unwrap(), "fn other() {}\n");

    // Committed on the branch: line 3 changed, lines 7 and 8 added.
    write(
        root,
        "src/lib.rs",
        "fn a() {\n    let x = 1;\n    let y = 3;\n}\nfn b() {\n    println!(\"b\");\n    println!(\"c\");\n    \
         println!(\"d\");\n}\n",
    );
    commit(&repo, &["src/lib.rs"], "change lib");
    // Uncommitted, unstaged: line 2 changed.
    write(
        root,
        "src/lib.rs",
        "fn a() {\n    let x = 10;\n    let y = 3;\n}\nfn b() {\n    println!(\"b\");\n    println!(\"c\");\n    \
         println!(\"d\");\n}\n",
    );
    // Staged, not committed: a new file.
    write(root, "src/extra.rs", "// extra\nconst E: u8 = 1;\n");
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("src/extra.rs")).unwrap();
    index.write().unwrap();
    // Untracked.
    write(root, "src/new.rs", "fn n() {\n    work();\n}\n");
    dir
}

fn lcov_for(root: &Path) -> Lcov {
    let r = root.display();
    let lines = [(1, 1), (2, 1), (3, 0), (5, 1), (6, 1), (7, 1), (8, 0)];
    let text = TraceFile::new()
        .file(&format!("{r}/src/lib.rs"), &[(1, "_RNvCs_3lib1a", 1)], &lines)
        .file(&format!("{r}/src/new.rs"), &[], &[(1, 0), (2, 3)])
        .file("/elsewhere/src/lib.rs", &[], &[(2, 9)]);
    Lcov::parse(Path::new("lcov.info"), text.text()).unwrap()
}

#[test]
fn changed_lines_count_committed_staged_unstaged_and_untracked_changes_since_the_merge_base() {
    let dir = repo();
    let changed = changed_lines(dir.path(), "main").unwrap();
    let expected: BTreeMap<String, BTreeSet<u32>> = BTreeMap::from([
        ("src/extra.rs".to_string(), BTreeSet::from([1, 2])),
        ("src/lib.rs".to_string(), BTreeSet::from([2, 3, 7, 8])),
        ("src/new.rs".to_string(), BTreeSet::from([1, 2, 3])),
    ]);
    assert_eq!(changed.files, expected);
    assert_eq!(changed.base, "main");
    let repo = Repository::open(dir.path()).unwrap();
    let first = repo.revparse_single("feature~1").unwrap().id().to_string();
    assert_eq!(changed.merge_base, first);
}

#[test]
fn patch_coverage_counts_only_instrumented_changed_lines_and_lists_the_uncovered_ones() {
    let dir = repo();
    let changed = changed_lines(dir.path(), "main").unwrap();
    let patch = patch_coverage(&changed, &lcov_for(dir.path()), dir.path());
    assert_eq!(
        patch.files,
        vec![
            // Not in the tracefile: changed, nothing instrumented.
            PatchFile {
                path: "src/extra.rs".into(),
                changed: vec![1, 2],
                instrumented: vec![],
                covered: 0,
                uncovered: vec![]
            },
            PatchFile {
                path: "src/lib.rs".into(),
                changed: vec![2, 3, 7, 8],
                instrumented: vec![2, 3, 7, 8],
                covered: 2,
                uncovered: vec![3, 8],
            },
            // Line 3 (`}`) has no DA record.
            PatchFile {
                path: "src/new.rs".into(),
                changed: vec![1, 2, 3],
                instrumented: vec![1, 2],
                covered: 1,
                uncovered: vec![1],
            },
        ]
    );
    assert_eq!((patch.changed, patch.instrumented, patch.covered), (9, 6, 3));
    assert_eq!(patch.percent, Some(50.0));
}

#[test]
fn a_missing_base_branch_is_named() {
    let dir = repo();
    let err = changed_lines(dir.path(), "develop").unwrap_err();
    assert!(matches!(err, CoverageError::BaseNotFound { .. }));
    let repo: std::path::PathBuf = dir.path().components().collect();
    assert_eq!(
        err.to_string(),
        format!(
            "base branch `develop` does not exist in {}: pass --base <branch> naming the branch this work started from",
            repo.display()
        )
    );
}

#[test]
fn no_change_means_no_changed_line_and_no_percentage() {
    let dir = repo();
    let changed = changed_lines(dir.path(), "feature").unwrap();
    // Only the working-tree changes remain against the branch's own tip.
    assert_eq!(changed.files["src/lib.rs"], BTreeSet::from([2]));
    let empty = workbench_coverage::ChangedLines { files: BTreeMap::new(), ..changed };
    let patch = patch_coverage(&empty, &lcov_for(dir.path()), dir.path());
    assert_eq!((patch.changed, patch.instrumented, patch.covered, patch.percent), (0, 0, 0, None));
}
