//! `wb watch` end to end with real file events: the real binary watches a temp workspace (no rebuild: the test's
//! own `wb` runs the stages), a burst of writes is one batch, writes under ignored directories make none, the
//! feedback time is recorded with the run, and a change during a run cancels it and runs the newer change.
//! `--fixtures` reaches the runs, and `--release` builds and runs the release binary of the target directory.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;

use common::{Root, write_minimal_fixture};
use pipeline_core::RunStatus;
use serde_json::Value;
use workbench::history::Status;
use workbench::services::build::{build_args, runner_binary};

const CUSTOMERS: &str = "fixtures/data/foobar-au/customers.csv";
const ORDERS: &str = "fixtures/data/foobar-au/orders.csv";

/// A safety net so a broken watch fails the test instead of hanging it; not a performance assertion.
const NO_LINE_FOR: Duration = Duration::from_secs(180);

/// A running `wb watch --json` and the lines it printed so far.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<Value>,
}

impl Watch {
    /// `wb watch` on the test's own `wb`, which is also its runner (`wb runner`), not rebuilding it.
    fn start(root: &Root, env: &[(&str, &str)]) -> Watch {
        Watch::start_with(root, env, &["--no-build"])
    }

    fn start_with(root: &Root, env: &[(&str, &str)], extra: &[&str]) -> Watch {
        let mut args = vec!["--wb", env!("CARGO_BIN_EXE_wb"), "--runner", env!("CARGO_BIN_EXE_wb")];
        args.extend(extra);
        Watch::spawn(root, env, &args)
    }

    /// `wb watch --json --market foobar-au` with `args`, once it is ready.
    fn spawn(root: &Root, env: &[(&str, &str)], args: &[&str]) -> Watch {
        let mut command = root.wb();
        command.args(["watch", "--json", "--market", "foobar-au"]);
        command.args(["--debounce-ms", "300"]).args(args);
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("wb watch starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut watch = Watch { child, lines, seen: Vec::new() };
        watch.wait_for("watch_ready");
        watch
    }

    /// The next line whose `event` is `event`; every line read is kept in `seen`.
    fn wait_for(&mut self, event: &str) -> Value {
        loop {
            let line = self.lines.recv_timeout(NO_LINE_FOR).unwrap_or_else(|e| {
                panic!("no `{event}` line ({e}); lines so far:\n{:#?}", self.seen);
            });
            let value: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            self.seen.push(value.clone());
            if value["event"] == event {
                return value;
            }
        }
    }

    fn count(&self, event: &str) -> usize {
        self.seen.iter().filter(|v| v["event"] == event).count()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SIGTERM, as Ctrl-C: the watch stops its run (which stops its runners) and exits.
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = self.child.wait();
    }
}

fn root() -> Root {
    let root = Root::empty();
    let dir = root.market_fixtures("foobar-au");
    std::fs::create_dir_all(&dir).unwrap();
    write_minimal_fixture(&dir);
    for dir in ["target", ".git", ".workbench", "markets/xx/target"] {
        std::fs::create_dir_all(root.path().join(dir)).unwrap();
    }
    root
}

/// Appends a customer row (a real content change) to the fixture file at `path`.
fn append_row(root: &Root, path: &str, row: &str) {
    let full = root.path().join(path);
    let mut text = std::fs::read_to_string(&full).unwrap();
    text.push_str(row);
    std::fs::write(full, text).unwrap();
}

fn paths(batch: &Value) -> Vec<&str> {
    batch["changes"].as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect()
}

#[test]
fn a_burst_of_writes_is_one_batch_ignored_directories_make_none_and_feedback_is_recorded() {
    let root = root();
    let mut watch = Watch::start(&root, &[]);
    for path in ["target/debug/x", ".git/index", ".workbench/y", "markets/xx/target/z"] {
        let full = root.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, "ignored\n").unwrap();
    }
    for i in 0..5 {
        append_row(&root, CUSTOMERS, &format!("C09000{i},A,NSW,en,2024-01-05,true,true,true\n"));
    }

    let batch = watch.wait_for("watch_batch");
    assert_eq!(paths(&batch), [CUSTOMERS]);
    assert_eq!(
        batch["cells"],
        serde_json::json!({"foobar-au": ["ingest", "validate", "features", "score", "recommend", "export"]})
    );
    assert_eq!(batch["changes"][0]["reason"], "raw customers.csv of foobar-au, first read by stage ingest");
    let done = watch.wait_for("watch_done");
    assert!(["ok", "alert"].contains(&done["status"].as_str().unwrap()), "{done}");
    assert_eq!(watch.count("watch_batch"), 1, "{:#?}", watch.seen);
    // The run's own events came through; it re-ran every stage of the market.
    let finished: Vec<&str> = watch
        .seen
        .iter()
        .filter(|v| v["event"] == "stage_finished")
        .map(|v| v["record"]["stage"].as_str().unwrap())
        .collect();
    assert_eq!(finished, ["ingest", "validate", "features", "score", "recommend", "export"]);

    let run_ids = done["run_ids"].as_array().unwrap();
    assert_eq!(run_ids.len(), 1);
    let run = root.history().run(run_ids[0].as_str().unwrap()).unwrap().expect("the run is recorded");
    assert_eq!(run.feedback_ms, done["feedback_ms"].as_u64());
    assert_eq!(run.markets, ["foobar-au"]);
}

#[test]
fn a_change_during_a_run_cancels_it_and_runs_the_newer_change() {
    let root = root();
    // Each stage of every run waits a second after finishing, so the second change lands mid-run.
    let mut watch = Watch::start(&root, &[("WB_RUNNER_STAGE_DELAY_MS", "1000")]);
    append_row(&root, CUSTOMERS, "C090001,A,NSW,en,2024-01-05,true,true,true\n");
    assert_eq!(paths(&watch.wait_for("watch_batch")), [CUSTOMERS]);
    let first_run = watch.wait_for("run_started")["run_id"].as_str().unwrap().to_string();
    watch.wait_for("stage_finished");

    // A change that touches no cell does not supersede the run: it goes on.
    std::fs::write(root.path().join("NOTES.md"), "# notes\n").unwrap();
    assert_eq!(paths(&watch.wait_for("watch_batch")), ["NOTES.md"]);
    assert_eq!(watch.wait_for("watch_done")["status"], "nothing_to_run");
    watch.wait_for("stage_finished");
    assert_eq!(watch.count("watch_cancelled"), 0);

    append_row(&root, ORDERS, "O090001,C000001,2026-11-10,1,9.50\n");
    let cancelled = watch.wait_for("watch_cancelled");
    assert_eq!(cancelled["paths"], serde_json::json!([CUSTOMERS]));
    // The cancelled run's change is re-run with the newer one.
    assert_eq!(paths(&watch.wait_for("watch_batch")), [CUSTOMERS, ORDERS]);
    let done = watch.wait_for("watch_done");
    assert!(["ok", "alert"].contains(&done["status"].as_str().unwrap()), "{done}");
    let done_statuses: Vec<&str> =
        watch.seen.iter().filter(|v| v["event"] == "watch_done").map(|v| v["status"].as_str().unwrap()).collect();
    assert_eq!(done_statuses.len(), 2, "the superseded batch has no result of its own: {:#?}", watch.seen);
    assert_eq!(done_statuses[0], "nothing_to_run");
    let second_run = done["run_ids"][0].as_str().unwrap();
    assert_ne!(second_run, first_run);

    let history = root.history();
    assert_eq!(history.run(&first_run).unwrap().unwrap().status, Status::Done(RunStatus::Cancelled));
    let second = history.run(second_run).unwrap().unwrap();
    assert!(matches!(second.status, Status::Done(RunStatus::Ok | RunStatus::Alert)), "{second:?}");
    assert_eq!(second.feedback_ms, done["feedback_ms"].as_u64());
}

#[test]
fn a_failed_build_shows_the_compiler_output_and_runs_nothing() {
    // The temp workspace has no `workbench-runner` package, so the real `cargo build -p workbench-runner` fails at
    // once.
    let root = root();
    let mut watch = Watch::start_with(&root, &[], &[]);
    append_row(&root, CUSTOMERS, "C090001,A,NSW,en,2024-01-05,true,true,true\n");
    assert_eq!(paths(&watch.wait_for("watch_batch")), [CUSTOMERS]);
    let build = watch.wait_for("watch_build");
    assert_eq!(build["ok"], false);
    let output: Vec<&str> = build["output"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(
        output.contains(&"error: package ID specification `workbench-runner` did not match any packages"),
        "{output:#?}"
    );
    assert_eq!(watch.wait_for("watch_done")["status"], "build_failed");
    assert_eq!(watch.count("run_started"), 0);
    assert!(root.history().list_runs(10).unwrap().is_empty());
}

/// The ingest record of the watch's run: its rows per table.
fn ingest_tables(watch: &Watch) -> Value {
    let ingest = watch.seen.iter().find(|v| v["event"] == "stage_finished" && v["record"]["stage"] == "ingest");
    ingest.unwrap_or_else(|| panic!("no ingest stage_finished: {:#?}", watch.seen))["record"]["tables"].clone()
}

#[test]
fn the_runs_read_the_fixtures_directory_given_to_the_watch() {
    let root = root();
    // Another fixture directory, outside the workspace, with 3 more customers than fixtures/data has.
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = elsewhere.path().join("foobar-au");
    std::fs::create_dir_all(&dir).unwrap();
    write_minimal_fixture(&dir);
    let mut customers = std::fs::read_to_string(dir.join("customers.csv")).unwrap();
    for i in 1..=3 {
        customers.push_str(&format!("C08000{i},B,VIC,en,2024-02-01,true,false,true\n"));
    }
    std::fs::write(dir.join("customers.csv"), &customers).unwrap();

    let fixtures = elsewhere.path().to_str().unwrap();
    let mut watch = Watch::start_with(&root, &[], &["--no-build", "--fixtures", fixtures]);
    assert_eq!(watch.seen[0]["fixtures"], fixtures);
    // A change of the workspace's own fixture (61 customers) triggers the run, which reads the given directory.
    append_row(&root, CUSTOMERS, "C090001,A,NSW,en,2024-01-05,true,true,true\n");
    assert_eq!(paths(&watch.wait_for("watch_batch")), [CUSTOMERS]);
    let done = watch.wait_for("watch_done");
    assert!(["ok", "alert"].contains(&done["status"].as_str().unwrap()), "{done}");
    assert_eq!(ingest_tables(&watch)["customers"], 63);
    let uploaded = std::fs::read_to_string(root.object_file("raw", "foobar-au/customers.csv")).unwrap();
    assert_eq!(uploaded, customers);
}

#[test]
fn with_release_the_watch_runs_the_release_runner_of_the_target_directory() {
    let root = root();
    // A target directory whose release/wb-runner is the test's wb (it takes the runner's command line too); there
    // is no debug/wb-runner, so only the release path runs.
    let target = tempfile::tempdir().unwrap();
    let release = target.path().join("release");
    std::fs::create_dir_all(&release).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_wb"), release.join("wb-runner")).unwrap();

    let env = [("CARGO_TARGET_DIR", target.path().to_str().unwrap())];
    let mut watch = Watch::spawn(&root, &env, &["--release", "--no-build", "--wb", env!("CARGO_BIN_EXE_wb")]);
    assert_eq!(watch.seen[0]["runner"], release.join("wb-runner").to_str().unwrap());
    assert_eq!(watch.seen[0]["wb"], env!("CARGO_BIN_EXE_wb"));
    assert_eq!(watch.seen[0]["release"], true);
    append_row(&root, CUSTOMERS, "C090001,A,NSW,en,2024-01-05,true,true,true\n");
    assert_eq!(paths(&watch.wait_for("watch_batch")), [CUSTOMERS]);
    let done = watch.wait_for("watch_done");
    assert!(["ok", "alert"].contains(&done["status"].as_str().unwrap()), "{done}");
    assert_eq!(ingest_tables(&watch)["customers"], 61);
    let run_id = done["run_ids"][0].as_str().unwrap();
    assert_eq!(root.history().run(run_id).unwrap().expect("the run is recorded").markets, ["foobar-au"]);
}

#[test]
fn the_runner_binary_alone_is_built_and_run_in_release_with_release_and_a_given_runner_wins() {
    assert_eq!(build_args(false), ["build", "-p", "workbench-runner", "--bin", "wb-runner"]);
    assert_eq!(build_args(true), ["build", "--release", "-p", "workbench-runner", "--bin", "wb-runner"]);
    let target = Path::new("/ws/target");
    assert_eq!(runner_binary(target, false, None), Path::new("/ws/target/debug/wb-runner"));
    assert_eq!(runner_binary(target, true, None), Path::new("/ws/target/release/wb-runner"));
    assert_eq!(runner_binary(target, true, Some(Path::new("/opt/wb-runner"))), Path::new("/opt/wb-runner"));
    assert_eq!(runner_binary(target, false, Some(Path::new("/opt/wb-runner"))), Path::new("/opt/wb-runner"));
}
