//! `wb` with no arguments: the terminal workbench. A market × stage matrix with live status, runs through runner
//! child processes built from the current sources, the log, and the run history — the same facts `wb runs` and
//! `wb show` print headless.
//!
//! Functional core, imperative shell: [`app`] is the state and every change to it (no IO), [`view`] draws it,
//! [`keys`] is the one typed key table (the help overlay and the [`palette`] are generated from it),
//! [`event_loop`] owns the app and applies keys, worker messages and ticks, [`exec`] carries out effects on tasks
//! (backend, builds via [`build`], runs, history), and [`terminal`] restores the terminal on every exit path.
//! [`diff_screen`] (`d`) and [`explorer_screen`] (`m`) are the diff and market explorer screens over the
//! `workbench-diff` engine; [`watch`] is watch mode (`w`): saved files → affected cells marked stale and re-run.
//! [`coverage_screen`] (`C`) shows the coverage reports of `wb coverage`: per crate and file, patch, hook matrix.
//! [`kpi_screen`] (`K`) shows the quality KPIs of [`crate::kpi`]: checks, stage times, budget, cache, coverage.

pub mod app;
pub mod build;
pub mod coverage_screen;
pub mod diff_screen;
pub mod event_loop;
pub mod exec;
pub mod explorer_screen;
pub mod keys;
pub mod kpi_screen;
pub mod palette;
pub mod terminal;
pub mod view;
pub mod watch;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use crossterm::event::{Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures::StreamExt;
use localstack::Backend;
use tokio::sync::mpsc;

use crate::cli::{MarketId, parse_backend};
use crate::tui::app::App;
use crate::tui::build::RunnerSource;
use crate::tui::event_loop::KeyInput;
use crate::tui::exec::Executor;
use crate::workspace::Workspace;

/// How long quitting waits for cancelled runs to be recorded.
const QUIT_GRACE: Duration = Duration::from_secs(10);

/// Options of `wb tui` (what `wb` with no arguments runs with defaults).
#[derive(Debug, Clone, Default, Args)]
pub struct TuiArgs {
    /// S3 backend: embedded, localstack, container or endpoint (default: the backend `wb aws up` left running,
    /// else `[aws] backend` in workbench.toml, else embedded).
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    pub aws: Option<Backend>,
    /// How many markets run at once (default: `[run] jobs` in workbench.toml, else the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<std::num::NonZeroUsize>,
}

/// Runs the TUI in this terminal until the user quits; exit code 0, or 2 when it cannot start.
pub fn main(args: TuiArgs) -> ExitCode {
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(crate::run::EXIT_ERROR);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}; check the process limits");
            return ExitCode::from(crate::run::EXIT_ERROR);
        }
    };
    let mut guard = match terminal::TerminalGuard::enter() {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("error: cannot set up the terminal: {e}; run wb in an interactive terminal, or use `wb run`");
            return ExitCode::from(crate::run::EXIT_ERROR);
        }
    };
    let result = runtime.block_on(async {
        let jobs = args
            .jobs
            .or(workspace.settings().run.jobs)
            .map(|n| n.get())
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        let (msg_tx, mut msgs) = mpsc::unbounded_channel();
        let (key_tx, mut keys) = mpsc::unbounded_channel();
        let source = RunnerSource::detect(workspace.root());
        let mut executor = Executor::start(workspace.clone(), args.aws, source, jobs, msg_tx.clone());
        tokio::spawn(read_terminal(key_tx.clone(), msg_tx));
        tokio::spawn(quit_on_signal(key_tx));
        let mut app = App::new(MarketId::all());
        let outcome = event_loop::run(&mut guard.terminal, &mut app, &mut keys, &mut msgs, &mut executor).await;
        if app.busy() {
            let _ = guard.terminal.draw(|frame| view::draw(frame, &app));
        }
        executor.shutdown(QUIT_GRACE).await;
        outcome
    });
    drop(guard);
    // Background tasks (the terminal reader) must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the terminal failed: {e}");
            ExitCode::from(crate::run::EXIT_ERROR)
        }
    }
}

/// Forwards key presses (and a redraw on resize) from the terminal.
async fn read_terminal(keys: mpsc::UnboundedSender<KeyInput>, msgs: mpsc::UnboundedSender<app::Msg>) {
    let mut events = EventStream::new();
    while let Some(event) = events.next().await {
        match event {
            Ok(TermEvent::Key(key)) if key.kind == KeyEventKind::Press => {
                if keys.send(KeyInput { key, at: Instant::now() }).is_err() {
                    return;
                }
            }
            Ok(TermEvent::Resize(..)) => {
                let _ = msgs.send(app::Msg::Tick);
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// SIGTERM and SIGHUP quit like Ctrl-C does (runs cancelled and recorded, terminal restored).
async fn quit_on_signal(keys: mpsc::UnboundedSender<KeyInput>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        let key = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        let _ = keys.send(KeyInput { key, at: Instant::now() });
    }
}
