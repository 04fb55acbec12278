//! `wb coverage`'s text: per crate line and function coverage, patch coverage with the uncovered lines, and the
//! hook overrides no test executes, each against its threshold. Shared with the check report and the TUI.

use pipeline_core::Hook;
use workbench_coverage::Report;
use workbench_coverage::summary::Counts;

fn pct(counts: &Counts) -> String {
    match counts.percent {
        Some(p) => format!("{p:.1}% ({}/{})", counts.covered, counts.count),
        None => "- (0/0)".to_string(),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "BELOW" }
}

/// `3, 8, 10-12`: sorted line numbers with runs collapsed.
pub fn line_ranges(lines: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = lines[i];
        let mut end = start;
        while i + 1 < lines.len() && lines[i + 1] == end + 1 {
            i += 1;
            end = lines[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    parts.join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_lines_collapse_into_ranges() {
        assert_eq!(line_ranges(&[3, 8, 10, 11, 12]), "3, 8, 10-12");
        assert_eq!(line_ranges(&[]), "");
    }
}
