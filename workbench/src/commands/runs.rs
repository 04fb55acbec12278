//! `wb runs` and `wb show`: the run history, readable without the TUI. Everything the TUI shows about runs is
//! here too, as aligned text for people or as JSON (`--json`) for scripts.
//!
//! `wb runs` lists the latest runs, newest first; `wb show RUN_ID` (an id, a unique prefix of one, or `last`)
//! prints one run whole: its header, then per market its stages and checks. Both work from any folder inside
//! the workspace. The rendering functions take rows and a time zone and return text or JSON, so tests can
//! assert them on fixed data; [`runs`] and [`show`] only find the history, print and pick the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Local, TimeZone};
use serde_json::{Value, json};

use crate::cli::{RunsArgs, ShowArgs};
use crate::exit::ExitStatus;
use crate::history::{CheckRow, History, HistoryError, MarketRow, RunDetail, RunRow, StageRow};
use crate::present::report;
use crate::present::runs::{local_time, markets_label, measured, short_commit};
use crate::services::reports::{self, ReportLink};
use crate::workspace::{Workspace, WorkspaceError};

/// What `wb runs` prints for an empty history.
pub const NO_RUNS: &str = "no runs yet: start one with `wb run --all`";

/// Why `wb runs` or `wb show` could not print what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RunsError {
    /// No workspace, or a bad `workbench.toml`.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The history could not be read, the run does not exist, or its prefix is ambiguous.
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// `wb runs`: prints the latest runs of the workspace holding the current directory; returns the exit code.
pub fn runs(args: &RunsArgs) -> ExitStatus {
    let result = (|| -> Result<String, RunsError> {
        let workspace = Workspace::discover_from_cwd()?;
        let runs = match open_existing(&workspace)? {
            Some(history) => history.list_runs(args.limit.get())?,
            None => Vec::new(),
        };
        Ok(if args.json { json_line(&runs_json(&runs)) } else { runs_text(&runs, &Local) })
    })();
    finish(result)
}

/// `wb show`: prints one run of the workspace holding the current directory; returns the exit code (0 when
/// found, 2 when not, or on any error).
pub fn show(args: &ShowArgs) -> ExitStatus {
    let result = (|| -> Result<String, RunsError> {
        let workspace = Workspace::discover_from_cwd()?;
        let not_found = || HistoryError::NoRun { path: display_path(&workspace), run_id: args.run_id.clone() };
        let history = open_existing(&workspace)?.ok_or_else(not_found)?;
        let run_id = history.resolve_run_id(&args.run_id)?.ok_or_else(not_found)?;
        let detail = history.run_detail(&run_id)?.ok_or_else(not_found)?;
        let links = reports::links(&detail, &workspace.settings().buckets.reports, &workspace.s3_dir());
        Ok(if args.json { json_line(&show_json(&detail, &links)) } else { show_text(&detail, &links, &Local) })
    })();
    finish(result)
}

/// Opens the workspace's history, or `None` when there is none yet (a read-only command creates nothing).
fn open_existing(workspace: &Workspace) -> Result<Option<History>, HistoryError> {
    let path = workspace.history_path();
    if !path.exists() {
        return Ok(None);
    }
    History::open(&path).map(Some)
}

/// The history's path as people in the workspace know it: relative to the root (`.workbench/history.sqlite`).
fn display_path(workspace: &Workspace) -> PathBuf {
    let path = workspace.history_path();
    path.strip_prefix(workspace.root()).map(Path::to_path_buf).unwrap_or(path)
}

/// Prints the output (a closed pipe, as with `| head`, is not an error) or the error; returns the exit code.
fn finish(result: Result<String, RunsError>) -> ExitStatus {
    match result {
        Ok(text) => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitStatus::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitStatus::Error
        }
    }
}

fn json_line(value: &Value) -> String {
    format!("{value}\n")
}

/// `wb runs`: a header line and one aligned line per run (newest first, as given): started (in `tz`), run id,
/// commit (7 characters, `*` when dirty, `-` outside a repository), backend, markets (`all (N)` when every
/// registered market), stage (`all` when every stage), duration, result. [`NO_RUNS`] when `runs` is empty.
pub fn runs_text<Tz: TimeZone>(runs: &[RunRow], tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    if runs.is_empty() {
        return format!("{NO_RUNS}\n");
    }
    let registered = markets::ids();
    let mut rows = vec![
        ["started", "run", "commit", "backend", "markets", "stage", "duration", "result"].map(str::to_string).to_vec(),
    ];
    for run in runs {
        rows.push(vec![
            local_time(&run.started_at, tz),
            run.run_id.clone(),
            short_commit(run.git_commit.as_deref(), run.git_dirty),
            run.backend.clone(),
            markets_label(&run.markets, &registered),
            run.stage.clone().unwrap_or_else(|| "all".to_string()),
            run.duration_ms.map_or_else(|| "-".to_string(), report::duration),
            run.status.to_string(),
        ]);
    }
    table(&rows, "")
}

/// `wb runs --json`: an array of [`run_json`] objects, in the order given.
pub fn runs_json(runs: &[RunRow]) -> Value {
    Value::Array(runs.iter().map(run_json).collect())
}

/// One run as JSON, every field: `run_id`, `started_at`, `finished_at` (RFC 3339 UTC), `status`, `command`,
/// `commit` (full hash or null), `dirty`, `backend`, `endpoint`, `markets` (the ids selected), `stage` (null:
/// every stage), `as_of`, `no_cache`, `duration_ms`, `peak_rss_bytes`, `feedback_ms`, `error`.
pub fn run_json(run: &RunRow) -> Value {
    json!({
        "run_id": run.run_id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "status": run.status.as_str(),
        "command": run.command,
        "commit": run.git_commit,
        "dirty": run.git_dirty,
        "backend": run.backend,
        "endpoint": run.endpoint,
        "markets": run.markets,
        "stage": run.stage,
        "as_of": run.as_of,
        "no_cache": run.no_cache,
        "duration_ms": run.duration_ms,
        "peak_rss_bytes": run.peak_rss_bytes,
        "feedback_ms": run.feedback_ms,
        "error": run.error,
    })
}

/// `wb show --json`: [`run_json`] with `markets` replaced by the markets' objects (`market`, `status`, `as_of`,
/// `error`, `duration_ms`, `peak_rss_bytes`, `report`: the report's `url` and, on the embedded backend, its local
/// `path`, or null), each with its `stages` (`stage`, `status`, `duration_ms`, `rows`, `bytes`, `cache_hit`,
/// `cache_key`, `produced_by`, `error`, `tables`), each with its `checks` (`name`, `subject`, `rule`, `status`,
/// `measured`, `message`).
pub fn show_json(detail: &RunDetail, links: &[ReportLink]) -> Value {
    let mut run = run_json(&detail.run);
    let markets: Vec<Value> = detail
        .markets
        .iter()
        .map(|m| {
            let stages: Vec<Value> = detail.stages_of(&m.market).map(|s| stage_json(detail, s)).collect();
            let report = links.iter().find(|l| l.market == m.market).map(|l| json!({"url": l.url, "path": l.path}));
            json!({
                "market": m.market,
                "status": m.status.as_str(),
                "as_of": m.as_of,
                "error": m.error,
                "duration_ms": m.duration_ms,
                "peak_rss_bytes": m.peak_rss_bytes,
                "report": report,
                "stages": stages,
            })
        })
        .collect();
    run["markets"] = Value::Array(markets);
    run
}

fn stage_json(detail: &RunDetail, stage: &StageRow) -> Value {
    let checks: Vec<Value> = detail
        .checks_of(&stage.market, &stage.stage)
        .map(|c| {
            json!({
                "name": c.name,
                "subject": c.subject,
                "rule": c.rule,
                "status": c.status,
                "measured": c.measured,
                "message": c.message,
            })
        })
        .collect();
    json!({
        "stage": stage.stage,
        "status": stage.status,
        "duration_ms": stage.duration_ms,
        "rows": stage.rows,
        "bytes": stage.bytes,
        "cache_hit": stage.cache_hit,
        "cache_key": stage.cache_key,
        "produced_by": stage.produced_by,
        "error": stage.error,
        "tables": stage.tables,
        "checks": checks,
    })
}

/// `wb show`: the run's header (id, command, started and finished in `tz`, commit, backend and endpoint,
/// status, duration, peak memory, feedback time, error), then per market its status, duration, as_of, error and
/// report (its S3 URL, and on the embedded backend the local file), a table of its stages (status, duration, rows, `cached` or `ran`, cache key, rows per table) and a table of
/// its checks (stage, check name and subject, level, measured value, message).
pub fn show_text<Tz: TimeZone>(detail: &RunDetail, links: &[ReportLink], tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let run = &detail.run;
    let mut header: Vec<(&str, String)> = vec![
        ("run", run.run_id.clone()),
        ("command", run.command.clone()),
        ("started", local_time(&run.started_at, tz)),
        ("finished", run.finished_at.as_deref().map_or_else(|| "-".to_string(), |t| local_time(t, tz))),
        ("commit", commit_label(run)),
        ("backend", run.endpoint.as_ref().map_or_else(|| run.backend.clone(), |e| format!("{} {e}", run.backend))),
        ("status", run.status.to_string()),
        ("duration", run.duration_ms.map_or_else(|| "-".to_string(), report::duration)),
    ];
    if let Some(bytes) = run.peak_rss_bytes {
        header.push(("memory", format!("{} peak", report::size(bytes))));
    }
    if let Some(ms) = run.feedback_ms {
        header.push(("feedback", format!("{} from save to results", report::duration(ms))));
    }
    if let Some(error) = &run.error {
        header.push(("error", error.clone()));
    }
    let width = header.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in &header {
        let indent = " ".repeat(width + 2);
        out.push_str(&format!("{label:<width$}  {}\n", indent_lines(value, &indent)));
    }
    for market in &detail.markets {
        out.push('\n');
        out.push_str(&market_text(detail, market, links.iter().find(|l| l.market == market.market)));
    }
    out
}

fn market_text(detail: &RunDetail, market: &MarketRow, link: Option<&ReportLink>) -> String {
    let mut line = format!("{}: {}", market.market, market.status);
    if let Some(ms) = market.duration_ms {
        line.push_str(&format!(" in {}", report::duration(ms)));
    }
    if let Some(as_of) = &market.as_of {
        line.push_str(&format!(", as_of {as_of}"));
    }
    if let Some(bytes) = market.peak_rss_bytes {
        line.push_str(&format!(", {} peak", report::size(bytes)));
    }
    let mut out = format!("{line}\n");
    if let Some(error) = &market.error {
        out.push_str(&format!("  error: {}\n", indent_lines(error, "         ")));
    }
    if let Some(link) = link {
        out.push_str(&format!("  report: {}\n", link.url));
        if let Some(path) = &link.path {
            out.push_str(&format!("  file:   {}\n", path.display()));
        }
    }
    let stages: Vec<&StageRow> = detail.stages_of(&market.market).collect();
    if stages.is_empty() {
        out.push_str("  no stage ran\n");
        return out;
    }
    let mut rows = vec![["stage", "status", "time", "rows", "cache", "key", "tables"].map(str::to_string).to_vec()];
    for s in &stages {
        let tables: Vec<String> = s.tables.iter().map(|(table, n)| format!("{table}={n}")).collect();
        rows.push(vec![
            s.stage.clone(),
            s.status.as_str().to_string(),
            report::duration(s.duration_ms),
            s.rows.to_string(),
            if s.cache_hit { "cached" } else { "ran" }.to_string(),
            s.cache_key.clone(),
            tables.join(" "),
        ]);
    }
    out.push_str(&table(&rows, "  "));
    for s in stages.iter().filter(|s| s.error.is_some()) {
        let error = s.error.as_deref().unwrap_or_default();
        out.push_str(&format!("  {} error: {}\n", s.stage, indent_lines(error, "    ")));
    }
    let checks: Vec<&CheckRow> = detail.checks.iter().filter(|c| c.market == market.market).collect();
    if !checks.is_empty() {
        let mut rows = vec![["stage", "check", "level", "measured", "message"].map(str::to_string).to_vec()];
        for c in checks {
            rows.push(vec![
                c.stage.clone(),
                format!("{} {}", c.name, c.subject),
                c.status.as_str().to_string(),
                measured(c.measured),
                c.message.clone(),
            ]);
        }
        out.push_str(&table(&rows, "  "));
    }
    out
}

fn commit_label(run: &RunRow) -> String {
    match (&run.git_commit, run.git_dirty) {
        (Some(commit), Some(true)) => format!("{commit} (dirty)"),
        (Some(commit), _) => commit.clone(),
        (None, _) => "- (not in a git repository)".to_string(),
    }
}

/// Left-aligned columns two spaces apart, each line prefixed with `indent`, trailing spaces trimmed.
fn table(rows: &[Vec<String>], indent: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r.get(c).map_or(0, |cell| cell.chars().count())).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(indent);
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn indent_lines(text: &str, indent: &str) -> String {
    text.lines().collect::<Vec<_>>().join(&format!("\n{indent}"))
}
