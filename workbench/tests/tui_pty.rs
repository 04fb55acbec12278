//! End to end: the real `wb` binary in a pseudo-terminal. It opens the matrix, shows the help, runs a market,
//! quits with `q`, and leaves the terminal as it found it (main screen, cursor shown). The screen is read back
//! through a terminal emulator (vt100), so the test sees what a person would.

mod common;

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 30;
const COLS: u16 = 110;

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

#[test]
fn wb_in_a_terminal_shows_the_matrix_runs_a_market_and_restores_the_terminal() {
    let root = common::Root::with_fixtures(&["foobar-au"]);
    let pty = native_pty_system().openpty(PtySize { rows: ROWS, cols: COLS, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_wb"));
    cmd.cwd(root.path());
    cmd.env("TERM", "xterm-256color");
    // The runner is this very binary: no cargo build inside the test.
    cmd.env("WB_RUNNER", env!("CARGO_BIN_EXE_wb"));
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let mut writer = pty.master.take_writer().unwrap();
    let screen = Screen(Arc::new(Mutex::new(vt100::Parser::new(
        NonZeroU16::new(ROWS).unwrap(),
        NonZeroU16::new(COLS).unwrap(),
        0,
    ))));
    let feed = screen.clone();
    let output = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            feed.0.lock().unwrap().process(&buf[..n]);
        }
    });
    let mut press = |keys: &str| {
        writer.write_all(keys.as_bytes()).unwrap();
        writer.flush().unwrap();
    };

    let text =
        screen.wait_for("the matrix", |t| t.contains("foobar-au") && t.contains("never run"), Duration::from_secs(30));
    assert!(text.contains("market") && text.contains("ingest") && text.contains("export"), "{text}");
    assert!(screen.0.lock().unwrap().screen().alternate_screen(), "the TUI draws on the alternate screen");
    screen.wait_for("the embedded backend", |t| t.contains("S3 embedded http://127.0.0.1:"), Duration::from_secs(30));

    press("?");
    let help = screen.wait_for("the help overlay", |t| t.contains("Keys · Matrix"), Duration::from_secs(10));
    assert!(help.contains("run every stage of the selected market"), "{help}");
    press("j"); // closes the help
    screen.wait_for("the help to close", |t| !t.contains("Keys · Matrix"), Duration::from_secs(10));

    press("r");
    let done = screen.wait_for(
        "foobar-au to finish",
        // The committed AU fixtures alert on purpose in ingest and validate.
        // The cells fill in as stages finish; the status line says the run's outcome once it is recorded.
        |t| t.contains("foobar-au: every stage: alert"),
        Duration::from_secs(120),
    );
    let au = done.lines().find(|l| l.starts_with("│foobar-au")).unwrap();
    assert_eq!((au.matches("✓ ok").count(), au.matches("! alert").count()), (4, 2), "{done}");

    press("q");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "wb did not exit after q; the screen shows:\n{}", screen.text());
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(pty.master);
    let _ = output.join();
    assert!(status.success(), "wb exited with {status:?}");
    let parser = screen.0.lock().unwrap();
    assert!(!parser.screen().alternate_screen(), "the terminal is back on the main screen");
    assert!(!parser.screen().hide_cursor(), "the cursor is shown again");
    let runs = root.history().list_runs(5).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status.as_str(), "alert");
}
