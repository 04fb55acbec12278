//! `wb check`: the reviewer's one command before a merge.
//!
//! Steps, each timed: (1) build the runner (`cargo build -p workbench-runner --bin wb-runner`, as `wb watch`);
//! (2) the affected analysis (`workbench-affected`: the changes since the merge base with `--base`) and a run (in
//! process, as `wb run --runner`) of the affected markets up to their last affected stage (the cache serves the rest; every market and
//! stage when the analysis cannot tell), recorded in the run history like any run; (3) the tests under coverage
//! (`cargo llvm-cov`) over the packages the change touches ([`scope`]), or an existing tracefile with `--lcov`;
//! (4) line coverage over the packages in scope, patch coverage and the hook override matrix
//! (`workbench-coverage`); (5) the data-quality checks of the runs just made; (6) a one-line-per-table summary of
//! each affected market's export diffed against the base revision (`wb diff --against`, which builds and runs the
//! base once in a worktree). Then the verdict: PASS, FAIL with each reason, or ERROR, with the total time against
//! the 15-minute budget.
//!
//! Line coverage is measured over the packages in the test scope only (all of them for the whole workspace):
//! the tests of one package execute code of others, and that code's untested remainder is not this change's.
//!
//! The report is written to `.workbench/reports/check-<UTC time>.md` and `.json` (the same content; the JSON is
//! [`report::CheckReport`]), the measurement is recorded in the history (`quality_runs`), and the exit code is 0
//! (PASS), 1 (FAIL: a threshold, a FAIL check, a failed test or a failed market) or 2 (ERROR: cannot build,
//! run or measure).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use localstack::RetryLog;
use pipeline_core::{RunStatus, Stage};
use workbench_affected::Affected;
use workbench_coverage::run::{CargoLlvmCov, Echo, RunOptions, TestScope as CargoScope};
use workbench_coverage::{Counts, JsonExport, Lcov};

use crate::cli::CheckArgs;
use crate::exit::ExitStatus;
use crate::history::History;
use crate::history::quality::QualityRun;
use crate::present::check_report::{
    self as report, AffectedPart, CheckLine, CheckReport, ChecksPart, CoveragePart, DiffLine, DiffsPart, ReportPaths,
    RunPart, Step, Style, TestsPart, Uncovered, Verdict,
};
use crate::present::output::say;
use crate::present::run_lines;
use crate::services::check_scope::{self as scope, TestScope};
use crate::services::diff::{self, DiffQuery, Sides};
use crate::services::runs::{self, BackendUse, Jobs, RunProgress, RunRequest};
use crate::services::supervisor::{Cancel, RunnerCommand, Update};
use crate::workspace::Workspace;
use markets::MarketId;

/// Where the reports go, under the workspace root.
pub const REPORTS_DIR: &str = ".workbench/reports";

/// Runs `wb check` from the current directory; prints the report (text, or JSON with `--json`), writes it under
/// [`REPORTS_DIR`] and returns the exit code. Needs a multi-thread tokio runtime.
pub async fn check(args: CheckArgs) -> ExitStatus {
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => return crate::present::output::fail(e),
    };
    // Retries of this process's own requests (provisioning); the runners report theirs as log events.
    RetryLog::global().on_retry(|retry| eprintln!("warning: {retry}"));
    let command = std::iter::once("wb".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ");
    let mut check = Check::new(workspace, args, command);
    check.run().await;
    check.finish()
}

/// One check in progress: its options and the report it fills.
struct Check {
    workspace: Workspace,
    root: PathBuf,
    args: CheckArgs,
    started: Instant,
    report: CheckReport,
    affected: Option<Affected>,
}

impl Check {
    fn new(workspace: Workspace, args: CheckArgs, command: String) -> Self {
        let root = workspace.root().canonicalize().unwrap_or_else(|_| workspace.root().to_path_buf());
        let git = crate::git::state(&root);
        let report = CheckReport {
            verdict: Verdict::Error,
            reasons: Vec::new(),
            exit_code: ExitStatus::Error.code(),
            error: None,
            started_at: crate::history::now(),
            command,
            base: args.base.clone(),
            merge_base: None,
            git_commit: git.as_ref().map(|g| g.commit.clone()),
            git_dirty: git.as_ref().map(|g| g.dirty),
            total_ms: 0,
            budget_ms: crate::present::report::BUDGET_MS,
            steps: Vec::new(),
            affected: AffectedPart::default(),
            runs: Vec::new(),
            tests: None,
            coverage: None,
            checks: ChecksPart::default(),
            diffs: DiffsPart::default(),
            reports: None,
        };
        Self { workspace, root, args, started: Instant::now(), report, affected: None }
    }

    /// A progress line: on stdout, or on stderr with `--json` (stdout holds the report).
    fn progress(&self, line: &str) {
        if self.args.json { eprintln!("{line}") } else { say(line) }
    }

    fn step(&mut self, name: &str, started: Instant, note: Option<String>) {
        let ms = started.elapsed().as_millis() as u64;
        self.report.steps.push(Step { name: name.to_string(), duration_ms: ms, note });
    }

    /// The steps in order; the first error stops them (it is in the report).
    async fn run(&mut self) {
        let result = async {
            self.build().await?;
            self.run_affected().await?;
            self.coverage()?;
            self.checks()?;
            self.diffs().await;
            Ok::<(), String>(())
        }
        .await;
        if let Err(e) = result {
            self.report.error = Some(e);
        }
    }

    /// The runner the runs start: `--runner`, else the `wb-runner` that [`Self::build`] builds (as `wb watch`).
    fn runner_path(&self) -> PathBuf {
        crate::services::build::runner_binary(
            &crate::services::build::target_dir(&self.root),
            false,
            self.args.runner.runner.as_deref(),
        )
    }

    /// (1) Rebuilds the runner, compiler messages on stderr.
    async fn build(&mut self) -> Result<(), String> {
        let started = Instant::now();
        if self.args.runner.no_build {
            self.step("build", started, Some("skipped: --no-build".into()));
            return Ok(());
        }
        let build = crate::services::build::build_args(false);
        self.progress(&format!("building the runner: cargo {}", build.join(" ")));
        let status = crate::services::build::command()
            .args(&build)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .await;
        self.step("build", started, None);
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => {
                Err(format!("cannot build the runner: `cargo {}` failed ({s}): fix the errors above", build.join(" ")))
            }
            Err(e) => Err(format!("cannot run cargo: {e}; install Rust, or pass --no-build with --runner <path>")),
        }
    }

    /// (2) The affected analysis, then a run of the affected markets up to their last affected stage.
    async fn run_affected(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let order = markets::ids();
        let groups: Vec<(Option<Stage>, Vec<String>)> = match workbench_affected::analyze(&self.root, &self.args.base) {
            Ok(affected) => {
                self.report.merge_base = (!affected.merge_base.is_empty()).then(|| affected.merge_base.clone());
                self.report.affected.changes = affected.changes.iter().map(|c| c.summary.clone()).collect();
                self.report.affected.markets = affected
                    .cells
                    .iter()
                    .map(|(m, stages)| {
                        let names = pipeline_core::engine::plan(None)
                            .into_iter()
                            .filter(|s| stages.contains(s))
                            .map(|s| s.name().to_string())
                            .collect();
                        (m.clone(), names)
                    })
                    .collect();
                let groups = crate::services::affected::run_groups(&affected, &order);
                self.affected = Some(affected);
                groups
            }
            Err(e) => {
                self.report.affected.unsure = Some(e.to_string());
                self.report.affected.markets = order
                    .iter()
                    .map(|m| {
                        (m.to_string(), pipeline_core::engine::plan(None).iter().map(|s| s.name().into()).collect())
                    })
                    .collect();
                vec![(None, order.iter().map(|m| m.to_string()).collect())]
            }
        };
        self.step("affected", started, None);
        let started = Instant::now();
        if groups.is_empty() {
            self.progress("affected: nothing; no stage output can change, no market runs");
            self.step("run", started, Some("nothing affected".into()));
            return Ok(());
        }
        for (stage, markets) in groups {
            let to = stage.map(|s| format!(" to {s}")).unwrap_or_default();
            self.progress(&format!("running {}{to}", markets.join(", ")));
            let part = self.run_markets(&markets, stage).await;
            self.report.runs.push(part);
        }
        self.step("run", started, None);
        if let Some(run) = self.report.runs.iter().find(|r| r.status == RunStatus::Error.as_str()) {
            return Err(format!(
                "the run {} of {} ended in error: see the errors above (`wb show {}`)",
                run.run_id.as_deref().unwrap_or("-"),
                run.markets.join(", "),
                run.run_id.as_deref().unwrap_or("last")
            ));
        }
        Ok(())
    }

    /// Runs `markets` up to `stage` in process through the run service (recorded like any run), showing its stage
    /// and market lines; returns what it recorded.
    async fn run_markets(&self, markets: &[String], stage: Option<Stage>) -> RunPart {
        let ids: Vec<MarketId> = markets.iter().filter_map(|m| MarketId::parse(m).ok()).collect();
        let command = runs::command_line("wb (check)", &ids, stage);
        let request = RunRequest {
            workspace: self.workspace.clone(),
            run_id: runs::new_run_id(),
            markets: ids,
            stage,
            as_of: None,
            no_cache: false,
            fixtures: self.workspace.default_fixtures_dir(),
            runner: RunnerCommand::new(self.runner_path()),
            jobs: Jobs::Default,
            command,
            reports: crate::present::run_report::RENDERER,
        };
        let width = markets.iter().map(String::len).max().unwrap_or(0);
        let quarantine = self.workspace.settings().buckets.quarantine.clone();
        let json = self.args.json;
        let progress = |progress: RunProgress| match progress {
            RunProgress::Runner { update: Update::Stderr { market, line }, .. } => eprintln!("[{market}] {line}"),
            RunProgress::Runner { update, applied } => {
                for line in run_lines::result_lines(&update, &applied, width, &quarantine) {
                    if json { eprintln!("{line}") } else { say(&line) }
                }
            }
            RunProgress::BackendNote(note) => eprintln!("{note}"),
            RunProgress::HistoryWarning(e) => eprintln!("warning: run history not fully recorded: {e}"),
            RunProgress::Warning(warning) => eprintln!("warning: {warning}"),
            _ => {}
        };
        let backend = BackendUse::Start { aws: self.args.backend.aws, by: "wb check" };
        // Nothing cancels a check's run but Ctrl-C, which ends the whole check.
        let (_cancel, token) = Cancel::new();
        let (summary, error) = runs::summary_and_error(runs::run(request, backend, token, progress).await);
        if let Some(error) = error {
            eprintln!("error: {error}");
        }
        let failed_markets = summary
            .markets
            .into_iter()
            .filter(|m| matches!(m.status, RunStatus::Fail | RunStatus::Error))
            .map(|m| match m.error {
                Some(e) => format!("{} {}: {e}", m.market, m.status.as_str()),
                None => format!("{} {}", m.market, m.status.as_str()),
            })
            .collect();
        RunPart {
            run_id: summary.run_id,
            markets: markets.to_vec(),
            stage: stage.map(|s| s.name().to_string()),
            status: summary.status.as_str().to_string(),
            failed_markets,
        }
    }

    /// (3) and (4): the tests under coverage (or `--lcov`), then line and patch coverage and the hook matrix.
    fn coverage(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let members = scope::members(&self.root);
        let changes = match &self.affected {
            Some(a) => Ok(a.changes.as_slice()),
            None => Err(self.report.affected.unsure.clone().unwrap_or_default()),
        };
        let scope = scope::select(changes.as_ref().map_err(String::as_str).copied(), &members, self.args.all_tests);
        let mut tests = TestsPart {
            scope: scope.clone(),
            ran: false,
            note: None,
            command: None,
            passed: None,
            failed: None,
            ignored: None,
            failed_tests: Vec::new(),
        };
        let (lcov_path, json_path) = if let Some(lcov) = &self.args.lcov {
            tests.note = Some(format!("coverage read from {}", lcov.display()));
            (Some(lcov.clone()), self.args.llvm_json.clone())
        } else if scope.packages.is_empty() {
            tests.note = Some("no workspace package changed: no test to run".into());
            (None, None)
        } else {
            let what =
                if scope.whole_workspace { "the whole workspace".to_string() } else { scope.packages.join(", ") };
            self.progress(&format!("running the tests under coverage: {what}"));
            let options = RunOptions {
                scope: if scope.whole_workspace {
                    CargoScope::Workspace
                } else {
                    CargoScope::Packages(scope.packages.clone())
                },
                no_fail_fast: true,
                echo: if self.args.json { Echo::Stderr } else { Echo::Terminal },
            };
            let run = CargoLlvmCov::from_env().run(&self.root, &options);
            let run = match run {
                Ok(run) => run,
                Err(e) => {
                    self.report.tests = Some(tests);
                    self.step("tests", started, None);
                    return Err(e.to_string());
                }
            };
            tests.ran = true;
            tests.command = Some(run.command.clone());
            tests.passed = Some(run.tests.counts.passed);
            tests.failed = Some(run.tests.counts.failed);
            tests.ignored = Some(run.tests.counts.ignored);
            tests.failed_tests = run.tests.failed_tests.clone();
            (Some(run.outputs.lcov), Some(run.outputs.json))
        };
        let tests_note = (!tests.ran).then(|| "skipped: ".to_string() + tests.note.as_deref().unwrap_or(""));
        self.report.tests = Some(tests);
        self.step("tests", started, tests_note);

        let started = Instant::now();
        let result = self.measure(&scope, lcov_path.as_deref(), json_path.as_deref());
        self.step("coverage", started, None);
        self.report.coverage = Some(result?);
        Ok(())
    }

    fn measure(&self, scope: &TestScope, lcov: Option<&Path>, json: Option<&Path>) -> Result<CoveragePart, String> {
        let lcov_data = match lcov {
            Some(path) => Lcov::read(path).map_err(|e| e.to_string())?,
            None => Lcov::parse(Path::new("(no tests run)"), "").map_err(|e| e.to_string())?,
        };
        let json = json.map(|p| JsonExport::read(p, &self.root)).transpose().map_err(|e| e.to_string())?;
        let thresholds = self.workspace.settings().coverage;
        let analysed = workbench_coverage::analyze(&self.root, &lcov_data, json.as_ref(), &self.args.base, thresholds)
            .map_err(|e| e.to_string())?;
        let lines = if scope.whole_workspace {
            analysed.summary.lines
        } else {
            analysed
                .summary
                .crates
                .iter()
                .filter(|c| scope.packages.contains(&c.name))
                .fold(Counts::default(), |acc, c| Counts::new(acc.covered + c.lines.covered, acc.count + c.lines.count))
        };
        let patch = &analysed.patch;
        let hooks_not_executed = analysed
            .hooks
            .not_executed()
            .filter(|o| scope.whole_workspace || scope.packages.contains(&o.market))
            .map(|o| {
                let at = o.lines.map(|(s, e)| format!(":{s}-{e}")).unwrap_or_default();
                format!("{} {} ({}{at})", o.market, o.hook, o.file)
            })
            .collect();
        Ok(CoveragePart {
            lcov: lcov.map(|p| p.display().to_string()).unwrap_or_else(|| "(none: no test ran)".into()),
            measured_over: scope.packages.clone(),
            line_covered: lines.covered,
            line_count: lines.count,
            line_percent: lines.percent,
            line_threshold: thresholds.line,
            line_ok: thresholds.line_ok(lines.percent),
            patch_changed: patch.changed,
            patch_instrumented: patch.instrumented,
            patch_covered: patch.covered,
            patch_percent: patch.percent,
            patch_threshold: thresholds.patch,
            patch_ok: thresholds.patch_ok(patch.percent),
            uncovered: patch
                .files
                .iter()
                .filter(|f| !f.uncovered.is_empty())
                .map(|f| Uncovered { path: f.path.clone(), lines: f.uncovered.clone() })
                .collect(),
            hooks_not_executed,
        })
    }

    /// (5) The checks of the runs just made: counts, FAIL ones first, then ALERT.
    fn checks(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let run_ids: Vec<String> = self.report.runs.iter().filter_map(|r| r.run_id.clone()).collect();
        if !run_ids.is_empty() {
            let history = History::open(&self.workspace.history_path()).map_err(|e| e.to_string())?;
            let mut listed: Vec<CheckLine> = Vec::new();
            for run_id in &run_ids {
                for c in history.run_checks(run_id).map_err(|e| e.to_string())? {
                    match c.status.as_str() {
                        "pass" => self.report.checks.pass += 1,
                        "alert" => self.report.checks.alert += 1,
                        _ => self.report.checks.fail += 1,
                    }
                    if c.status != crate::history::Level::Pass {
                        listed.push(CheckLine {
                            market: c.market,
                            stage: c.stage,
                            check: c.name,
                            subject: c.subject,
                            status: c.status,
                            message: c.message,
                        });
                    }
                }
            }
            listed.sort_by_key(|c| c.status != crate::history::Level::Fail);
            self.report.checks.listed = listed;
        }
        self.step("checks", started, None);
        Ok(())
    }

    /// (6) Each affected market's export against the base revision, one line per table; a diff that cannot be
    /// computed is reported as such.
    async fn diffs(&mut self) {
        let started = Instant::now();
        let markets: Vec<String> = self
            .report
            .affected
            .markets
            .iter()
            .filter(|(_, stages)| stages.iter().any(|s| s == Stage::Export.name()))
            .map(|(m, _)| m.clone())
            .collect();
        let skipped = if self.args.no_diff {
            Some("--no-diff".to_string())
        } else if markets.is_empty() {
            Some("no affected market exports anything new".to_string())
        } else {
            None
        };
        if let Some(skipped) = skipped {
            self.report.diffs.skipped = Some(skipped.clone());
            self.step("diff", started, Some(format!("skipped: {skipped}")));
            return;
        }
        let against = self.report.merge_base.clone().unwrap_or_else(|| self.args.base.clone());
        self.report.diffs.against = Some(against[..against.len().min(12)].to_string());
        self.progress(&format!(
            "diffing the exports against {} (its wb is built and run once in a worktree)",
            &against[..against.len().min(12)]
        ));
        let mut lines = Vec::new();
        for market in markets {
            let Ok(id) = MarketId::parse(&market) else { continue };
            let sides = Sides::Against { market: id, against: against.clone() };
            let query = DiffQuery { sample: 0, backend: self.args.backend.aws, ..DiffQuery::new(Stage::Export, sides) };
            match diff::compare(&self.workspace, &query, None).await {
                Ok(diff) => lines.extend(report::diff_lines(&market, &diff)),
                Err(e) => lines.push(DiffLine {
                    market: market.clone(),
                    stage: Stage::Export.name().to_string(),
                    table: None,
                    added: None,
                    removed: None,
                    changed: None,
                    summary: format!("not computed: {e}"),
                }),
            }
        }
        for line in &lines {
            self.progress(&format!("  {} {}: {}", line.market, line.stage, line.summary));
        }
        self.report.diffs.tables = lines;
        self.step("diff", started, None);
    }

    /// The verdict, the reports written, the measurement recorded, the report printed; returns the exit code.
    fn finish(mut self) -> ExitStatus {
        let (verdict, reasons) = report::verdict(&self.report);
        self.report.verdict = verdict;
        self.report.reasons = reasons;
        let status = verdict.exit_status();
        self.report.exit_code = status.code();
        self.report.total_ms = self.started.elapsed().as_millis() as u64;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ");
        let dir = self.root.join(REPORTS_DIR);
        let paths = ReportPaths {
            markdown: format!("{REPORTS_DIR}/check-{stamp}.md"),
            json: format!("{REPORTS_DIR}/check-{stamp}.json"),
        };
        self.report.reports = Some(paths.clone());
        let json = serde_json::to_string_pretty(&self.report).expect("the report serialises") + "\n";
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| {
                std::fs::write(self.root.join(&paths.markdown), report::render(&self.report, Style::Markdown))
            })
            .and_then(|()| std::fs::write(self.root.join(&paths.json), &json));
        if let Err(e) = written {
            eprintln!("warning: the report is not written to {}: {e}", dir.display());
            self.report.reports = None;
        }
        if verdict != Verdict::Error {
            self.record();
        }
        if self.args.json {
            let json = serde_json::to_string_pretty(&self.report).expect("the report serialises");
            say(&json);
        } else {
            print!("{}", report::render(&self.report, Style::Text));
        }
        if let Some(error) = &self.report.error {
            eprintln!("error: {error}");
        }
        status
    }

    /// Records the measurement in `quality_runs`; a history that cannot be written is a warning.
    fn record(&self) {
        let tests = self.report.tests.as_ref();
        let coverage = self.report.coverage.as_ref();
        let thresholds = self.workspace.settings().coverage;
        let run = QualityRun {
            started_at: self.report.started_at.clone(),
            command: self.report.command.clone(),
            git_commit: self.report.git_commit.clone(),
            base: self.report.base.clone(),
            tests_passed: tests.and_then(|t| t.passed),
            tests_failed: tests.and_then(|t| t.failed),
            tests_ignored: tests.and_then(|t| t.ignored),
            line_percent: coverage.and_then(|c| c.line_percent),
            patch_percent: coverage.and_then(|c| c.patch_percent),
            line_threshold: thresholds.line,
            patch_threshold: thresholds.patch,
            passed: self.report.verdict == Verdict::Pass,
            duration_ms: self.report.total_ms,
            report_path: self.report.reports.as_ref().map(|p| p.markdown.clone()),
        };
        if let Err(e) = History::open(&self.workspace.history_path()).and_then(|mut h| h.record_quality(&run)) {
            eprintln!("warning: the check is not in the run history: {e}");
        }
    }
}
