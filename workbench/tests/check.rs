//! `wb check` end to end: the real binary (not rebuilt: `--no-build`, `--wb` and `--runner` the test's own) in a
//! real git repository laid out as a small workspace (the real `markets/`, a minimal AU fixture, packages `fixtures`,
//! `workbench-tests` and `localstack`), with a known change (a customer added to the AU fixture, three lines added
//! to the AU market crate) and a known LCOV file (`--lcov`). It runs the affected market for real on the embedded
//! S3, and diffs its export against the base revision for real: the base's worktree is checked out beforehand with
//! the test's `wb` as its binary, as `wb diff --against` leaves it after its first build (building the base from
//! source would take minutes).

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{describe, stderr, stdout, write_minimal_fixture};
use git2::Repository;
use serde_json::{Value, json};
use workbench::history::History;
use workbench_testkit::{Lcov, append, branch, commit_all, copy_dir, init_repo, write};

const AU_LIB: &str = "markets/au/src/lib.rs";
const CUSTOMERS: &str = "fixtures/data/foobar-au/customers.csv";
const ORDERS: &str = "fixtures/data/foobar-au/orders.csv";
const INTERACTIONS: &str = "fixtures/data/foobar-au/interactions.csv";

/// The workspace committed on `main` (with `settings` as workbench.toml), then on branch `feature` the change,
/// uncommitted: a customer with an order and an interaction appended to the AU fixture, and `check_probe` (3 lines) appended to the AU crate.
/// `.workbench/lcov.info` (ignored) says: the AU crate's first 7 lines and the probe's first 2 lines ran, its
/// last did not; fixtures' line 1 ran; localstack's 2 lines (a package outside the scope) did not.
/// Returns the repository and the line number of the probe's first line.
fn workspace(settings: &str) -> (tempfile::TempDir, u32) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Cargo.toml", "[workspace]\nmembers = [\"markets/au\", \"fixtures\", \"tests\", \"localstack\"]\n");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../markets"), &root.join("markets"));
    write(root, "fixtures/Cargo.toml", "[package]\nname = \"fixtures\"\n");
    write(root, "fixtures/src/main.rs", "fn main() {}\n");
    write(root, "tests/Cargo.toml", "[package]\nname = \"workbench-tests\"\n");
    write(root, "localstack/Cargo.toml", "[package]\nname = \"localstack\"\n");
    write(root, "localstack/src/lib.rs", "pub fn up() {\n}\n");
    let fixtures = root.join("fixtures/data/foobar-au");
    std::fs::create_dir_all(&fixtures).unwrap();
    write_minimal_fixture(&fixtures);
    write(root, ".gitignore", "/.workbench/\n");
    write(root, "workbench.toml", settings);
    let repo = init_repo(root);
    commit_all(&repo, "base");
    branch(&repo, "feature");

    append(root, CUSTOMERS, "C000061,B,NSW,en,2024-01-06,true,true,true\n");
    append(root, ORDERS, "O000610,C000061,2026-11-03,1,183.50\n");
    append(root, INTERACTIONS, "I000610,C000061,email,2026-11-05 09:30:00,true,true\n");
    let probe = std::fs::read_to_string(root.join(AU_LIB)).unwrap().lines().count() as u32 + 1;
    append(root, AU_LIB, "pub fn check_probe(x: u8) -> u8 {\n    x + 1\n}\n");
    let r = root.canonicalize().unwrap();
    let r = r.display();
    let mut au_lines: Vec<(u32, u64)> = (1..=7).map(|line| (line, 1)).collect();
    au_lines.extend([(probe, 3), (probe + 1, 3), (probe + 2, 0)]);
    let lcov = Lcov::new()
        .file(&format!("{r}/{AU_LIB}"), &[], &au_lines)
        .file(&format!("{r}/fixtures/src/main.rs"), &[], &[(1, 1)])
        .file(&format!("{r}/localstack/src/lib.rs"), &[], &[(1, 0), (2, 0)]);
    write(root, ".workbench/lcov.info", lcov.text());
    (dir, probe)
}

fn merge_base(root: &Path) -> String {
    Repository::open(root).unwrap().revparse_single("main").unwrap().id().to_string()
}

/// The base's worktree where `wb diff --against` puts it, with the test's `wb` as the base's built binary.
fn prepare_base_worktree(root: &Path) {
    let base = merge_base(root);
    let worktree = root.join(".workbench/worktrees").join(&base[..12]);
    std::fs::create_dir_all(worktree.parent().unwrap()).unwrap();
    let status = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["worktree", "add", "--detach"])
        .arg(&worktree)
        .arg(&base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success());
    std::fs::create_dir_all(worktree.join(".workbench")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_wb"), worktree.join(".workbench/wb")).unwrap();
}

fn check(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wb"));
    command
        .current_dir(root)
        .args(["check", "--no-build", "--wb", env!("CARGO_BIN_EXE_wb"), "--runner", env!("CARGO_BIN_EXE_wb")])
        .args(args)
        .env_remove("WB_CARGO")
        .env_remove("WB_RUNNER_ABORT_AFTER_STAGE")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("wb runs")
}

#[test]
fn a_passing_check_reports_scope_coverage_checks_and_the_export_diff_against_the_base() {
    let (dir, probe) = workspace("[coverage]\nline = 80\npatch = 60\n");
    let root = dir.path();
    prepare_base_worktree(root);
    let out = check(root, &["--json", "--lcov", ".workbench/lcov.info"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));

    assert_eq!((&report["verdict"], &report["reasons"], &report["exit_code"]), (&json!("PASS"), &json!([]), &json!(0)));
    assert_eq!(report["merge_base"], merge_base(root));
    assert_eq!(
        report["affected"]["markets"],
        json!({"foobar-au": ["ingest", "validate", "features", "score", "recommend", "export"]})
    );
    let run = &report["runs"][0];
    assert_eq!(
        (&run["markets"], &run["stage"], &run["failed_markets"]),
        (&json!(["foobar-au"]), &json!(null), &json!([]))
    );
    let run_id = run["run_id"].as_str().unwrap();
    assert!(["ok", "alert"].contains(&run["status"].as_str().unwrap()), "{run}");

    let tests = &report["tests"];
    assert_eq!(
        tests["scope"],
        json!({
            "whole_workspace": false,
            "packages": ["fixtures", "foobar-au", "workbench-tests"],
            "reasons": [
                "fixtures: fixtures/data/foobar-au/customers.csv changed",
                "foobar-au: markets/au/src/lib.rs changed",
                "workbench-tests: golden outputs of every market (a market, pipeline-core or a fixture changed)",
            ],
        })
    );
    assert_eq!((&tests["ran"], &tests["note"]), (&json!(false), &json!("coverage read from .workbench/lcov.info")));

    let c = &report["coverage"];
    // Over fixtures and foobar-au: 7 + 2 of 8 + 3 lines; localstack's 2 uncovered lines are outside the scope.
    assert_eq!((&c["line_covered"], &c["line_count"]), (&json!(10), &json!(11)));
    assert_eq!(c["line_percent"], json!(1000.0 / 11.0));
    assert_eq!(c["measured_over"], json!(["fixtures", "foobar-au", "workbench-tests"]));
    assert_eq!((&c["line_ok"], &c["patch_ok"]), (&json!(true), &json!(true)));
    // The three fixture rows are changed lines too, not instrumented.
    assert_eq!((&c["patch_changed"], &c["patch_instrumented"], &c["patch_covered"]), (&json!(6), &json!(3), &json!(2)));
    assert_eq!(c["patch_percent"], json!(200.0 / 3.0));
    assert_eq!(c["uncovered"], json!([{"path": AU_LIB, "lines": [probe + 2]}]));
    assert_eq!(c["hooks_not_executed"], json!([]));

    // The checks are those the run recorded.
    let recorded = History::open(&root.join(".workbench/history.sqlite")).unwrap().run_checks(run_id).unwrap();
    let count = |level: &str| recorded.iter().filter(|c| c.status.as_str() == level).count() as u64;
    let checks = &report["checks"];
    assert_eq!(
        (&checks["pass"], &checks["alert"], &checks["fail"]),
        (&json!(count("pass")), &json!(count("alert")), &json!(0))
    );
    assert!(count("pass") > 0, "{recorded:?}");
    assert_eq!(checks["listed"].as_array().unwrap().len() as u64, count("alert"));

    // The export against the base: the new customer enters the recommendations (30 per run), one leaves, and the
    // others' ranks and propensities move.
    let diffs = &report["diffs"];
    assert_eq!(diffs["against"], json!(&merge_base(root)[..12]));
    assert_eq!(diffs["skipped"], json!(null));
    let tables = diffs["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 1, "{tables:?}");
    assert_eq!(
        (&tables[0]["market"], &tables[0]["stage"], &tables[0]["table"]),
        (&json!("foobar-au"), &json!("export"), &json!("recommendations"))
    );
    assert_eq!((&tables[0]["added"], &tables[0]["removed"], &tables[0]["changed"]), (&json!(1), &json!(1), &json!(23)));
    assert_eq!(tables[0]["summary"], "1 row added, 1 removed, 23 changed (30 → 30 rows)");

    let steps: Vec<&str> = report["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(steps, ["build", "affected", "run", "tests", "coverage", "checks", "diff"]);
    assert_eq!(report["steps"][0]["note"], "skipped: --no-build");
    assert_eq!(report["budget_ms"], 900_000);

    // The report files: the JSON is what was printed, the Markdown says the same, the history has the measurement.
    let md = report["reports"]["markdown"].as_str().unwrap();
    let js = report["reports"]["json"].as_str().unwrap();
    assert!(md.starts_with(".workbench/reports/check-") && md.ends_with(".md"), "{md}");
    assert_eq!(js, md.replace(".md", ".json"));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(root.join(js)).unwrap()).unwrap();
    assert_eq!(written, report);
    let markdown = std::fs::read_to_string(root.join(md)).unwrap();
    assert!(markdown.starts_with("# wb check: PASS\n\ntotal "), "{markdown}");
    let table_line = format!("- foobar-au export recommendations: {}\n", tables[0]["summary"].as_str().unwrap());
    assert!(markdown.contains(&table_line), "{markdown}");
    assert!(
        markdown.contains(&format!(
            "- patch coverage 66.7% (2 of 3 instrumented changed lines ran; 6 changed lines) (threshold 60%): ok\n  \
             - `{AU_LIB}`: uncovered {}\n",
            probe + 2
        )),
        "{markdown}"
    );
    let quality = History::open(&root.join(".workbench/history.sqlite")).unwrap().quality_runs(5).unwrap();
    assert_eq!(quality.len(), 1);
    let q = &quality[0];
    assert_eq!((q.passed, q.line_percent, q.patch_percent), (true, Some(1000.0 / 11.0), Some(200.0 / 3.0)));
    assert_eq!((q.tests_passed, q.line_threshold, q.patch_threshold), (None, 80.0, 60.0));
    assert_eq!(q.report_path.as_deref(), Some(md));
    assert_eq!(q.base, "main");
}

#[test]
fn a_threshold_not_met_fails_with_the_exact_reason_and_the_total_against_the_budget() {
    let (dir, probe) = workspace("");
    let root = dir.path();
    let out = check(root, &["--lcov", ".workbench/lcov.info", "--no-diff"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = stdout(&out);
    let verdict = text.split("\nFAIL\n").nth(1).unwrap_or_else(|| panic!("no FAIL verdict:\n{text}"));
    let lines: Vec<&str> = verdict.lines().collect();
    assert_eq!(lines[0], "  patch coverage 66.7% (2 of 3 instrumented changed lines) is below the 90% threshold");
    assert!(lines[1].starts_with("total ") && lines[1].contains(" of the 15-minute budget (build "), "{verdict}");
    assert!(lines[2].starts_with("report: .workbench/reports/check-"), "{verdict}");
    assert_eq!(lines.len(), 3, "{verdict}");
    assert!(text.contains("\nOutput diffs against the base\n  skipped: --no-diff\n"), "{text}");
    assert!(
        text.contains(&format!(
            "  line coverage 90.9% (10 of 11 lines) over the packages in scope (threshold 80%): ok\n      measured over \
             fixtures, foobar-au, workbench-tests only: their tests also run code of other packages, which is not \
             counted\n  patch coverage 66.7% (2 of 3 instrumented changed lines ran; 6 changed lines) (threshold \
             90%): BELOW\n      {AU_LIB}: uncovered {}\n",
            probe + 2
        )),
        "{text}"
    );
    let quality = History::open(&root.join(".workbench/history.sqlite")).unwrap().quality_runs(5).unwrap();
    assert_eq!(quality.iter().map(|q| q.passed).collect::<Vec<_>>(), [false]);
}

#[test]
fn coverage_that_cannot_be_measured_is_an_error_with_the_install_hint() {
    let (dir, _) = workspace("");
    let root = dir.path();
    let out = check(root, &["--json", "--no-diff"], &[("WB_CARGO", "/nonexistent/cargo")]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let hint = "cargo-llvm-cov is not installed: run `cargo install cargo-llvm-cov --locked` and `rustup component \
                add llvm-tools-preview` (cannot start /nonexistent/cargo: No such file or directory (os error 2))";
    assert!(stderr(&out).ends_with(&format!("error: {hint}\n")), "{}", describe(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (&report["verdict"], &report["reasons"], &report["error"]),
        (&json!("ERROR"), &json!([hint]), &json!(hint))
    );
    assert_eq!(report["tests"]["scope"]["packages"], json!(["fixtures", "foobar-au", "workbench-tests"]));
    assert_eq!(report["coverage"], json!(null));
    // An error is no measurement: nothing recorded in quality_runs.
    let quality = History::open(&root.join(".workbench/history.sqlite")).unwrap().quality_runs(5).unwrap();
    assert!(quality.is_empty());
}
