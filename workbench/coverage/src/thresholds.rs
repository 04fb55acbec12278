//! The coverage thresholds a change must meet, from the `[coverage]` table of `workbench.toml`
//! (defaults: line coverage 80 %, patch coverage 90 %).

use serde::{Deserialize, Serialize};

use crate::error::CoverageError;

/// Minimum percentages; each is validated to lie in 0..=100 (so never NaN).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, try_from = "RawThresholds")]
pub struct Thresholds {
    /// Line coverage of the whole workspace, in percent.
    pub line: f64,
    /// Coverage of the changed lines, in percent.
    pub patch: f64,
}

// Validated finite (0..=100) on every construction path that reads input, so equality is total.
impl Eq for Thresholds {}

impl Default for Thresholds {
    fn default() -> Self {
        Self { line: 80.0, patch: 90.0 }
    }
}

impl Thresholds {
    /// Checks both values lie in 0..=100.
    pub fn validate(self) -> Result<Self, CoverageError> {
        for (key, value) in [("line", self.line), ("patch", self.patch)] {
            if !(0.0..=100.0).contains(&value) {
                return Err(CoverageError::Threshold { key, value });
            }
        }
        Ok(self)
    }

    /// Whether `percent` meets the line threshold (nothing to cover meets it).
    pub fn line_ok(&self, percent: Option<f64>) -> bool {
        percent.is_none_or(|p| p >= self.line)
    }

    /// Whether `percent` meets the patch threshold (no instrumented changed line meets it).
    pub fn patch_ok(&self, percent: Option<f64>) -> bool {
        percent.is_none_or(|p| p >= self.patch)
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawThresholds {
    line: f64,
    patch: f64,
}

impl Default for RawThresholds {
    fn default() -> Self {
        let d = Thresholds::default();
        Self { line: d.line, patch: d.patch }
    }
}

impl TryFrom<RawThresholds> for Thresholds {
    type Error = CoverageError;

    fn try_from(raw: RawThresholds) -> Result<Self, Self::Error> {
        Thresholds { line: raw.line, patch: raw.patch }.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        coverage: Thresholds,
    }

    #[test]
    fn defaults_partial_tables_and_bad_values() {
        let parse = |t: &str| toml::from_str::<File>(t).map(|f| f.coverage);
        assert_eq!(parse("").unwrap(), Thresholds { line: 80.0, patch: 90.0 });
        assert_eq!(parse("[coverage]\npatch = 75.5\n").unwrap(), Thresholds { line: 80.0, patch: 75.5 });
        let err = parse("[coverage]\nline = 120.0\n").unwrap_err().to_string();
        assert!(err.contains("[coverage] line = 120: a threshold is a percentage from 0 to 100"), "{err}");
        let err = parse("[coverage]\nlines = 1.0\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `lines`"), "{err}");
    }
}
