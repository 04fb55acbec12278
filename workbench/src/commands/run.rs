//! `wb run`: the run service ([`runs::run`]) with the backend started for the run (or the one `wb aws up` left
//! running), printing its progress (or the events as JSON lines and the final [`RunSummary`] line), Ctrl-C
//! cancelling it, and the outcome turned into an exit code. `--dry-run` plans instead ([`plan::dry_run`]).

use std::path::PathBuf;

use localstack::{Backend, RetryLog};
use pipeline_core::RunStatus;

use crate::cli::RunArgs;
use crate::exit::ExitStatus;
use crate::present::output::{fail, say};
use crate::present::{outbox, report, run_lines};
use crate::services::plan::{self, DryRunRequest, PlanProgress, PlanTarget, PlanTotals, PlannedCell};
use crate::services::runs::{self, BackendOrigin, BackendUse, Jobs, RunOutcome, RunProgress, RunRequest, RunSummary};
use crate::services::supervisor::{Cancel, RunnerCommand, Update};
use crate::workspace::Workspace;
use markets::MarketId;

/// How `wb run` is invoked: its options, the runner program and the command line to record.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Options.
    pub args: RunArgs,
    /// The program that runs markets.
    pub runner: RunnerCommand,
    /// The command line as typed, for history.
    pub command_line: String,
}

/// Runs `wb run` from the current directory and returns the exit code. Needs a multi-thread tokio runtime.
pub async fn run(invocation: Invocation) -> ExitStatus {
    if invocation.args.dry_run {
        return dry_run(&invocation).await;
    }
    let started = std::time::Instant::now();
    let args = &invocation.args;
    let json = args.json;
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            if json {
                let ms = started.elapsed().as_millis() as u64;
                say(&RunSummary::new(None, RunStatus::Error, ms, Vec::new(), Some(e.to_string())).to_json_line());
            }
            return ExitStatus::Error;
        }
    };
    // Retries of this process's own requests (provisioning); the runners report theirs as log events.
    RetryLog::global().on_retry(|retry| eprintln!("warning: {retry}"));
    let markets = args.selected_markets();
    let fixtures = args.fixtures.clone().map(absolute).unwrap_or_else(|| workspace.default_fixtures_dir());
    let request = RunRequest {
        run_id: runs::new_run_id(),
        markets: markets.clone(),
        stage: args.stage,
        as_of: args.as_of,
        no_cache: args.no_cache,
        fixtures,
        runner: invocation.runner.clone(),
        jobs: args.jobs.map_or(Jobs::Default, Jobs::Limit),
        command: invocation.command_line.clone(),
        reports: crate::present::run_report::RENDERER,
        workspace,
    };
    let backend = BackendUse::Start { aws: args.backend.aws, by: "wb run" };
    let (cancel, token) = Cancel::new();
    let mut printer = Printer::new(json, &request);
    let mut interrupt = std::pin::pin!(crate::sys::interrupted());
    let mut service = std::pin::pin!(runs::run(request, backend, token, |p| printer.show(p)));
    let mut interrupted = false;
    let result = loop {
        tokio::select! {
            result = &mut service => break result,
            () = &mut interrupt, if !interrupted => {
                interrupted = true;
                cancel.cancel();
            }
        }
    };
    match result {
        Ok(outcome) => finish(json, &outcome),
        Err(failed) => {
            eprintln!("error: {failed}");
            if json {
                say(&failed.summary().to_json_line());
            }
            ExitStatus::Error
        }
    }
}

/// Prints a run's progress as `wb run` does: text, or the JSON event lines.
struct Printer {
    json: bool,
    width: usize,
    quarantine: String,
    run_id: String,
    names: Vec<String>,
}

impl Printer {
    fn new(json: bool, request: &RunRequest) -> Self {
        Self {
            json,
            width: request.markets.iter().map(|m| m.as_str().len()).max().unwrap_or(0),
            quarantine: request.workspace.settings().buckets.quarantine.clone(),
            run_id: request.run_id.clone(),
            names: request.markets.iter().map(MarketId::to_string).collect(),
        }
    }

    fn show(&mut self, progress: RunProgress) {
        let text = !self.json;
        match progress {
            RunProgress::Began { run_id, backend } if text => {
                say(&format!("run {run_id}: {} on the {backend} S3 backend", self.names.join(", ")))
            }
            RunProgress::StartingBackend(backend) if text => {
                say(&format!("starting the {backend} backend (a first start can take a few minutes)"))
            }
            RunProgress::BackendNote(note) => eprintln!("{note}"),
            RunProgress::BackendUp { backend, url, version, origin } if text => {
                say(&backend_line(backend, &url, &version, &origin))
            }
            RunProgress::Provisioned { fixtures, done } if text => say(&format!(
                "fixtures from {}: {} uploaded, {} unchanged{}",
                fixtures.display(),
                done.uploaded.len(),
                done.unchanged.len(),
                if done.removed.is_empty() { String::new() } else { format!(", {} removed", done.removed.len()) }
            )),
            RunProgress::Runner { update: Update::Stderr { market, line }, .. } => eprintln!("[{market}] {line}"),
            RunProgress::Runner { update, applied } => {
                let lines = if self.json {
                    run_lines::json_lines(&self.run_id, &update, &applied)
                } else {
                    run_lines::text_lines(&update, &applied, self.width, &self.quarantine)
                };
                for line in lines {
                    say(&line);
                }
            }
            RunProgress::Cancelling if text => say("cancelling: stopping the runners"),
            RunProgress::HistoryWarning(e) => eprintln!("warning: run history not fully recorded: {e}"),
            RunProgress::Alerts(Ok(sent)) => {
                let (lines, warnings) = outbox::alert_lines(&sent);
                warnings.iter().for_each(|w| eprintln!("{w}"));
                lines.iter().filter(|_| text).for_each(|line| say(line));
            }
            RunProgress::Alerts(Err(e)) => eprintln!("warning: no alerts sent: {e}"),
            RunProgress::Warning(warning) => eprintln!("warning: {warning}"),
            _ => {}
        }
    }
}

/// The line saying which S3 the run uses.
fn backend_line(backend: Backend, url: &str, version: &str, origin: &BackendOrigin) -> String {
    match origin {
        BackendOrigin::Shared { pid } => {
            format!("S3 at {url} ({version}; the {backend} backend `wb aws up` left running, `wb aws serve` pid {pid})")
        }
        BackendOrigin::Attached { pid, by } => {
            format!("S3 at {url} ({version}; the embedded backend of pid {pid} ({by}), attached)")
        }
        BackendOrigin::Own { startup } => {
            let startup = report::duration(startup.as_millis() as u64);
            format!("S3 at {url} ({version}, up in {startup})")
        }
    }
}

/// Prints the end of a run (a run-wide error on stderr, then the summary) and returns its exit code.
fn finish(json: bool, outcome: &RunOutcome) -> ExitStatus {
    let summary = &outcome.summary;
    if let Some(error) = &summary.error {
        eprintln!("error: {error}");
    }
    if json {
        say(&summary.to_json_line());
    } else {
        say("");
        print!("{}", report::summary(&outcome.markets, summary.duration_ms));
        let run_id = summary.run_id.as_deref().unwrap_or("-");
        say(&format!("{}: {}", summary.status.as_str(), next_step(summary.status, run_id)));
    }
    ExitStatus::of_run(summary.status)
}

/// What to do after a run with this status.
fn next_step(status: RunStatus, run_id: &str) -> String {
    match status {
        RunStatus::Ok => format!("every check passed (run {run_id})"),
        RunStatus::Alert => format!("passed with alerts: review the alerts above (run {run_id})"),
        RunStatus::Fail => {
            format!("a check or stage failed on the data: fix the input or the rules above (run {run_id})")
        }
        RunStatus::Error => format!("the environment failed: see the errors above, fix, and re-run (run {run_id})"),
        RunStatus::Cancelled => format!("cancelled (run {run_id})"),
    }
}

fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

/// `wb run --dry-run`: plans from the current directory and prints the plan (text, or JSON lines); the exit code
/// is 0, or 2 when a market could not be planned (or the environment failed).
async fn dry_run(invocation: &Invocation) -> ExitStatus {
    let args = &invocation.args;
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => return fail(e.to_string()),
    };
    let markets = args.selected_markets();
    let fixtures = args.fixtures.clone().map(absolute).unwrap_or_else(|| workspace.default_fixtures_dir());
    let request = DryRunRequest {
        workspace,
        markets: markets.clone(),
        target: PlanTarget { stage: args.stage, as_of: args.as_of, no_cache: args.no_cache },
        fixtures,
        runner: invocation.runner.clone(),
        aws: args.backend.aws,
    };
    let json = args.json;
    let planned = plan::dry_run(request, |progress| match progress {
        PlanProgress::Ready { backend } => {
            if !json {
                let names: Vec<&str> = markets.iter().map(MarketId::as_str).collect();
                say(&format!("dry run: {} on the {backend} S3 backend; nothing runs", names.join(", ")));
            }
        }
        PlanProgress::HistoryUnread(e) => {
            eprintln!("warning: run history not read, misses are not explained: {e}")
        }
        PlanProgress::Planned(cells) => {
            if json {
                for cell in &cells {
                    say(&json_line("dry_run_stage", cell));
                }
            } else {
                for line in plan_text(&cells) {
                    say(&line);
                }
            }
        }
        PlanProgress::Failed { market, error } => eprintln!("error: {market}: {error}"),
    })
    .await;
    let planned = match planned {
        Ok(planned) => planned,
        Err(e) => return fail(e),
    };
    let totals = PlanTotals::of(&planned.cells);
    if json {
        say(&json_line("dry_run_summary", &totals));
    } else {
        say(&totals.sentence());
    }
    if planned.failed { ExitStatus::Error } else { ExitStatus::Ok }
}

/// A plan value as a JSON line with its `event` name.
fn json_line(event: &str, value: &impl serde::Serialize) -> String {
    let mut json = serde_json::to_value(value).expect("plans serialise");
    if let Some(object) = json.as_object_mut() {
        object.insert("event".into(), event.into());
    }
    json.to_string()
}

/// The lines of one market's plan: a heading with as_of, then one line per stage.
fn plan_text(cells: &[PlannedCell]) -> Vec<String> {
    let Some(first) = cells.first() else { return Vec::new() };
    let mut lines = vec![format!("{}  as_of {}", first.market, first.as_of)];
    for cell in cells {
        let time = cell.compute_ms.map(report::duration).unwrap_or_else(|| "no history".to_string());
        let what = match (&cell.why, cell.hit) {
            (_, true) => format!("cached (computing it takes {time})"),
            (Some(why), false) => format!("{time:<10}  {why}"),
            (None, false) => time,
        };
        let hit = if cell.hit { "hit" } else { "miss" };
        lines.push(format!("  {:<9}  {hit:<4}  {what}", cell.stage.name()));
    }
    lines
}

/// `wb run`'s invocation: its options, the runner to start (the `--runner` binary when given, which must exist,
/// else this very `wb`) and the command line to record; or the exit status after saying why not.
pub fn invocation(args: RunArgs) -> Result<Invocation, ExitStatus> {
    let runner = match args.runner.as_deref() {
        Some(path) if path.is_file() => RunnerCommand::new(path),
        Some(path) => {
            eprintln!(
                "error: --runner {}: no such file; build it with `cargo build -p workbench-runner --bin wb-runner`",
                path.display()
            );
            return Err(ExitStatus::Error);
        }
        None => match RunnerCommand::current_exe() {
            Ok(runner) => runner,
            Err(e) => {
                eprintln!("error: cannot locate the wb executable to start runners: {e}; run wb from a file path");
                return Err(ExitStatus::Error);
            }
        },
    };
    let command_line = std::iter::once("wb".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>();
    Ok(Invocation { args, runner, command_line: command_line.join(" ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_worst_status() {
        let codes = [RunStatus::Ok, RunStatus::Alert, RunStatus::Fail, RunStatus::Error, RunStatus::Cancelled]
            .map(|s| ExitStatus::of_run(s).code());
        assert_eq!(codes, [0, 0, 1, 2, 130]);
    }
}
