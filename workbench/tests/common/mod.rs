//! Shared harness for the `wb` integration tests: a temp directory laid out as a workspace root (a
//! `Cargo.toml` with `[workspace]`, `markets/`, `fixtures/data/<market>/`), and the real `wb` binary run in it.

#![allow(dead_code)]

pub mod tui;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use workbench::history::History;

/// The as_of of the fixtures the harness provides.
pub const AS_OF: &str = "2026-11-15";

/// A temp workspace root.
pub struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    /// An empty workspace root (no fixtures).
    pub fn empty() -> Root {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
        std::fs::create_dir(dir.path().join("markets")).unwrap();
        Root { dir }
    }

    /// A workspace root with fixtures for `markets`: the committed ones when present, else minimal ones.
    pub fn with_fixtures(markets: &[&str]) -> Root {
        let root = Root::empty();
        for market in markets {
            let target = root.market_fixtures(market);
            std::fs::create_dir_all(&target).unwrap();
            let committed = committed_fixtures().join(market);
            if committed.join("_manifest.json").is_file() {
                for name in ["customers.csv", "orders.csv", "interactions.csv", "_manifest.json"] {
                    std::fs::copy(committed.join(name), target.join(name)).unwrap();
                }
            } else {
                assert_eq!(*market, "foobar-au", "minimal fixtures are canonical (AU) only");
                write_minimal_fixture(&target);
            }
        }
        root
    }

    /// The root directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `fixtures/data/<market>` under the root.
    pub fn market_fixtures(&self, market: &str) -> PathBuf {
        self.path().join("fixtures").join("data").join(market)
    }

    /// `wb` with the root as working directory and no test hooks inherited.
    pub fn wb(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wb"));
        cmd.current_dir(self.path())
            .env_remove("WB_RUNNER_ABORT_AFTER_STAGE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `wb` with `args` and waits.
    pub fn run(&self, args: &[&str]) -> Output {
        self.wb().args(args).output().expect("wb runs")
    }

    /// The run history.
    pub fn history(&self) -> History {
        History::open(&self.path().join(".workbench/history.sqlite")).expect("history opens")
    }

    /// The embedded S3's file for `bucket/key`.
    pub fn object_file(&self, bucket: &str, key: &str) -> PathBuf {
        self.path().join(".workbench/s3").join(bucket).join(key)
    }
}

/// The repository's committed fixtures.
pub fn committed_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fixtures").join("data")
}

/// A small canonical (AU format) fixture: 60 customers with an order and an email interaction each.
pub fn write_minimal_fixture(dir: &Path) {
    let mut customers =
        String::from("customer_id,segment,region,language,signup_date,email_opt_in,sms_opt_in,phone_opt_in\n");
    let mut orders = String::from("order_id,customer_id,order_date,quantity,amount\n");
    let mut interactions = String::from("interaction_id,customer_id,channel,ts,opened,clicked\n");
    for i in 1..=60 {
        let segment = ["A", "B", "C"][i % 3];
        customers.push_str(&format!("C{i:06},{segment},NSW,en,2024-01-{:02},true,true,true\n", i % 28 + 1));
        for j in 0..2 {
            orders.push_str(&format!("O{i:05}{j},C{i:06},2026-11-{:02},{},{}.50\n", j * 5 + 3, j + 1, i * 3));
            interactions.push_str(&format!(
                "I{i:05}{j},C{i:06},email,2026-11-{:02} 09:30:00,{},{}\n",
                j * 4 + 5,
                i % 2 == 0,
                i % 5 == 0
            ));
        }
    }
    std::fs::write(dir.join("customers.csv"), customers).unwrap();
    std::fs::write(dir.join("orders.csv"), orders).unwrap();
    std::fs::write(dir.join("interactions.csv"), interactions).unwrap();
    std::fs::write(dir.join("_manifest.json"), format!("{{\"as_of\": \"{AS_OF}\"}}\n")).unwrap();
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every stdout line parsed as JSON; panics on a line that is not.
pub fn json_lines(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The lines whose `event` is `name`.
pub fn events<'a>(lines: &'a [Value], name: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["event"] == name).collect()
}

/// A description of a finished `wb` for assertion messages.
pub fn describe(output: &Output) -> String {
    format!("status {:?}\n--- stdout\n{}\n--- stderr\n{}", output.status, stdout(output), stderr(output))
}

/// `.workbench/aws.json` of a root, parsed (the backend `wb aws up` left running).
pub fn aws_state(root: &Root) -> workbench::services::aws::state::AwsState {
    let path = root.path().join(".workbench/aws.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Runs `wb aws down` in its root when dropped, so a failing test leaves no backend running.
pub struct AwsDown<'a>(pub &'a Root);

impl Drop for AwsDown<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["aws", "down"]);
    }
}

/// The workspace's own `.workbench/`, where the LocalStack venv is cached for every test run.
pub fn shared_state_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    workspace.canonicalize().unwrap_or(workspace).join(".workbench")
}

/// `CI=true`: missing prerequisites fail the test instead of skipping it.
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Makes the LocalStack venv usable in `root`: ensures it in the workspace's `.workbench/` (cached; about 90 s
/// the first time) and links it into the root's `.workbench/`. `false` (after saying what is missing) when no
/// Python >= 3.13 is here or the venv cannot be built; with `CI=true` that is a failure instead.
pub fn link_localstack_venv(root: &Root) -> bool {
    let shared = shared_state_dir();
    match localstack::ensure_venv(&shared) {
        Ok(venv) => {
            let state = root.path().join(".workbench");
            std::fs::create_dir_all(&state).unwrap();
            std::os::unix::fs::symlink(&venv, localstack::venv_dir(&state)).unwrap();
            true
        }
        Err(e @ (localstack::LocalAwsError::PythonNotFound { .. } | localstack::LocalAwsError::Venv { .. })) => {
            assert!(!on_ci(), "CI=true, so the LocalStack venv is required: {e}");
            eprintln!("SKIPPED (set CI=true to make this a failure): {e}");
            false
        }
        Err(e) => panic!("{e}"),
    }
}
