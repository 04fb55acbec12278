//! Coverage KPIs for the reviewer's pre-merge check, computed offline by the workbench: line, function and
//! region coverage per crate and file ([`summary`], from the [`lcov`] tracefile and the JSON export), patch
//! coverage of the lines changed since the base branch ([`patch`]), which market hook overrides the tests
//! execute ([`hooks`]), against the [`thresholds`] of `workbench.toml`. [`run`] produces the reports with
//! `cargo llvm-cov`, reading the test counts from the test output on the way ([`test_results`]).

pub mod error;
pub mod hooks;
pub mod lcov;
pub mod patch;
pub mod run;
pub mod summary;
pub mod test_results;
pub mod thresholds;

use std::path::Path;

use serde::Serialize;

pub use error::{CoverageError, INSTALL_HINT};
pub use hooks::{HookMatrix, HookStatus, OverrideCoverage};
pub use lcov::Lcov;
pub use patch::{ChangedLines, PatchCoverage, PatchFile};
pub use summary::{Counts, JsonExport, Summary};
pub use test_results::{TestCounts, TestLog};
pub use thresholds::Thresholds;

/// The base branch when none is given.
pub const DEFAULT_BASE: &str = "main";

/// Everything `wb coverage` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Per crate and file.
    pub summary: Summary,
    /// The changed lines against the hits.
    pub patch: PatchCoverage,
    /// Market × hook overrides and whether they run.
    pub hooks: HookMatrix,
    /// The thresholds checked.
    pub thresholds: Thresholds,
    /// Whether line coverage meets its threshold.
    pub line_ok: bool,
    /// Whether patch coverage meets its threshold.
    pub patch_ok: bool,
    /// The tests' counts and failing tests, when the tests ran (None when the coverage was read from a file).
    pub tests: Option<TestLog>,
}

impl Report {
    /// Whether every threshold is met and no test failed.
    pub fn passed(&self) -> bool {
        self.line_ok && self.patch_ok && self.tests.as_ref().is_none_or(|t| t.counts.failed == 0)
    }
}

/// The three parts of an analysis, each computed even when another fails, so a screen shows what it can: the
/// summary always, patch coverage unless git cannot say what changed, the hook matrix unless a market does not load.
#[derive(Debug)]
pub struct Parts {
    /// Per crate and file.
    pub summary: Summary,
    /// The changed lines against the hits, or why they are unknown.
    pub patch: Result<PatchCoverage, CoverageError>,
    /// Market × hook overrides and whether they run, or why not.
    pub hooks: Result<HookMatrix, CoverageError>,
}

/// Analyses the workspace at `root` from a parsed tracefile (and the JSON export, for regions), comparing with
/// `base`, part by part (see [`Parts`]).
pub fn analyze_parts(root: &Path, lcov: &Lcov, json: Option<&JsonExport>, base: &str) -> Parts {
    let members = summary::workspace_members(root);
    let summary = summary::summarize(lcov, json, root, &members);
    let patch = patch::changed_lines(root, base).map(|changed| patch::patch_coverage(&changed, lcov, root));
    let hooks = hooks::registry_matrix(lcov, root);
    Parts { summary, patch, hooks }
}

/// Builds the report for the workspace at `root` from a parsed tracefile (and the JSON export, for regions),
/// comparing with `base` and checking `thresholds`; the first part that fails (patch, then hooks) is the error.
pub fn analyze(
    root: &Path,
    lcov: &Lcov,
    json: Option<&JsonExport>,
    base: &str,
    thresholds: Thresholds,
) -> Result<Report, CoverageError> {
    let Parts { summary, patch, hooks } = analyze_parts(root, lcov, json, base);
    let patch = patch?;
    let hooks = hooks?;
    Ok(Report {
        line_ok: thresholds.line_ok(summary.lines.percent),
        patch_ok: thresholds.patch_ok(patch.percent),
        summary,
        patch,
        hooks,
        thresholds,
        tests: None,
    })
}
