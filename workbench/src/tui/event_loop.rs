//! The one loop that owns the [`App`]: it takes keys (first: a key is never stuck behind a flood of runner
//! updates), worker messages and ticks, applies them, hands effects to the shell, and draws after each batch.
//! It is generic over the terminal backend and the input streams, so tests and the latency benchmark drive the
//! real loop with `TestBackend` and synthetic keys. After a panic anywhere (see [`terminal::panic_message`]) it
//! draws no more and returns at once: the panic hook has restored the terminal, and the caller quits.

use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use crate::tui::app::{App, Effect, Msg};
use crate::tui::terminal;
use crate::tui::view;

/// How often spinners advance.
pub const TICK: Duration = Duration::from_millis(100);
/// The most worker messages applied before the screen is drawn again.
const BATCH: usize = 512;

/// A key press and when it was read from the terminal (for the key → frame latency).
#[derive(Debug, Clone, Copy)]
pub struct KeyInput {
    /// The key.
    pub key: KeyEvent,
    /// When it was read.
    pub at: Instant,
}

/// What the loop measured, for the benchmark.
#[derive(Debug, Clone, Default)]
pub struct LoopStats {
    /// For each key: the time from reading it to the end of the draw that showed its effect.
    pub key_to_frame: Vec<Duration>,
    /// Frames drawn.
    pub frames: u64,
    /// Worker messages applied.
    pub messages: u64,
}

/// Carries out effects (the real [`crate::tui::exec::Executor`], or a recorder in tests).
pub trait Effects {
    /// Starts carrying out `effect` without blocking.
    fn execute(&mut self, effect: Effect);
}

impl Effects for crate::tui::exec::Executor {
    fn execute(&mut self, effect: Effect) {
        crate::tui::exec::Executor::execute(self, effect);
    }
}

impl Effects for Vec<Effect> {
    fn execute(&mut self, effect: Effect) {
        self.push(effect);
    }
}

/// Runs until the app quits, the key stream ends or something panicked; returns what it measured. A closed
/// message channel is fine (no workers); a closed key channel ends the loop. The tick wakes it at least every
/// [`TICK`], so a panic in another task ends it within a tick.
pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    keys: &mut mpsc::UnboundedReceiver<KeyInput>,
    msgs: &mut mpsc::UnboundedReceiver<Msg>,
    effects: &mut impl Effects,
) -> Result<LoopStats, B::Error> {
    let mut stats = LoopStats::default();
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut msgs_open = true;
    resize(terminal, app, effects)?;
    terminal.draw(|frame| view::draw(frame, app))?;
    loop {
        let mut pending_keys: Vec<Instant> = Vec::new();
        tokio::select! {
            biased;
            key = keys.recv() => match key {
                Some(input) => {
                    pending_keys.push(input.at);
                    apply(app, Msg::Key(input.key), effects);
                }
                None => return Ok(stats),
            },
            msg = msgs.recv(), if msgs_open => match msg {
                Some(msg) => {
                    stats.messages += 1;
                    apply(app, msg, effects);
                }
                None => msgs_open = false,
            },
            _ = ticks.tick() => apply(app, Msg::Tick, effects),
        }
        // Whatever else is already waiting, keys first, then a bounded batch of worker messages.
        while let Ok(input) = keys.try_recv() {
            pending_keys.push(input.at);
            apply(app, Msg::Key(input.key), effects);
        }
        for _ in 0..BATCH {
            match msgs.try_recv() {
                Ok(msg) => {
                    stats.messages += 1;
                    apply(app, msg, effects);
                }
                Err(_) => break,
            }
        }
        if terminal::panic_message().is_some() {
            return Ok(stats);
        }
        resize(terminal, app, effects)?;
        terminal.draw(|frame| view::draw(frame, app))?;
        stats.frames += 1;
        let drawn = Instant::now();
        stats.key_to_frame.extend(pending_keys.iter().map(|at| drawn.duration_since(*at)));
        if app.quitting {
            return Ok(stats);
        }
    }
}

/// Tells the app the terminal's size when it is new (at start, after a resize), so scrolling stops at the end.
fn resize<B: Backend>(terminal: &Terminal<B>, app: &mut App, effects: &mut impl Effects) -> Result<(), B::Error> {
    let size = terminal.size()?;
    if app.size != Some((size.width, size.height)) {
        apply(app, Msg::Resize { width: size.width, height: size.height }, effects);
    }
    Ok(())
}

fn apply(app: &mut App, msg: Msg, effects: &mut impl Effects) {
    if let Msg::Key(key) = &msg
        && terminal::is_test_panic(key, terminal::TestPanicSite::EventLoop)
    {
        panic!("{}: a test panic in the event loop", terminal::TEST_PANIC_ENV);
    }
    for effect in app.handle(msg) {
        effects.execute(effect);
    }
}
