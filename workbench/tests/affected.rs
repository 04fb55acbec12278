//! `wb affected` end to end: the real binary in a real git repository laid out like the workspace (the real
//! `markets/` copied in), text and JSON output, and the error for a base branch that does not exist.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use workbench_testkit::{commit_all, copy_dir, head, init_repo};

/// A repository on `main` with the workspace's `markets/` and a docs file, committed once.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../markets"), &root.join("markets"));
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("docs/notes.md"), "# Notes\n").unwrap();
    commit_all(&init_repo(root), "initial");
    dir
}

fn wb(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wb")).current_dir(root).args(args).stdin(Stdio::null()).output().expect("wb runs")
}

fn edit(root: &Path, path: &str, from: &str, to: &str) {
    let full = root.join(path);
    let text = std::fs::read_to_string(&full).unwrap();
    assert!(text.contains(from));
    std::fs::write(full, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn text_output_lists_each_change_with_its_cells_and_reason_and_the_commands_to_re_run() {
    let dir = repo();
    let root = dir.path();
    edit(root, "markets/br/market.toml", "contact_share = 0.40", "contact_share = 0.45");
    edit(root, "markets/de/src/normalize.rs", "//!", "//! (edited)\n//!");
    std::fs::write(root.join("docs/notes.md"), "# Notes\nmore\n").unwrap();
    for name in ["a", "b", "c", "d", "e"] {
        std::fs::write(root.join(format!("markets/br/tests/{name}.rs")), "\n").unwrap();
    }
    let out = wb(root, &["affected"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let base = &head(root)[..10];
    let unaffected = markets::ids().into_iter().filter(|m| !["foobar-br", "foobar-de"].contains(m)).collect::<Vec<_>>();
    let unaffected = unaffected.join(", ");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "8 changed files since main (merge base {base}):
  markets/br/market.toml changed → foobar-br: recommend, export
      market.toml of foobar-br: key `contact_share` changed, first read by stage recommend
  markets/de/src/normalize.rs changed → foobar-de: ingest, validate, features, score, recommend, export
      overrides hook normalize of foobar-de, first used by stage ingest
  1 file changes nothing: documentation does not affect stage outputs
      docs/notes.md
  5 files change nothing: tests do not affect stage outputs
      markets/br/tests/a.rs, markets/br/tests/b.rs, markets/br/tests/c.rs, markets/br/tests/d.rs and 1 more

affected:
  foobar-br  recommend, export
  foobar-de  ingest, validate, features, score, recommend, export
unaffected: {unaffected}
re-run (upstream stages come from the cache):
  wb run --market foobar-br --market foobar-de
"
        )
    );
}

#[test]
fn json_output_is_one_object_with_changes_cells_and_reasons() {
    let dir = repo();
    let root = dir.path();
    edit(root, "markets/jp/model.toml", "w_click = 0.90", "w_click = 0.95");
    let out = wb(root, &["affected", "--json", "--base", "main"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "base": "main",
            "merge_base": head(root),
            "changes": [{
                "path": "markets/jp/model.toml",
                "status": "modified",
                "kind": "market_model",
                "market": "foobar-jp",
                "cells": {"foobar-jp": ["score", "recommend", "export"]},
                "reason": "model of foobar-jp, first read by stage score",
                "summary": "markets/jp/model.toml changed → foobar-jp: score, recommend, export",
            }],
            "cells": {"foobar-jp": ["score", "recommend", "export"]},
            "reasons": {"foobar-jp": ["markets/jp/model.toml changed: model of foobar-jp, first read by stage score"]},
        })
    );
}

#[test]
fn nothing_changed_says_so() {
    let dir = repo();
    let out = wb(dir.path(), &["affected"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("no changes since main (merge base {}): nothing to re-run\n", &head(dir.path())[..10])
    );
}

#[test]
fn a_base_branch_that_does_not_exist_is_named_with_what_to_pass() {
    let dir = repo();
    let out = wb(dir.path(), &["affected", "--base", "master"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: base branch `master` does not exist in {} (its branches: main): pass --base <branch> naming the \
             branch this work started from, e.g. --base main\n",
            dir.path().display()
        )
    );
}
