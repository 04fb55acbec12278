//! `wb` with no arguments: the terminal workbench. A market × stage matrix with live status, runs through runner
//! child processes built from the current sources, the log, and the run history — the same facts `wb runs` and
//! `wb show` print headless.
//!
//! Functional core, imperative shell: [`app`] is the state and every change to it (no IO), delegating each
//! screen's keys to its module in [`screens`] (matrix, runs, run detail, diff, explorer, coverage, KPIs: each a
//! state with `handle` and `draw`); [`view`] draws the frame around them ([`layout`], styles from [`theme`]),
//! [`keys`] is the one typed key table (the help overlay and the [`palette`] are generated from it),
//! [`event_loop`] owns the app and applies keys, worker messages and ticks, [`exec`] carries out effects on tasks
//! (backend, builds via [`build`], runs, history), and [`terminal`] restores the terminal on every exit path:
//! SIGTERM, SIGHUP, SIGINT and SIGQUIT quit like Ctrl-C, and a panic in any task quits the same way (runs cancelled
//! and recorded, their runner processes ended) with a message and a non-zero exit status.
//! [`screens::diff`] (`d`) and [`screens::explorer`] (`m`) are the diff and market explorer screens over the
//! `workbench-diff` engine; [`watch`] is watch mode (`w`): saved files → affected cells marked stale and re-run.
//! [`screens::coverage`] (`C`) shows the coverage reports of `wb coverage` ([`crate::services::coverage`]).
//! [`screens::kpi`] (`K`) shows the quality KPIs of [`crate::services::kpi`]: checks, stage times, budget, cache.

pub mod app;
pub mod event_loop;
pub mod exec;
pub mod keys;
pub mod layout;
pub mod palette;
pub mod screens;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod watch;

use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;

use crate::cli::TuiArgs;
use crate::exit::ExitStatus;
use crate::services::build::RunnerSource;
use crate::tui::app::App;
use crate::tui::event_loop::KeyInput;
use crate::tui::exec::Executor;
use crate::workspace::Workspace;
use markets::MarketId;

/// How long quitting waits for cancelled runs to be recorded.
const QUIT_GRACE: Duration = Duration::from_secs(10);

/// Runs the TUI in this terminal until the user quits; exit code 0, 2 when it cannot start or the terminal fails,
/// [`ExitStatus::Panic`] when a panic ended it.
pub fn main(args: TuiArgs) -> ExitCode {
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(ExitStatus::Error);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}; check the process limits");
            return ExitCode::from(ExitStatus::Error);
        }
    };
    // Listening before the terminal turns raw: a signal at any later moment quits and restores it.
    let signals = {
        let _context = runtime.enter();
        QuitSignals::listen()
    };
    let mut guard = match terminal::TerminalGuard::enter() {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("error: cannot set up the terminal: {e}; run wb in an interactive terminal, or use `wb run`");
            return ExitCode::from(ExitStatus::Error);
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
        let mut executor = Executor::start(workspace.clone(), args.backend.aws, source, jobs, msg_tx.clone());
        tokio::spawn(read_terminal(key_tx.clone(), msg_tx));
        tokio::spawn(signals.quit(key_tx));
        let mut app = App::new(MarketId::all());
        // A panic in the loop itself is caught here (the hook has recorded and printed it), so the runs it started
        // are cancelled and recorded below as on any quit; a panic elsewhere makes the loop return.
        let looped = event_loop::run(&mut guard.terminal, &mut app, &mut keys, &mut msgs, &mut executor);
        let outcome = AssertUnwindSafe(looped).catch_unwind().await.unwrap_or(Ok(Default::default()));
        if app.busy() && terminal::panic_message().is_none() {
            let _ = guard.terminal.draw(|frame| view::draw(frame, &app));
        }
        executor.shutdown(QUIT_GRACE).await;
        outcome
    });
    drop(guard);
    // Background tasks (the terminal reader) must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(100));
    if let Some(panic) = terminal::panic_message() {
        eprintln!(
            "error: wb stopped after a panic: {panic}; its runs were cancelled and recorded. This is a bug in wb: \
             please report it with this message"
        );
        return ExitCode::from(ExitStatus::Panic);
    }
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the terminal failed: {e}");
            ExitCode::from(ExitStatus::Error)
        }
    }
}

/// Forwards key presses (and a redraw on resize) from the terminal.
async fn read_terminal(keys: mpsc::UnboundedSender<KeyInput>, msgs: mpsc::UnboundedSender<app::Msg>) {
    let mut events = EventStream::new();
    while let Some(event) = events.next().await {
        match event {
            Ok(TermEvent::Key(key)) if terminal::is_test_panic(&key, terminal::TestPanicSite::Task) => {
                tokio::spawn(async { panic!("{}: a test panic in a tokio task", terminal::TEST_PANIC_ENV) });
            }
            Ok(TermEvent::Key(key)) if terminal::is_test_panic(&key, terminal::TestPanicSite::Blocking) => {
                tokio::task::spawn_blocking(|| panic!("{}: a test panic in a blocking task", terminal::TEST_PANIC_ENV));
            }
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

/// The signals that quit the TUI like Ctrl-C does (runs cancelled and recorded, terminal restored): SIGTERM,
/// SIGHUP, SIGINT and SIGQUIT. In raw mode Ctrl-C and Ctrl-\ arrive as keys; these come from outside (`kill`).
struct QuitSignals {
    #[cfg(unix)]
    streams: Vec<tokio::signal::unix::Signal>,
}

impl QuitSignals {
    /// Starts listening (in a runtime context); from now on these signals no longer end the process abruptly.
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let kinds = [SignalKind::terminate(), SignalKind::hangup(), SignalKind::interrupt(), SignalKind::quit()];
            Self { streams: kinds.into_iter().filter_map(|kind| signal(kind).ok()).collect() }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Waits for the first of the signals and sends the quit key (Ctrl-C).
    async fn quit(self, keys: mpsc::UnboundedSender<KeyInput>) {
        #[cfg(unix)]
        {
            let mut streams = self.streams;
            if streams.is_empty() {
                return;
            }
            futures::future::select_all(streams.iter_mut().map(|s| Box::pin(s.recv()))).await;
            let key = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
            let _ = keys.send(KeyInput { key, at: Instant::now() });
        }
        #[cfg(not(unix))]
        drop((self, keys));
    }
}
