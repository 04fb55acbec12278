//! `wb watch`: re-run exactly what a save touches, and say why.
//!
//! File events (notify: inotify on Linux) under the workspace root, except in `target/`, `.git/` and
//! `.workbench/`, are collected until the files have been quiet for the debounce period (300 ms by default); the
//! batch is then classified by the affected analysis (`workbench-affected`: each file's cells and reason), the
//! runner is rebuilt (`cargo build -p workbench-runner --bin wb-runner`, with `--release` under `wb watch
//! --release`: the small runner binary, not all of `wb`, so a market edit recompiles that market and the runner
//! only; compiler errors streamed; on failure the watch waits for the next change), and each affected market runs
//! up to its last affected stage through the run service in this process, as `wb run --runner <the fresh
//! wb-runner>` would (upstream stages come from the cache, so exactly the affected cells are computed;
//! `--fixtures` is used by every run; with `--json` each run prints the lines `wb run --json` prints). A newer
//! batch cancels the job of a superseded one: its build is killed, its run is cancelled through the service's
//! token (runners stopped, the run recorded as cancelled), and its changes join the new batch so their results
//! still come. A batch that touches no cell (documentation, tests) does not cancel a running job. The feedback
//! time, from the batch's first file event to its results printed, is printed and recorded with each run
//! (`runs.feedback_ms`).
//!
//! Before a file's first change the classification compares it with `HEAD` (config files are read at start), so
//! `market.toml` edits are narrowed to the stages reading the changed keys. Directories created at the top of the
//! workspace after the watch started are not watched until it restarts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use localstack::{Backend, RetryLog};
use pipeline_core::{RunStatus, Stage};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use workbench_affected::{Affected, Declarations, stage_list};

use crate::cli::WatchArgs;
use crate::exit::ExitStatus;
use crate::history::History;
use crate::present::output::{fail, say, sleep_until};
use crate::present::{report, run_lines};
use crate::services::runs::{self, BackendUse, Jobs, RunProgress, RunRequest};
use crate::services::supervisor::{Cancel, CancelToken, RunnerCommand, Update};
use crate::services::watch::{Debouncer, classify_batch, start_watcher, watched_path};
use crate::workspace::Workspace;
use markets::MarketId;

/// What the watch needs to handle a batch.
#[derive(Debug, Clone)]
struct Context {
    root: PathBuf,
    workspace: Workspace,
    /// Only reported in `watch_ready`: the runs are made in process (`--wb` is a no-op).
    wb: PathBuf,
    runner: PathBuf,
    build: bool,
    release: bool,
    fixtures: Option<PathBuf>,
    aws: Option<Backend>,
    json: bool,
    markets: Vec<String>,
    quarantine: String,
    history: PathBuf,
}

/// Runs `wb watch` from the current directory until Ctrl-C (exit 130) or a watch error (exit 2). Needs a tokio
/// runtime.
pub async fn watch(args: WatchArgs) -> ExitStatus {
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => return fail(e.to_string()),
    };
    let root = workspace.root().canonicalize().unwrap_or_else(|_| workspace.root().to_path_buf());
    let declarations = match Declarations::load(&root) {
        Ok(d) => d,
        Err(e) => return fail(e.to_string()),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _watcher = match start_watcher(&root, tx) {
        Ok(watcher) => watcher,
        Err(e) => return fail(format!("cannot watch {}: {e}; check the inotify limits", root.display())),
    };
    // `--wb` is accepted and reported, nothing more: the runs are made in process.
    let wb = args.runner.wb.clone().or_else(|| std::env::current_exe().ok()).unwrap_or_default();
    let target = crate::services::build::target_dir(&root);
    let selected = if args.markets.is_empty() { MarketId::all() } else { args.markets.clone() };
    // Retries of this process's own requests (provisioning); the runners report theirs as log events.
    RetryLog::global().on_retry(|retry| eprintln!("warning: {retry}"));
    let context = Context {
        root: root.clone(),
        workspace: workspace.clone(),
        wb,
        runner: crate::services::build::runner_binary(&target, args.release, args.runner.runner.as_deref()),
        build: !args.runner.no_build,
        release: args.release,
        // Relative to where the watch started, as for `wb run`; the runs start in the workspace root.
        fixtures: args.fixtures.as_ref().map(|dir| std::path::absolute(dir).unwrap_or_else(|_| dir.clone())),
        aws: args.backend.aws,
        json: args.json,
        markets: selected.iter().map(|m| m.to_string()).collect(),
        quarantine: workspace.settings().buckets.quarantine.clone(),
        history: workspace.history_path(),
    };
    let mut snapshot: BTreeMap<String, Vec<u8>> = declarations
        .compared_files()
        .into_iter()
        .filter_map(|path| std::fs::read(root.join(&path)).ok().map(|bytes| (path, bytes)))
        .collect();
    if args.json {
        say_json(serde_json::json!({
            "event": "watch_ready",
            "root": root,
            "debounce_ms": args.debounce_ms,
            "wb": context.wb,
            "runner": context.runner,
            "build": context.build,
            "release": context.release,
            "fixtures": context.fixtures,
        }));
    } else {
        say(&format!(
            "watching {} (not target/, .git/, .workbench/); save a file to re-run what it touches, Ctrl-C to stop",
            root.display()
        ));
        let fixtures = match &context.fixtures {
            Some(dir) => format!(", fixtures from {}", dir.display()),
            None => String::new(),
        };
        say(&format!("runs use the runner {}{fixtures}", context.runner.display()));
    }
    let mut debouncer = Debouncer::new(Duration::from_millis(args.debounce_ms));
    let mut job: Option<Job> = None;
    let mut interrupt = std::pin::pin!(crate::sys::interrupted());
    loop {
        let deadline = debouncer.deadline();
        tokio::select! {
            path = rx.recv() => match path {
                Some(path) => {
                    if let Some(relative) = watched_path(&root, &path) {
                        debouncer.add(relative, Instant::now());
                    }
                }
                None => return fail("the file watcher stopped; restart wb watch"),
            },
            () = sleep_until(deadline), if deadline.is_some() => {
                let Some(batch) = debouncer.take() else { continue };
                let mut changes = classify_batch(&root, &declarations, &mut snapshot, &batch.paths);
                if changes.is_empty() {
                    continue;
                }
                let mut first_event = batch.first_event;
                if let Some(running) = job.take_if(|j| !j.handle.is_finished()) {
                    if changes.iter().all(|c| c.cells.is_empty()) {
                        // Nothing this change touches: the running job is not superseded.
                        announce(&context, &Affected::from_changes("", "", changes));
                        if !context.json {
                            say("nothing to re-run for this change; the running job goes on");
                        }
                        done(&context, "nothing_to_run", &[], batch.first_event);
                        job = Some(running);
                        continue;
                    }
                    running.cancel.cancel();
                    let _ = running.handle.await;
                    let paths: Vec<&str> = running.affected.changes.iter().map(|c| c.path.as_str()).collect();
                    if context.json {
                        say_json(serde_json::json!({"event": "watch_cancelled", "paths": paths}));
                    } else {
                        say("superseded by a newer change: its run was cancelled; its changes are re-run with it");
                    }
                    // The cancelled job's changes still need their results: they join the new batch.
                    first_event = first_event.min(running.first_event);
                    let newer: BTreeSet<String> = changes.iter().map(|c| c.path.clone()).collect();
                    changes.extend(running.affected.changes.into_iter().filter(|c| !newer.contains(&c.path)));
                    changes.sort_by(|a, b| a.path.cmp(&b.path));
                }
                let affected = Affected::from_changes("", "", changes);
                announce(&context, &affected);
                let (cancel, token) = Cancel::new();
                let handle = tokio::spawn(handle_batch(context.clone(), affected.clone(), first_event, token));
                job = Some(Job { cancel, handle, affected, first_event });
            },
            () = &mut interrupt => {
                if let Some(running) = job.take() {
                    running.cancel.cancel();
                    let _ = running.handle.await;
                }
                if !context.json {
                    say("stopped watching");
                }
                return ExitStatus::Cancelled;
            }
        }
    }
}

/// The job handling a batch: how to cancel it, its task, what it re-runs, and when its first save came.
struct Job {
    cancel: Cancel,
    handle: tokio::task::JoinHandle<()>,
    affected: Affected,
    first_event: Instant,
}

/// Says what changed and what it touches.
fn announce(context: &Context, affected: &Affected) {
    if context.json {
        say_json(serde_json::json!({"event": "watch_batch", "changes": affected.changes, "cells": affected.cells}));
        return;
    }
    let files = if affected.changes.len() == 1 { "file" } else { "files" };
    say(&format!("\n{} changed {files} at {}:", affected.changes.len(), chrono::Local::now().format("%H:%M:%S")));
    for change in &affected.changes {
        say(&format!("  {}\n      {}", change.summary, change.reason));
    }
}

/// Handles one batch: rebuild, run the affected markets, print the results and the feedback time.
async fn handle_batch(context: Context, affected: Affected, first_event: Instant, mut cancel: CancelToken) {
    if context.build {
        match build(&context, &mut cancel).await {
            Built::Ok => {}
            Built::Failed => {
                done(&context, "build_failed", &[], first_event);
                return;
            }
            Built::Cancelled => return,
        }
    }
    let order: Vec<&str> = context.markets.iter().map(String::as_str).collect();
    let groups = crate::services::affected::run_groups(&affected, &order);
    if groups.is_empty() {
        if !context.json {
            let why = if affected.is_empty() { "no stage output can change" } else { "no selected market is affected" };
            say(&format!("nothing to re-run: {why}"));
        }
        done(&context, "nothing_to_run", &[], first_event);
        return;
    }
    let mut run_ids = Vec::new();
    let mut worst: Option<RunStatus> = None;
    for (stage, markets) in groups {
        if !context.json {
            let cells: Vec<String> =
                markets.iter().map(|m| format!("{m} ({})", stage_list(&affected.cells[m]))).collect();
            say(&format!("re-running {}", cells.join(", ")));
        }
        let outcome = run(&context, &markets, stage, &mut cancel).await;
        run_ids.extend(outcome.run_id);
        worst = worst.max(outcome.status);
        if outcome.cancelled {
            return;
        }
    }
    let status = worst.map(RunStatus::as_str).unwrap_or("error");
    done(&context, status, &run_ids, first_event);
}

/// Ends a batch: the feedback time (from its first file event to now, its results being printed; for a batch
/// that took over a cancelled one's changes, from that one's first event) is recorded with each run of the batch,
/// then printed.
fn done(context: &Context, status: &str, run_ids: &[String], first_event: Instant) {
    let feedback_ms = first_event.elapsed().as_millis() as u64;
    if !run_ids.is_empty() {
        match History::open(&context.history) {
            Ok(mut history) => {
                for run_id in run_ids {
                    if let Err(e) = history.set_feedback_ms(run_id, feedback_ms) {
                        eprintln!("warning: feedback time not recorded: {e}");
                    }
                }
            }
            Err(e) => eprintln!("warning: feedback time not recorded: {e}"),
        }
    }
    if context.json {
        say_json(
            serde_json::json!({"event": "watch_done", "status": status, "run_ids": run_ids, "feedback_ms": feedback_ms}),
        );
    } else {
        let runs = if run_ids.is_empty() { String::new() } else { format!(" (run {})", run_ids.join(", ")) };
        say(&format!("feedback: {} from the save to these results{runs}", report::duration(feedback_ms)));
    }
}

enum Built {
    Ok,
    Failed,
    Cancelled,
}

/// Rebuilds the runner with cargo, streaming the compiler's messages (not its progress lines) to stderr.
async fn build(context: &Context, cancel: &mut CancelToken) -> Built {
    let started = Instant::now();
    let mut command = crate::services::build::command();
    command
        .args(crate::services::build::build_args(context.release))
        .args(["--color", "never"])
        .current_dir(&context.root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if !context.json {
        say(&format!("building the runner: cargo {}", crate::services::build::build_args(context.release).join(" ")));
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let message = format!("cannot run cargo: {e}; install Rust, or pass --no-build with --runner <path>");
            if context.json {
                say_json(serde_json::json!({"event": "watch_build", "ok": false, "output": [message]}));
            } else {
                eprintln!("error: {message}");
            }
            return Built::Failed;
        }
    };
    let mut lines = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();
    let mut output = Vec::new();
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    let progress = ["Compiling ", "Finished ", "Blocking ", "Checking "]
                        .iter()
                        .any(|p| line.trim_start().starts_with(p));
                    if !progress {
                        if !context.json {
                            eprintln!("{line}");
                        }
                        output.push(line);
                    }
                }
                _ => break,
            },
            () = cancel.cancelled() => {
                let _ = child.kill().await;
                return Built::Cancelled;
            }
        }
    }
    let ok = child.wait().await.is_ok_and(|s| s.success());
    let ms = started.elapsed().as_millis() as u64;
    if context.json {
        let output = if ok { Vec::new() } else { output };
        say_json(serde_json::json!({"event": "watch_build", "ok": ok, "duration_ms": ms, "output": output}));
    } else if ok {
        say(&format!("  built in {}", report::duration(ms)));
    } else {
        say("build failed: fix the errors above and save; waiting for the next change");
    }
    if ok { Built::Ok } else { Built::Failed }
}

/// How one run of a batch ended.
struct Ran {
    run_id: Option<String>,
    status: Option<RunStatus>,
    cancelled: bool,
}

/// Runs `markets` up to `stage` in process through the run service and shows its results (with `--json`, the
/// lines `wb run --json` prints); on cancellation the service stops the runners and records the run cancelled.
async fn run(context: &Context, markets: &[String], stage: Option<Stage>, cancel: &mut CancelToken) -> Ran {
    let markets: Vec<MarketId> = markets.iter().filter_map(|m| MarketId::parse(m).ok()).collect();
    let command = runs::command_line("wb (watch)", &markets, stage);
    let request = RunRequest {
        workspace: context.workspace.clone(),
        run_id: runs::new_run_id(),
        markets: markets.clone(),
        stage,
        as_of: None,
        no_cache: false,
        fixtures: context.fixtures.clone().unwrap_or_else(|| context.workspace.default_fixtures_dir()),
        runner: RunnerCommand::new(&context.runner),
        jobs: Jobs::Default,
        command,
        reports: crate::present::run_report::RENDERER,
    };
    let width = markets.iter().map(|m| m.as_str().len()).max().unwrap_or(0);
    let run_id = request.run_id.clone();
    let json = context.json;
    let progress = |progress: RunProgress| match progress {
        RunProgress::Runner { update: Update::Stderr { market, line }, .. } => eprintln!("[{market}] {line}"),
        RunProgress::Runner { update, applied } => {
            let lines = if json {
                run_lines::json_lines(&run_id, &update, &applied)
            } else {
                run_lines::result_lines(&update, &applied, width, &context.quarantine)
            };
            for line in lines {
                say(&line);
            }
        }
        RunProgress::BackendNote(note) => eprintln!("{note}"),
        RunProgress::HistoryWarning(e) => eprintln!("warning: run history not fully recorded: {e}"),
        RunProgress::Warning(warning) => eprintln!("warning: {warning}"),
        _ => {}
    };
    let backend = BackendUse::Start { aws: context.aws, by: "wb watch" };
    let result = runs::run(request, backend, cancel.clone(), progress).await;
    let cancelled = cancel.is_cancelled();
    let (summary, error) = runs::summary_and_error(result);
    if let Some(error) = error {
        eprintln!("error: {error}");
    }
    if json {
        say(&summary.to_json_line());
    }
    Ran { run_id: summary.run_id, status: Some(summary.status), cancelled }
}

fn say_json(value: serde_json::Value) {
    say(&value.to_string());
}
