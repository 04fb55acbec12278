//! `wb doctor`'s report as people and scripts read it: one aligned line per check (and its fix on the next line
//! when it is not ok), or one JSON object with stable field names.

use serde_json::{Value, json};

use crate::services::doctor::{Check, Report, Status};

/// One line per check: status mark, name, what needs it (`required` for the default path), what was found; then
/// `fix: <command>` on the next line when it is not ok; then a verdict line.
///
/// ```text
/// ok    rustc            required                  1.91.0
/// warn  cargo-llvm-cov   wb coverage, wb check     not installed
///       fix: cargo install cargo-llvm-cov --locked
/// ```
pub fn report_text(report: &Report) -> String {
    let name_width = report.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let need_width = report.checks.iter().map(|c| need(c).len()).max().unwrap_or(0);
    let mut out = String::new();
    for check in &report.checks {
        out.push_str(&format!(
            "{:<5} {:<name_width$}  {:<need_width$}  {}\n",
            mark(check.status),
            check.name,
            need(check),
            check.found
        ));
        if let Some(fix) = &check.fix {
            out.push_str(&format!("      fix: {fix}\n"));
        }
    }
    out.push_str(&verdict(report));
    out.push('\n');
    out
}

/// The last line: whether the default path works, and how many optional things need attention.
pub fn verdict(report: &Report) -> String {
    let count = |status| report.checks.iter().filter(|c| c.status == status).count();
    let (failed, warned) = (count(Status::Fail), count(Status::Warn));
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match (failed, warned) {
        (0, 0) => "ok: everything is in place".to_string(),
        (0, w) => format!(
            "ok: everything required is in place; {w} optional check{} warn (needed only for what they name)",
            plural(w)
        ),
        (f, _) => format!(
            "FAIL: {f} required check{} failed; run the {} above",
            plural(f),
            if f == 1 { "fix" } else { "fixes" }
        ),
    }
}

/// `{"ok": bool, "checks": [{"name", "status", "required", "needed_for", "found", "fix"}]}`; `fix` is null when ok.
pub fn report_json(report: &Report) -> Value {
    json!({
        "ok": report.ok(),
        "checks": report.checks.iter().map(check_json).collect::<Vec<_>>(),
    })
}

fn check_json(check: &Check) -> Value {
    json!({
        "name": check.name,
        "status": check.status.as_str(),
        "required": check.required,
        "needed_for": check.needed_for,
        "found": check.found,
        "fix": check.fix,
    })
}

fn mark(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Warn => "warn",
        Status::Fail => "FAIL",
    }
}

fn need(check: &Check) -> String {
    if check.required { "required".to_string() } else { check.needed_for.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &'static str, status: Status) -> Check {
        let fix = (status != Status::Ok).then(|| format!("fix {name}"));
        Check { name, required: status == Status::Fail, needed_for: "x", status, found: "f".into(), fix }
    }

    #[test]
    fn the_verdict_counts_failures_and_warnings() {
        let report = |checks| Report { checks };
        assert_eq!(verdict(&report(vec![check("a", Status::Ok)])), "ok: everything is in place");
        assert_eq!(
            verdict(&report(vec![check("a", Status::Warn)])),
            "ok: everything required is in place; 1 optional check warn (needed only for what they name)"
        );
        assert_eq!(
            verdict(&report(vec![check("a", Status::Fail), check("b", Status::Fail), check("c", Status::Warn)])),
            "FAIL: 2 required checks failed; run the fixes above"
        );
    }

    #[test]
    fn text_aligns_columns_and_puts_the_fix_under_its_check() {
        let report = Report { checks: vec![check("a", Status::Ok), check("longer", Status::Fail)] };
        assert_eq!(
            report_text(&report),
            "ok    a       x         f\nFAIL  longer  required  f\n      fix: fix longer\nFAIL: 1 required check \
             failed; run the fix above\n"
        );
    }
}
