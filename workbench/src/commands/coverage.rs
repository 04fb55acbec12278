//! `wb coverage`: the reviewer's pre-merge check. Runs `cargo llvm-cov` over the workspace tests (or reads an
//! existing LCOV file with `--lcov`), then reports line, function and region coverage per crate, patch coverage
//! of the lines changed since the base branch with the uncovered ones, and which market hook overrides no test
//! executes, against the `[coverage]` thresholds of workbench.toml (the analysis is the `workbench-coverage`
//! crate). Exits 0 when the thresholds are met, 1 when one is not, 2 when coverage cannot be measured.

use pipeline_core::Hook;
use workbench_coverage::run::{CargoLlvmCov, Echo, RunOptions};
use workbench_coverage::summary::Counts;
use workbench_coverage::{JsonExport, Lcov, Report};

use crate::cli::CoverageArgs;
use crate::exit::ExitStatus;
use crate::history::History;
use crate::history::quality::QualityRun;
/// Shared with the check report and the TUI; it lives in [`crate::present::coverage`].
pub use crate::present::coverage::line_ranges;
use crate::workspace::Workspace;

/// Runs `wb coverage` from the current directory; returns the exit code.
pub fn main(args: &CoverageArgs) -> ExitStatus {
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    let (started_at, started) = (crate::history::now(), std::time::Instant::now());
    match report(&workspace, args) {
        Ok(report) => {
            record(&workspace, args, &report, &started_at, started.elapsed().as_millis() as u64);
            if args.json {
                println!("{}", serde_json::to_string(&report).expect("the report serialises"));
            } else {
                print!("{}", text(&report));
            }
            if report.passed() { ExitStatus::Ok } else { ExitStatus::Fail }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitStatus::Error
        }
    }
}

/// Reads (or produces) the reports and analyses them.
fn report(workspace: &Workspace, args: &CoverageArgs) -> Result<Report, workbench_coverage::CoverageError> {
    let root = workspace.root();
    let (lcov_path, json_path, tests) = match &args.lcov {
        Some(path) => (path.clone(), args.llvm_json.clone(), None),
        None => {
            // Test output on stderr with --json, so stdout holds only the report.
            let echo = if args.json { Echo::Stderr } else { Echo::Terminal };
            let options = RunOptions { echo, ..RunOptions::default() };
            let run = CargoLlvmCov::from_env().run(root, &options)?;
            (run.outputs.lcov, Some(run.outputs.json), Some(run.tests))
        }
    };
    let lcov = Lcov::read(&lcov_path)?;
    let json = json_path.map(|p| JsonExport::read(&p, root)).transpose()?;
    let report = workbench_coverage::analyze(root, &lcov, json.as_ref(), &args.base, workspace.settings().coverage)?;
    Ok(Report { tests, ..report })
}

/// Records the measurement in the run history (`quality_runs`); a history that cannot be written is a warning.
fn record(workspace: &Workspace, args: &CoverageArgs, report: &Report, started: &str, duration_ms: u64) {
    let counts = report.tests.as_ref().map(|t| t.counts);
    let run = QualityRun {
        started_at: started.to_string(),
        command: std::iter::once("wb".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" "),
        git_commit: crate::git::state(workspace.root()).map(|g| g.commit),
        base: args.base.clone(),
        tests_passed: counts.map(|c| c.passed),
        tests_failed: counts.map(|c| c.failed),
        tests_ignored: counts.map(|c| c.ignored),
        line_percent: report.summary.lines.percent,
        patch_percent: report.patch.percent,
        line_threshold: report.thresholds.line,
        patch_threshold: report.thresholds.patch,
        passed: report.passed(),
        duration_ms,
        report_path: None,
    };
    if let Err(e) = History::open(&workspace.history_path()).and_then(|mut h| h.record_quality(&run)) {
        eprintln!("warning: the measurement is not in the run history: {e}");
    }
}

fn pct(counts: &Counts) -> String {
    match counts.percent {
        Some(p) => format!("{p:.1}% ({}/{})", counts.covered, counts.count),
        None => "- (0/0)".to_string(),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "BELOW" }
}

/// The text report: totals against the thresholds, per crate, patch coverage with the uncovered changed lines,
/// and the market × hook matrix.
pub fn text(report: &Report) -> String {
    let s = &report.summary;
    let t = &report.thresholds;
    let mut out = match &report.tests {
        Some(tests) => {
            let c = tests.counts;
            let names = &tests.failed_tests;
            let mut line = format!(
                "tests: {} passed, {} failed, {} ignored{}\n",
                c.passed,
                c.failed,
                c.ignored,
                if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) }
            );
            if c.failed > 0 {
                line.push_str("FAILED: fix the failing tests above\n");
            }
            line
        }
        None => String::new(),
    };
    out.push_str(&format!(
        "line coverage {} (threshold {}%): {}\nfunctions {}, regions {}\n",
        pct(&s.lines),
        t.line,
        verdict(report.line_ok),
        pct(&s.functions),
        s.regions.as_ref().map(pct).unwrap_or_else(|| "- (no JSON export)".into()),
    ));
    if !s.crates.is_empty() {
        let width = s.crates.iter().map(|c| c.name.len()).max().unwrap_or(0);
        out.push_str("\nper crate (lines, functions, regions):\n");
        for c in &s.crates {
            let regions = c.regions.as_ref().map(pct).unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "  {:width$}  {:<20} {:<20} {}\n",
                c.name,
                pct(&c.lines),
                pct(&c.functions),
                regions
            ));
        }
    }
    let p = &report.patch;
    let short = &p.merge_base[..p.merge_base.len().min(10)];
    out.push_str(&format!(
        "\npatch coverage since {} (merge base {short}): {} of {} instrumented changed lines ran ({} changed lines) \
         (threshold {}%): {}\n",
        p.base,
        match p.percent {
            Some(v) => format!("{v:.1}%, {}", p.covered),
            None => "-, 0".to_string(),
        },
        p.instrumented,
        p.changed,
        t.patch,
        verdict(report.patch_ok)
    ));
    for file in p.files.iter().filter(|f| !f.uncovered.is_empty()) {
        out.push_str(&format!("  {}: uncovered {}\n", file.path, line_ranges(&file.uncovered)));
    }
    let m = &report.hooks;
    out.push_str("\nhook overrides run by the tests (yes; NO = no test runs it; n/i = not instrumented; - = base):\n");
    let width = m.markets.iter().map(String::len).max().unwrap_or(0).max("market".len());
    out.push_str(&format!("  {:width$}", "market"));
    for hook in Hook::ALL {
        out.push_str(&format!("  {}", hook.name()));
    }
    out.push('\n');
    for market in &m.markets {
        out.push_str(&format!("  {market:width$}"));
        for hook in Hook::ALL {
            let cell = m.status(market, hook).map(|s| s.label()).unwrap_or("-");
            out.push_str(&format!("  {cell:<w$}", w = hook.name().len()));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    for o in m.not_executed() {
        let at = o.lines.map(|(s, e)| format!(":{s}-{e}")).unwrap_or_default();
        out.push_str(&format!("  untested: {} {} ({}{at})\n", o.market, o.hook, o.file));
    }
    out
}
