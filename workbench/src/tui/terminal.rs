//! The terminal: raw mode and the alternate screen while the TUI runs, restored on every exit path — a normal
//! quit, Ctrl-C (a key in raw mode), SIGTERM/SIGHUP/SIGINT/SIGQUIT (turned into a quit by the caller), an error,
//! and a panic in any thread or task. The panic hook restores the terminal before the panic message is printed (so
//! the message is readable) and records the panic ([`panic_message`]): the event loop then stops drawing and
//! returns, the caller quits as on `q` (runs cancelled and recorded) and exits non-zero naming the panic.

use std::io::{self, Stdout};
use std::panic::PanicHookInfo;
use std::sync::{Once, OnceLock};

use crossterm::event::{KeyCode, KeyEvent};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The longest panic description kept (the message and where it happened); the rest is cut, and said so.
const PANIC_MESSAGE_MAX: usize = 400;

/// The first panic seen after [`TerminalGuard::enter`]: what it said and where.
static PANIC: OnceLock<String> = OnceLock::new();

/// The terminal in TUI mode; dropping it restores the terminal.
pub struct TerminalGuard {
    /// The ratatui terminal.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen and installs the panic hook.
    pub fn enter() -> io::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut stdout = io::stdout();
        if let Err(e) = execute!(stdout, EnterAlternateScreen) {
            restore();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(stdout)) {
            Ok(mut terminal) => {
                let _ = terminal.hide_cursor();
                Ok(Self { terminal })
            }
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        restore();
    }
}

/// Leaves the alternate screen and raw mode; safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
}

/// The first panic (in any thread or task) since the TUI took the terminal: its message and location. Once set,
/// the TUI must not draw again and ends with a non-zero exit status.
pub fn panic_message() -> Option<&'static str> {
    PANIC.get().map(String::as_str)
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Recorded first, so the event loop stops drawing over the restored screen as soon as possible.
            let _ = PANIC.set(describe(info));
            restore();
            previous(info);
        }));
    });
}

/// "message (at file:line:column)", at most [`PANIC_MESSAGE_MAX`] characters of message.
fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)");
    let mut text: String = message.chars().take(PANIC_MESSAGE_MAX).collect();
    let cut = message.chars().count().saturating_sub(PANIC_MESSAGE_MAX);
    if cut > 0 {
        text.push_str(&format!(" … ({cut} more characters cut)"));
    }
    match info.location() {
        Some(location) => format!("{text} (at {location})"),
        None => text,
    }
}

/// The variable that arms the test-only panic trigger (debug builds only; ignored by release builds).
pub const TEST_PANIC_ENV: &str = "WB_TEST_PANIC_IN_TASK";

/// Where the test-only panic trigger panics: `task`, `blocking` or `loop` in [`TEST_PANIC_ENV`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestPanicSite {
    /// A tokio task (as the executor spawns for runs, diffs, the backend).
    Task,
    /// A blocking task (as the executor spawns for history reads).
    Blocking,
    /// The event loop itself.
    EventLoop,
}

/// Where the test-only trigger panics when [`TEST_PANIC_KEY`] is pressed: `None` unless this is a debug build and
/// [`TEST_PANIC_ENV`] names a site, so a user can never reach it by accident.
pub fn test_panic_site() -> Option<TestPanicSite> {
    static SITE: OnceLock<Option<TestPanicSite>> = OnceLock::new();
    *SITE.get_or_init(|| {
        if !cfg!(debug_assertions) {
            return None;
        }
        match std::env::var(TEST_PANIC_ENV).ok()?.as_str() {
            "task" => Some(TestPanicSite::Task),
            "blocking" => Some(TestPanicSite::Blocking),
            "loop" => Some(TestPanicSite::EventLoop),
            _ => None,
        }
    })
}

/// The key that fires the test-only panic trigger (F12: bound to nothing in the TUI).
pub const TEST_PANIC_KEY: KeyCode = KeyCode::F(12);

/// True when `key` fires the test-only panic trigger at `site` (see [`test_panic_site`]).
pub fn is_test_panic(key: &KeyEvent, site: TestPanicSite) -> bool {
    key.code == TEST_PANIC_KEY && test_panic_site() == Some(site)
}
