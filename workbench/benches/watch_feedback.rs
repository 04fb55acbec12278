//! Watch feedback benchmark (`just bench-watch`): editing one market's rule, how long until that market's results
//! are on screen, incremental rebuild included (target: under 30 s with the release build, warm caches and 300 MB
//! of raw CSV per market), and that no other market re-runs.
//!
//! It builds the runner (`wb-runner`, as the watch does), warms the market's caches when a dry run says they are
//! cold (`wb run --market M --fixtures DIR --runner R`, not timed; every stage must then be served from the
//! cache), starts
//! `wb watch --json --fixtures DIR [--release]` in the repository, makes a real edit to the rule file (default: the
//! date format of foobar-br's export file, `"%d/%m/%Y"` → `"%d/%m/%y"`: other compiled code, other export
//! rows; plus a comment unique to the run, so the edited stages get a new cache key and are computed on every
//! run of the bench), and reads the watch's events: the batch (which cells), the rebuild, the runs, and the market's
//! `run_finished`, which is when its results are shown. Then it stops the watch, restores the file byte for byte
//! (also on an error, a panic or Ctrl-C) and prints the rebuild time, the run time, the total from the write to
//! the results, the markets run, the stages computed (exactly the affected ones, else the caches were not warm),
//! and the verdict against the 30 s target. It exits 0 when the figure was
//! measured (PASS or OVER), 1 when another market ran or the market failed, 2 when it could not measure, 130 on
//! Ctrl-C.
//!
//! Usage: `cargo bench -p workbench --bench watch_feedback -- [--fixtures DIR] [--market ID] [--file PATH]
//! [--replace OLD --with NEW] [--profile release|debug]` (paths from the repository root). `--replace`/`--with`
//! give the edit for a file other than the default one.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;
use workbench::services::build::{build_args, runner_binary};
use workbench_affected::classify::classify;
use workbench_affected::{Declarations, FileStatus, stage_list};

/// The issue's target: from the save to the market's results on screen.
const TARGET: Duration = Duration::from_secs(30);

/// The built-in edit: a file of a market's rule, the text replaced, and its replacement.
const DEFAULT_EDIT: (&str, &str, &str) = ("markets/br/src/export_format.rs", "\"%d/%m/%Y\"", "\"%d/%m/%y\"");

/// A safety net so a stuck watch ends the bench instead of hanging it (a cold release build can take minutes).
const NO_LINE_FOR: Duration = Duration::from_secs(20 * 60);

/// Exit codes.
const EXIT_FAILED: i32 = 1;
const EXIT_NOT_MEASURED: i32 = 2;
const EXIT_INTERRUPTED: i32 = 130;

/// The edited file's path and original bytes while the edit is in place (taken by whoever restores first).
static ORIGINAL: Mutex<Option<(PathBuf, Vec<u8>)>> = Mutex::new(None);
/// Set by the first Ctrl-C/SIGTERM: the bench stops the watch, restores the file and exits 130.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The running watch's pid (0: none), for a second Ctrl-C.
static WATCH_PID: AtomicU32 = AtomicU32::new(0);

struct Options {
    root: PathBuf,
    fixtures: PathBuf,
    market: String,
    file: String,
    replace: String,
    with: String,
    release: bool,
}

/// Why the bench stopped without a figure, and its exit code.
struct Stop(i32, String);

fn main() {
    handle_signals();
    let code = match run() {
        Ok(code) => code,
        Err(Stop(code, message)) => {
            eprintln!("watch_feedback: {message}");
            code
        }
    };
    // Every guard has been dropped here: the watch is stopped and the file restored.
    std::process::exit(code);
}

fn run() -> Result<i32, Stop> {
    let options = parse_args()?;
    let root = &options.root;
    let profile = if options.release { "release" } else { "debug" };
    let market_dir = options.fixtures.join(&options.market);
    if !market_dir.is_dir() {
        return Err(Stop(
            EXIT_NOT_MEASURED,
            format!(
                "no fixtures at {}: generate them with `cargo run --release -p fixtures -- generate --target-mb 300`",
                market_dir.display()
            ),
        ));
    }
    let raw_bytes: u64 = std::fs::read_dir(&market_dir)
        .map_err(|e| Stop(EXIT_NOT_MEASURED, format!("cannot read {}: {e}", market_dir.display())))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();

    // The edit, and what the affected analysis says it touches: the market only.
    let path = root.join(&options.file);
    let original =
        std::fs::read(&path).map_err(|e| Stop(EXIT_NOT_MEASURED, format!("cannot read {}: {e}", path.display())))?;
    let text = String::from_utf8_lossy(&original);
    if text.matches(&options.replace).count() != 1 {
        return Err(Stop(
            EXIT_NOT_MEASURED,
            format!(
                "{} does not contain `{}` exactly once: pass --replace OLD --with NEW",
                options.file, options.replace
            ),
        ));
    }
    let mut edited = text.replacen(&options.replace, &options.with, 1);
    // A comment unique to this run: the file's source is part of the cache key of the stages calling it, so the
    // edit is computed again on every run of the bench instead of being served from the previous run's output.
    let comment = match Path::new(&options.file).extension().and_then(|e| e.to_str()) {
        Some("rs") => Some("//"),
        Some("toml") => Some("#"),
        _ => None,
    };
    if let Some(comment) = comment {
        let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        if !edited.ends_with('\n') {
            edited.push('\n');
        }
        edited.push_str(&format!("{comment} watch_feedback bench edit {nonce}: restored when the bench ends\n"));
    }
    let edited = edited.into_bytes();
    let declarations = Declarations::load(root)
        .map_err(|e| Stop(EXIT_NOT_MEASURED, format!("affected analysis of {}: {e}", root.display())))?;
    let change = classify(&declarations, &options.file, FileStatus::Modified, Some(&original), Some(&edited));
    let affected: Vec<&String> = change.cells.keys().collect();
    if affected != [&options.market] {
        return Err(Stop(
            EXIT_NOT_MEASURED,
            format!(
                "the affected analysis maps {} to {affected:?}, not to {} only ({}): pick a rule file of the market",
                options.file, options.market, change.reason
            ),
        ));
    }
    let affected_stages = stage_list(&change.cells[&options.market]);

    println!(
        "watch feedback benchmark: {}, {:.0} MB of raw CSV in {}, {profile} build, {} cores",
        options.market,
        raw_bytes as f64 / 1e6,
        options.fixtures.display(),
        cores()
    );
    println!(
        "edit: {}: {} → {}{}",
        options.file,
        options.replace,
        options.with,
        if comment.is_some() { ", plus a comment unique to this run (a new cache key)" } else { "" }
    );
    println!("  affected: {} ({})", change.summary, change.reason);

    // Warm caches: the runner built from the current sources, and every stage of the market served from cache
    // (after one untimed run of the market when they are cold).
    let target = workbench::services::build::target_dir(root);
    let runner = runner_binary(&target, options.release, None);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = build_args(options.release);
    let started = Instant::now();
    // Without the variables `cargo test` set for this bench, as the watch does, so both builds agree.
    let mut cargo_build = Command::new(&cargo);
    for var in workbench_coverage::run::cargo_run_vars() {
        cargo_build.env_remove(var);
    }
    let built = cargo_build
        .args(&build)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Stop(EXIT_NOT_MEASURED, format!("cannot run cargo: {e}")))?;
    check_interrupt()?;
    if !built.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&built.stderr));
        return Err(Stop(EXIT_NOT_MEASURED, format!("`cargo {}` failed before the edit", build.join(" "))));
    }
    println!("  runner up to date: cargo {} ({:.1} s)", build.join(" "), started.elapsed().as_secs_f64());
    if !check_warm(&runner, &options, false)? {
        warm(&runner, &options)?;
        check_interrupt()?;
        check_warm(&runner, &options, true)?;
    }
    check_interrupt()?;

    // The watch, then the edit (the restore guard first: it is dropped after the watch, once the watch stopped).
    let restore_guard = Restore::arm(&path, original.clone());
    let mut watch = Watch::start(&options)?;
    let ready = watch.wait_for(|v| v["event"] == "watch_ready")?;
    if ready["runner"].as_str() != runner.to_str() {
        return Err(Stop(
            EXIT_NOT_MEASURED,
            format!("the watch runs {} instead of {}", ready["runner"], runner.display()),
        ));
    }
    let saved = Instant::now();
    std::fs::write(&path, &edited)
        .map_err(|e| Stop(EXIT_NOT_MEASURED, format!("cannot write {}: {e}", path.display())))?;

    let measured = measure(&mut watch, &options, saved)?;
    drop(watch);
    drop(restore_guard);
    let restored = std::fs::read(&path).is_ok_and(|now| now == original);

    let rebuild = Duration::from_millis(measured.build_ms);
    let run_time = measured.results.saturating_duration_since(measured.built);
    let total = measured.results.duration_since(saved);
    let computed: Vec<&str> =
        measured.stages.iter().filter(|(_, _, hit)| !hit).map(|(stage, _, _)| stage.as_str()).collect();
    let expected: Vec<&str> = change.cells[&options.market].iter().map(|s| s.name()).collect();
    println!();
    println!("batch: {} → {}", measured.batch_paths.join(", "), measured.batch_cells);
    for (stage, ms, hit) in &measured.stages {
        println!("  {stage:<10} {:>8.2} s{}", *ms as f64 / 1000.0, if *hit { "  (cached)" } else { "" });
    }
    println!();
    let figure = |label: &str, value: Duration, note: String| {
        println!("{label:<40} {:>8.2} s  {note}", value.as_secs_f64());
    };
    figure("rebuild", rebuild, format!("(cargo {})", build.join(" ")));
    figure(
        &format!("run of {} ({affected_stages})", options.market),
        run_time,
        format!(
            "(rebuilt → run_finished; the run's own wall time {:.2} s, status {})",
            measured.run_ms as f64 / 1000.0,
            measured.status
        ),
    );
    figure(
        "total: file written → results on screen",
        total,
        format!("(the watch's own figure, first file event → done: {:.2} s)", measured.feedback_ms as f64 / 1000.0),
    );
    let markets: Vec<&str> = measured.markets.iter().map(String::as_str).collect();
    let only = markets == [options.market.as_str()];
    println!(
        "{:<40} {} ({})",
        "markets run",
        markets.join(", "),
        if only { "no other market" } else { "OTHER MARKETS RAN" }
    );
    println!("{:<40} {}", "stages computed", computed.join(", "));
    println!("{:<40} {} ({})", "file restored byte for byte", if restored { "yes" } else { "NO" }, options.file);
    let verdict = if total <= TARGET { "PASS" } else { "OVER" };
    println!("{:<40} {:>8.2} s  target < {} s: {verdict}", "save → results", total.as_secs_f64(), TARGET.as_secs());

    if !restored {
        return Err(Stop(EXIT_FAILED, format!("{} was not restored: `git diff {}`", options.file, options.file)));
    }
    if !only {
        return Err(Stop(EXIT_FAILED, format!("markets other than {} ran: {}", options.market, markets.join(", "))));
    }
    if computed != expected {
        // Upstream stages computed: the caches were not warm; an affected stage from the cache: no real edit.
        return Err(Stop(
            EXIT_NOT_MEASURED,
            format!("the run computed [{}], not exactly the affected [{}]", computed.join(", "), expected.join(", ")),
        ));
    }
    if !["ok", "alert"].contains(&measured.status.as_str()) {
        return Err(Stop(EXIT_FAILED, format!("the run of {} ended {}", options.market, measured.status)));
    }
    Ok(0)
}

fn parse_args() -> Result<Options, Stop> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap_or(root);
    let usage = "use --fixtures DIR, --market ID, --file PATH, --replace OLD --with NEW, --profile release|debug";
    let mut fixtures = PathBuf::from("fixtures/large");
    let mut market = "foobar-br".to_string();
    let (mut file, mut replace, mut with) = (DEFAULT_EDIT.0.to_string(), None, None);
    let mut release = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| Stop(EXIT_NOT_MEASURED, format!("{arg} needs {name}")));
        match arg.as_str() {
            "--fixtures" => fixtures = PathBuf::from(value("DIR")?),
            "--market" => market = value("ID")?,
            "--file" => file = value("PATH")?,
            "--replace" => replace = Some(value("OLD")?),
            "--with" => with = Some(value("NEW")?),
            "--profile" => {
                release = match value("release|debug")?.as_str() {
                    "release" => true,
                    "debug" => false,
                    other => return Err(Stop(EXIT_NOT_MEASURED, format!("unknown profile {other}: {usage}"))),
                }
            }
            "--bench" => {}
            other => return Err(Stop(EXIT_NOT_MEASURED, format!("unknown argument {other}: {usage}"))),
        }
    }
    let (replace, with) = match (replace, with) {
        (Some(replace), Some(with)) => (replace, with),
        (None, None) if file == DEFAULT_EDIT.0 => (DEFAULT_EDIT.1.to_string(), DEFAULT_EDIT.2.to_string()),
        (None, None) => {
            return Err(Stop(EXIT_NOT_MEASURED, format!("--file {file} needs the edit: --replace OLD --with NEW")));
        }
        _ => return Err(Stop(EXIT_NOT_MEASURED, "--replace and --with go together".into())),
    };
    if replace == with {
        return Err(Stop(EXIT_NOT_MEASURED, "--replace and --with are the same: that is no edit".into()));
    }
    let fixtures = if fixtures.is_absolute() { fixtures } else { root.join(fixtures) };
    Ok(Options { root, fixtures, market, file, replace, with, release })
}

/// Whether a dry run of the market on the fixtures serves every stage from the cache; with `must`, cold caches
/// are an error that names the stages missing.
fn check_warm(runner: &Path, options: &Options, must: bool) -> Result<bool, Stop> {
    let output = Command::new(env!("CARGO_BIN_EXE_wb"))
        .current_dir(&options.root)
        .args(["run", "--dry-run", "--json", "--market", &options.market, "--fixtures"])
        .arg(&options.fixtures)
        .arg("--runner")
        .arg(runner)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Stop(EXIT_NOT_MEASURED, format!("cannot start wb run --dry-run: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let cells: Vec<Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v["event"] == "dry_run_stage")
        .collect();
    if !output.status.success() || cells.is_empty() {
        eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
        return Err(Stop(EXIT_NOT_MEASURED, format!("the dry run of {} failed ({})", options.market, output.status)));
    }
    let misses: Vec<String> = cells
        .iter()
        .filter(|c| c["hit"] != true)
        .map(|c| format!("{} ({})", c["stage"].as_str().unwrap_or("?"), c["why"].as_str().unwrap_or("?")))
        .collect();
    if !misses.is_empty() {
        if must {
            return Err(Stop(
                EXIT_NOT_MEASURED,
                format!("caches are still cold for {} after a run: {}", options.market, misses.join(", ")),
            ));
        }
        println!("  caches cold: {}", misses.join(", "));
        return Ok(false);
    }
    println!("  caches warm: {} of {} stages served from the cache (dry run)", cells.len(), cells.len());
    Ok(true)
}

/// One untimed run of the market on the fixtures with `runner`, so its caches are warm.
fn warm(runner: &Path, options: &Options) -> Result<(), Stop> {
    let started = Instant::now();
    println!("  warming: wb run --market {} --fixtures {} (not timed)", options.market, options.fixtures.display());
    let status = Command::new(env!("CARGO_BIN_EXE_wb"))
        .current_dir(&options.root)
        .args(["run", "--market", &options.market, "--fixtures"])
        .arg(&options.fixtures)
        .arg("--runner")
        .arg(runner)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| Stop(EXIT_NOT_MEASURED, format!("cannot start wb run: {e}")))?;
    // Exit 1 is a run with ALERT/FAIL checks: its outputs are cached all the same.
    if !matches!(status.code(), Some(0 | 1)) {
        return Err(Stop(EXIT_NOT_MEASURED, format!("the warm-up run of {} failed ({status})", options.market)));
    }
    println!("  warmed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// What the events of the watch said about the edit.
struct Measured {
    batch_paths: Vec<String>,
    batch_cells: String,
    build_ms: u64,
    /// When the rebuild's event came (the run starts then).
    built: Instant,
    /// When the market's `run_finished` came: its results are on screen.
    results: Instant,
    run_ms: u64,
    status: String,
    stages: Vec<(String, u64, bool)>,
    markets: BTreeSet<String>,
    feedback_ms: u64,
}

/// Reads the watch's events from the edit to its `watch_done`.
fn measure(watch: &mut Watch, options: &Options, saved: Instant) -> Result<Measured, Stop> {
    let batch = watch.wait_for(|v| v["event"] == "watch_batch")?;
    let batch_paths: Vec<String> = batch["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["path"].as_str().map(String::from))
        .collect();
    if batch_paths != [options.file.as_str()] {
        return Err(Stop(EXIT_NOT_MEASURED, format!("the watch's batch is {batch_paths:?}, not the edited file only")));
    }
    let mut measured = Measured {
        batch_paths,
        batch_cells: batch["cells"].to_string(),
        build_ms: 0,
        built: saved,
        results: saved,
        run_ms: 0,
        status: "none".into(),
        stages: Vec::new(),
        markets: BTreeSet::new(),
        feedback_ms: 0,
    };
    let mut results_seen = false;
    loop {
        let (event, at) = watch.next()?;
        match event["event"].as_str().unwrap_or("") {
            "watch_build" => {
                if event["ok"] != true {
                    let output: Vec<&str> =
                        event["output"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                    eprintln!("{}", output.join("\n"));
                    return Err(Stop(EXIT_NOT_MEASURED, "the watch's rebuild failed".into()));
                }
                measured.build_ms = event["duration_ms"].as_u64().unwrap_or(0);
                measured.built = at;
            }
            "run_started" | "stage_finished" | "run_finished" => {
                let market = event["market"].as_str().unwrap_or("?").to_string();
                measured.markets.insert(market.clone());
                if market != options.market {
                    continue;
                }
                if event["event"] == "stage_finished" {
                    let r = &event["record"];
                    measured.stages.push((
                        r["stage"].as_str().unwrap_or("?").to_string(),
                        r["duration_ms"].as_u64().unwrap_or(0),
                        r["cache_hit"] == true,
                    ));
                } else if event["event"] == "run_finished" && !results_seen {
                    results_seen = true;
                    measured.results = at;
                    measured.run_ms = event["duration_ms"].as_u64().unwrap_or(0);
                    measured.status = event["status"].as_str().unwrap_or("?").to_string();
                }
            }
            "watch_cancelled" => {
                return Err(Stop(EXIT_NOT_MEASURED, "another change superseded the edit: keep the tree still".into()));
            }
            "watch_batch" => {
                // Another save during the measurement: fine as long as it touches no cell (it does not cancel).
                eprintln!("watch_feedback: another change came during the measurement: {}", event["changes"]);
            }
            "watch_done" if !results_seen && event["status"] == "nothing_to_run" => {
                // That other change's own end; the edit's job goes on.
            }
            "watch_done" => {
                measured.feedback_ms = event["feedback_ms"].as_u64().unwrap_or(0);
                if !results_seen {
                    return Err(Stop(
                        EXIT_NOT_MEASURED,
                        format!("the watch finished ({}) without results for {}", event["status"], options.market),
                    ));
                }
                return Ok(measured);
            }
            _ => {}
        }
    }
}

/// `wb watch --json` running in the repository; stopped (SIGTERM, as Ctrl-C) when dropped.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<(String, Instant)>,
}

impl Watch {
    fn start(options: &Options) -> Result<Watch, Stop> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wb"));
        command.current_dir(&options.root).args(["watch", "--json", "--fixtures"]).arg(&options.fixtures);
        if options.release {
            command.arg("--release");
        }
        command.stdin(Stdio::null()).stdout(Stdio::piped());
        let mut child = command.spawn().map_err(|e| Stop(EXIT_NOT_MEASURED, format!("cannot start wb watch: {e}")))?;
        WATCH_PID.store(child.id(), Ordering::SeqCst);
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send((line, Instant::now())).is_err() {
                    break;
                }
            }
        });
        Ok(Watch { child, lines })
    }

    /// The next JSON line and when it came; fails on Ctrl-C, when the watch exits, or after [`NO_LINE_FOR`].
    fn next(&mut self) -> Result<(Value, Instant), Stop> {
        let deadline = Instant::now() + NO_LINE_FOR;
        loop {
            check_interrupt()?;
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok((line, at)) => match serde_json::from_str::<Value>(&line) {
                    Ok(value) => return Ok((value, at)),
                    Err(_) => eprintln!("{line}"),
                },
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(Stop(EXIT_NOT_MEASURED, format!("the watch printed nothing for {NO_LINE_FOR:?}")));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                    return Err(Stop(EXIT_NOT_MEASURED, format!("the watch exited ({status})")));
                }
            }
        }
    }

    /// The next line matching `wanted`.
    fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Result<Value, Stop> {
        loop {
            let (value, _) = self.next()?;
            if wanted(&value) {
                return Ok(value);
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        terminate(self.child.id());
        let stop_by = Instant::now() + Duration::from_secs(30);
        while Instant::now() < stop_by {
            if let Ok(Some(_)) = self.child.try_wait() {
                WATCH_PID.store(0, Ordering::SeqCst);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        WATCH_PID.store(0, Ordering::SeqCst);
    }
}

fn terminate(pid: u32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
}

/// Puts the edited file back as it was when dropped (on success, error, panic or Ctrl-C).
struct Restore;

impl Restore {
    fn arm(path: &Path, original: Vec<u8>) -> Restore {
        *ORIGINAL.lock().unwrap_or_else(|e| e.into_inner()) = Some((path.to_path_buf(), original));
        Restore
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        restore();
    }
}

/// Writes the original bytes back unless they are there already; says so when it cannot.
fn restore() {
    let Some((path, original)) = ORIGINAL.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
    if std::fs::read(&path).is_ok_and(|now| now == original) {
        return;
    }
    if let Err(e) = std::fs::write(&path, &original) {
        eprintln!(
            "watch_feedback: cannot restore {}: {e}; restore it with `git checkout -- {}`",
            path.display(),
            path.display()
        );
    }
}

fn check_interrupt() -> Result<(), Stop> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err(Stop(EXIT_INTERRUPTED, "interrupted: the watch is stopped and the file restored".into()));
    }
    Ok(())
}

/// Ctrl-C or SIGTERM: the first asks the bench to stop (it stops the watch, then restores the file); a second one
/// stops the watch and restores the file from here, then exits.
fn handle_signals() {
    std::thread::spawn(|| {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        runtime.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
                return;
            };
            for count in 1.. {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                INTERRUPTED.store(true, Ordering::SeqCst);
                if count > 1 {
                    let pid = WATCH_PID.load(Ordering::SeqCst);
                    if pid != 0 {
                        terminate(pid);
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                    restore();
                    std::process::exit(EXIT_INTERRUPTED);
                }
            }
        });
    });
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
