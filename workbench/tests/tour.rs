//! `docs/tour.md`, the new hire's 10-minute walk, run as written: every ```` ```sh ```` block is one command the
//! reader types, run here in order with the real `wb` binary on a copy of what a fresh clone holds (the files git
//! tracks, as they are in this work tree, committed to a new repository on `main`). After each block, the tour's
//! "Look for `…`" names what the reader should see; the test asserts it is there. Interactive steps run in a
//! pseudo-terminal: the matrix (`wb`) with the keys the tour names, read back through a terminal emulator, then
//! quit with the terminal restored; the watch (`wb watch`) with the tour's edit saved and undone, then Ctrl-C.
//!
//! Two things differ from a reader's shell, both about building: the runs use this test's `wb` as their runner
//! (`WB_RUNNER`, and `--no-build --runner <wb>` appended to the commands that rebuild it, `wb watch` and
//! `wb check`), because building the runner from the copy's sources would compile the workspace again in a new
//! place (minutes). So the watch's re-run is decided and made as the reader's is, but by a runner built before the
//! edit: its export is served from the cache, where the reader's rebuilt runner computes it.

mod common;

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::termios::LocalFlags;
use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};
use workbench::history::History;

/// The tour, from this work tree.
fn tour_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/tour.md")
}

/// The watch step's edit, as the tour describes it: the file, the text replaced and its replacement.
const EDIT: (&str, &str, &str) = ("markets/br/src/export_format.rs", "\"%d/%m/%Y\"", "\"%d/%m/%y\"");

/// The keys the matrix step presses, each of which the tour names.
const TUI_KEYS: [&str; 4] = ["`j`", "`r`", "`?`", "`q`"];

/// A safety net so a broken step fails the test instead of hanging it; not a performance assertion.
const NO_SCREEN_FOR: Duration = Duration::from_secs(180);

/// One ```` ```sh ```` block of the tour and the prose after it, up to the next block.
#[derive(Debug)]
struct Step {
    /// The line of the tour the block starts on.
    line: usize,
    /// The command as the reader types it.
    command: String,
    /// The prose after the block.
    prose: String,
}

impl Step {
    /// What the reader is told to look for: the code span after the one "Look for " in the prose.
    fn look_for(&self) -> &str {
        let found: Vec<&str> = self.prose.split("Look for `").skip(1).collect();
        assert_eq!(
            found.len(),
            1,
            "line {}: `{}`: the prose after a block says \"Look for `…`\" exactly once",
            self.line,
            self.command
        );
        let span = found[0].split('`').next().unwrap();
        assert!(!span.is_empty(), "line {}: an empty \"Look for\"", self.line);
        span
    }

    /// The command's arguments after `wb`.
    fn args(&self) -> Vec<&str> {
        self.command.split_whitespace().skip(1).collect()
    }
}

/// The tour's blocks, and how many ```` ```sh ```` fences it has. Every fenced block must be a ```` ```sh ````
/// block of one command starting with `wb` (no other kind of block can hide a command from the test).
fn parse(tour: &str) -> (Vec<Step>, usize) {
    let mut steps: Vec<Step> = Vec::new();
    let mut fences = 0;
    let mut block: Option<(usize, Vec<&str>)> = None;
    for (i, line) in tour.lines().enumerate() {
        let number = i + 1;
        match (&mut block, line.strip_prefix("```")) {
            (None, Some(info)) => {
                assert_eq!(info.trim(), "sh", "line {number}: every fenced block of the tour is a ```sh command");
                fences += 1;
                block = Some((number, Vec::new()));
            }
            (Some(_), Some(_)) => {
                let (start, lines) = block.take().unwrap();
                let lines: Vec<&str> = lines.into_iter().filter(|l| !l.trim().is_empty()).collect();
                assert_eq!(lines.len(), 1, "line {start}: one command per block, found {lines:?}");
                let command = lines[0].trim().to_string();
                assert!(
                    command == "wb" || command.starts_with("wb "),
                    "line {start}: a tour command starts with `wb`: {command}"
                );
                assert!(
                    !command.contains(['\'', '"', '|', '&', ';', '<', '>', '$', '`', '#', '\\']),
                    "line {start}: a tour command is plain words the test can split: {command}"
                );
                steps.push(Step { line: start, command, prose: String::new() });
            }
            (Some((_, lines)), None) => lines.push(line),
            (None, None) => {
                if let Some(step) = steps.last_mut() {
                    step.prose.push_str(line);
                    step.prose.push('\n');
                } else {
                    assert!(!line.contains("Look for"), "line {number}: \"Look for\" before the first block");
                }
            }
        }
    }
    assert!(block.is_none(), "the tour ends inside a fenced block");
    (steps, fences)
}

/// A copy of what a fresh clone holds: the files git tracks in this work tree (as they are now, so an edit of the
/// tour is what is tested), committed on `main` of a new repository.
fn fresh_clone() -> tempfile::TempDir {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap();
    let repo = git2::Repository::open(&source)
        .unwrap_or_else(|e| panic!("the tour test copies the tracked files of the git repository at {source:?}: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let index = repo.index().unwrap();
    let mut copied = 0;
    for entry in index.iter() {
        let path = String::from_utf8(entry.path).unwrap();
        let from = source.join(&path);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let to = dir.path().join(&path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {path}: {e}"));
        copied += 1;
    }
    assert!(copied > 100, "only {copied} tracked files found in {source:?}");
    let clone = workbench_testkit::init_repo(dir.path());
    workbench_testkit::commit_all(&clone, "fresh clone");
    dir
}

/// The test's own `wb`, the runner of every run.
fn wb() -> &'static str {
    env!("CARGO_BIN_EXE_wb")
}

/// The variables of the test hooks, removed so a developer's shell cannot change a step.
const TEST_HOOKS: [&str; 3] = ["WB_RUNNER_ABORT_AFTER_STAGE", "WB_RUNNER_STAGE_DELAY_MS", "WB_TEST_PANIC_IN_TASK"];

/// The arguments the test runs for `step`: the tour's, plus a prebuilt runner for the commands that rebuild it.
fn test_args(step: &Step) -> Vec<String> {
    let mut args: Vec<String> = step.args().into_iter().map(String::from).collect();
    if matches!(args.first().map(String::as_str), Some("watch" | "check")) {
        args.extend(["--no-build".to_string(), "--runner".to_string(), wb().to_string()]);
    }
    args
}

/// A non-interactive step: exit code 0 and the line the tour names in its output.
fn run_plain(root: &Path, step: &Step) {
    let mut command = Command::new(wb());
    command.args(test_args(step)).current_dir(root).env("WB_RUNNER", wb());
    for var in TEST_HOOKS {
        command.env_remove(var);
    }
    let output = command.stdin(Stdio::null()).output().expect("wb runs");
    let described = common::describe(&output);
    assert!(output.status.success(), "line {}: `{}` failed:\n{described}", step.line, step.command);
    let text = common::stdout(&output) + &common::stderr(&output);
    let look_for = step.look_for();
    assert!(
        text.contains(look_for),
        "line {}: `{}` does not show `{look_for}`, as the tour says it does:\n{described}",
        step.line,
        step.command
    );
}

/// `wb` with some arguments in a pseudo-terminal: the emulated screen and the process.
struct Pty {
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    output: JoinHandle<()>,
}

impl Pty {
    fn start(root: &Path, args: &[String], rows: u16, cols: u16) -> Pty {
        let pty = native_pty_system().openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).unwrap();
        let mut cmd = CommandBuilder::new(wb());
        cmd.args(args);
        cmd.cwd(root);
        cmd.env("TERM", "xterm-256color");
        cmd.env("WB_RUNNER", wb());
        for var in TEST_HOOKS {
            cmd.env_remove(var);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen =
            Arc::new(Mutex::new(vt100::Parser::new(NonZeroU16::new(rows).unwrap(), NonZeroU16::new(cols).unwrap(), 0)));
        let feed = Arc::clone(&screen);
        let output = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buf[..n]);
            }
        });
        Pty { master: pty.master, child, writer, screen, output }
    }

    fn screen(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen satisfies `pred`; fails at once when wb exits first (e.g. on a bad flag).
    fn wait_for(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + NO_SCREEN_FOR;
        loop {
            let exited = self.child.try_wait().unwrap();
            let text = self.screen();
            if pred(&text) {
                return text;
            }
            if let Some(status) = exited {
                std::thread::sleep(Duration::from_millis(200)); // the last output, read by the reader thread
                panic!("wb exited ({status:?}) before {what}; the screen shows:\n{}", self.screen());
            }
            assert!(Instant::now() < deadline, "no {what}; the screen shows:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    fn is_raw(&self) -> bool {
        let termios = self.master.get_termios().expect("the pty's termios");
        !termios.local_flags.intersects(LocalFlags::ICANON | LocalFlags::ECHO)
    }

    /// Waits for the process to exit; its status and whether it left the terminal raw.
    fn wait_exit(mut self, after: &str) -> (ExitStatus, bool, vt100::Screen) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "wb did not exit after {after}; the screen shows:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(50));
        };
        let raw = self.is_raw();
        drop(self.writer);
        drop(self.master);
        self.output.join().unwrap();
        let screen = self.screen.lock().unwrap().screen().clone();
        (status, raw, screen)
    }
}

/// `wb`: the matrix. The keys the tour names: `j` to foobar-br, `r` to run it, `?` for the keys, `q` to quit.
fn run_matrix(root: &Path, step: &Step) {
    for key in TUI_KEYS {
        assert!(step.prose.contains(key), "line {}: the matrix step names the key {key}", step.line);
    }
    let mut tui = Pty::start(root, &test_args(step), 30, 110);
    let ready = tui.wait_for("matrix with the embedded S3", |t| {
        t.contains("foobar-br") && t.contains("S3 embedded http://127.0.0.1:")
    });
    assert!(ready.contains("ingest") && ready.contains("export"), "{ready}");
    assert!(tui.screen.lock().unwrap().screen().alternate_screen(), "the TUI draws on the alternate screen");
    assert!(tui.is_raw(), "the TUI puts the terminal in raw mode");

    tui.press("j");
    tui.press("r");
    let look_for = step.look_for();
    let done = tui.wait_for(&format!("`{look_for}`, as the tour says"), |t| t.contains(look_for));
    let br = done.lines().find(|l| l.starts_with("│foobar-br")).unwrap_or_else(|| panic!("{done}"));
    assert_eq!((br.matches("✓ ok").count(), br.matches("! alert").count()), (4, 2), "{done}");

    tui.press("?");
    tui.wait_for("the help overlay", |t| t.contains("Keys · Matrix"));
    tui.press("j"); // closes the help
    tui.wait_for("the help to close", |t| !t.contains("Keys · Matrix"));

    tui.press("q");
    let (status, raw, screen) = tui.wait_exit("q");
    assert!(status.success(), "wb exited with {status:?}");
    assert!(!raw, "the terminal is left in raw mode");
    assert!(!screen.alternate_screen(), "the terminal is back on the main screen");
    assert!(!screen.hide_cursor(), "the cursor is shown again");
}

/// `wb watch`: the tour's edit saved, then undone; each save re-runs the market's export; Ctrl-C stops it.
fn run_watch(root: &Path, step: &Step) {
    let (file, old, new) = EDIT;
    for text in [file, old, new] {
        assert!(step.prose.contains(&format!("`{text}`")), "line {}: the watch step names `{text}`", step.line);
    }
    let history = root.join(".workbench/history.sqlite");
    let runs_before = History::open(&history).unwrap().list_runs(100).unwrap().len();
    // Tall enough that nothing the watch prints scrolls off.
    let mut watch = Pty::start(root, &test_args(step), 200, 110);
    watch.wait_for("the watch to start", |t| t.contains("watching "));

    let path = root.join(file);
    let original = std::fs::read_to_string(&path).unwrap();
    assert_eq!(original.matches(old).count(), 1, "{file} holds {old} once");
    std::fs::write(&path, original.replacen(old, new, 1)).unwrap();
    let look_for = step.look_for();
    let screen = watch.wait_for(&format!("`{look_for}` and a re-run"), |t| {
        t.contains(look_for) && t.matches("feedback: ").count() == 1
    });
    assert!(screen.contains("re-running foobar-br (export)"), "{screen}");

    std::fs::write(&path, &original).unwrap();
    let screen = watch.wait_for("the re-run after the undo", |t| t.matches("feedback: ").count() == 2);
    assert_eq!(screen.matches("re-running foobar-br (export)").count(), 2, "{screen}");

    watch.press("\x03");
    let (status, raw, _) = watch.wait_exit("Ctrl-C");
    assert_eq!(status.exit_code(), 130, "the watch exits with 130 on Ctrl-C, as the tour says: {status:?}");
    assert!(!raw, "the terminal is left in raw mode");
    let runs = History::open(&history).unwrap().list_runs(100).unwrap();
    assert_eq!(runs.len(), runs_before + 2, "each save made one run");
    for run in &runs[..2] {
        assert_eq!(run.markets, ["foobar-br"], "{run:?}");
    }
}

#[test]
fn every_command_of_the_tour_works_on_a_fresh_clone_and_shows_what_the_tour_says() {
    let tour = std::fs::read_to_string(tour_path()).expect("docs/tour.md");
    let (steps, fences) = parse(&tour);
    assert_eq!(steps.len(), fences);
    assert!(fences >= 7, "the tour has {fences} command blocks");

    let clone = fresh_clone();
    let mut ran = 0;
    for step in &steps {
        match step.args().first().copied() {
            None => run_matrix(clone.path(), step),
            Some("watch") => run_watch(clone.path(), step),
            Some(_) => run_plain(clone.path(), step),
        }
        ran += 1;
    }
    assert_eq!(ran, fences, "every ```sh block of the tour ran");
}

#[test]
fn the_parser_takes_one_command_per_block_with_what_to_look_for() {
    let (steps, fences) =
        parse("# T\n\n```sh\nwb runs\n```\n\nLook for `result` here.\n\n```sh\nwb\n```\nPress `q`. Look for `x`.\n");
    assert_eq!(fences, 2);
    assert_eq!(steps.iter().map(|s| s.command.as_str()).collect::<Vec<_>>(), ["wb runs", "wb"]);
    assert_eq!(steps[0].look_for(), "result");
    assert_eq!(steps[1].look_for(), "x");
    assert_eq!(steps[1].args(), Vec::<&str>::new());
}

#[test]
#[should_panic(expected = "every fenced block of the tour is a ```sh command")]
fn a_block_of_another_kind_fails_the_tour() {
    parse("```bash\nwb runs\n```\n");
}

#[test]
#[should_panic(expected = "one command per block")]
fn two_commands_in_a_block_fail_the_tour() {
    parse("```sh\nwb runs\nwb show last\n```\n");
}

#[test]
#[should_panic(expected = "a tour command starts with `wb`")]
fn a_command_other_than_wb_fails_the_tour() {
    parse("```sh\ncargo run -- runs\n```\n");
}
