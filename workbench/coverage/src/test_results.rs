//! Test counts read from libtest's output while the tests run: every test binary (unit, integration and doc
//! tests) ends with `test result: ok. 3 passed; 1 failed; 2 ignored; …`, and each failing test prints
//! `test name ... FAILED`. The counts of all binaries are summed, so `wb check` can say how many tests passed and
//! failed without a second run or a machine-readable test format (which is unstable in libtest).

use serde::Serialize;

/// Tests passed, failed and ignored, summed over the test binaries that reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TestCounts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests ignored (`#[ignore]`).
    pub ignored: u64,
}

impl TestCounts {
    /// The counts of one `test result: …` line; None for any other line (or a malformed count).
    pub fn parse_line(line: &str) -> Option<TestCounts> {
        let rest = line.trim().strip_prefix("test result: ")?;
        // `ok. 3 passed; …` or `FAILED. 1 passed; …`
        let (_, counts) = rest.split_once(". ")?;
        let mut result = TestCounts::default();
        let mut seen = false;
        for part in counts.split(';') {
            let mut words = part.split_whitespace();
            let (Some(number), Some(what)) = (words.next(), words.next()) else { continue };
            let Ok(number) = number.parse::<u64>() else { continue };
            let slot = match what {
                "passed" => &mut result.passed,
                "failed" => &mut result.failed,
                "ignored" => &mut result.ignored,
                _ => continue,
            };
            *slot = number;
            seen = true;
        }
        seen.then_some(result)
    }

    /// Every test that ran or was ignored.
    pub fn total(&self) -> u64 {
        self.passed + self.failed + self.ignored
    }
}

impl std::ops::Add for TestCounts {
    type Output = TestCounts;

    /// The sum of two counts (two test binaries, or two output streams).
    fn add(self, other: TestCounts) -> TestCounts {
        TestCounts {
            passed: self.passed + other.passed,
            failed: self.failed + other.failed,
            ignored: self.ignored + other.ignored,
        }
    }
}

/// What the test output said so far: the summed counts, the failing tests by name, and how many test binaries
/// reported. Fed line by line as the output streams.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TestLog {
    /// The summed counts.
    pub counts: TestCounts,
    /// Names of the failing tests (`tests::compares`), in the order they failed.
    pub failed_tests: Vec<String>,
    /// How many `test result:` lines were read (one per test binary, doc tests included).
    pub binaries: u64,
}

impl TestLog {
    /// Reads one line of output.
    pub fn feed(&mut self, line: &str) {
        if let Some(counts) = TestCounts::parse_line(line) {
            self.counts = self.counts + counts;
            self.binaries += 1;
        } else if let Some(name) = line.trim_end().strip_prefix("test ").and_then(|l| l.strip_suffix(" ... FAILED")) {
            self.failed_tests.push(name.to_string());
        }
    }

    /// Reads every line of `text`.
    pub fn from_output(text: &str) -> TestLog {
        let mut log = TestLog::default();
        for line in text.lines() {
            log.feed(line);
        }
        log
    }

    /// Adds another log's results (the other output stream, or another run).
    pub fn merge(&mut self, other: TestLog) {
        self.counts = self.counts + other.counts;
        self.failed_tests.extend(other.failed_tests);
        self.binaries += other.binaries;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test binary's real output (rustc --test, one failing, two ignored).
    const FAILING: &str = "
running 5 tests
test tests::adds ... ok
test tests::docker ... ignored, needs docker
test tests::parses ... ok
test tests::slow ... ignored
test tests::compares ... FAILED

failures:

---- tests::compares stdout ----

thread 'tests::compares' (18933) panicked at t.rs:5:29:
assertion `left == right` failed
  left: 1
 right: 2
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    tests::compares

test result: FAILED. 2 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.12s

";

    /// Another binary's real output, all passing.
    const PASSING: &str = "
running 2 tests
test one ... ok
test two ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

";

    /// A doc-test binary and one with no tests, as cargo prints them.
    const DOC_AND_EMPTY: &str = "
running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests pipeline_core

running 1 test
test pipeline-core/src/lib.rs - stage_list (line 12) ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.31s

error: 1 target failed:
    `-p foo --lib`
";

    #[test]
    fn a_result_line_gives_its_counts() {
        assert_eq!(
            TestCounts::parse_line(
                "test result: FAILED. 2 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.12s"
            ),
            Some(TestCounts { passed: 2, failed: 1, ignored: 2 })
        );
        assert_eq!(
            TestCounts::parse_line("test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 5 filtered out"),
            Some(TestCounts { passed: 3, failed: 0, ignored: 0 })
        );
        assert_eq!(TestCounts::parse_line("test tests::adds ... ok"), None);
        assert_eq!(TestCounts::parse_line("test result: nothing here"), None);
        assert_eq!(TestCounts::parse_line("running 5 tests"), None);
    }

    #[test]
    fn the_output_of_several_binaries_is_summed_with_the_failing_tests_named() {
        let log = TestLog::from_output(&format!("{FAILING}{PASSING}{DOC_AND_EMPTY}"));
        assert_eq!(log.counts, TestCounts { passed: 5, failed: 1, ignored: 2 });
        assert_eq!(log.counts.total(), 8);
        assert_eq!(log.failed_tests, ["tests::compares"]);
        assert_eq!(log.binaries, 4);
    }

    #[test]
    fn two_streams_merge() {
        let mut stdout = TestLog::from_output(PASSING);
        stdout.merge(TestLog::from_output(FAILING));
        assert_eq!(stdout.counts, TestCounts { passed: 4, failed: 1, ignored: 2 });
        assert_eq!(stdout.failed_tests, ["tests::compares"]);
        assert_eq!(stdout.binaries, 2);
        assert_eq!(TestLog::from_output(""), TestLog::default());
    }
}
