//! The `wb check` report: one serde struct ([`CheckReport`]) written as JSON, rendered as Markdown for the review
//! and as text for the terminal (the same content), the verdict with its reasons ([`verdict`]), and the one-line
//! summaries of the output diffs against the base ([`diff_lines`]).

use serde::{Deserialize, Serialize};
use workbench_coverage::Counts;
use workbench_diff::StageDiff;

use crate::exit::ExitStatus;
use crate::history::Level;
use crate::present::coverage::line_ranges;
use crate::present::report::{BUDGET_MS, duration};
use crate::services::check_scope::TestScope;

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// Every threshold met, no FAIL check, no failed test, no failed market.
    Pass,
    /// Something was measured and not met (exit 1).
    Fail,
    /// Something could not be built or measured (exit 2).
    Error,
}

impl Verdict {
    /// `PASS`, `FAIL` or `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
        }
    }

    /// The exit code: 0, 1 or 2.
    pub fn exit_status(self) -> ExitStatus {
        match self {
            Verdict::Pass => ExitStatus::Ok,
            Verdict::Fail => ExitStatus::Fail,
            Verdict::Error => ExitStatus::Error,
        }
    }
}

/// One timed step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// `build`, `affected`, `run`, `tests`, `coverage`, `checks` or `diff`.
    pub name: String,
    /// Wall time.
    pub duration_ms: u64,
    /// What happened, when it is not the obvious (`skipped: --no-build`).
    pub note: Option<String>,
}

/// What the changes touch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPart {
    /// Why every market and stage ran, when the analysis could not tell.
    pub unsure: Option<String>,
    /// One line per changed file: `path changed → market: stages`.
    pub changes: Vec<String>,
    /// Affected market → its affected stages, in execution order.
    pub markets: std::collections::BTreeMap<String, Vec<String>>,
}

/// One `wb run` of the affected markets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPart {
    /// Its run id in the history (None when it did not start).
    pub run_id: Option<String>,
    /// The markets it ran.
    pub markets: Vec<String>,
    /// The stage it ran to (None: every stage).
    pub stage: Option<String>,
    /// `ok`, `alert`, `fail`, `error` or `cancelled`.
    pub status: String,
    /// Markets that ended `fail` or `error`, with their error: `foobar-au: ...`.
    pub failed_markets: Vec<String>,
}

/// The tests under coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestsPart {
    /// Which tests, and why.
    pub scope: TestScope,
    /// Whether they ran (not with `--lcov`, nor with an empty scope).
    pub ran: bool,
    /// Why not, or what ran.
    pub note: Option<String>,
    /// The test command.
    pub command: Option<String>,
    /// Tests passed (None when they did not run).
    pub passed: Option<u64>,
    /// Tests failed.
    pub failed: Option<u64>,
    /// Tests ignored.
    pub ignored: Option<u64>,
    /// Names of the failing tests.
    pub failed_tests: Vec<String>,
}

/// The uncovered changed lines of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uncovered {
    /// Path from the workspace root.
    pub path: String,
    /// Instrumented changed lines that never ran.
    pub lines: Vec<u32>,
}

/// Line and patch coverage against the thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoveragePart {
    /// The LCOV tracefile read.
    pub lcov: String,
    /// The packages line coverage is measured over (the test scope).
    pub measured_over: Vec<String>,
    /// Instrumented lines of those packages that ran.
    pub line_covered: u64,
    /// Instrumented lines of those packages.
    pub line_count: u64,
    /// Line coverage in percent (None: nothing instrumented).
    pub line_percent: Option<f64>,
    /// The line threshold in percent.
    pub line_threshold: f64,
    /// Whether line coverage meets it.
    pub line_ok: bool,
    /// Changed lines since the merge base.
    pub patch_changed: usize,
    /// Of those, the instrumented ones.
    pub patch_instrumented: usize,
    /// Of those, the ones that ran.
    pub patch_covered: usize,
    /// Patch coverage in percent (None: no changed line is instrumented).
    pub patch_percent: Option<f64>,
    /// The patch threshold in percent.
    pub patch_threshold: f64,
    /// Whether patch coverage meets it.
    pub patch_ok: bool,
    /// Uncovered changed lines per file.
    pub uncovered: Vec<Uncovered>,
    /// Market hook overrides in scope that no test executes: `foobar-br normalize (markets/br/src/normalize.rs:3-9)`.
    pub hooks_not_executed: Vec<String>,
}

impl CoveragePart {
    /// The line counts as [`Counts`].
    pub fn lines(&self) -> Counts {
        Counts::new(self.line_covered, self.line_count)
    }
}

/// One data-quality check that did not pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckLine {
    /// Market.
    pub market: String,
    /// Stage.
    pub stage: String,
    /// Check name.
    pub check: String,
    /// What it measured.
    pub subject: String,
    /// `fail` or `alert`.
    pub status: Level,
    /// Its message.
    pub message: String,
}

/// The checks of the affected markets' stages in the runs just made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecksPart {
    /// Checks that passed.
    pub pass: u64,
    /// Checks that alerted.
    pub alert: u64,
    /// Checks that failed.
    pub fail: u64,
    /// The FAIL checks, then the ALERT ones.
    pub listed: Vec<CheckLine>,
}

/// One table's diff against the base, in one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    /// Market.
    pub market: String,
    /// Stage.
    pub stage: String,
    /// Table (None when the diff could not be computed).
    pub table: Option<String>,
    /// Rows only in the change.
    pub added: Option<u64>,
    /// Rows only in the base.
    pub removed: Option<u64>,
    /// Rows in both with a changed value.
    pub changed: Option<u64>,
    /// `no differences`, `3 rows added, 1 removed, 12 changed (500 → 502 rows)`, or why it was not computed.
    pub summary: String,
}

/// The output diffs against the base.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffsPart {
    /// The base revision compared with (`0123456789ab`).
    pub against: Option<String>,
    /// Why no diff was computed (`--no-diff`, nothing affected).
    pub skipped: Option<String>,
    /// One line per table.
    pub tables: Vec<DiffLine>,
}

/// Where the report was written, from the workspace root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportPaths {
    /// The Markdown report.
    pub markdown: String,
    /// The JSON report.
    pub json: String,
}

/// Everything `wb check` found, as written to `.workbench/reports/check-<UTC time>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// PASS, FAIL or ERROR.
    pub verdict: Verdict,
    /// Why not PASS, one line each.
    pub reasons: Vec<String>,
    /// The exit code.
    pub exit_code: u8,
    /// What stopped the check (verdict ERROR).
    pub error: Option<String>,
    /// RFC 3339 UTC start.
    pub started_at: String,
    /// The command line.
    pub command: String,
    /// The base branch.
    pub base: String,
    /// Its merge base with HEAD (None when unknown).
    pub merge_base: Option<String>,
    /// HEAD.
    pub git_commit: Option<String>,
    /// Whether tracked files had uncommitted changes.
    pub git_dirty: Option<bool>,
    /// Wall time of the whole check.
    pub total_ms: u64,
    /// The feedback budget (15 minutes).
    pub budget_ms: u64,
    /// The steps, timed, in order.
    pub steps: Vec<Step>,
    /// What the changes touch.
    pub affected: AffectedPart,
    /// The runs of the affected markets.
    pub runs: Vec<RunPart>,
    /// The tests.
    pub tests: Option<TestsPart>,
    /// Coverage (None when it was not measured).
    pub coverage: Option<CoveragePart>,
    /// The data-quality checks.
    pub checks: ChecksPart,
    /// The output diffs against the base.
    pub diffs: DiffsPart,
    /// Where the report was written.
    pub reports: Option<ReportPaths>,
}

fn pct(percent: Option<f64>) -> String {
    percent.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "-".to_string())
}

/// The verdict and its reasons: each threshold not met, the FAIL checks, the failed tests and the failed markets.
/// An `error` makes it ERROR whatever else was found.
pub fn verdict(report: &CheckReport) -> (Verdict, Vec<String>) {
    let mut reasons = Vec::new();
    if let Some(error) = &report.error {
        return (Verdict::Error, vec![error.clone()]);
    }
    if let Some(c) = &report.coverage {
        if !c.line_ok {
            reasons.push(format!(
                "line coverage {} ({} of {} lines) is below the {}% threshold",
                pct(c.line_percent),
                c.line_covered,
                c.line_count,
                c.line_threshold
            ));
        }
        if !c.patch_ok {
            reasons.push(format!(
                "patch coverage {} ({} of {} instrumented changed lines) is below the {}% threshold",
                pct(c.patch_percent),
                c.patch_covered,
                c.patch_instrumented,
                c.patch_threshold
            ));
        }
    }
    match report.checks.fail {
        0 => {}
        1 => reasons.push("1 FAIL check".to_string()),
        n => reasons.push(format!("{n} FAIL checks")),
    }
    match report.tests.as_ref().and_then(|t| t.failed).unwrap_or(0) {
        0 => {}
        1 => reasons.push("1 failed test".to_string()),
        n => reasons.push(format!("{n} failed tests")),
    }
    for run in &report.runs {
        for market in &run.failed_markets {
            reasons.push(format!("run {}: {market}", run.run_id.as_deref().unwrap_or("-")));
        }
    }
    let verdict = if reasons.is_empty() { Verdict::Pass } else { Verdict::Fail };
    (verdict, reasons)
}

/// One line per table of a stage diff against the base: rows added, removed and changed, or `no differences`.
pub fn diff_lines(market: &str, diff: &StageDiff) -> Vec<DiffLine> {
    diff.tables
        .iter()
        .map(|t| {
            let k = &t.keyed;
            let mut summary = if k.added == 0 && k.removed == 0 && k.changed == 0 && t.schema.is_empty() {
                "no differences".to_string()
            } else {
                let rows = if k.added == 1 { "row" } else { "rows" };
                format!(
                    "{} {rows} added, {} removed, {} changed ({} → {} rows)",
                    k.added, k.removed, k.changed, t.rows.a, t.rows.b
                )
            };
            let s = &t.schema;
            let mut columns = Vec::new();
            if !s.only_in_b.is_empty() {
                let names: Vec<&str> = s.only_in_b.iter().map(|c| c.column.as_str()).collect();
                columns.push(format!("columns added: {}", names.join(", ")));
            }
            if !s.only_in_a.is_empty() {
                let names: Vec<&str> = s.only_in_a.iter().map(|c| c.column.as_str()).collect();
                columns.push(format!("columns removed: {}", names.join(", ")));
            }
            if !s.type_changes.is_empty() {
                let names: Vec<String> =
                    s.type_changes.iter().map(|c| format!("{} {} → {}", c.column, c.a, c.b)).collect();
                columns.push(format!("types changed: {}", names.join(", ")));
            }
            if !columns.is_empty() {
                summary.push_str(&format!("; {}", columns.join("; ")));
            }
            DiffLine {
                market: market.to_string(),
                stage: diff.stage.clone(),
                table: Some(t.table.clone()),
                added: Some(k.added),
                removed: Some(k.removed),
                changed: Some(k.changed),
                summary,
            }
        })
        .collect()
}

/// `total 2m41s of the 15-minute budget (build 12.0s, run 30.1s, …)`.
pub fn total_line(report: &CheckReport) -> String {
    let steps: Vec<String> = report.steps.iter().map(|s| format!("{} {}", s.name, duration(s.duration_ms))).collect();
    let over = if report.total_ms > report.budget_ms {
        format!(", {} over", duration(report.total_ms - report.budget_ms))
    } else {
        String::new()
    };
    format!(
        "total {} of the {}-minute budget{over} ({})",
        duration(report.total_ms),
        BUDGET_MS / 60_000,
        steps.join(", ")
    )
}

/// Text or Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Plain text for the terminal: the verdict last.
    Text,
    /// Markdown for a review: the verdict first.
    Markdown,
}

struct Doc {
    style: Style,
    out: String,
}

impl Doc {
    fn heading(&mut self, title: &str) {
        match self.style {
            Style::Markdown => self.out.push_str(&format!("\n## {title}\n\n")),
            Style::Text => self.out.push_str(&format!("\n{title}\n")),
        }
    }

    fn item(&mut self, line: &str) {
        match self.style {
            Style::Markdown => self.out.push_str(&format!("- {line}\n")),
            Style::Text => self.out.push_str(&format!("  {line}\n")),
        }
    }

    fn sub(&mut self, line: &str) {
        match self.style {
            Style::Markdown => self.out.push_str(&format!("  - {line}\n")),
            Style::Text => self.out.push_str(&format!("      {line}\n")),
        }
    }

    fn code(&self, s: &str) -> String {
        match self.style {
            Style::Markdown => format!("`{s}`"),
            Style::Text => s.to_string(),
        }
    }

    fn verdict(&mut self, report: &CheckReport) {
        match self.style {
            Style::Markdown => {
                self.out.push_str(&format!("# wb check: {}\n\n", report.verdict.as_str()));
                for reason in &report.reasons {
                    self.out.push_str(&format!("- {reason}\n"));
                }
                if !report.reasons.is_empty() {
                    self.out.push('\n');
                }
                self.out.push_str(&format!("{}\n", total_line(report)));
            }
            Style::Text => {
                self.out.push_str(&format!("\n{}\n", report.verdict.as_str()));
                for reason in &report.reasons {
                    self.out.push_str(&format!("  {reason}\n"));
                }
                self.out.push_str(&format!("{}\n", total_line(report)));
                if let Some(paths) = &report.reports {
                    self.out.push_str(&format!("report: {} and {}\n", paths.markdown, paths.json));
                }
            }
        }
    }
}

/// The report as text (`Style::Text`) or Markdown.
pub fn render(report: &CheckReport, style: Style) -> String {
    let mut d = Doc { style, out: String::new() };
    if style == Style::Markdown {
        d.verdict(report);
    }
    let head = report.git_commit.as_deref().map(|c| &c[..c.len().min(12)]).unwrap_or("-");
    let dirty = if report.git_dirty == Some(true) { " with uncommitted changes" } else { "" };
    let merge_base = report.merge_base.as_deref().map(|m| &m[..m.len().min(12)]).unwrap_or("unknown");
    let header = format!(
        "{} against {} (merge base {}), HEAD {head}{dirty}, started {}",
        d.code(&report.command),
        report.base,
        merge_base,
        report.started_at
    );
    match style {
        Style::Markdown => d.out.push_str(&format!("\n{header}\n")),
        Style::Text => d.out.push_str(&format!("{header}\n")),
    }
    if let Some(error) = &report.error {
        d.heading("Error");
        d.item(error);
    }

    d.heading("Affected markets and stages");
    if let Some(unsure) = &report.affected.unsure {
        d.item(&format!("unsure ({unsure}): every market and stage ran"));
    } else if report.affected.markets.is_empty() {
        d.item("no stage output can change: no market ran");
    }
    for (market, stages) in &report.affected.markets {
        d.item(&format!("{market}: {}", stages.join(", ")));
    }
    for change in &report.affected.changes {
        d.sub(change);
    }
    for run in &report.runs {
        let id = run.run_id.as_deref().unwrap_or("(not started)");
        let stage = run.stage.as_deref().map(|s| format!(" to {s}")).unwrap_or_default();
        d.item(&format!("run {}: {}{stage}: {}", d.code(id), run.markets.join(", "), run.status));
        for failed in &run.failed_markets {
            d.sub(failed);
        }
    }

    d.heading("Tests and coverage");
    if let Some(t) = &report.tests {
        let scope = if t.scope.whole_workspace {
            "the whole workspace".to_string()
        } else if t.scope.packages.is_empty() {
            "no package".to_string()
        } else {
            t.scope.packages.join(", ")
        };
        d.item(&format!("scope: {scope}"));
        for reason in &t.scope.reasons {
            d.sub(reason);
        }
        match (t.passed, t.failed, t.ignored) {
            (Some(p), Some(f), Some(i)) => d.item(&format!("tests: {p} passed, {f} failed, {i} ignored")),
            _ => d.item(&format!("tests: not run ({})", t.note.as_deref().unwrap_or("-"))),
        }
        if let Some(command) = &t.command {
            d.sub(&d.code(command));
        }
        for name in &t.failed_tests {
            d.sub(&format!("FAILED {name}"));
        }
    }
    if let Some(c) = &report.coverage {
        let ok = |ok: bool| if ok { "ok" } else { "BELOW" };
        d.item(&format!(
            "line coverage {} ({} of {} lines) over the packages in scope (threshold {}%): {}",
            pct(c.line_percent),
            c.line_covered,
            c.line_count,
            c.line_threshold,
            ok(c.line_ok)
        ));
        d.sub(&format!(
            "measured over {} only: their tests also run code of other packages, which is not counted",
            if c.measured_over.is_empty() { "no package".to_string() } else { c.measured_over.join(", ") }
        ));
        d.item(&format!(
            "patch coverage {} ({} of {} instrumented changed lines ran; {} changed lines) (threshold {}%): {}",
            pct(c.patch_percent),
            c.patch_covered,
            c.patch_instrumented,
            c.patch_changed,
            c.patch_threshold,
            ok(c.patch_ok)
        ));
        for file in &c.uncovered {
            d.sub(&format!("{}: uncovered {}", d.code(&file.path), line_ranges(&file.lines)));
        }
        if c.hooks_not_executed.is_empty() {
            d.item("hook overrides in scope: every one runs under the tests");
        } else {
            d.item("hook overrides in scope that no test runs:");
            for hook in &c.hooks_not_executed {
                d.sub(hook);
            }
        }
        d.item(&format!("coverage read from {}", d.code(&c.lcov)));
    }

    d.heading("Data-quality checks");
    let k = &report.checks;
    d.item(&format!("{} pass, {} alert, {} fail", k.pass, k.alert, k.fail));
    for c in &k.listed {
        d.sub(&format!(
            "{} {} {} {} {}: {}",
            c.status.as_str().to_uppercase(),
            c.market,
            c.stage,
            c.check,
            c.subject,
            c.message
        ));
    }

    d.heading("Output diffs against the base");
    if let Some(against) = &report.diffs.against {
        d.item(&format!("against {}", d.code(against)));
    }
    if let Some(skipped) = &report.diffs.skipped {
        d.item(&format!("skipped: {skipped}"));
    }
    for line in &report.diffs.tables {
        let table = line.table.as_deref().map(|t| format!(" {t}")).unwrap_or_default();
        d.item(&format!("{} {}{table}: {}", line.market, line.stage, line.summary));
    }

    d.heading("Steps");
    for step in &report.steps {
        let note = step.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        d.item(&format!("{} {}{note}", step.name, duration(step.duration_ms)));
    }
    if style == Style::Text {
        d.verdict(report);
    }
    d.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;
    use workbench_diff::{Side, StageOptions, TablePair, diff_stage};

    fn empty_report() -> CheckReport {
        CheckReport {
            verdict: Verdict::Pass,
            reasons: Vec::new(),
            exit_code: 0,
            error: None,
            started_at: "2026-11-15T10:15:00.000Z".into(),
            command: "wb check --base main".into(),
            base: "main".into(),
            merge_base: Some("0123456789abcdef".into()),
            git_commit: Some("fedcba9876543210".into()),
            git_dirty: Some(true),
            total_ms: 161_000,
            budget_ms: BUDGET_MS,
            steps: vec![
                Step { name: "build".into(), duration_ms: 12_000, note: None },
                Step { name: "tests".into(), duration_ms: 110_000, note: None },
            ],
            affected: AffectedPart::default(),
            runs: Vec::new(),
            tests: None,
            coverage: None,
            checks: ChecksPart::default(),
            diffs: DiffsPart::default(),
            reports: None,
        }
    }

    fn coverage(line: (u64, u64), patch: (usize, usize)) -> CoveragePart {
        let thresholds = workbench_coverage::Thresholds::default();
        let line_percent = workbench_coverage::summary::percent(line.0, line.1);
        let patch_percent = workbench_coverage::summary::percent(patch.0 as u64, patch.1 as u64);
        CoveragePart {
            lcov: "lcov.info".into(),
            measured_over: vec!["foobar-au".into()],
            line_covered: line.0,
            line_count: line.1,
            line_percent,
            line_threshold: thresholds.line,
            line_ok: thresholds.line_ok(line_percent),
            patch_changed: patch.1 + 2,
            patch_instrumented: patch.1,
            patch_covered: patch.0,
            patch_percent,
            patch_threshold: thresholds.patch,
            patch_ok: thresholds.patch_ok(patch_percent),
            uncovered: Vec::new(),
            hooks_not_executed: Vec::new(),
        }
    }

    #[test]
    fn the_verdict_names_every_reason() {
        let mut report = empty_report();
        report.coverage = Some(coverage((90, 100), (9, 10)));
        assert_eq!(verdict(&report), (Verdict::Pass, vec![]));
        report.coverage = Some(coverage((79, 100), (1, 3)));
        report.checks.fail = 2;
        report.runs.push(RunPart {
            run_id: Some("r1".into()),
            markets: vec!["foobar-au".into()],
            stage: None,
            status: "fail".into(),
            failed_markets: vec!["foobar-au: stage validate failed its checks".into()],
        });
        report.tests = Some(TestsPart {
            scope: TestScope { whole_workspace: false, packages: vec![], reasons: vec![] },
            ran: true,
            note: None,
            command: None,
            passed: Some(3),
            failed: Some(1),
            ignored: Some(0),
            failed_tests: vec!["a::b".into()],
        });
        assert_eq!(
            verdict(&report),
            (
                Verdict::Fail,
                vec![
                    "line coverage 79.0% (79 of 100 lines) is below the 80% threshold".to_string(),
                    "patch coverage 33.3% (1 of 3 instrumented changed lines) is below the 90% threshold".to_string(),
                    "2 FAIL checks".to_string(),
                    "1 failed test".to_string(),
                    "run r1: foobar-au: stage validate failed its checks".to_string(),
                ]
            )
        );
        report.error = Some("cannot build".into());
        assert_eq!(verdict(&report), (Verdict::Error, vec!["cannot build".to_string()]));
    }

    #[test]
    fn the_total_is_against_the_budget_with_each_step() {
        let mut report = empty_report();
        assert_eq!(total_line(&report), "total 2m41s of the 15-minute budget (build 12.0s, tests 1m50s)");
        report.total_ms = BUDGET_MS + 61_000;
        assert_eq!(total_line(&report), "total 16m01s of the 15-minute budget, 1m01s over (build 12.0s, tests 1m50s)");
    }

    fn frame(ids: &[&str], scores: &[f64]) -> DataFrame {
        df!("customer_id" => ids, "propensity" => scores).unwrap()
    }

    #[test]
    fn a_computed_diff_is_summarised_one_line_per_table() {
        let pairs = vec![TablePair {
            table: "recommendations".into(),
            a: frame(&["C1", "C2", "C3"], &[0.1, 0.2, 0.3]),
            b: frame(&["C1", "C2", "C4", "C5"], &[0.1, 0.25, 0.4, 0.5]),
        }];
        let options =
            StageOptions { keys: Some(vec!["customer_id".into()]), sample_rows: 0, ..StageOptions::default() };
        let diff = diff_stage(
            pipeline_core::Stage::Export,
            Side::named("base", "foobar-au"),
            Side::named("change", "foobar-au"),
            &pairs,
            &options,
        )
        .unwrap();
        let lines = diff_lines("foobar-au", &diff);
        assert_eq!(
            lines,
            vec![DiffLine {
                market: "foobar-au".into(),
                stage: "export".into(),
                table: Some("recommendations".into()),
                added: Some(2),
                removed: Some(1),
                changed: Some(1),
                summary: "2 rows added, 1 removed, 1 changed (3 → 4 rows)".into(),
            }]
        );
        let same = vec![TablePair { table: "recommendations".into(), a: pairs[0].a.clone(), b: pairs[0].a.clone() }];
        let diff = diff_stage(
            pipeline_core::Stage::Export,
            Side::named("base", "foobar-au"),
            Side::named("change", "foobar-au"),
            &same,
            &options,
        )
        .unwrap();
        assert_eq!(diff_lines("foobar-au", &diff)[0].summary, "no differences");
    }
}
