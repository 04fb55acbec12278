//! The supervisor: starts one runner process per market (up to `jobs` at once), reads their event lines, and
//! reports everything back as typed [`Update`]s on a channel, so the one loop that owns the run's state (the
//! headless CLI now, the TUI later) does all the bookkeeping. A line that is not an event becomes
//! [`Update::Stray`], never a crash; a runner that ends without `run_finished` is reported by its
//! [`Exit`] with the tail of its stderr.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use chrono::NaiveDate;
use pipeline_core::{Event, Stage};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use markets::MarketId;
use workbench_runner::RunnerEnv;
use workbench_runner::args::PreviousRows;

/// How many stderr lines of a runner are kept for the message when it dies.
pub const STDERR_TAIL: usize = 20;

/// Which program runs markets: by default this very binary (`wb runner ...`), so `cargo run -p workbench --
/// run ...` works with nothing else built; `wb run --runner`, the TUI and `wb watch` point it at a freshly built
/// `wb-runner` (same command line, `wb-runner runner ...`) instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerCommand {
    program: PathBuf,
    leading_args: Vec<OsString>,
}

impl RunnerCommand {
    /// The running executable.
    pub fn current_exe() -> std::io::Result<Self> {
        Ok(Self::new(std::env::current_exe()?))
    }

    /// A runner program at `program`: a `wb` or a `wb-runner` binary (both take `runner` and its arguments).
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self { program: program.into(), leading_args: Vec::new() }
    }

    /// A program that takes `leading_args` before the runner's own (a wrapper, e.g. a profiler).
    pub fn with_leading_args(mut self, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        self.leading_args = args.into_iter().map(Into::into).collect();
        self
    }

    /// The program started.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The command for one job: stdout and stderr piped, stdin closed, in its own process group (so a Ctrl-C at
    /// the terminal reaches only the supervisor, which ends its runners itself), killed if dropped.
    pub fn command(&self, job: &MarketJob, env: &RunnerEnv) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.leading_args)
            .args(job.args())
            .envs(env.vars())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        cmd
    }
}

/// One market's request, as the runner's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketJob {
    /// The market.
    pub market: MarketId,
    /// The stage to reach (`None`: every stage).
    pub stage: Option<Stage>,
    /// as_of override.
    pub as_of: Option<NaiveDate>,
    /// Recompute every stage.
    pub no_cache: bool,
    /// Run id.
    pub run_id: String,
    /// Ingest row counts of the market's previous successful run.
    pub previous_rows: Option<PreviousRows>,
    /// The run history file for the history and drift checks (`--history`).
    pub history_file: Option<std::path::PathBuf>,
}

impl MarketJob {
    /// The `wb runner ...` arguments.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["runner".into(), "--market".into(), self.market.as_str().into()];
        if let Some(stage) = self.stage {
            args.extend(["--stage".into(), stage.name().into()]);
        }
        if let Some(as_of) = self.as_of {
            args.extend(["--as-of".into(), as_of.to_string().into()]);
        }
        if self.no_cache {
            args.push("--no-cache".into());
        }
        args.extend(["--run-id".into(), self.run_id.clone().into()]);
        if let Some(rows) = &self.previous_rows {
            let json = serde_json::to_string(rows).expect("row counts serialise");
            args.extend(["--previous-rows".into(), json.into()]);
        }
        if let Some(file) = &self.history_file {
            args.extend(["--history".into(), file.clone().into_os_string()]);
        }
        args
    }
}

/// What the supervisor reports about a runner.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The runner process started.
    Spawned {
        /// Market.
        market: MarketId,
        /// Its process id.
        pid: u32,
    },
    /// An event line.
    Event {
        /// Market.
        market: MarketId,
        /// The parsed event.
        event: Box<Event>,
        /// The line exactly as received (without the newline).
        line: String,
    },
    /// A stdout line that is not an event (something in the runner printed to stdout).
    Stray {
        /// Market.
        market: MarketId,
        /// The line.
        line: String,
    },
    /// A stderr line.
    Stderr {
        /// Market.
        market: MarketId,
        /// The line.
        line: String,
    },
    /// The runner is gone (or never started); always the market's last update.
    Exited {
        /// Market.
        market: MarketId,
        /// How it ended.
        exit: Exit,
    },
}

/// How a runner ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// Process outcome.
    pub how: ExitHow,
    /// It printed `run_finished`.
    pub finished: bool,
    /// It was ended (or never started) because the run was cancelled.
    pub cancelled: bool,
    /// The last stderr lines, oldest first.
    pub stderr_tail: Vec<String>,
}

/// The process side of an [`Exit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitHow {
    /// Exited with a code.
    Code(i32),
    /// Ended by a signal (killed, aborted, out of memory).
    Signal(i32),
    /// The process could not be started.
    SpawnFailed(String),
    /// Cancelled before it was started.
    NotStarted,
    /// Waiting for it failed.
    Unknown(String),
}

impl Exit {
    /// A runner that never ran: no events, no stderr.
    fn not_started(how: ExitHow) -> Self {
        Self { how, finished: false, cancelled: false, stderr_tail: Vec::new() }
    }

    /// A sentence for a runner that ended without `run_finished`, with what to do and its stderr tail.
    pub fn describe(&self, market: &MarketId) -> String {
        let how = match &self.how {
            ExitHow::Code(code) => format!("exited with code {code}"),
            ExitHow::Signal(6) => "aborted (signal 6)".to_string(),
            ExitHow::Signal(9) => "was killed (signal 9; out of memory?)".to_string(),
            ExitHow::Signal(signal) => format!("was ended by signal {signal}"),
            ExitHow::SpawnFailed(e) => {
                return format!("cannot start the runner for {market}: {e}; check the wb binary");
            }
            ExitHow::NotStarted => return format!("{market} was cancelled before it started"),
            ExitHow::Unknown(e) => format!("could not be waited for ({e})"),
        };
        let mut text = format!(
            "the runner for {market} {how} before the run finished; a stage crashed: read its stderr, fix, and \
             re-run `wb run --market {market}`"
        );
        if !self.stderr_tail.is_empty() {
            text.push_str("\nrunner stderr (last lines):");
            for line in &self.stderr_tail {
                text.push_str("\n  ");
                text.push_str(line);
            }
        }
        text
    }
}

/// The sending half of a cancellation: [`Cancel::cancel`] ends every runner of the run.
#[derive(Debug)]
pub struct Cancel(watch::Sender<bool>);

/// The receiving half, cloned into every runner task.
#[derive(Debug, Clone)]
pub struct CancelToken(watch::Receiver<bool>);

impl Cancel {
    /// A new, not yet cancelled pair.
    pub fn new() -> (Cancel, CancelToken) {
        let (tx, rx) = watch::channel(false);
        (Cancel(tx), CancelToken(rx))
    }

    /// Cancels: runners are killed and jobs not yet started never start.
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }
}

impl CancelToken {
    /// Whether the run was cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once cancelled (never, if the [`Cancel`] is dropped without cancelling).
    pub async fn cancelled(&mut self) {
        loop {
            if *self.0.borrow_and_update() {
                return;
            }
            if self.0.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Starts runners and reports on them.
#[derive(Debug, Clone)]
pub struct Supervisor {
    runner: RunnerCommand,
    env: RunnerEnv,
    jobs: usize,
    slots: Option<Arc<Semaphore>>,
}

impl Supervisor {
    /// A supervisor running `runner` against `env`, at most `jobs` at once (at least one).
    pub fn new(runner: RunnerCommand, env: RunnerEnv, jobs: usize) -> Self {
        Self { runner, env, jobs: jobs.max(1), slots: None }
    }

    /// Takes runner slots from `slots` instead of its own `jobs` limit, so several runs started one after the
    /// other (the TUI's) share one limit on how many markets run at once.
    pub fn with_slots(mut self, slots: Arc<Semaphore>) -> Self {
        self.slots = Some(slots);
        self
    }

    /// Starts a task per job (on the current tokio runtime); each sends its updates on `updates` and ends
    /// with [`Update::Exited`]. The channel closes once every job is done and `updates` is dropped by the
    /// caller.
    pub fn spawn(&self, jobs: Vec<MarketJob>, updates: &mpsc::UnboundedSender<Update>, cancel: &CancelToken) {
        // One dispatcher hands out the slots in job order, so markets start in the order given.
        let (this, updates, mut cancel) = (self.clone(), updates.clone(), cancel.clone());
        tokio::spawn(async move {
            let slots = this.slots.clone().unwrap_or_else(|| Arc::new(Semaphore::new(this.jobs)));
            let mut jobs = jobs.into_iter();
            while let Some(job) = jobs.next() {
                let slot = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => None,
                    slot = Arc::clone(&slots).acquire_owned() => slot.ok(),
                };
                let Some(slot) = slot.filter(|_| !cancel.is_cancelled()) else {
                    for job in std::iter::once(job).chain(jobs) {
                        let exit = Exit { cancelled: true, ..Exit::not_started(ExitHow::NotStarted) };
                        let _ = updates.send(Update::Exited { market: job.market, exit });
                    }
                    return;
                };
                let (this, updates, cancel) = (this.clone(), updates.clone(), cancel.clone());
                tokio::spawn(async move { this.run_job(job, slot, updates, cancel).await });
            }
        });
    }

    /// Runs one job in its slot (held until the runner has exited).
    async fn run_job(
        self,
        job: MarketJob,
        _slot: OwnedSemaphorePermit,
        updates: mpsc::UnboundedSender<Update>,
        mut cancel: CancelToken,
    ) {
        let market = job.market.clone();
        let not_started = Exit::not_started;
        let mut child = match self.runner.command(&job, &self.env).spawn() {
            Ok(child) => child,
            Err(e) => {
                let how = ExitHow::SpawnFailed(format!("{}: {e}", self.runner.program.display()));
                let _ = updates.send(Update::Exited { market, exit: not_started(how) });
                return;
            }
        };
        if let Some(pid) = child.id() {
            let _ = updates.send(Update::Spawned { market: market.clone(), pid });
        }
        let stderr = child.stderr.take().map(|err| tokio::spawn(read_stderr(err, market.clone(), updates.clone())));
        let (finished, cancelled) = match child.stdout.take() {
            Some(out) => read_events(out, &market, &updates, &mut child, &mut cancel).await,
            None => (false, false),
        };
        let how = match child.wait().await {
            Ok(status) => exit_how(status),
            Err(e) => ExitHow::Unknown(e.to_string()),
        };
        let stderr_tail = match stderr {
            Some(task) => task.await.unwrap_or_default(),
            None => Vec::new(),
        };
        let _ = updates.send(Update::Exited { market, exit: Exit { how, finished, cancelled, stderr_tail } });
    }
}

/// Reads event lines until EOF or cancellation; returns (saw `run_finished`, was cancelled).
async fn read_events(
    out: impl AsyncRead + Unpin,
    market: &MarketId,
    updates: &mpsc::UnboundedSender<Update>,
    child: &mut Child,
    cancel: &mut CancelToken,
) -> (bool, bool) {
    let mut reader = BufReader::new(out);
    let mut buf = Vec::new();
    let mut finished = false;
    loop {
        tokio::select! {
            read = reader.read_until(b'\n', &mut buf) => {
                match read {
                    Ok(0) | Err(_) => return (finished, false),
                    Ok(_) => {}
                }
                let line = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_string();
                buf.clear();
                let update = match serde_json::from_str::<Event>(&line) {
                    Ok(event) => {
                        finished |= matches!(event, Event::RunFinished { .. });
                        Update::Event { market: market.clone(), event: Box::new(event), line }
                    }
                    Err(_) => Update::Stray { market: market.clone(), line },
                };
                let _ = updates.send(update);
            }
            _ = cancel.cancelled() => {
                let _ = child.start_kill();
                return (finished, true);
            }
        }
    }
}

/// Forwards stderr lines and returns the last [`STDERR_TAIL`] of them.
async fn read_stderr(
    err: impl AsyncRead + Unpin,
    market: MarketId,
    updates: mpsc::UnboundedSender<Update>,
) -> Vec<String> {
    let mut reader = BufReader::new(err);
    let mut buf = Vec::new();
    let mut tail = VecDeque::with_capacity(STDERR_TAIL);
    while let Ok(n) = reader.read_until(b'\n', &mut buf).await {
        if n == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_string();
        buf.clear();
        if tail.len() == STDERR_TAIL {
            tail.pop_front();
        }
        tail.push_back(line.clone());
        let _ = updates.send(Update::Stderr { market: market.clone(), line });
    }
    tail.into()
}

fn exit_how(status: std::process::ExitStatus) -> ExitHow {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return ExitHow::Signal(signal);
        }
    }
    match status.code() {
        Some(code) => ExitHow::Code(code),
        None => ExitHow::Unknown(status.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> MarketJob {
        MarketJob {
            market: MarketId::parse("foobar-au").unwrap(),
            stage: Some(Stage::Features),
            as_of: NaiveDate::from_ymd_opt(2026, 11, 15),
            no_cache: true,
            run_id: "r1".into(),
            previous_rows: Some(PreviousRows::from([("orders".to_string(), 7)])),
            history_file: None,
        }
    }

    #[test]
    fn job_arguments_match_the_runner_subcommand() {
        let args: Vec<String> = job().args().into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(
            args,
            [
                "runner",
                "--market",
                "foobar-au",
                "--stage",
                "features",
                "--as-of",
                "2026-11-15",
                "--no-cache",
                "--run-id",
                "r1",
                "--previous-rows",
                r#"{"orders":7}"#
            ]
        );
        let parsed = <crate::cli::Cli as clap::Parser>::try_parse_from(std::iter::once("wb".to_string()).chain(args));
        assert!(parsed.is_ok());
    }

    #[test]
    fn a_dead_runner_is_described_with_its_stderr() {
        let exit = Exit {
            how: ExitHow::Signal(6),
            finished: false,
            cancelled: false,
            stderr_tail: vec!["thread 'main' panicked".into()],
        };
        assert_eq!(
            exit.describe(&job().market),
            "the runner for foobar-au aborted (signal 6) before the run finished; a stage crashed: read its stderr, \
             fix, and re-run `wb run --market foobar-au`\nrunner stderr (last lines):\n  thread 'main' panicked"
        );
    }
}
