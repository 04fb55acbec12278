//! The hook coverage matrix: for each market × hook it overrides, whether the tests execute the override, so a
//! reviewer sees which market customisations no test exercises.
//!
//! The override is the `fn <hook>` in the file its [`HookOverride`] names; its body is the lines from the `fn`
//! to the brace that closes it. It counts as executed when any line of that range has hits > 0 in the
//! tracefile, or a function record (FN/FNDA) starting in the range ran: either means the body's code ran.

use std::collections::BTreeMap;
use std::path::Path;

use pipeline_core::{Hook, HookOverride};
use serde::Serialize;

use crate::error::CoverageError;
use crate::lcov::{FileCoverage, Lcov};

/// Whether a market's override of a hook runs under the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookStatus {
    /// Some line or function of the override's body ran.
    Executed,
    /// The body is instrumented but nothing in it ran: no test exercises this customisation.
    NotExecuted,
    /// The tracefile has no line of the body (the file was not built with coverage, or is not in it).
    NotInstrumented,
    /// No `fn <hook>` in the override's file: the override lives elsewhere; fix the market's `overrides()`.
    FnNotFound,
}

impl HookStatus {
    /// A short word for tables.
    pub fn label(self) -> &'static str {
        match self {
            HookStatus::Executed => "yes",
            HookStatus::NotExecuted => "NO",
            HookStatus::NotInstrumented => "n/i",
            HookStatus::FnNotFound => "no fn",
        }
    }
}

/// One market's override of one hook, and whether it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideCoverage {
    /// Market id.
    pub market: String,
    /// The hook.
    pub hook: Hook,
    /// File from the workspace root.
    pub file: String,
    /// 1-based first and last line of the `fn`, when found.
    pub lines: Option<(u32, u32)>,
    /// Instrumented lines in that range.
    pub instrumented: usize,
    /// Lines of the range with hits > 0.
    pub hit: usize,
    /// The verdict.
    pub status: HookStatus,
}

/// Every market's overrides with their status; hooks a market does not override use the base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookMatrix {
    /// Market ids, in registry order.
    pub markets: Vec<String>,
    /// The overrides, market by market in registry order, hooks in stage order.
    pub overrides: Vec<OverrideCoverage>,
}

impl HookMatrix {
    /// The status of `market`'s override of `hook`; None when the market uses the base hook.
    pub fn status(&self, market: &str, hook: Hook) -> Option<HookStatus> {
        self.overrides.iter().find(|o| o.market == market && o.hook == hook).map(|o| o.status)
    }

    /// The overrides no test executes.
    pub fn not_executed(&self) -> impl Iterator<Item = &OverrideCoverage> {
        self.overrides.iter().filter(|o| o.status == HookStatus::NotExecuted)
    }
}

/// The matrix for the given markets' overrides (id, overrides), against `lcov` with paths relative to `root`.
pub fn hook_matrix(markets: &[(String, &[HookOverride])], lcov: &Lcov, root: &Path) -> HookMatrix {
    let by_path: BTreeMap<String, &FileCoverage> = lcov.relative_to(root);
    let mut overrides = Vec::new();
    for (market, list) in markets {
        let mut list: Vec<&HookOverride> = list.iter().collect();
        list.sort_by_key(|o| Hook::ALL.iter().position(|h| *h == o.hook));
        for o in list {
            let lines = fn_range(o.source, o.hook.name());
            let coverage = by_path.get(o.file).copied();
            let (instrumented, hit, has_fn, ran_fn) = match (lines, coverage) {
                (Some((start, end)), Some(cov)) => {
                    let range = cov.lines.range(start..=end);
                    let fns: Vec<_> = cov.functions.values().filter(|f| (start..=end).contains(&f.line)).collect();
                    (
                        range.clone().count(),
                        range.filter(|(_, h)| **h > 0).count(),
                        !fns.is_empty(),
                        fns.iter().any(|f| f.hits > 0),
                    )
                }
                _ => (0, 0, false, false),
            };
            let status = if lines.is_none() {
                HookStatus::FnNotFound
            } else if hit > 0 || ran_fn {
                HookStatus::Executed
            } else if instrumented > 0 || has_fn {
                HookStatus::NotExecuted
            } else {
                HookStatus::NotInstrumented
            };
            overrides.push(OverrideCoverage {
                market: market.clone(),
                hook: o.hook,
                file: o.file.to_string(),
                lines,
                instrumented,
                hit,
                status,
            });
        }
    }
    HookMatrix { markets: markets.iter().map(|(m, _)| m.clone()).collect(), overrides }
}

/// The matrix for every registered market.
pub fn registry_matrix(lcov: &Lcov, root: &Path) -> Result<HookMatrix, CoverageError> {
    let mut markets = Vec::new();
    for id in markets::ids() {
        let market =
            markets::load(id).map_err(|e| CoverageError::Market { market: id.to_string(), message: e.to_string() })?;
        markets.push((id.to_string(), market.overrides()));
    }
    Ok(hook_matrix(&markets, lcov, root))
}

/// The 1-based first and last line of `fn <name>` in `source`: from the line declaring it to the line of the
/// brace closing its body (braces in strings, chars and comments are skipped).
pub fn fn_range(source: &str, name: &str) -> Option<(u32, u32)> {
    let lines: Vec<&str> = source.lines().collect();
    let start = lines.iter().position(|l| {
        let decl = format!("fn {name}");
        l.match_indices(&decl).any(|(i, _)| {
            let after = l[i + decl.len()..].chars().next();
            let before_ok = i == 0 || !l[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            before_ok && matches!(after, Some('(' | '<'))
        })
    })?;
    let mut depth = 0usize;
    let mut opened = false;
    for (index, line) in lines.iter().enumerate().skip(start) {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '/' if chars.get(i + 1) == Some(&'/') => break,
                '"' => {
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        i += if chars[i] == '\\' { 2 } else { 1 };
                    }
                }
                '\'' if chars.get(i + 1) == Some(&'\\') => {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                }
                '\'' if chars.get(i + 2) == Some(&'\'') => i += 2,
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if opened && depth == 0 {
                        return Some((start as u32 + 1, index as u32 + 1));
                    }
                }
                ';' if !opened => return Some((start as u32 + 1, index as u32 + 1)),
                _ => {}
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fn_range_spans_the_body_and_skips_braces_in_literals() {
        let source = "//! doc\n\n/// x\npub fn normalize(a: u8) -> u8 {\n    let s = \"}\";\n    let c = '{';\n    \
                      if a > 0 {\n        1\n    } else { 2 } // }\n}\n\nfn normalize_more() {}\n";
        assert_eq!(fn_range(source, "normalize"), Some((4, 10)));
        assert_eq!(fn_range(source, "normalize_more"), Some((12, 12)));
        assert_eq!(fn_range(source, "schedule"), None);
    }
}
