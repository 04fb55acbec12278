//! `wb aws up|status|down|venv` and the backend faults `wb run` must survive, with real components: the real
//! `wb` binary, its detached `wb aws serve`, the embedded S3, a real LocalStack host process (when Python >= 3.13
//! is here), and a TCP proxy that answers like an overloaded S3.

#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{AwsDown, Root, aws_state, describe, events, json_lines, stderr, stdout};
use localstack::{Backend, S3Endpoint};
use object_store::ObjectStoreExt;
use pipeline_core::{RunStatus, Stage};
use serde_json::Value;
use workbench::history::Status;
use workbench::services::aws::session::{VENV_MESSAGE, lost_message};
use workbench::services::aws::startup_text;
use workbench::services::aws::state::AwsState;

const NOT_RUNNING: &str = "no local AWS backend is running";

/// The two lines `wb aws up` prints once `state`'s backend is up.
fn up_text(state: &AwsState) -> String {
    format!(
        "{} backend up at {} ({}), started in {}; `wb aws serve` pid {}\n`wb run` uses it while it runs; `wb aws \
         status` shows it, `wb aws down` stops it\n",
        state.backend,
        state.endpoint,
        state.version,
        startup_text(state.startup_ms),
        state.pid
    )
}

fn up(root: &Root, args: &[&str]) -> AwsState {
    let output = root.run(&[&["aws", "up"], args].concat());
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let state = aws_state(root);
    assert!(stdout(&output).ends_with(&up_text(&state)), "{}", describe(&output));
    state
}

fn alive(pid: u32) -> bool {
    workbench::sys::process_alive(pid, None) == Some(true)
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn up_status_and_down_manage_an_embedded_backend_that_wb_run_uses() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let _down = AwsDown(&root);
    let state = up(&root, &[]);
    assert_eq!(state.backend, Backend::Embedded);
    assert_eq!(state.version, "embedded s3s-fs 0.14");
    assert!(state.endpoint.starts_with("http://127.0.0.1:"), "{}", state.endpoint);
    assert!(state.startup_ms < 100.0, "embedded start-up {} ms", state.startup_ms);
    assert_eq!(state.log, root.path().join(".workbench/logs/aws-serve.log"));
    assert!(alive(state.pid));
    assert!(workbench::sys::process_start_ticks(state.pid).is_some_and(|t| Some(t) == state.pid_start_ticks));
    let state_json: Value =
        serde_json::from_str(&std::fs::read_to_string(root.path().join(".workbench/aws.json")).unwrap()).unwrap();
    // The state file holds this start's random secret, so it is readable by its owner only.
    let secret = state_json["credentials"]["inline"]["secret_access_key"].as_str().unwrap();
    assert_eq!(secret.len(), 64, "{state_json}");
    assert_ne!(secret, localstack::Credentials::local().secret_access_key);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(root.path().join(".workbench/aws.json")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // `wb run` without --aws uses it (and says so), and its data lands in the served `.workbench/s3`.
    let run = root.run(&["run", "--market", "foobar-au", "--stage", "ingest"]);
    assert_eq!(run.status.code(), Some(0), "{}", describe(&run));
    assert!(
        stdout(&run).contains(&format!(
            "\nS3 at {} (embedded s3s-fs 0.14; the embedded backend `wb aws up` left running, `wb aws serve` pid {})\n",
            state.endpoint, state.pid
        )),
        "{}",
        describe(&run)
    );
    let recorded = &root.history().list_runs(1).unwrap()[0];
    assert_eq!((recorded.backend.as_str(), recorded.endpoint.as_deref()), ("embedded", Some(state.endpoint.as_str())));
    assert!(root.object_file("raw", "foobar-au/orders.csv").is_file());

    let status = root.run(&["aws", "status"]);
    assert_eq!(status.status.code(), Some(0), "{}", describe(&status));
    let text = stdout(&status);
    assert!(
        text.starts_with(&format!("backend:   embedded (embedded s3s-fs 0.14)\nendpoint:  {}\n", state.endpoint)),
        "{text}"
    );
    assert!(text.contains(&format!("\npid:       {} (`wb aws serve`)\n", state.pid)), "{text}");
    assert!(text.contains(&format!("\nstart-up:  {}\n", startup_text(state.startup_ms))), "{text}");
    assert!(text.contains("\nbuckets:\n  raw         4 objects, "), "{text}");
    assert!(text.contains("\n  exports     0 objects, 0 B\n"), "{text}");
    assert!(text.contains("\nstart-up times:\n  embedded S3: "), "{text}");

    let json = root.run(&["aws", "status", "--json"]);
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["running"]["endpoint"], state.endpoint.as_str());
    assert_eq!(json["running"]["credentials"]["inline"]["secret_access_key"], "******", "no secret in the status");
    assert_eq!(json["running"]["not_answering"], Value::Null);
    let raw = json["running"]["buckets"].as_array().unwrap().iter().find(|b| b["name"] == "raw").unwrap().clone();
    let fixture_bytes: u64 = ["customers.csv", "orders.csv", "interactions.csv", "_manifest.json"]
        .iter()
        .map(|f| std::fs::metadata(root.market_fixtures("foobar-au").join(f)).unwrap().len())
        .sum();
    assert_eq!((raw["objects"].as_u64(), raw["bytes"].as_u64()), (Some(4), Some(fixture_bytes)));
    assert!(json["embedded_startup"]["startup_ms"].as_f64().unwrap() < 100.0, "{json}");

    // A second `up` of the same backend says so; another backend is refused with what to do.
    let again = root.run(&["aws", "up", "--aws", "embedded"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert!(
        stdout(&again).starts_with(&format!(
            "the embedded backend is already running at {} (embedded s3s-fs 0.14; `wb aws serve` pid {}, up ",
            state.endpoint, state.pid
        )),
        "{}",
        describe(&again)
    );
    let other = root.run(&["aws", "up", "--aws", "localstack"]);
    assert_eq!(other.status.code(), Some(2), "{}", describe(&other));
    assert_eq!(
        stderr(&other),
        format!(
            "error: the embedded backend is already running at {} (`wb aws serve` pid {}); stop it with `wb aws down` \
             before starting the localstack backend\n",
            state.endpoint, state.pid
        )
    );
    let wrong_down = root.run(&["aws", "down", "--aws", "localstack"]);
    assert_eq!(wrong_down.status.code(), Some(2), "{}", describe(&wrong_down));
    assert_eq!(
        stderr(&wrong_down),
        "error: the running backend is embedded, not localstack: `wb aws down` without --aws stops it\n"
    );

    let down = root.run(&["aws", "down"]);
    assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
    assert_eq!(
        stdout(&down),
        format!("stopped the embedded backend at {} (`wb aws serve` pid {})\n", state.endpoint, state.pid)
    );
    assert!(!alive(state.pid), "`wb aws serve` still runs");
    assert!(!root.path().join(".workbench/aws.json").exists());
    let log = std::fs::read_to_string(&state.log).unwrap();
    assert!(log.trim_end().ends_with("stopped the embedded backend (SIGTERM)"), "{log}");

    let down = root.run(&["aws", "down"]);
    assert_eq!((down.status.code(), stdout(&down)), (Some(0), format!("{NOT_RUNNING}\n")));
    let startups: Value =
        serde_json::from_str(&std::fs::read_to_string(root.path().join(".workbench/aws-startups.json")).unwrap())
            .unwrap();
    assert_eq!(startups["embedded"]["by"], "wb aws up");
}

#[test]
fn status_with_nothing_running_says_so_and_still_measures_the_embedded_start_up() {
    let root = Root::empty();
    let output = root.run(&["aws", "status"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[0],
        "no local AWS backend is running: `wb aws up [--aws embedded|localstack|container]` starts one"
    );
    assert_eq!(lines[1], "start-up times:");
    assert!(
        lines[2].starts_with("  embedded S3: ") && lines[2].ends_with(" ms (measured now; within the 100 ms target)"),
        "{text}"
    );
    assert_eq!(lines[3], "  LocalStack host process: not measured yet — run `wb aws up --aws localstack`");

    let json = root.run(&["aws", "status", "--json"]);
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["running"], Value::Null);
    assert_eq!(json["localstack_startup"], Value::Null);
    assert!(json["embedded_startup"]["startup_ms"].as_f64().unwrap() < 100.0, "{json}");

    // A LocalStack start-up recorded earlier (by `wb aws up` or `wb run`) is reported with when it was measured.
    std::fs::create_dir_all(root.path().join(".workbench")).unwrap();
    std::fs::write(
        root.path().join(".workbench/aws-startups.json"),
        r#"{"localstack": {"startup_ms": 3012.5, "version": "LocalStack 2026.3.0", "measured_at": "2026-11-15T10:15:00.123Z", "by": "wb run"}}"#,
    )
    .unwrap();
    let text = stdout(&root.run(&["aws", "status"]));
    assert!(
        text.ends_with(
            "\n  LocalStack host process: 3.0 s (measured 2026-11-15T10:15:00.123Z, by `wb run`; within the 20 s target)\n"
        ),
        "{text}"
    );
}

#[test]
fn a_stale_state_file_is_removed_with_a_note_and_wb_run_starts_its_own_backend() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let _down = AwsDown(&root);
    let state = up(&root, &[]);
    assert!(workbench::sys::send_signal(state.pid, "KILL"));
    wait_until("the serve process to die", Duration::from_secs(10), || !alive(state.pid));
    let note = format!(
        "note: removed the stale {}: its embedded backend's `wb aws serve` (pid {}) is gone\n",
        root.path().join(".workbench/aws.json").display(),
        state.pid
    );

    let run = root.run(&["run", "--market", "foobar-au", "--stage", "ingest"]);
    assert_eq!(run.status.code(), Some(0), "{}", describe(&run));
    assert_eq!(stderr(&run), note);
    assert!(stdout(&run).contains("\nS3 at http://127.0.0.1:"), "{}", describe(&run));
    assert!(!stdout(&run).contains("`wb aws up` left running"), "{}", describe(&run));
    assert!(!root.path().join(".workbench/aws.json").exists());

    // The same for `status` and `down`.
    let state = up(&root, &[]);
    assert!(workbench::sys::send_signal(state.pid, "KILL"));
    wait_until("the serve process to die", Duration::from_secs(10), || !alive(state.pid));
    let down = root.run(&["aws", "down"]);
    assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
    assert_eq!(
        (stdout(&down), stderr(&down)),
        (
            format!("{NOT_RUNNING}\n"),
            format!(
                "note: removed the stale {}: its embedded backend's `wb aws serve` (pid {}) is gone\n",
                root.path().join(".workbench/aws.json").display(),
                state.pid
            )
        )
    );
}

/// A loopback port nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

fn with_endpoint(command: std::process::Command, url: &str) -> std::process::Command {
    with_endpoint_as(command, url, localstack::Credentials::local())
}

/// `with_endpoint` with the credentials of a running backend (the embedded one has a random secret per start).
fn with_endpoint_as(
    mut command: std::process::Command,
    url: &str,
    local: localstack::Credentials,
) -> std::process::Command {
    command
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_ACCESS_KEY_ID", local.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", local.secret_access_key)
        .env("AWS_REGION", local.region);
    command
}

#[test]
fn an_endpoint_that_is_down_at_start_exits_2_naming_the_backend_the_endpoint_and_what_to_do() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let url = format!("http://127.0.0.1:{}", closed_port());
    let expected = format!(
        "error: backend `endpoint`: nothing answers at {url} (connection refused); start the S3 service there or \
         point AWS_ENDPOINT_URL at one that runs, or use `--aws embedded`\n"
    );

    let output =
        with_endpoint(root.wb(), &url).args(["run", "--aws", "endpoint", "--market", "foobar-au"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert_eq!(stderr(&output), expected);
    let run = &root.history().list_runs(1).unwrap()[0];
    assert_eq!(run.status, Status::Done(RunStatus::Error));
    assert_eq!(run.backend, "endpoint");
    assert_eq!(run.error.as_deref(), Some(expected["error: ".len()..].trim_end()));

    let json = with_endpoint(root.wb(), &url)
        .args(["run", "--aws", "endpoint", "--market", "foobar-au", "--json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(2), "{}", describe(&json));
    let summary = json_lines(&json).pop().unwrap();
    assert_eq!(summary["error"].as_str(), Some(expected["error: ".len()..].trim_end()));

    // `wb aws up --aws endpoint` starts nothing: it only checks, with the same message.
    let up = with_endpoint(root.wb(), &url).args(["aws", "up", "--aws", "endpoint"]).output().unwrap();
    assert_eq!((up.status.code(), stderr(&up)), (Some(2), expected.clone()), "{}", describe(&up));
    assert!(!root.path().join(".workbench/aws.json").exists());
}

#[test]
fn a_first_time_venv_creation_is_announced_before_it_starts() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let python = "/nonexistent/python3.13";
    let unusable = format!(
        "WB_PYTHON={python}: cannot be run: No such file or directory (os error 2); point WB_PYTHON at a Python >= \
         3.13 interpreter, or unset it to search PATH and pyenv"
    );
    let venv = root.wb().env("WB_PYTHON", python).args(["aws", "venv"]).output().unwrap();
    assert_eq!(venv.status.code(), Some(2), "{}", describe(&venv));
    assert_eq!(stderr(&venv), format!("{VENV_MESSAGE}\nerror: {unusable}\n"));
    assert_eq!(VENV_MESSAGE, "creating the LocalStack venv (first time, ~90 s)…");

    for args in
        [&["run", "--aws", "localstack", "--market", "foobar-au", "--json"][..], &["aws", "up", "--aws", "localstack"]]
    {
        let output = root.wb().env("WB_PYTHON", python).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
        assert_eq!(
            stderr(&output),
            format!("{VENV_MESSAGE}\nerror: cannot start the localstack S3 backend: {unusable}\n"),
            "{args:?}"
        );
    }
    assert!(!root.path().join(".workbench/aws.json").exists());
}

/// What a run whose backend was killed mid-run printed.
struct Killed {
    code: Option<i32>,
    lines: Vec<Value>,
    stderr: String,
    /// The stage that was running when the backend died.
    stage: Stage,
    cache_key: String,
}

const LATE_STAGES: [&str; 4] = ["features", "score", "recommend", "export"];

/// Runs `wb run ... --json` and SIGKILLs `pid` as soon as a stage from `features` on starts.
fn run_and_kill(root: &Root, args: &[&str], pid: u32) -> Killed {
    let mut child = root.wb().args(args).spawn().unwrap();
    let mut err = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let mut lines = Vec::new();
    let mut killed = false;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let value: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if !killed && value["event"] == "stage_started" && LATE_STAGES.contains(&value["stage"].as_str().unwrap()) {
            assert!(workbench::sys::send_signal(pid, "KILL"), "the backend (pid {pid}) was already gone");
            killed = true;
        }
        lines.push(value);
    }
    let code = child.wait().unwrap().code();
    let stderr = err.join().unwrap();
    assert!(killed, "no stage from features on started:\n{lines:#?}\n{stderr}");
    let failed = events(&lines, "stage_finished")
        .into_iter()
        .find(|e| e["record"]["status"] == "fail")
        .unwrap_or_else(|| panic!("no stage failed:\n{lines:#?}\n{stderr}"))
        .clone();
    Killed {
        code,
        stage: failed["record"]["stage"].as_str().unwrap().parse().unwrap(),
        cache_key: failed["record"]["cache_key"].as_str().unwrap().to_string(),
        lines,
        stderr,
    }
}

/// Checks what a run whose `backend` at `endpoint` died says and records.
fn assert_failed_cleanly(root: &Root, killed: &Killed, backend: Backend, endpoint: &str) {
    let context = format!("{:#?}\n{}", killed.lines, killed.stderr);
    assert_eq!(killed.code, Some(2), "{context}");
    let finished = events(&killed.lines, "stage_finished");
    let failed = finished.iter().find(|e| e["record"]["status"] == "fail").unwrap();
    let error = failed["record"]["error"].as_str().unwrap();
    assert!(error.starts_with("[environment] "), "{error}");
    let output_prefix = format!("s3://work/foobar-au/{}/{}/", killed.stage, killed.cache_key);
    assert!(error.contains(&output_prefix) || killed.stage == Stage::Export, "{error}");
    assert!(error.contains(&format!("{endpoint}/")), "the error names the endpoint: {error}");
    assert_eq!(finished.last(), Some(failed), "no stage ran after the failed one");
    let run_finished = events(&killed.lines, "run_finished");
    assert_eq!(run_finished[0]["status"], "error", "{context}");

    let lost = lost_message(backend, endpoint, "connection refused");
    assert!(killed.stderr.ends_with(&format!("error: {lost}\n")), "{context}");
    let summary = killed.lines.last().unwrap();
    assert_eq!((summary["event"].as_str(), summary["exit_code"].as_u64()), (Some("summary"), Some(2)));
    assert_eq!(summary["error"].as_str(), Some(lost.as_str()));

    let history = root.history();
    let run = &history.list_runs(1).unwrap()[0];
    assert_eq!(run.status, Status::Done(RunStatus::Error), "recorded as failed, not running");
    assert!(run.finished_at.is_some());
    assert_eq!(run.error.as_deref(), Some(lost.as_str()));
    assert_eq!(history.run_markets(&run.run_id).unwrap()[0].status, Status::Done(RunStatus::Error));
    let stages = history.run_stages(&run.run_id).unwrap();
    assert_eq!(stages.last().unwrap().stage, killed.stage.name());
}

/// Whether the cache marker of `stage` with `key` exists at `endpoint`.
fn marker_exists(endpoint: &S3Endpoint, stage: Stage, key: &str) -> bool {
    let store = endpoint.object_store("work").unwrap();
    let marker = pipeline_core::engine::marker_key("foobar-au", stage, key);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    match runtime.block_on(store.head(&object_store::path::Path::from(marker.as_str()))) {
        Ok(_) => true,
        Err(object_store::Error::NotFound { .. }) => false,
        Err(e) => panic!("head {marker}: {e}"),
    }
}

/// A later run recomputes the killed stage (and passes), which then has its marker.
fn assert_recomputed(root: &Root, killed: &Killed, args: &[&str], endpoint: &S3Endpoint) {
    let rerun = root.run(args);
    assert_eq!(rerun.status.code(), Some(0), "{}", describe(&rerun));
    let lines = json_lines(&rerun);
    let record = events(&lines, "stage_finished")
        .into_iter()
        .find(|e| e["record"]["stage"] == killed.stage.name())
        .unwrap_or_else(|| panic!("{} did not run: {}", killed.stage, describe(&rerun)))
        .clone();
    assert_eq!(record["record"]["cache_key"], killed.cache_key.as_str());
    assert_eq!(record["record"]["cache_hit"], false, "the killed stage is recomputed");
    assert!(marker_exists(endpoint, killed.stage, &killed.cache_key));
}

#[test]
fn killing_the_embedded_backend_mid_run_fails_the_stage_records_the_run_and_leaves_no_marker() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let _down = AwsDown(&root);
    let state = up(&root, &[]);
    let killed = run_and_kill(&root, &["run", "--market", "foobar-au", "--json"], state.pid);
    assert_failed_cleanly(&root, &killed, Backend::Embedded, &state.endpoint);

    // Restarted on the same data (`.workbench/s3`): the stages that finished kept their markers, the killed one
    // has none, so the next run recomputes it.
    let again = root.run(&["aws", "up"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert_eq!(
        stderr(&again),
        format!(
            "note: removed the stale {}: its embedded backend's `wb aws serve` (pid {}) is gone\n",
            root.path().join(".workbench/aws.json").display(),
            state.pid
        )
    );
    let restarted = aws_state(&root);
    let endpoint = restarted.s3_endpoint();
    let ingest = events(&killed.lines, "stage_finished")[0]["record"].clone();
    assert_eq!(ingest["stage"], "ingest");
    assert!(marker_exists(&endpoint, Stage::Ingest, ingest["cache_key"].as_str().unwrap()), "same data");
    assert!(!marker_exists(&endpoint, killed.stage, &killed.cache_key), "the killed {} looks complete", killed.stage);
    assert_recomputed(&root, &killed, &["run", "--market", "foobar-au", "--json"], &endpoint);
}

#[test]
fn killing_localstack_mid_run_fails_the_stage_records_the_run_and_leaves_no_marker() {
    let root = Root::with_fixtures(&["foobar-au"]);
    if !common::link_localstack_venv(&root) {
        return;
    }
    let _down = AwsDown(&root);
    let state = up(&root, &["--aws", "localstack"]);
    assert_eq!(state.version, "LocalStack 2026.3.0");
    assert!(state.startup_ms < 20_000.0, "LocalStack start-up {} ms", state.startup_ms);
    let localstack_pid = state.localstack_pid.expect("the state file names the LocalStack process");
    assert!(common_cmdline(localstack_pid).contains("localstack.runtime.main"));

    let args = ["run", "--aws", "localstack", "--market", "foobar-au", "--json"];
    let killed = run_and_kill(&root, &args, localstack_pid);
    assert_failed_cleanly(&root, &killed, Backend::LocalStack, &state.endpoint);

    // `wb aws serve` notices, stops, and removes the state file; its log says why.
    wait_until("`wb aws serve` to stop", Duration::from_secs(30), || !root.path().join(".workbench/aws.json").exists());
    wait_until("`wb aws serve` to exit", Duration::from_secs(30), || !alive(state.pid));
    let log = std::fs::read_to_string(&state.log).unwrap();
    assert!(
        log.ends_with(&format!(
            "error: the LocalStack process (pid {localstack_pid}) exited unexpectedly; stopped serving: `wb aws up \
             --aws localstack` starts a new one\n"
        )),
        "{log}"
    );

    // Restarted on the same state directory: no marker for the killed stage, and a later run recomputes it.
    let restarted = up(&root, &["--aws", "localstack"]);
    let endpoint = restarted.s3_endpoint();
    assert!(!marker_exists(&endpoint, killed.stage, &killed.cache_key), "the killed {} looks complete", killed.stage);
    assert_recomputed(&root, &killed, &args, &endpoint);
    let status = root.run(&["aws", "status"]);
    assert!(
        stdout(&status).contains(&format!(
            "\n  LocalStack host process: {} (measured {}, the running backend; within the 20 s target)\n",
            startup_text(restarted.startup_ms),
            restarted.started_at
        )),
        "{}",
        describe(&status)
    );
}

fn common_cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// A TCP proxy to `upstream` (`host:port`) that answers the first request matching `fail` with HTTP 503 (and
/// closes that connection), as an overloaded S3 does; every other connection is passed through untouched.
/// Returns its URL and how many requests it failed.
fn flaky_proxy(upstream: String, fail: fn(&str) -> bool) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let failed = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&failed);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let (upstream, counter) = (upstream.clone(), Arc::clone(&counter));
            std::thread::spawn(move || {
                // The first request's head decides; the connection is then spliced through as it is.
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match client.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let request_line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_string();
                if fail(&request_line) && counter.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                    let _ = client.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    return;
                }
                let Ok(mut server) = TcpStream::connect(&upstream) else { return };
                if server.write_all(&head).is_err() {
                    return;
                }
                let (Ok(mut client_reader), Ok(mut server_writer)) = (client.try_clone(), server.try_clone()) else {
                    return;
                };
                let forward = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut client_reader, &mut server_writer);
                    let _ = server_writer.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Both);
                let _ = forward.join();
            });
        }
    });
    (url, failed)
}

#[test]
fn a_transient_503_is_retried_and_every_retry_is_a_log_line() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let _down = AwsDown(&root);
    // The real S3 behind the proxy: an embedded one left running by `wb aws up`.
    let state = up(&root, &[]);
    let upstream = state.endpoint.trim_start_matches("http://").to_string();
    let (url, failed) = flaky_proxy(upstream, |line| line.starts_with("GET /raw/foobar-au/_manifest.json "));

    let credentials = state.s3_endpoint().credentials;
    let output = with_endpoint_as(root.wb(), &url, credentials.clone())
        .args(["run", "--aws", "endpoint", "--market", "foobar-au", "--stage", "ingest", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(failed.load(Ordering::SeqCst), 1, "the proxy failed one request");
    let lines = json_lines(&output);
    let retries: Vec<&Value> =
        events(&lines, "log").into_iter().filter(|e| e["message"].as_str().unwrap().starts_with("S3 retry ")).collect();
    assert_eq!(
        retries,
        [&serde_json::json!({
            "event": "log",
            "market": "foobar-au",
            "stage": null,
            "level": "warn",
            "message": format!("S3 retry 1 of GET {url}/raw/foobar-au/_manifest.json after HTTP 503 Service Unavailable"),
        })]
    );
    assert_eq!(root.history().list_runs(1).unwrap()[0].backend, "endpoint");

    // Without --json the retry shows under the market.
    failed.store(0, Ordering::SeqCst);
    let human = with_endpoint_as(root.wb(), &url, credentials)
        .args(["run", "--aws", "endpoint", "--market", "foobar-au", "--stage", "ingest"])
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(0), "{}", describe(&human));
    assert!(
        stdout(&human).contains(&format!(
            "\nfoobar-au  S3 retry 1 of GET {url}/raw/foobar-au/_manifest.json after HTTP 503 Service Unavailable\n"
        )),
        "{}",
        describe(&human)
    );
}
