//! Helpers the workbench's test suites share (a dev-dependency only): writing files and copying folders, real git
//! repositories in temp dirs (git2, no `git` binary needed), and LCOV tracefiles built line by line. Each helper
//! panics with the path or git operation that failed, as a test should.

use std::path::Path;

use git2::{Commit, IndexAddOption, Oid, Repository, RepositoryInitOptions, Signature};

/// The five markets the screen and report snapshots were drawn with. Tests about every market read the registry
/// (`markets::ids()`); tests whose snapshots show rows of markets take these as their subjects instead, so adding
/// a market (`wb new-market`) leaves their snapshots as they are.
pub const SNAPSHOT_MARKETS: [&str; 5] = ["foobar-au", "foobar-br", "foobar-ca", "foobar-jp", "foobar-de"];

/// Writes `text` to `root/path`, creating its folders.
pub fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("a file path has a parent")).unwrap();
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Writes an executable script to `path` that a test can run at once, even while other test threads start
/// processes. Written in this process, the file could fail to run with "Text file busy" (ETXTBSY): a thread that
/// forks while the file is open for writing leaves its child holding the write handle until that child execs. So
/// the text goes to a side file, and `cp` (its own process, which forks nothing) writes the executable.
pub fn write_executable(path: &Path, text: &str) {
    let side = path.with_extension("partial");
    std::fs::write(&side, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", side.display()));
    let copied = std::process::Command::new("cp").arg(&side).arg(path).status().expect("cp runs");
    assert!(copied.success(), "cp {} {} failed", side.display(), path.display());
    std::fs::remove_file(&side).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Appends `text` to the file `root/path`.
pub fn append(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    let mut content = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()));
    content.push_str(text);
    std::fs::write(&full, content).unwrap();
}

/// Copies the folder `from` into `to` recursively, leaving out `target/` folders (build output).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display())) {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// A new git repository at `dir` whose first branch is `main`.
pub fn init_repo(dir: &Path) -> Repository {
    init_repo_on(dir, "main")
}

/// A new git repository at `dir` whose first branch is `branch`.
pub fn init_repo_on(dir: &Path, branch: &str) -> Repository {
    let mut options = RepositoryInitOptions::new();
    options.initial_head(branch);
    Repository::init_opts(dir, &options).unwrap_or_else(|e| panic!("git init {}: {e}", dir.display()))
}

/// Stages `paths` (relative to the work tree) and commits them on `HEAD`.
pub fn commit(repo: &Repository, paths: &[&str], message: &str) -> Oid {
    let mut index = repo.index().unwrap();
    for path in paths {
        index.add_path(Path::new(path)).unwrap_or_else(|e| panic!("git add {path}: {e}"));
    }
    index.write().unwrap();
    commit_index(repo, message, Signature::now("Test", "test@example.com").unwrap())
}

/// [`commit`] with the author time fixed at `seconds` since the epoch, so the commit's hash is the same on every
/// run (for snapshots that show it).
pub fn commit_at(repo: &Repository, paths: &[&str], message: &str, seconds: i64) -> Oid {
    let mut index = repo.index().unwrap();
    for path in paths {
        index.add_path(Path::new(path)).unwrap_or_else(|e| panic!("git add {path}: {e}"));
    }
    index.write().unwrap();
    let signature = Signature::new("Test", "test@example.com", &git2::Time::new(seconds, 0)).unwrap();
    commit_index(repo, message, signature)
}

/// Stages every change (new, modified and deleted files) and commits it on `HEAD`.
pub fn commit_all(repo: &Repository, message: &str) -> Oid {
    let mut index = repo.index().unwrap();
    index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    commit_index(repo, message, Signature::now("Test", "test@example.com").unwrap())
}

/// Commits the index as it is on `HEAD` (its first commit when there is none) as `signature`.
fn commit_index(repo: &Repository, message: &str, signature: Signature) -> Oid {
    let mut index = repo.index().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parents: Vec<Commit> = repo.head().ok().and_then(|h| h.peel_to_commit().ok()).into_iter().collect();
    let parents: Vec<&Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents).unwrap()
}

/// Creates the branch `name` at `HEAD` and makes it `HEAD` (the work tree is left as it is).
pub fn branch(repo: &Repository, name: &str) {
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.branch(name, &head, false).unwrap_or_else(|e| panic!("git branch {name}: {e}"));
    repo.set_head(&format!("refs/heads/{name}")).unwrap();
}

/// Checks out the existing branch `name`, updating the work tree.
pub fn checkout(repo: &Repository, name: &str) {
    let refname = format!("refs/heads/{name}");
    let tree = repo.revparse_single(&refname).unwrap_or_else(|e| panic!("git checkout {name}: {e}"));
    repo.checkout_tree(&tree, Some(git2::build::CheckoutBuilder::new().force())).unwrap();
    repo.set_head(&refname).unwrap();
}

/// The full hash of `HEAD` of the repository at `root`.
pub fn head(root: &Path) -> String {
    Repository::open(root).unwrap().head().unwrap().target().unwrap().to_string()
}

/// An LCOV tracefile, built one source file at a time; [`Lcov::text`] gives what `cargo llvm-cov --lcov` writes
/// (`SF:`, `FN:`/`FNDA:`, `DA:` and `end_of_record` per file).
#[derive(Debug, Clone, Default)]
pub struct Lcov {
    text: String,
}

impl Lcov {
    /// An empty tracefile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the record of `path`: its functions (first line, name, hits) and its lines (line, hits).
    pub fn file(mut self, path: &str, functions: &[(u32, &str, u64)], lines: &[(u32, u64)]) -> Self {
        self.text.push_str(&format!("SF:{path}\n"));
        for (line, name, _) in functions {
            self.text.push_str(&format!("FN:{line},{name}\n"));
        }
        for (_, name, hits) in functions {
            self.text.push_str(&format!("FNDA:{hits},{name}\n"));
        }
        for (line, hits) in lines {
            self.text.push_str(&format!("DA:{line},{hits}\n"));
        }
        self.text.push_str("end_of_record\n");
        self
    }

    /// The tracefile's text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tracefile_lists_functions_then_lines_per_file() {
        let lcov = Lcov::new().file("/w/a.rs", &[(1, "f", 2)], &[(1, 2), (2, 0)]).file("/w/b.rs", &[], &[(3, 1)]);
        assert_eq!(
            lcov.text(),
            "SF:/w/a.rs\nFN:1,f\nFNDA:2,f\nDA:1,2\nDA:2,0\nend_of_record\nSF:/w/b.rs\nDA:3,1\nend_of_record\n"
        );
    }

    #[test]
    fn commits_build_on_head_and_branches_check_out() {
        let dir = std::env::temp_dir().join(format!("wb-testkit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let repo = init_repo(&dir);
        write(&dir, "a.txt", "one\n");
        let first = commit(&repo, &["a.txt"], "first");
        branch(&repo, "feature");
        append(&dir, "a.txt", "two\n");
        let second = commit_all(&repo, "second");
        assert_eq!(head(&dir), second.to_string());
        assert_eq!(repo.find_commit(second).unwrap().parent_id(0).unwrap(), first);
        checkout(&repo, "main");
        assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), "one\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
