//! `CargoLlvmCov::run` against a stand-in for `cargo` (a shell script, since the real `cargo llvm-cov` run takes
//! minutes): the arguments it is given for a package scope, the test counts read from the real libtest output it
//! prints, failing tests reported as such (not as a tool error), and a failure without a failing test (a build
//! error) reported as the tool failing, naming the command.

#![cfg(unix)]

use std::path::{Path, PathBuf};

use workbench_coverage::run::{CargoLlvmCov, Echo, RunOptions, TestScope};
use workbench_coverage::{CoverageError, TestCounts};

/// Real libtest output of a binary with one failing and two ignored tests.
const FAILING: &str = "running 5 tests
test tests::adds ... ok
test tests::docker ... ignored, needs docker
test tests::parses ... ok
test tests::slow ... ignored
test tests::compares ... FAILED

failures:

---- tests::compares stdout ----

thread 'tests::compares' (18933) panicked at t.rs:5:29:
assertion `left == right` failed

failures:
    tests::compares

test result: FAILED. 2 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.12s
";

/// Real libtest output of a passing binary.
const PASSING: &str = "running 2 tests
test one ... ok
test two ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";

/// A `cargo` stand-in in `dir`: `llvm-cov --version` works; the test run logs its arguments to `args.log`,
/// prints `test_output` on stdout and cargo-like lines on stderr, and exits with `test_exit`; the report steps
/// write their `--output-path`.
fn fake_cargo(dir: &Path, test_output: &str, test_exit: i32) -> PathBuf {
    let output = dir.join("test-output.txt");
    std::fs::write(&output, test_output).unwrap();
    let log = dir.join("args.log");
    let script = format!(
        r#"#!/bin/sh
if [ "$2" = "--version" ]; then echo "cargo-llvm-cov 0.6.0"; exit 0; fi
if [ "$2" = "report" ]; then
  for last; do :; done
  echo "report $*" >> "{log}"
  echo "SF:/x.rs" > "$last"
  exit 0
fi
echo "$*" >> "{log}"
echo "   Compiling foobar-au v0.1.0" >&2
cat "{output}"
echo "     Running unittests src/lib.rs" >&2
exit {test_exit}
"#,
        log = log.display(),
        output = output.display()
    );
    let path = dir.join("cargo");
    workbench_testkit::write_executable(&path, &script);
    path
}

#[test]
fn a_package_scope_runs_those_packages_and_failing_tests_are_counted_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cargo = fake_cargo(dir.path(), &format!("{FAILING}{PASSING}"), 101);
    let options = RunOptions {
        scope: TestScope::Packages(vec!["foobar-au".into(), "workbench-tests".into()]),
        no_fail_fast: true,
        // Quiet: echoed libtest lines would be read as this test binary's own results by a `wb check` running it.
        echo: Echo::Quiet,
    };
    let run = CargoLlvmCov { program: cargo.clone().into() }.run(dir.path(), &options).unwrap();
    assert_eq!(run.tests.counts, TestCounts { passed: 4, failed: 1, ignored: 2 });
    assert_eq!(run.tests.failed_tests, ["tests::compares"]);
    assert_eq!(run.tests.binaries, 2);
    assert_eq!(
        run.command,
        format!("{} llvm-cov --no-report --no-fail-fast -p foobar-au -p workbench-tests", cargo.display())
    );
    let lcov = dir.path().join(".workbench/coverage/lcov.info");
    let json = dir.path().join(".workbench/coverage/coverage.json");
    assert_eq!((run.outputs.lcov.clone(), run.outputs.json.clone()), (lcov.clone(), json.clone()));
    assert_eq!(std::fs::read_to_string(&lcov).unwrap(), "SF:/x.rs\n");
    let log = std::fs::read_to_string(dir.path().join("args.log")).unwrap();
    assert_eq!(
        log,
        format!(
            "llvm-cov --no-report --no-fail-fast -p foobar-au -p workbench-tests\n\
             report llvm-cov report --lcov --output-path {}\n\
             report llvm-cov report --json --summary-only --output-path {}\n",
            lcov.display(),
            json.display()
        )
    );
}

#[test]
fn the_workspace_scope_and_a_failure_without_failing_tests_is_the_tool_failing() {
    let dir = tempfile::tempdir().unwrap();
    let cargo = fake_cargo(dir.path(), "error[E0425]: cannot find value `x` in this scope\n", 101);
    let options = RunOptions { scope: TestScope::Workspace, no_fail_fast: false, echo: Echo::Quiet };
    let err = CargoLlvmCov { program: cargo.clone().into() }.run(dir.path(), &options).unwrap_err();
    assert!(matches!(err, CoverageError::ToolFailed { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "`{} llvm-cov --no-report --workspace` failed with exit status: 101: fix the failing build or test \
             above, then run `wb coverage` again",
            cargo.display()
        )
    );

    let passing = tempfile::tempdir().unwrap();
    let cargo = fake_cargo(passing.path(), PASSING, 0);
    let run = CargoLlvmCov { program: cargo.into() }.run(passing.path(), &options).unwrap();
    assert_eq!(run.tests.counts, TestCounts { passed: 2, failed: 0, ignored: 0 });
    assert!(run.tests.failed_tests.is_empty());
}

#[test]
fn the_variables_cargo_set_for_this_test_are_the_ones_a_nested_cargo_must_not_inherit() {
    // `cargo test` runs this binary with the package's variables set; PATH and HOME are the user's own.
    let vars: Vec<String> =
        workbench_coverage::run::cargo_run_vars().into_iter().map(|v| v.into_string().unwrap()).collect();
    for set_by_cargo in ["CARGO_MANIFEST_DIR", "CARGO_PKG_NAME", "CARGO_PKG_VERSION"] {
        assert!(vars.iter().any(|v| v == set_by_cargo), "{set_by_cargo} missing from {vars:?}");
    }
    for own in ["PATH", "HOME", "CARGO_HOME", "CARGO_TARGET_DIR", "CARGO"] {
        assert!(!vars.iter().any(|v| v == own), "{own} must be kept: {vars:?}");
    }
}
