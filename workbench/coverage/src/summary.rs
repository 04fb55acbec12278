//! Coverage per crate and per file: lines and functions from the LCOV tracefile, regions from the
//! `cargo llvm-cov --json` export when there is one (LCOV has no regions). Files are grouped under the workspace
//! member directory that holds them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::CoverageError;
use crate::lcov::{Lcov, relative_path};

/// Covered out of total, with the percentage (None when there is nothing to cover).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    /// How many were executed.
    pub covered: u64,
    /// How many there are.
    pub count: u64,
    /// `covered / count` in percent; None when `count` is 0.
    pub percent: Option<f64>,
}

impl Counts {
    /// Counts with their percentage.
    pub fn new(covered: u64, count: u64) -> Self {
        Self { covered, count, percent: percent(covered, count) }
    }

    fn add(self, other: Counts) -> Self {
        Self::new(self.covered + other.covered, self.count + other.count)
    }
}

/// `covered / count` in percent, None when `count` is 0.
pub fn percent(covered: u64, count: u64) -> Option<f64> {
    (count > 0).then(|| covered as f64 * 100.0 / count as f64)
}

/// Coverage of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileSummary {
    /// Path from the workspace root, `/`-separated.
    pub path: String,
    /// Instrumented lines.
    pub lines: Counts,
    /// Functions.
    pub functions: Counts,
    /// Regions, from the JSON export (None without one).
    pub regions: Option<Counts>,
}

/// Coverage of one workspace member.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrateSummary {
    /// Package name (its directory when the manifest has none; `(other)` for files outside every member).
    pub name: String,
    /// The member directory from the workspace root.
    pub dir: String,
    /// Instrumented lines.
    pub lines: Counts,
    /// Functions.
    pub functions: Counts,
    /// Regions (None without the JSON export).
    pub regions: Option<Counts>,
    /// Its files, by path.
    pub files: Vec<FileSummary>,
}

/// The whole workspace's coverage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Lines over every file.
    pub lines: Counts,
    /// Functions over every file.
    pub functions: Counts,
    /// Regions over every file (None without the JSON export).
    pub regions: Option<Counts>,
    /// Per crate, by member directory.
    pub crates: Vec<CrateSummary>,
}

/// Per-file figures of a `cargo llvm-cov --json` export (`data[0].files[].summary`), by path from the root.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonExport {
    /// Path from the workspace root → (lines, functions, regions).
    pub files: BTreeMap<String, (Counts, Counts, Counts)>,
}

impl JsonExport {
    /// Reads the export at `path`; source paths are made relative to `root` (files outside it are left out).
    pub fn read(path: &Path, root: &Path) -> Result<Self, CoverageError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| CoverageError::Read { path: path.to_path_buf(), source })?;
        Self::parse(path, &text, root)
    }

    /// Parses an export; `path` names it in errors.
    pub fn parse(path: &Path, text: &str, root: &Path) -> Result<Self, CoverageError> {
        let bad = |message: String| CoverageError::Json { path: path.to_path_buf(), message };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let files = value
            .pointer("/data/0/files")
            .and_then(|f| f.as_array())
            .ok_or_else(|| bad("no data[0].files array".into()))?;
        let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let mut export = JsonExport::default();
        for (i, file) in files.iter().enumerate() {
            let name = file
                .get("filename")
                .and_then(|f| f.as_str())
                .ok_or_else(|| bad(format!("data[0].files[{i}] has no filename")))?;
            let counts = |kind: &str| -> Result<Counts, CoverageError> {
                let part = file.pointer(&format!("/summary/{kind}"));
                let field = |f: &str| part.and_then(|p| p.get(f)).and_then(|v| v.as_u64());
                match (field("covered"), field("count")) {
                    (Some(covered), Some(count)) => Ok(Counts::new(covered, count)),
                    _ => Err(bad(format!("data[0].files[{i}] ({name}) has no summary.{kind}.covered/count"))),
                }
            };
            let figures = (counts("lines")?, counts("functions")?, counts("regions")?);
            if let Some(rel) = relative_path(Path::new(name), root, &canonical_root) {
                export.files.insert(rel, figures);
            }
        }
        Ok(export)
    }
}

/// The workspace members (directories from the root) with their package names, from the root `Cargo.toml`
/// (`[workspace] members`, plain paths; globs are not expanded). Empty when the manifest cannot be read.
pub fn workspace_members(root: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(root.join("Cargo.toml")) else { return Vec::new() };
    let Ok(table) = text.parse::<toml::Table>() else { return Vec::new() };
    let mut members: Vec<(String, String)> = table
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .map(|m| m.iter().filter_map(|v| v.as_str()).map(|s| s.trim_end_matches('/').to_string()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| {
            let name = std::fs::read_to_string(root.join(&dir).join("Cargo.toml"))
                .ok()
                .and_then(|t| t.parse::<toml::Table>().ok())
                .and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_string))
                .unwrap_or_else(|| dir.clone());
            (dir, name)
        })
        .collect();
    // A root package (`.`) holds everything not in a deeper member.
    members.sort();
    members
}

/// The member directory (longest match) holding `path`, with its name; `("", "(other)")` when none does.
fn member_of<'a>(path: &str, members: &'a [(String, String)]) -> (&'a str, &'a str) {
    members
        .iter()
        .filter(|(dir, _)| dir == "." || path.starts_with(&format!("{dir}/")))
        .max_by_key(|(dir, _)| if dir == "." { 0 } else { dir.len() })
        .map(|(dir, name)| (dir.as_str(), name.as_str()))
        .unwrap_or(("", "(other)"))
}

/// Summarises `lcov` per crate and file under `root`; regions come from `json` when given.
pub fn summarize(lcov: &Lcov, json: Option<&JsonExport>, root: &Path, members: &[(String, String)]) -> Summary {
    let mut crates: BTreeMap<&str, CrateSummary> = BTreeMap::new();
    for (path, cov) in lcov.relative_to(root) {
        let lines = Counts::new(cov.lines_hit() as u64, cov.lines.len() as u64);
        let functions = Counts::new(cov.functions_hit() as u64, cov.functions.len() as u64);
        let regions = json.and_then(|j| j.files.get(&path)).map(|(_, _, r)| *r);
        let (dir, name) = member_of(&path, members);
        let entry = crates.entry(dir).or_insert_with(|| CrateSummary {
            name: name.to_string(),
            dir: dir.to_string(),
            lines: Counts::default(),
            functions: Counts::default(),
            regions: json.map(|_| Counts::default()),
            files: Vec::new(),
        });
        entry.lines = entry.lines.add(lines);
        entry.functions = entry.functions.add(functions);
        entry.regions = match (entry.regions, regions) {
            (Some(a), Some(b)) => Some(a.add(b)),
            (a, _) => a,
        };
        entry.files.push(FileSummary { path, lines, functions, regions });
    }
    let crates: Vec<CrateSummary> = crates.into_values().collect();
    let total = |f: fn(&CrateSummary) -> Counts| crates.iter().map(f).fold(Counts::default(), Counts::add);
    let regions = json.map(|_| crates.iter().filter_map(|c| c.regions).fold(Counts::default(), Counts::add));
    Summary { lines: total(|c| c.lines), functions: total(|c| c.functions), regions, crates }
}
