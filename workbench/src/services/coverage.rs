//! Loads the coverage reports `wb coverage` leaves in `.workbench/coverage/` (the LCOV tracefile and, when
//! present, the `cargo llvm-cov` JSON export for regions) and analyses them with [`workbench_coverage::analyze`]:
//! the summary per crate and file against the `[coverage]` thresholds, patch coverage since the merge base, the
//! market × hook override matrix, and the source of every file with its hit counts (what the TUI's coverage
//! screen shows). Patch coverage and the hook matrix can each be missing (no base branch, a market that does not
//! load) without losing the rest: their errors are kept next to the summary.

use std::collections::BTreeMap;
use std::path::Path;

use workbench_coverage::patch::{PatchCoverage, PatchFile};
use workbench_coverage::run::OUTPUT_DIR;
use workbench_coverage::summary::JsonExport;
use workbench_coverage::{CoverageError, DEFAULT_BASE, HookMatrix, Lcov, Parts, Summary, Thresholds};

use crate::workspace::Workspace;

/// The LCOV tracefile's name under [`OUTPUT_DIR`].
pub const LCOV_FILE: &str = "lcov.info";
/// The JSON export's name under [`OUTPUT_DIR`] (optional: regions only).
pub const JSON_FILE: &str = "coverage.json";

/// One source file of the report: its text and the hit count of each instrumented line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The file's lines as read from the workspace when the report loaded, or why it could not be read.
    pub text: Result<Vec<String>, String>,
    /// Instrumented line (1-based) → hit count.
    pub hits: BTreeMap<u32, u64>,
}

impl SourceFile {
    /// The instrumented lines that never ran, in order.
    pub fn uncovered(&self) -> Vec<u32> {
        self.hits.iter().filter(|(_, h)| **h == 0).map(|(l, _)| *l).collect()
    }

    /// How many lines the view can scroll through.
    pub fn line_count(&self) -> usize {
        match &self.text {
            Ok(lines) => lines.len().max(self.hits.keys().last().copied().unwrap_or(0) as usize),
            Err(_) => 1,
        }
    }
}

/// A loaded and analysed report.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageData {
    /// Per crate and file.
    pub summary: Summary,
    /// Patch coverage since the merge base, or why there is none (no base branch, not a repository).
    pub patch: Result<PatchCoverage, String>,
    /// The market × hook override matrix, or why it could not be made.
    pub hooks: Result<HookMatrix, String>,
    /// The thresholds of `workbench.toml`.
    pub thresholds: Thresholds,
    /// Whether the JSON export (regions) was read.
    pub with_regions: bool,
    /// Every file of the summary, by path from the workspace root.
    pub files: BTreeMap<String, SourceFile>,
}

impl CoverageData {
    /// Whether line coverage meets its threshold.
    pub fn line_ok(&self) -> bool {
        self.thresholds.line_ok(self.summary.lines.percent)
    }

    /// Whether patch coverage meets its threshold (None without patch coverage).
    pub fn patch_ok(&self) -> Option<bool> {
        self.patch.as_ref().ok().map(|p| self.thresholds.patch_ok(p.percent))
    }

    /// The patch entry of `path`, if it changed.
    pub fn patch_file(&self, path: &str) -> Option<&PatchFile> {
        self.patch.as_ref().ok()?.files.iter().find(|f| f.path == path)
    }

    /// The changed files with uncovered changed lines.
    pub fn patch_entries(&self) -> Vec<&PatchFile> {
        match &self.patch {
            Ok(p) => p.files.iter().filter(|f| !f.uncovered.is_empty()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Why there is no report to show.
#[derive(Debug, thiserror::Error)]
pub enum CoverageLoadError {
    /// No tracefile yet.
    #[error("no coverage yet: {lcov} does not exist; run `wb coverage` to measure it")]
    Missing {
        /// The tracefile looked for, from the workspace root.
        lcov: String,
    },
    /// A report could not be read or parsed; the message names the file (and line).
    #[error(transparent)]
    Report(#[from] CoverageError),
}

/// Loads the workspace's reports with its `[coverage]` thresholds, patch coverage against [`DEFAULT_BASE`].
pub fn load_workspace(workspace: &Workspace) -> Result<CoverageData, CoverageLoadError> {
    load(workspace.root(), workspace.settings().coverage, DEFAULT_BASE)
}

/// Reads `.workbench/coverage/lcov.info` (and `coverage.json` when present) under `root` and analyses them against
/// the merge base with `base`, then reads the source of every file of the summary.
pub fn load(root: &Path, thresholds: Thresholds, base: &str) -> Result<CoverageData, CoverageLoadError> {
    let dir = root.join(OUTPUT_DIR);
    let lcov_path = dir.join(LCOV_FILE);
    if !lcov_path.exists() {
        return Err(CoverageLoadError::Missing { lcov: format!("{OUTPUT_DIR}/{LCOV_FILE}") });
    }
    let lcov = Lcov::read(&lcov_path)?;
    let json_path = dir.join(JSON_FILE);
    let json = if json_path.exists() { Some(JsonExport::read(&json_path, root)?) } else { None };
    let Parts { summary, patch, hooks } = workbench_coverage::analyze_parts(root, &lcov, json.as_ref(), base);
    let (patch, hooks) = (patch.map_err(|e| e.to_string()), hooks.map_err(|e| e.to_string()));
    let by_path = lcov.relative_to(root);
    let files = summary
        .crates
        .iter()
        .flat_map(|c| &c.files)
        .map(|f| {
            let text = std::fs::read_to_string(root.join(&f.path))
                .map(|t| t.lines().map(|l| l.replace('\t', "    ")).collect())
                .map_err(|e| format!("cannot read {}: {e}", f.path));
            let hits = by_path.get(&f.path).map(|c| c.lines.clone()).unwrap_or_default();
            (f.path.clone(), SourceFile { text, hits })
        })
        .collect();
    Ok(CoverageData { summary, patch, hooks, thresholds, with_regions: json.is_some(), files })
}
