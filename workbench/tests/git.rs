//! The repository state through git2, on real repositories made in temp dirs: the commit a run records and the
//! TUI header's view (name, branch or detached HEAD, short hash, changed files by kind).

use std::path::Path;

use git2::Repository;
use workbench::git::{GitState, RepoStatus, repo_status, state};
use workbench_testkit::{commit_all, init_repo as init};

fn write(repo: &Repository, path: &str, text: &str) {
    let file = repo.workdir().unwrap().join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

fn stage(repo: &Repository, path: &str) {
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(path)).unwrap();
    index.write().unwrap();
}

#[test]
fn outside_a_repository_there_is_no_state() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(state(dir.path()), None);
    assert_eq!(repo_status(dir.path()), None);
}

#[test]
fn a_clean_repository_reports_its_name_branch_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pipeline-repo");
    let repo = init(&root);
    write(&repo, "README.md", "hello\n");
    write(&repo, "src/lib.rs", "pub fn f() {}\n");
    let head = commit_all(&repo, "first").to_string();

    let status = repo_status(&root).unwrap();
    assert_eq!(
        status,
        RepoStatus {
            name: "pipeline-repo".into(),
            branch: Some("main".into()),
            commit: Some(head.clone()),
            short_commit: Some(head[..7].to_string()),
            changed_files: 0,
            staged: 0,
            unstaged: 0,
            untracked: 0,
            dirty: false,
        }
    );
    assert_eq!(status.branch_label(), "main");
    assert_eq!(state(&root), Some(GitState { commit: head.clone(), dirty: false }));

    // Found from a folder inside the work tree too; the name is still the work tree's.
    let from_inside = repo_status(&root.join("src")).unwrap();
    assert_eq!((from_inside.name.as_str(), from_inside.commit.as_deref()), ("pipeline-repo", Some(head.as_str())));
    assert_eq!(state(&root.join("src")).unwrap().commit, head);
}

#[test]
fn staged_unstaged_and_untracked_files_are_counted_once_each_and_ignored_ones_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init(dir.path());
    write(&repo, ".gitignore", "*.log\ntarget/\n");
    for name in ["a.txt", "b.txt", "c.txt"] {
        write(&repo, name, "one\n");
    }
    commit_all(&repo, "first");

    write(&repo, "a.txt", "one\ntwo\n"); // unstaged modification
    write(&repo, "b.txt", "one\nstaged\n"); // staged, then modified again: staged and unstaged, one file
    stage(&repo, "b.txt");
    write(&repo, "b.txt", "one\nstaged\nand again\n");
    std::fs::remove_file(dir.path().join("c.txt")).unwrap(); // unstaged deletion
    write(&repo, "d.txt", "new\n"); // staged new file
    stage(&repo, "d.txt");
    write(&repo, "e.txt", "untracked\n"); // untracked, and two more inside untracked folders
    write(&repo, "notes/f.txt", "untracked\n");
    write(&repo, "notes/deep/g.txt", "untracked\n");
    write(&repo, "run.log", "ignored\n"); // ignored, as is everything under target/
    write(&repo, "target/debug/out.bin", "ignored\n");

    let status = repo_status(dir.path()).unwrap();
    assert_eq!((status.staged, status.unstaged, status.untracked), (2, 3, 3), "{status:?}");
    // a, b, c, d, e, f, g: b is both staged and unstaged but one file.
    assert_eq!(status.changed_files, 7);
    assert!(status.dirty);
    assert!(state(dir.path()).unwrap().dirty);
}

#[test]
fn untracked_files_alone_are_changes_but_do_not_make_the_tree_dirty() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init(dir.path());
    write(&repo, "a.txt", "one\n");
    commit_all(&repo, "first");
    write(&repo, "scratch.txt", "draft\n");

    let status = repo_status(dir.path()).unwrap();
    assert_eq!((status.changed_files, status.untracked, status.staged, status.unstaged), (1, 1, 0, 0));
    assert!(!status.dirty, "untracked files do not count as dirty, as in the run history");
    assert!(!state(dir.path()).unwrap().dirty);
}

#[test]
fn a_detached_head_has_no_branch() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init(dir.path());
    write(&repo, "a.txt", "one\n");
    let first = commit_all(&repo, "first");
    write(&repo, "a.txt", "one\ntwo\n");
    let second = commit_all(&repo, "second");
    assert_ne!(first, second);
    repo.set_head_detached(second).unwrap();

    let status = repo_status(dir.path()).unwrap();
    assert_eq!(status.branch, None);
    assert_eq!(status.branch_label(), "detached");
    assert_eq!(status.commit, Some(second.to_string()));
    assert_eq!(status.short_commit, Some(second.to_string()[..7].to_string()));
    assert_eq!(status.changed_files, 0);
    assert_eq!(state(dir.path()).unwrap().commit, second.to_string());
}

#[test]
fn a_branch_with_no_commit_yet_has_a_name_but_no_head() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init(dir.path());
    write(&repo, "a.txt", "one\n");
    write(&repo, "b.txt", "two\n");
    stage(&repo, "b.txt");

    let status = repo_status(dir.path()).unwrap();
    assert_eq!(status.branch.as_deref(), Some("main"));
    assert_eq!((status.commit, status.short_commit), (None, None));
    assert_eq!((status.changed_files, status.staged, status.untracked), (2, 1, 1));
    assert_eq!(state(dir.path()), None, "no commit to record");
}

#[test]
fn another_branch_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init(dir.path());
    write(&repo, "a.txt", "one\n");
    let head = commit_all(&repo, "first");
    repo.branch("feature/au-schedule", &repo.find_commit(head).unwrap(), false).unwrap();
    repo.set_head("refs/heads/feature/au-schedule").unwrap();

    let status = repo_status(dir.path()).unwrap();
    assert_eq!(status.branch.as_deref(), Some("feature/au-schedule"));
    assert_eq!(status.commit, Some(head.to_string()));
}
