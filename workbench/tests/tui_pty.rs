//! End to end: the real `wb` binary in a pseudo-terminal. It opens the matrix, shows the help, runs a market,
//! quits with `q`, and leaves the terminal as it found it (main screen, cursor shown). The screen is read back
//! through a terminal emulator (vt100), so the test sees what a person would; the pty's termios says whether the
//! terminal was left raw. Signals from outside (`kill -INT`, `kill -QUIT`) and a panic in any task (the test-only
//! trigger: `WB_TEST_PANIC_IN_TASK` and F12, debug builds only) end it the same clean way, runners included.

mod common;

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::termios::LocalFlags;
use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};
use rustix::process::{Pid, Signal, kill_process};

const ROWS: u16 = 30;
const COLS: u16 = 110;
/// The escape sequences that leave the alternate screen and show the cursor.
const LEAVE_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049l";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";
/// F12 as the terminal sends it: the test-only panic trigger's key.
const F12: &str = "\x1b[24~";

/// The emulated screen, fed by a thread reading the pty.
#[derive(Clone)]
struct Screen(Arc<Mutex<vt100::Parser>>);

impl Screen {
    fn text(&self) -> String {
        self.0.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text();
            if pred(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; the screen shows:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `wb` (the TUI) running in a pseudo-terminal: its screen, every byte it wrote, and its process.
struct Tui {
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Screen,
    bytes: Arc<Mutex<Vec<u8>>>,
    output: JoinHandle<()>,
}

impl Tui {
    /// Starts `wb` in `root` with `env` set; the runner is this very binary (no cargo build inside the test).
    fn start(root: &Path, env: &[(&str, &str)]) -> Tui {
        let pty =
            native_pty_system().openpty(PtySize { rows: ROWS, cols: COLS, pixel_width: 0, pixel_height: 0 }).unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_wb"));
        cmd.cwd(root);
        cmd.env("TERM", "xterm-256color");
        cmd.env("WB_RUNNER", env!("CARGO_BIN_EXE_wb"));
        for var in ["WB_RUNNER_ABORT_AFTER_STAGE", "WB_RUNNER_STAGE_DELAY_MS", "WB_TEST_PANIC_IN_TASK"] {
            cmd.env_remove(var);
        }
        for (var, value) in env {
            cmd.env(var, value);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Screen(Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(ROWS).unwrap(),
            NonZeroU16::new(COLS).unwrap(),
            0,
        ))));
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let (feed, record) = (screen.clone(), Arc::clone(&bytes));
        // Reads until the last writer of the terminal is gone (then the read fails).
        let output = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                record.lock().unwrap().extend_from_slice(&buf[..n]);
                feed.0.lock().unwrap().process(&buf[..n]);
            }
        });
        Tui { master: pty.master, child, writer, screen, bytes, output }
    }

    fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    fn pid(&self) -> u32 {
        self.child.process_id().expect("wb has a process id")
    }

    /// Waits for the matrix and the embedded backend.
    fn wait_until_ready(&self) {
        let text = self.screen.wait_for(
            "the matrix",
            |t| t.contains("foobar-au") && t.contains("never run"),
            Duration::from_secs(30),
        );
        assert!(text.contains("market") && text.contains("ingest") && text.contains("export"), "{text}");
        assert!(self.screen.0.lock().unwrap().screen().alternate_screen(), "the TUI draws on the alternate screen");
        self.screen.wait_for(
            "the embedded backend",
            |t| t.contains("S3 embedded http://127.0.0.1:"),
            Duration::from_secs(30),
        );
    }

    /// How many bytes wb has written so far.
    fn written(&self) -> usize {
        self.bytes.lock().unwrap().len()
    }

    /// True when the terminal is in raw mode (no line editing, no echo).
    fn is_raw(&self) -> bool {
        let termios = self.master.get_termios().expect("the pty's termios");
        !termios.local_flags.intersects(LocalFlags::ICANON | LocalFlags::ECHO)
    }

    fn wait_exit(&mut self, after: &str) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "wb did not exit after {after}; the screen shows:\n{}",
                self.screen.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// After wb exited: whether the pty was left raw, and everything wb wrote (once the reader has drained it).
    fn finish(self) -> (bool, Screen, Vec<u8>) {
        let raw = self.is_raw();
        drop(self.writer);
        drop(self.master);
        self.output.join().unwrap();
        let bytes = std::mem::take(&mut *self.bytes.lock().unwrap());
        (raw, self.screen, bytes)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The pids of `parent`'s children whose command line has `runner` (the market runners).
fn runner_children(parent: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        let (Ok(stat), Ok(cmdline)) =
            (std::fs::read_to_string(entry.path().join("stat")), std::fs::read(entry.path().join("cmdline")))
        else {
            continue;
        };
        // After the command name in parentheses: state, then the parent's pid.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(parent) && cmdline.split(|b| *b == 0).any(|arg| arg == b"runner") {
            pids.push(pid);
        }
    }
    pids
}

/// True when `pid` is gone or a zombie (ended, not yet reaped).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// Kills the listed runners when dropped, so a failing test leaves no sleeping runner behind.
struct Runners(Vec<u32>);

impl Drop for Runners {
    fn drop(&mut self) {
        for pid in &self.0 {
            if let Some(pid) = Pid::from_raw(*pid as i32) {
                let _ = kill_process(pid, Signal::KILL);
            }
        }
    }
}

/// Starts a run of foobar-au whose runner sleeps after each stage, and returns once its runner process exists.
fn start_a_long_run(tui: &mut Tui) -> Runners {
    tui.press("r");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runners = runner_children(tui.pid());
        if !runners.is_empty() {
            return Runners(runners);
        }
        assert!(Instant::now() < deadline, "no runner started after r; the screen shows:\n{}", tui.screen.text());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every runner has ended (waits for the kill to land, as wb itself does before it exits).
fn assert_runners_ended(runners: &Runners) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !runners.0.iter().all(|pid| ended(*pid)) {
        assert!(Instant::now() < deadline, "runners left running after wb exited: {:?}", runners.0);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The terminal as wb found it: not raw, main screen, cursor shown, and the bytes that restore it were written
/// after `from`.
fn assert_terminal_restored(raw: bool, screen: &Screen, bytes: &[u8], from: usize) {
    assert!(!raw, "the terminal is no longer in raw mode");
    let after = &bytes[from.min(bytes.len())..];
    assert!(contains(after, LEAVE_ALTERNATE_SCREEN), "left the alternate screen: {:?}", String::from_utf8_lossy(after));
    assert!(contains(after, SHOW_CURSOR), "showed the cursor: {:?}", String::from_utf8_lossy(after));
    let parser = screen.0.lock().unwrap();
    assert!(!parser.screen().alternate_screen(), "the terminal is back on the main screen");
    assert!(!parser.screen().hide_cursor(), "the cursor is shown again");
}

#[test]
fn wb_in_a_terminal_shows_the_matrix_runs_a_market_and_restores_the_terminal() {
    let root = common::Root::with_fixtures(&["foobar-au"]);
    let mut tui = Tui::start(root.path(), &[]);
    tui.wait_until_ready();
    assert!(tui.is_raw(), "the TUI puts the terminal in raw mode");

    tui.press("?");
    let help = tui.screen.wait_for("the help overlay", |t| t.contains("Keys · Matrix"), Duration::from_secs(10));
    assert!(help.contains("run every stage of the selected market"), "{help}");
    tui.press("j"); // closes the help
    tui.screen.wait_for("the help to close", |t| !t.contains("Keys · Matrix"), Duration::from_secs(10));

    tui.press("r");
    let done = tui.screen.wait_for(
        "foobar-au to finish",
        // The committed AU fixtures alert on purpose in ingest and validate.
        // The cells fill in as stages finish; the status line says the run's outcome once it is recorded.
        |t| t.contains("foobar-au: every stage: alert"),
        Duration::from_secs(120),
    );
    let au = done.lines().find(|l| l.starts_with("│foobar-au")).unwrap();
    assert_eq!((au.matches("✓ ok").count(), au.matches("! alert").count()), (4, 2), "{done}");

    let from = tui.written();
    tui.press("q");
    let status = tui.wait_exit("q");
    let (raw, screen, bytes) = tui.finish();
    assert!(status.success(), "wb exited with {status:?}");
    assert_terminal_restored(raw, &screen, &bytes, from);
    let runs = root.history().list_runs(5).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status.as_str(), "alert");
}

/// `kill -<signal>` from outside while a run is in progress: wb quits as on Ctrl-C (exit 0, the run cancelled
/// and recorded, its runner ended) and restores the terminal.
fn signal_from_outside_quits_and_restores_the_terminal(signal: Signal, name: &str) {
    let root = common::Root::with_fixtures(&["foobar-au"]);
    let mut tui = Tui::start(root.path(), &[("WB_RUNNER_STAGE_DELAY_MS", "600000")]);
    tui.wait_until_ready();
    assert!(tui.is_raw(), "the TUI puts the terminal in raw mode");
    let runners = start_a_long_run(&mut tui);

    let from = tui.written();
    kill_process(Pid::from_raw(tui.pid() as i32).unwrap(), signal).unwrap();
    let status = tui.wait_exit(name);
    let (raw, screen, bytes) = tui.finish();
    assert!(status.success(), "wb quits on {name} as on Ctrl-C, with exit status 0; it exited with {status:?}");
    assert_terminal_restored(raw, &screen, &bytes, from);
    assert_runners_ended(&runners);
    let runs = root.history().list_runs(5).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status.as_str(), "cancelled");
}

#[test]
fn sigint_from_outside_quits_restores_the_terminal_and_ends_the_runners() {
    signal_from_outside_quits_and_restores_the_terminal(Signal::INT, "SIGINT");
}

#[test]
fn sigquit_from_outside_quits_restores_the_terminal_and_ends_the_runners() {
    signal_from_outside_quits_and_restores_the_terminal(Signal::QUIT, "SIGQUIT");
}

/// The test-only trigger panics at `site` (`WB_TEST_PANIC_IN_TASK`); wb ends: exit status 101, the terminal
/// restored, the panic named on stderr (the pty), and, with a run in progress, the run cancelled and recorded
/// and its runner ended.
fn a_panic_ends_wb_cleanly(site: &str, what: &str, with_a_run: bool) {
    let root = common::Root::with_fixtures(&["foobar-au"]);
    let mut tui = Tui::start(root.path(), &[("WB_RUNNER_STAGE_DELAY_MS", "600000"), ("WB_TEST_PANIC_IN_TASK", site)]);
    tui.wait_until_ready();
    let runners = if with_a_run { start_a_long_run(&mut tui) } else { Runners(Vec::new()) };

    let from = tui.written();
    tui.press(F12);
    let status = tui.wait_exit(&format!("a panic in {what}"));
    let (raw, screen, bytes) = tui.finish();
    assert_eq!(status.exit_code(), 101, "wb exits with 101 after a panic; it exited with {status:?}");
    assert_terminal_restored(raw, &screen, &bytes, from);
    let output = String::from_utf8_lossy(&bytes[from..]);
    let message = format!("error: wb stopped after a panic: WB_TEST_PANIC_IN_TASK: a test panic in {what} (at ");
    assert!(output.contains(&message), "stderr names the panic ({message}); wb wrote: {output:?}");
    assert!(output.contains("please report it"), "{output:?}");
    assert_runners_ended(&runners);
    if with_a_run {
        let runs = root.history().list_runs(5).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].status.as_str(), "cancelled");
    }
}

#[test]
fn a_panic_in_a_tokio_task_ends_wb_restores_the_terminal_and_ends_the_runners() {
    a_panic_ends_wb_cleanly("task", "a tokio task", true);
}

#[test]
fn a_panic_in_a_blocking_task_ends_wb_and_restores_the_terminal() {
    a_panic_ends_wb_cleanly("blocking", "a blocking task", false);
}

#[test]
fn a_panic_in_the_event_loop_ends_wb_restores_the_terminal_and_ends_the_runners() {
    a_panic_ends_wb_cleanly("loop", "the event loop", true);
}
