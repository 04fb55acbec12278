//! `wb coverage` end to end: the real binary in a real git repository laid out as a two-crate workspace, an
//! LCOV file (and a JSON export) written by hand, JSON and text output, thresholds from workbench.toml, and the
//! exact message when `cargo llvm-cov` is missing.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use git2::Repository;
use serde_json::{Value, json};
use workbench_testkit::{Lcov, branch, commit, init_repo, write};

/// A workspace (`crates/app`, `crates/util`) committed on `main`; on `feature`, util gains line 2 (committed) and
/// app gains lines 4-7 (uncommitted). `.workbench/` is ignored (as in the real workspace) and holds
/// `lcov.info`: app: lines 1, 2, 3 ran, 5 and 6 did not; functions f ran, g did not. util: lines 1 and 2 ran.
/// `settings` is committed as workbench.toml on `main`.
fn workspace(settings: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Cargo.toml", "[workspace]\nmembers = [\"crates/app\", \"crates/util\"]\n");
    write(root, "crates/app/Cargo.toml", "[package]\nname = \"app\"\n");
    write(root, "crates/util/Cargo.toml", "[package]\nname = \"util\"\n");
    write(root, "crates/app/src/lib.rs", "pub fn f() -> u8 {\n    1\n}\n");
    write(root, "crates/util/src/lib.rs", "pub fn u() {}\n");
    std::fs::create_dir_all(root.join("markets")).unwrap();
    write(root, ".gitignore", "/.workbench/\n");
    let mut files = vec![".gitignore", "Cargo.toml", "crates/app/Cargo.toml", "crates/util/Cargo.toml"];
    files.extend(["crates/app/src/lib.rs", "crates/util/src/lib.rs"]);
    if let Some(settings) = settings {
        write(root, "workbench.toml", settings);
        files.push("workbench.toml");
    }
    let repo = init_repo(root);
    commit(&repo, &files, "base");
    branch(&repo, "feature");
    write(root, "crates/util/src/lib.rs", "pub fn u() {}\npub fn v() {}\n");
    commit(&repo, &["crates/util/src/lib.rs"], "util: v");
    write(root, "crates/app/src/lib.rs", "pub fn f() -> u8 {\n    1\n}\n\npub fn g() -> u8 {\n    2\n}\n");
    let r = root.display();
    write(
        root,
        ".workbench/lcov.info",
        Lcov::new()
            .file(
                &format!("{r}/crates/app/src/lib.rs"),
                &[(1, "f", 1), (5, "g", 0)],
                &[(1, 1), (2, 1), (3, 1), (5, 0), (6, 0)],
            )
            .file(&format!("{r}/crates/util/src/lib.rs"), &[], &[(1, 2), (2, 2)])
            .text(),
    );
    dir
}

fn wb(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wb"));
    command.current_dir(root).args(args).stdin(Stdio::null()).env_remove("WB_CARGO");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("wb runs")
}

fn counts(covered: u64, count: u64, percent: f64) -> Value {
    json!({ "covered": covered, "count": count, "percent": percent })
}

#[test]
fn json_report_from_an_lcov_file_with_default_thresholds() {
    let dir = workspace(None);
    let out = wb(dir.path(), &["coverage", "--lcov", ".workbench/lcov.info", "--json"], &[]);
    assert_eq!(out.status.code(), Some(1), "below the thresholds: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = &report["summary"];
    assert_eq!(summary["lines"], counts(5, 7, 500.0 / 7.0));
    assert_eq!(summary["functions"], counts(1, 2, 50.0));
    assert_eq!(summary["regions"], Value::Null);
    let crates: Vec<(&str, &str, &Value, &Value)> = summary["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["dir"].as_str().unwrap(), &c["lines"], &c["functions"]))
        .collect();
    assert_eq!(
        crates,
        vec![
            ("app", "crates/app", &counts(3, 5, 60.0), &counts(1, 2, 50.0)),
            ("util", "crates/util", &counts(2, 2, 100.0), &json!({ "covered": 0, "count": 0, "percent": null })),
        ]
    );
    assert_eq!(summary["crates"][0]["files"][0]["path"], "crates/app/src/lib.rs");

    let patch = &report["patch"];
    assert_eq!(patch["base"], "main");
    assert_eq!((&patch["changed"], &patch["instrumented"], &patch["covered"]), (&json!(5), &json!(3), &json!(1)));
    assert_eq!(patch["percent"], json!(100.0 / 3.0));
    assert_eq!(
        patch["files"],
        json!([
            { "path": "crates/app/src/lib.rs", "changed": [4, 5, 6, 7], "instrumented": [5, 6], "covered": 0,
              "uncovered": [5, 6] },
            { "path": "crates/util/src/lib.rs", "changed": [2], "instrumented": [2], "covered": 1, "uncovered": [] },
        ])
    );
    assert_eq!(report["thresholds"], json!({ "line": 80.0, "patch": 90.0 }));
    assert_eq!((&report["line_ok"], &report["patch_ok"]), (&json!(false), &json!(false)));
    // No market override file is in the tracefile.
    let overrides = report["hooks"]["overrides"].as_array().unwrap();
    let of_snapshot_markets =
        overrides.iter().filter(|o| workbench_testkit::SNAPSHOT_MARKETS.contains(&o["market"].as_str().unwrap()));
    assert_eq!(of_snapshot_markets.count(), 6);
    assert!(overrides.iter().all(|o| o["status"] == "not_instrumented"), "{overrides:?}");
}

#[test]
fn text_report_with_regions_and_thresholds_from_workbench_toml() {
    let dir = workspace(Some("[coverage]\nline = 70\npatch = 30\n"));
    let r = dir.path().display();
    let export = json!({ "type": "llvm.coverage.json.export", "data": [{ "files": [
        { "filename": format!("{r}/crates/app/src/lib.rs"), "summary": {
            "lines": { "count": 5, "covered": 3 }, "functions": { "count": 2, "covered": 1 },
            "regions": { "count": 8, "covered": 4 } } },
        { "filename": format!("{r}/crates/util/src/lib.rs"), "summary": {
            "lines": { "count": 2, "covered": 2 }, "functions": { "count": 0, "covered": 0 },
            "regions": { "count": 2, "covered": 2 } } },
    ] }] });
    write(dir.path(), ".workbench/coverage.json", &export.to_string());
    let out =
        wb(dir.path(), &["coverage", "--lcov", ".workbench/lcov.info", "--llvm-json", ".workbench/coverage.json"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let merge_base = Repository::open(dir.path()).unwrap().revparse_single("main").unwrap().id().to_string();
    let expected = format!(
        "line coverage 71.4% (5/7) (threshold 70%): ok\nfunctions 50.0% (1/2), regions 60.0% (6/10)\n\n\
         per crate (lines, functions, regions):\n  \
         app   60.0% (3/5)          50.0% (1/2)          50.0% (4/8)\n  \
         util  100.0% (2/2)         - (0/0)              100.0% (2/2)\n\n\
         patch coverage since main (merge base {}): 33.3%, 1 of 3 instrumented changed lines ran (5 changed lines) \
         (threshold 30%): ok\n  crates/app/src/lib.rs: uncovered 5-6\n\n\
         hook overrides run by the tests (yes; NO = no test runs it; n/i = not instrumented; - = base):\n  \
         market     normalize  eligible_channels  content  schedule  export_format\n  \
         foobar-au  -          -                  -        -         -\n  \
         foobar-br  n/i        -                  -        -         n/i\n  \
         foobar-ca  n/i        -                  -        -         -\n  \
         foobar-jp  n/i        -                  -        -         -\n  \
         foobar-de  n/i        n/i                -        -         -\n",
        &merge_base[..10]
    );
    // The hook rows of the snapshot markets; a market added later has its own row, left out here.
    let added = |line: &str| {
        markets::ids().iter().any(|id| {
            !workbench_testkit::SNAPSHOT_MARKETS.contains(id) && line.trim_start().starts_with(&format!("{id} "))
        })
    };
    let stdout: String = stdout.lines().filter(|l| !added(l)).map(|l| format!("{l}\n")).collect();
    assert_eq!(stdout, expected);
}

#[test]
fn a_missing_cargo_llvm_cov_says_how_to_install_it() {
    let dir = workspace(None);
    let out = wb(dir.path(), &["coverage"], &[("WB_CARGO", "/nonexistent/cargo")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cargo-llvm-cov is not installed: run `cargo install cargo-llvm-cov --locked` and `rustup component \
         add llvm-tools-preview` (cannot start /nonexistent/cargo: No such file or directory (os error 2))\n"
    );
    // A cargo without the subcommand: `cargo llvm-cov --version` fails.
    let out = wb(dir.path(), &["coverage", "--json"], &[("WB_CARGO", "false")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cargo-llvm-cov is not installed: run `cargo install cargo-llvm-cov --locked` and `rustup component \
         add llvm-tools-preview` (`false llvm-cov --version` failed: no output)\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_bad_lcov_file_names_the_file_and_line() {
    let dir = workspace(None);
    write(dir.path(), ".workbench/bad.info", "SF:/x.rs\nDA:1,1\nFNDA:many,f\nend_of_record\n");
    let out = wb(dir.path(), &["coverage", "--lcov", ".workbench/bad.info"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: .workbench/bad.info:3: FNDA: hit count `many` is not a number; regenerate the file with `cargo llvm-cov report \
         --lcov`\n"
    );
}
