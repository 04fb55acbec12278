//! `wb affected`: which markets and stages the changes since the base branch touch, and why (the analysis is the
//! `workbench-affected` crate), as text or one JSON object, with the `wb run` commands that re-run exactly them.

use std::collections::BTreeMap;

use workbench_affected::{Affected, stage_list};

use crate::cli::AffectedArgs;
use crate::exit::ExitStatus;
use crate::services::affected::run_groups;
use crate::workspace::Workspace;

/// How many paths of a group of changes that touch nothing the text names.
const SHOWN_PATHS: usize = 4;

/// Runs `wb affected` from the current directory; returns the exit code (0, or 2 when it cannot tell).
pub fn main(args: &AffectedArgs) -> ExitStatus {
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    match workbench_affected::analyze(workspace.root(), &args.base) {
        Ok(affected) => {
            if args.json {
                println!("{}", serde_json::to_string(&affected).expect("the analysis serialises"));
            } else {
                print!("{}", text(&affected, &markets::ids()));
            }
            ExitStatus::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitStatus::Error
        }
    }
}

/// The text report: each change with its cells and reason, the cells per market (in `order`), the markets left
/// alone, and the commands that re-run the affected cells.
pub fn text(affected: &Affected, order: &[&str]) -> String {
    let short = &affected.merge_base[..affected.merge_base.len().min(10)];
    let mut out = String::new();
    if affected.changes.is_empty() {
        out.push_str(&format!("no changes since {} (merge base {short}): nothing to re-run\n", affected.base));
        return out;
    }
    let files = if affected.changes.len() == 1 { "file" } else { "files" };
    out.push_str(&format!(
        "{} changed {files} since {} (merge base {short}):\n",
        affected.changes.len(),
        affected.base
    ));
    // Changes that touch cells one by one; those that touch nothing grouped by reason, so a long branch stays
    // readable.
    let mut nothing: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for change in &affected.changes {
        if change.cells.is_empty() {
            nothing.entry(change.reason.as_str()).or_default().push(change.path.as_str());
        } else {
            out.push_str(&format!("  {}\n      {}\n", change.summary, change.reason));
        }
    }
    for (reason, paths) in nothing {
        let (count, verb) = if paths.len() == 1 {
            ("1 file".to_string(), "changes")
        } else {
            (format!("{} files", paths.len()), "change")
        };
        let shown = paths.iter().take(SHOWN_PATHS).copied().collect::<Vec<_>>().join(", ");
        let more = match paths.len().saturating_sub(SHOWN_PATHS) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        out.push_str(&format!("  {count} {verb} nothing: {reason}\n      {shown}{more}\n"));
    }
    out.push('\n');
    if affected.is_empty() {
        out.push_str("affected: nothing; no stage output can change\n");
        return out;
    }
    out.push_str("affected:\n");
    let width = affected.cells.keys().map(String::len).max().unwrap_or(0);
    for market in order.iter().filter(|m| affected.cells.contains_key(**m)) {
        out.push_str(&format!("  {market:<width$}  {}\n", stage_list(&affected.cells[*market])));
    }
    let unaffected: Vec<&str> = order.iter().copied().filter(|m| !affected.cells.contains_key(*m)).collect();
    if !unaffected.is_empty() {
        out.push_str(&format!("unaffected: {}\n", unaffected.join(", ")));
    }
    out.push_str("re-run (upstream stages come from the cache):\n");
    for command in rerun_commands(affected, order) {
        out.push_str(&format!("  {command}\n"));
    }
    out
}

/// The `wb run` commands re-running the affected cells (see [`run_groups`]; `--all` when a group is every
/// market of `order`).
pub fn rerun_commands(affected: &Affected, order: &[&str]) -> Vec<String> {
    run_groups(affected, order)
        .into_iter()
        .map(|(stage, markets)| {
            let mut command = String::from("wb run");
            if markets.len() == order.len() {
                command.push_str(" --all");
            } else {
                for market in markets {
                    command.push_str(&format!(" --market {market}"));
                }
            }
            if let Some(stage) = stage {
                command.push_str(&format!(" --stage {stage}"));
            }
            command
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline_core::Stage;
    use pipeline_core::Stage::*;

    fn affected(cells: &[(&str, &[Stage])]) -> Affected {
        let cells = cells.iter().map(|(m, s)| (m.to_string(), s.iter().copied().collect())).collect();
        Affected {
            base: "main".into(),
            merge_base: "0".repeat(40),
            changes: Vec::new(),
            cells,
            reasons: BTreeMap::new(),
        }
    }

    #[test]
    fn markets_are_grouped_by_their_last_affected_stage_and_every_market_is_all() {
        let order = ["foobar-au", "foobar-br", "foobar-ca"];
        let some = affected(&[
            ("foobar-au", &[Validate]),
            ("foobar-br", &[Score, Recommend, Export]),
            ("foobar-ca", &[Export]),
        ]);
        assert_eq!(
            rerun_commands(&some, &order),
            ["wb run --market foobar-br --market foobar-ca", "wb run --market foobar-au --stage validate"]
        );
        let every = affected(&[("foobar-au", &[Export]), ("foobar-br", &[Export]), ("foobar-ca", &[Ingest, Export])]);
        assert_eq!(rerun_commands(&every, &order), ["wb run --all"]);
    }
}
