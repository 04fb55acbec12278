//! LCOV tracefiles (`cargo llvm-cov --lcov`): per source file, the hit count of every instrumented line and
//! function, and branch totals. Unknown records are skipped so newer producers still parse.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::CoverageError;

/// One function record: where it starts and how often it ran (FN + FNDA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionHits {
    /// 1-based line of the function's start (0 when only FNDA named it).
    pub line: u32,
    /// Execution count (0 when FNDA is absent).
    pub hits: u64,
}

/// Coverage of one source file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCoverage {
    /// Instrumented line → hit count (DA records; repeated lines are summed).
    pub lines: BTreeMap<u32, u64>,
    /// Function name (usually mangled) → its record.
    pub functions: BTreeMap<String, FunctionHits>,
    /// Branches found (BRDA records).
    pub branches_found: u64,
    /// Branches taken at least once.
    pub branches_hit: u64,
}

impl FileCoverage {
    /// Instrumented lines with at least one hit.
    pub fn lines_hit(&self) -> usize {
        self.lines.values().filter(|&&h| h > 0).count()
    }

    /// Functions executed at least once.
    pub fn functions_hit(&self) -> usize {
        self.functions.values().filter(|f| f.hits > 0).count()
    }
}

/// A parsed tracefile: coverage by source path as written in its SF records (absolute for cargo llvm-cov).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lcov {
    /// Source path → its coverage; a file named twice is merged.
    pub files: BTreeMap<PathBuf, FileCoverage>,
}

impl Lcov {
    /// Reads and parses the tracefile at `path`.
    pub fn read(path: &Path) -> Result<Self, CoverageError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| CoverageError::Read { path: path.to_path_buf(), source })?;
        Self::parse(path, &text)
    }

    /// Parses tracefile `text`; `path` names it in errors (with the 1-based line number of the bad record).
    pub fn parse(path: &Path, text: &str) -> Result<Self, CoverageError> {
        let mut lcov = Lcov::default();
        let mut current: Option<(PathBuf, FileCoverage)> = None;
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let bad = |message: String| CoverageError::Lcov { path: path.to_path_buf(), line: index + 1, message };
            if line.is_empty() {
                continue;
            }
            if line == "end_of_record" {
                match current.take() {
                    Some((file, coverage)) => lcov.merge(file, coverage),
                    None => return Err(bad("end_of_record without an SF record before it".into())),
                }
                continue;
            }
            let Some((tag, value)) = line.split_once(':') else {
                // TN without a name, or a record this parser does not know: skip.
                continue;
            };
            if tag == "SF" {
                if let Some((file, _)) = &current {
                    return Err(bad(format!("SF:{value} before the end_of_record of {}", file.display())));
                }
                current = Some((PathBuf::from(value), FileCoverage::default()));
                continue;
            }
            let known = matches!(tag, "DA" | "FN" | "FNDA" | "BRDA");
            if !known {
                continue; // TN, LF, LH, FNF, FNH, BRF, BRH (recomputed) and unknown records
            }
            let Some((_, coverage)) = current.as_mut() else {
                return Err(bad(format!("{tag} record outside a file (no SF record before it)")));
            };
            let fields: Vec<&str> = value.split(',').collect();
            let number = |i: usize, what: &str| -> Result<u64, CoverageError> {
                let field = fields.get(i).copied().unwrap_or("");
                field.parse::<u64>().map_err(|_| bad(format!("{tag}: {what} `{field}` is not a number")))
            };
            match tag {
                "DA" => {
                    if fields.len() < 2 {
                        return Err(bad(format!("DA:{value}: expected DA:<line>,<hits>")));
                    }
                    let at = to_line(number(0, "line")?, &bad)?;
                    *coverage.lines.entry(at).or_default() += number(1, "hit count")?;
                }
                "FN" => {
                    if fields.len() < 2 {
                        return Err(bad(format!("FN:{value}: expected FN:<line>,<name>")));
                    }
                    let at = to_line(number(0, "line")?, &bad)?;
                    let name = fields[1..].join(",");
                    coverage.functions.entry(name).or_insert(FunctionHits { line: at, hits: 0 }).line = at;
                }
                "FNDA" => {
                    if fields.len() < 2 {
                        return Err(bad(format!("FNDA:{value}: expected FNDA:<hits>,<name>")));
                    }
                    let hits = number(0, "hit count")?;
                    let name = fields[1..].join(",");
                    coverage.functions.entry(name).or_insert(FunctionHits { line: 0, hits: 0 }).hits += hits;
                }
                _ => {
                    // BRDA:<line>,<block>,<branch>,<taken or ->
                    if fields.len() < 4 {
                        return Err(bad(format!("BRDA:{value}: expected BRDA:<line>,<block>,<branch>,<taken>")));
                    }
                    coverage.branches_found += 1;
                    if fields[3] != "-" && number(3, "taken count")? > 0 {
                        coverage.branches_hit += 1;
                    }
                }
            }
        }
        if let Some((file, _)) = current {
            return Err(CoverageError::Lcov {
                path: path.to_path_buf(),
                line: text.lines().count(),
                message: format!("the record of {} has no end_of_record", file.display()),
            });
        }
        Ok(lcov)
    }

    fn merge(&mut self, file: PathBuf, coverage: FileCoverage) {
        let into = self.files.entry(file).or_default();
        for (line, hits) in coverage.lines {
            *into.lines.entry(line).or_default() += hits;
        }
        for (name, f) in coverage.functions {
            let entry = into.functions.entry(name).or_insert(FunctionHits { line: f.line, hits: 0 });
            entry.hits += f.hits;
            if entry.line == 0 {
                entry.line = f.line;
            }
        }
        into.branches_found += coverage.branches_found;
        into.branches_hit += coverage.branches_hit;
    }

    /// The files keyed by their path relative to `root` (`/`-separated); files outside `root` are left out.
    /// Relative SF paths are taken as relative to `root` already.
    pub fn relative_to(&self, root: &Path) -> BTreeMap<String, &FileCoverage> {
        let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        self.files
            .iter()
            .filter_map(|(path, cov)| relative_path(path, root, &canonical_root).map(|p| (p, cov)))
            .collect()
    }
}

/// `path` relative to `root` (as given or canonical), `/`-separated; None when outside it.
pub(crate) fn relative_path(path: &Path, root: &Path, canonical_root: &Path) -> Option<String> {
    let inside = if path.is_relative() {
        path.to_path_buf()
    } else if let Ok(p) = path.strip_prefix(root) {
        p.to_path_buf()
    } else if let Ok(p) = path.strip_prefix(canonical_root) {
        p.to_path_buf()
    } else {
        let canonical = path.canonicalize().ok()?;
        canonical.strip_prefix(canonical_root).ok()?.to_path_buf()
    };
    let parts: Vec<String> = inside
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn to_line(n: u64, bad: &dyn Fn(String) -> CoverageError) -> Result<u32, CoverageError> {
    u32::try_from(n).ok().filter(|&l| l > 0).ok_or_else(|| bad(format!("line number {n} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_and_unknown_ones_skipped() {
        let text = "TN:\nSF:/w/a.rs\nFN:3,_RNvf\nFNDA:2,_RNvf\nFNF:1\nDA:3,2\nDA:4,0\nBRDA:4,0,0,1\nBRDA:4,0,1,-\n\
                    XYZ:whatever\nLF:2\nLH:1\nend_of_record\n";
        let lcov = Lcov::parse(Path::new("t.info"), text).unwrap();
        let file = &lcov.files[Path::new("/w/a.rs")];
        assert_eq!(file.lines, BTreeMap::from([(3, 2), (4, 0)]));
        assert_eq!(file.functions["_RNvf"], FunctionHits { line: 3, hits: 2 });
        assert_eq!((file.branches_found, file.branches_hit), (2, 1));
        assert_eq!((file.lines_hit(), file.functions_hit()), (1, 1));
    }

    #[test]
    fn a_bad_record_names_the_file_and_line() {
        let err = Lcov::parse(Path::new("cov/lcov.info"), "SF:/w/a.rs\nDA:3,2\nDA:x,1\nend_of_record\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cov/lcov.info:3: DA: line `x` is not a number; regenerate the file with `cargo llvm-cov report --lcov`"
        );
        let err = Lcov::parse(Path::new("l"), "SF:/w/a.rs\nDA:3,2\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "l:2: the record of /w/a.rs has no end_of_record; regenerate the file with `cargo llvm-cov report --lcov`"
        );
    }
}
