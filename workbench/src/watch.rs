//! `wb watch`: re-run exactly what a save touches, and say why.
//!
//! File events (notify: inotify on Linux) under the workspace root, except in `target/`, `.git/` and
//! `.workbench/`, are collected until the files have been quiet for the debounce period (300 ms by default); the
//! batch is then classified by the affected analysis (`workbench-affected`: each file's cells and reason), the
//! runner is rebuilt (`cargo build -p workbench-runner --bin wb-runner`, with `--release` under `wb watch
//! --release`: the small runner binary, not all of `wb`, so a market edit recompiles that market and the runner
//! only; compiler errors streamed; on failure the watch waits for the next change), and each affected market runs
//! up to its last affected stage with `wb run --runner <the fresh wb-runner>` (upstream stages come from the
//! cache, so exactly the affected cells are computed; `--fixtures` is passed on to every run). A newer batch
//! cancels the job of a superseded one: its build is killed, its run is sent SIGTERM (which `wb run` handles like
//! Ctrl-C: runners stopped, the run recorded as cancelled), and its changes join the new batch so their results
//! still come. A batch that touches no cell (documentation, tests) does not cancel a running job. The feedback
//! time, from the batch's first file event to its results printed, is printed and recorded with each run
//! (`runs.feedback_ms`).
//!
//! Before a file's first change the classification compares it with `HEAD` (config files are read at start), so
//! `market.toml` edits are narrowed to the stages reading the changed keys. Directories created at the top of the
//! workspace after the watch started are not watched until it restarts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Args;
use localstack::Backend;
use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode, Watcher};
use pipeline_core::{Event, RunStatus, Stage};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;
use workbench_affected::changes::head_content;
use workbench_affected::classify::classify;
use workbench_affected::{Affected, Change, Declarations, FileStatus, stage_list};

use crate::cli::{MarketId, parse_backend};
use crate::history::History;
use crate::output::{fail, say, sleep_until};
use crate::report;
use crate::run::EXIT_CANCELLED;
use crate::supervisor::{Cancel, CancelToken};
use crate::workspace::Workspace;

/// Directories never watched: build output, git's own, and the workbench's state (runs write there).
pub const IGNORED_DIRS: [&str; 3] = ["target", ".git", ".workbench"];

/// The default quiet period after the last file event before a batch is handled.
pub const DEFAULT_DEBOUNCE_MS: u64 = 300;

/// How long a cancelled run may take to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// Options of `wb watch`.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Only re-run these markets when a change affects them (repeatable; default: every market).
    #[arg(long = "market", value_name = "MARKET", value_parser = MarketId::parse)]
    pub markets: Vec<MarketId>,
    /// How long files must be quiet after an event before the change is handled, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_DEBOUNCE_MS)]
    pub debounce_ms: u64,
    /// Print JSON lines (the watch's own events and the runs' events) instead of text.
    #[arg(long)]
    pub json: bool,
    /// S3 backend of the runs (as `wb run --aws`).
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    pub aws: Option<Backend>,
    /// The wb binary that starts the runs (`wb run`; default: this wb).
    #[arg(long, value_name = "PATH")]
    pub wb: Option<PathBuf>,
    /// The runner binary the runs start per market (`wb run --runner`; default: the workspace's
    /// target/debug/wb-runner, or target/release/wb-runner with --release, rebuilt on every change). Any program
    /// that takes `runner` and its arguments will do, `wb` itself included.
    #[arg(long, value_name = "PATH")]
    pub runner: Option<PathBuf>,
    /// Do not rebuild before running: use the runner binary as it is.
    #[arg(long)]
    pub no_build: bool,
    /// Rebuild and run the release build of the runner (`cargo build --release`, target/release/wb-runner)
    /// instead of the debug one, e.g. for runs on large fixtures.
    #[arg(long)]
    pub release: bool,
    /// Directory holding the runs' raw fixtures, passed to every run as `wb run --fixtures` (default:
    /// fixtures/data in the workspace).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

/// The cargo arguments that rebuild the runner: the small `wb-runner` binary (pipeline, markets, protocol), not
/// `wb`, so a market edit recompiles that market and the runner only; in release with `release` (what `wb watch
/// --release` runs).
pub fn build_args(release: bool) -> Vec<&'static str> {
    let mut args = vec!["build"];
    if release {
        args.push("--release");
    }
    args.extend(["-p", "workbench-runner", "--bin", "wb-runner"]);
    args
}

/// The runner binary the watch runs: `runner` when one was given (`--runner`), else the one [`build_args`]
/// builds in `target` (the cargo target directory): `release/wb-runner` with `release`, else `debug/wb-runner`.
pub fn runner_binary(target: &Path, release: bool, runner: Option<&Path>) -> PathBuf {
    match runner {
        Some(runner) => runner.to_path_buf(),
        None => target
            .join(if release { "release" } else { "debug" })
            .join(format!("wb-runner{}", std::env::consts::EXE_SUFFIX)),
    }
}

/// Collects file events into batches: a batch is ready once no event came for the quiet period.
#[derive(Debug)]
pub struct Debouncer {
    quiet: Duration,
    pending: BTreeSet<String>,
    first: Option<Instant>,
    last: Option<Instant>,
}

/// The paths of one batch and when its first event came (the start of its feedback time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Changed paths from the workspace root, sorted.
    pub paths: Vec<String>,
    /// When the first event of the batch arrived.
    pub first_event: Instant,
}

impl Debouncer {
    /// A debouncer with `quiet` as its quiet period.
    pub fn new(quiet: Duration) -> Self {
        Self { quiet, pending: BTreeSet::new(), first: None, last: None }
    }

    /// Records an event on `path` at `at`.
    pub fn add(&mut self, path: String, at: Instant) {
        self.pending.insert(path);
        self.first.get_or_insert(at);
        self.last = Some(at);
    }

    /// When the pending batch is ready (None when nothing is pending).
    pub fn deadline(&self) -> Option<Instant> {
        self.last.map(|last| last + self.quiet)
    }

    /// Takes the pending batch.
    pub fn take(&mut self) -> Option<Batch> {
        let first_event = self.first.take()?;
        self.last = None;
        Some(Batch { paths: std::mem::take(&mut self.pending).into_iter().collect(), first_event })
    }
}

/// `path` relative to `root`, `/`-separated, or None when it is outside the root or under an ignored directory.
pub fn watched_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.is_empty() || parts.iter().any(|p| IGNORED_DIRS.contains(&p.as_str())) {
        return None;
    }
    Some(parts.join("/"))
}

/// What the watch needs to handle a batch.
#[derive(Debug, Clone)]
struct Context {
    root: PathBuf,
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
pub async fn watch(args: WatchArgs) -> u8 {
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
    let wb = match args.wb.clone().map_or_else(std::env::current_exe, Ok) {
        Ok(wb) => wb,
        Err(e) => return fail(format!("cannot locate the wb executable to start runs: {e}; pass --wb <path>")),
    };
    let target = crate::cargo::target_dir(&root);
    let selected = if args.markets.is_empty() { MarketId::all() } else { args.markets.clone() };
    let context = Context {
        root: root.clone(),
        wb,
        runner: runner_binary(&target, args.release, args.runner.as_deref()),
        build: !args.no_build,
        release: args.release,
        // Relative to where the watch started, as for `wb run`; the runs start in the workspace root.
        fixtures: args.fixtures.as_ref().map(|dir| std::path::absolute(dir).unwrap_or_else(|_| dir.clone())),
        aws: args.aws,
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
    let mut interrupt = std::pin::pin!(crate::run::interrupted());
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
                return EXIT_CANCELLED;
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

/// Starts watching `root`: its own files, and each directory in it but the ignored ones, recursively (so
/// `target/`, with its thousands of directories, costs no inotify watches). Every created, written, renamed or
/// removed path is sent on `tx`.
pub(crate) fn start_watcher(
    root: &Path,
    tx: mpsc::UnboundedSender<PathBuf>,
) -> notify::Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
        let Ok(event) = result else { return };
        let relevant = matches!(
            event.kind,
            EventKind::Any
                | EventKind::Create(_)
                | EventKind::Remove(_)
                | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any)
        );
        if relevant {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })?;
    watcher.watch(root, RecursiveMode::NonRecursive)?;
    for entry in std::fs::read_dir(root).map_err(notify::Error::io)?.flatten() {
        let name = entry.file_name();
        let ignored = IGNORED_DIRS.iter().any(|d| name == *d);
        if !ignored && entry.file_type().is_ok_and(|t| t.is_dir()) {
            watcher.watch(&entry.path(), RecursiveMode::Recursive)?;
        }
    }
    Ok(watcher)
}

/// Classifies the paths of a batch against what was last seen of each (else `HEAD`), and remembers their new
/// content. Directories, files whose content did not change, and temporary files that came and went are left out.
pub(crate) fn classify_batch(
    root: &Path,
    declarations: &Declarations,
    snapshot: &mut BTreeMap<String, Vec<u8>>,
    paths: &[String],
) -> Vec<Change> {
    let mut changes = Vec::new();
    for path in paths {
        let full = root.join(path);
        if full.is_dir() {
            continue;
        }
        let after = std::fs::read(&full).ok();
        let before = snapshot.get(path).cloned().or_else(|| head_content(root, path));
        let status = match (&before, &after) {
            (None, None) => continue,
            (Some(b), Some(a)) if a == b => continue,
            (_, None) => FileStatus::Deleted,
            (None, Some(_)) => FileStatus::Added,
            (Some(_), Some(_)) => FileStatus::Modified,
        };
        changes.push(classify(declarations, path, status, before.as_deref(), after.as_deref()));
        match after {
            Some(bytes) => snapshot.insert(path.clone(), bytes),
            None => snapshot.remove(path),
        };
    }
    changes
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
    let groups = crate::affected_cmd::run_groups(&affected, &order);
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
    let mut command = crate::cargo::command();
    command
        .args(build_args(context.release))
        .args(["--color", "never"])
        .current_dir(&context.root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if !context.json {
        say(&format!("building the runner: cargo {}", build_args(context.release).join(" ")));
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

/// How one `wb run` child ended.
struct RunOutcome {
    run_id: Option<String>,
    status: Option<RunStatus>,
    cancelled: bool,
}

/// Runs `wb run --json` for `markets` up to `stage` and shows its results; on cancellation the child gets
/// SIGTERM (and is killed if it has not stopped after [`STOP_GRACE`]).
async fn run(context: &Context, markets: &[String], stage: Option<Stage>, cancel: &mut CancelToken) -> RunOutcome {
    let mut command = Command::new(&context.wb);
    command.current_dir(&context.root).args(["run", "--json"]).arg("--runner").arg(&context.runner);
    for market in markets {
        command.args(["--market", market]);
    }
    if let Some(stage) = stage {
        command.args(["--stage", stage.name()]);
    }
    if let Some(aws) = context.aws {
        command.args(["--aws", &aws.to_string()]);
    }
    if let Some(fixtures) = &context.fixtures {
        command.arg("--fixtures").arg(fixtures);
    }
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut outcome = RunOutcome { run_id: None, status: None, cancelled: false };
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("error: cannot start {}: {e}; build it, or pass --wb <path>", context.wb.display());
            return outcome;
        }
    };
    let width = markets.iter().map(String::len).max().unwrap_or(0);
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let mut stop_by: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => show_run_line(context, &line, width, &mut outcome),
                _ => break,
            },
            () = cancel.cancelled(), if stop_by.is_none() => {
                outcome.cancelled = true;
                terminate(&mut child);
                stop_by = Some(tokio::time::Instant::now() + STOP_GRACE);
            }
            () = tokio::time::sleep_until(stop_by.unwrap_or_else(tokio::time::Instant::now)), if stop_by.is_some() => {
                let _ = child.start_kill();
                break;
            }
        }
    }
    let _ = child.wait().await;
    outcome
}

/// Asks a `wb run` child to stop as Ctrl-C would (on Unix; elsewhere it is killed).
fn terminate(child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child.id().and_then(|id| rustix::process::Pid::from_raw(id as i32)) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::TERM);
    }
    #[cfg(not(unix))]
    let _ = child.start_kill();
}

/// One line of a `wb run --json` child: forwarded as is with `--json`, else shown like `wb run` shows it.
fn show_run_line(context: &Context, line: &str, width: usize, outcome: &mut RunOutcome) {
    if context.json {
        say(line);
    }
    if let Ok(event) = serde_json::from_str::<Event>(line) {
        match event {
            Event::RunStarted { run_id, .. } => outcome.run_id = Some(run_id),
            Event::StageFinished { market, record } if !context.json => {
                for line in report::stage_lines(&market, width, &record, &context.quarantine) {
                    say(&line);
                }
            }
            Event::RunFinished { market, status, duration_ms, error, .. } if !context.json => {
                for line in report::market_lines(&market, width, status, duration_ms, error.as_deref()) {
                    say(&line);
                }
            }
            _ => {}
        }
        return;
    }
    #[derive(serde::Deserialize)]
    struct Summary {
        event: String,
        run_id: Option<String>,
        status: RunStatus,
    }
    if let Ok(summary) = serde_json::from_str::<Summary>(line)
        && summary.event == "summary"
    {
        outcome.status = Some(summary.status);
        if summary.run_id.is_some() {
            outcome.run_id = summary.run_id;
        }
    }
}

fn say_json(value: serde_json::Value) {
    say(&value.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_events_is_one_batch_ready_a_quiet_period_after_the_last() {
        let quiet = Duration::from_millis(300);
        let mut debouncer = Debouncer::new(quiet);
        assert_eq!(debouncer.deadline(), None);
        let t0 = Instant::now();
        debouncer.add("b.rs".into(), t0);
        debouncer.add("a.rs".into(), t0 + Duration::from_millis(100));
        debouncer.add("b.rs".into(), t0 + Duration::from_millis(250));
        assert_eq!(debouncer.deadline(), Some(t0 + Duration::from_millis(550)));
        assert_eq!(debouncer.take(), Some(Batch { paths: vec!["a.rs".into(), "b.rs".into()], first_event: t0 }));
        assert_eq!(debouncer.deadline(), None);
        assert_eq!(debouncer.take(), None);
    }

    #[test]
    fn paths_under_ignored_directories_are_not_watched() {
        let root = Path::new("/ws");
        assert_eq!(
            watched_path(root, Path::new("/ws/markets/br/src/normalize.rs")).as_deref(),
            Some("markets/br/src/normalize.rs")
        );
        assert_eq!(watched_path(root, Path::new("/ws/target/debug/wb")), None);
        assert_eq!(watched_path(root, Path::new("/ws/.git/index")), None);
        assert_eq!(watched_path(root, Path::new("/ws/.workbench/history.sqlite")), None);
        assert_eq!(watched_path(root, Path::new("/ws/markets/br/target/x")), None);
        assert_eq!(watched_path(root, Path::new("/elsewhere/x")), None);
        assert_eq!(watched_path(root, Path::new("/ws")), None);
    }
}
