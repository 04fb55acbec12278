//! `wb doctor`: the real binary in a temp workspace, as text and JSON; the checks whose outcome is certain here
//! (the Rust toolchain this test was built with, a PATH without cargo-llvm-cov, no venv, a corrupt history, no
//! backend) asserted line by line; Docker checks against sockets that do not exist or never answer.

mod common;

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Root, describe, stdout};
use serde_json::Value;
use workbench::services::doctor::{self, Status};

/// Every check, in the order `wb doctor` prints them inside a workspace.
const NAMES: [&str; 12] = [
    "rustc",
    "cargo",
    "cargo-llvm-cov",
    "llvm-tools",
    "python",
    "localstack-venv",
    "docker",
    "localstack-image",
    "workspace",
    "history",
    "backend",
    "disk",
];

/// The cargo that builds these tests (the toolchain's own binary, not a rustup proxy), and its `rustc`.
fn toolchain_bin() -> PathBuf {
    Path::new(env!("CARGO")).parent().unwrap().to_path_buf()
}

/// What the toolchain's `rustc --version` says, e.g. `1.91.0`.
fn rustc_version() -> String {
    let out = Command::new(toolchain_bin().join("rustc")).arg("--version").output().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().nth(1).unwrap().to_string()
}

/// A PATH holding only `cargo` and `rustc` (links to this toolchain's) and `df`, and an empty CARGO_HOME, so no cargo
/// subcommand such as `cargo-llvm-cov` and no `rustup` can be found.
fn bare_toolchain(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["cargo", "rustc"] {
        std::os::unix::fs::symlink(toolchain_bin().join(tool), bin.join(tool)).unwrap();
    }
    let df = std::env::split_paths(&std::env::var_os("PATH").unwrap()).map(|d| d.join("df")).find(|p| p.is_file());
    std::os::unix::fs::symlink(df.expect("df on PATH"), bin.join("df")).unwrap();
    let cargo_home = dir.join("cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();
    (bin, cargo_home)
}

fn doctor(root: &Root, args: &[&str], path: &Path, cargo_home: &Path) -> std::process::Output {
    root.wb().arg("doctor").args(args).env("PATH", path).env("CARGO_HOME", cargo_home).output().unwrap()
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn json_lists_every_check_with_stable_fields_and_the_certain_outcomes() {
    let root = Root::empty();
    let tools = tempfile::tempdir().unwrap();
    let (bin, cargo_home) = bare_toolchain(tools.path());
    let output = doctor(&root, &["--json"], &bin, &cargo_home);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();

    assert_eq!(report["ok"], true);
    let names: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, NAMES);
    for c in report["checks"].as_array().unwrap() {
        let mut keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["fix", "found", "name", "needed_for", "required", "status"], "{c}");
        if c["status"] == "ok" {
            assert!(c["fix"].is_null(), "no fix when ok: {c}");
        }
    }

    let version = rustc_version();
    for tool in ["rustc", "cargo"] {
        let c = check(&report, tool);
        assert_eq!((&c["status"], &c["required"], &c["found"]), (&"ok".into(), &true.into(), &version.clone().into()));
    }
    let c = check(&report, "cargo-llvm-cov");
    assert_eq!(
        (&c["status"], &c["required"], &c["found"], &c["fix"]),
        (&"warn".into(), &false.into(), &"not installed".into(), &"cargo install cargo-llvm-cov --locked".into())
    );
    let c = check(&report, "llvm-tools");
    assert_eq!(c["found"], "cannot ask rustup: rustup not found on PATH");
    assert_eq!(c["fix"], "rustup component add llvm-tools-preview");
    let c = check(&report, "localstack-venv");
    assert_eq!(
        (&c["status"], &c["found"], &c["fix"], &c["needed_for"]),
        (
            &"warn".into(),
            &"no venv at .workbench/localstack-venv".into(),
            &"wb aws venv".into(),
            &"--aws localstack".into()
        )
    );
    let c = check(&report, "history");
    assert_eq!((&c["status"], &c["required"]), (&"ok".into(), &true.into()));
    assert_eq!(c["found"], "none yet (.workbench/history.sqlite is created by the first `wb run`)");
    assert_eq!(check(&report, "backend")["found"], "none running (wb run starts the embedded S3 itself)");
    let root_path = root.path().canonicalize().unwrap();
    assert_eq!(check(&report, "workspace")["found"], root_path.display().to_string());
    let disk = check(&report, "disk")["found"].as_str().unwrap();
    assert!(disk.contains(&format!(" free on {}", root_path.display())), "{disk}");
    assert!(!root.path().join(".workbench").exists(), "the doctor creates nothing");
}

#[test]
fn text_says_what_is_missing_and_the_exact_command_that_fixes_it() {
    let root = Root::empty();
    let tools = tempfile::tempdir().unwrap();
    let (bin, cargo_home) = bare_toolchain(tools.path());
    let output = doctor(&root, &[], &bin, &cargo_home);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    let version = rustc_version();
    for expected in [
        format!("ok    rustc             required               {version}"),
        format!("ok    cargo             required               {version}"),
        "warn  cargo-llvm-cov    wb coverage, wb check  not installed\n      fix: cargo install cargo-llvm-cov --locked"
            .to_string(),
        "warn  localstack-venv   --aws localstack       no venv at .workbench/localstack-venv\n      fix: wb aws venv"
            .to_string(),
        "ok    history           required               none yet (.workbench/history.sqlite is created by the first \
         `wb run`)"
            .to_string(),
        "ok    backend           wb run (reuses it)     none running (wb run starts the embedded S3 itself)".to_string(),
    ] {
        assert!(text.contains(&format!("{expected}\n")), "missing {expected:?} in\n{text}");
    }
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("ok: everything required is in place; ")
            && last.ends_with(" (needed only for what they name)"),
        "{last}"
    );
}

#[test]
fn a_corrupt_history_fails_with_its_path_and_the_command_that_moves_it_away() {
    let root = Root::empty();
    let history = root.path().join(".workbench/history.sqlite");
    std::fs::create_dir_all(history.parent().unwrap()).unwrap();
    std::fs::write(&history, b"this is not an SQLite database, just garbage bytes ".repeat(100)).unwrap();
    let tools = tempfile::tempdir().unwrap();
    let (bin, cargo_home) = bare_toolchain(tools.path());

    let output = doctor(&root, &[], &bin, &cargo_home);
    assert_eq!(output.status.code(), Some(1), "a required check failed: {}", describe(&output));
    let text = stdout(&output);
    let absolute = root.path().canonicalize().unwrap().join(".workbench/history.sqlite");
    let expected = format!(
        "FAIL  history           required               .workbench/history.sqlite does not open: file is not a \
         database\n      fix: mv {0} {0}.broken\n",
        absolute.display()
    );
    assert!(text.contains(&expected), "missing {expected:?} in\n{text}");
    assert_eq!(text.lines().last(), Some("FAIL: 1 required check failed; run the fix above"));

    let output = doctor(&root, &["--json"], &bin, &cargo_home);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(check(&report, "history")["status"], "fail");
}

#[test]
fn an_unreadable_backend_state_warns_and_says_wb_aws_down() {
    let root = Root::empty();
    let state = root.path().join(".workbench/aws.json");
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::fs::write(&state, "{").unwrap();
    let tools = tempfile::tempdir().unwrap();
    let (bin, cargo_home) = bare_toolchain(tools.path());
    let output = doctor(&root, &["--json"], &bin, &cargo_home);
    assert_eq!(output.status.code(), Some(0), "an optional check only warns: {}", describe(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let c = check(&report, "backend");
    assert_eq!((&c["status"], &c["fix"]), (&"warn".into(), &"wb aws down".into()));
    let found = c["found"].as_str().unwrap();
    assert!(
        found
            .ends_with(".workbench/aws.json is not a valid state file: EOF while parsing an object at line 1 column 1"),
        "{found}"
    );
}

#[test]
fn a_missing_docker_socket_is_reported_with_the_start_command() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}", dir.path().join("docker.sock").display());
    let [docker, image] = doctor::docker(&host, None, false, Duration::from_secs(5));
    assert_eq!(docker.status, Status::Warn);
    assert!(docker.found.starts_with(&format!("not reachable at {host}: ")), "{}", docker.found);
    assert_eq!(docker.fix.as_deref(), Some("sudo systemctl start docker"));
    assert_eq!(
        (image.found.as_str(), image.fix.as_deref()),
        ("unknown: Docker is not reachable", Some("just localstack-image"))
    );

    let [required, _] = doctor::docker(&host, None, true, Duration::from_secs(5));
    assert_eq!(required.status, Status::Fail, "required when workbench.toml picks the container backend");
}

#[test]
fn a_docker_that_never_answers_is_given_up_on() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("hung.sock");
    let _listener = UnixListener::bind(&socket).unwrap(); // accepts connections, never answers
    let host = format!("unix://{}", socket.display());
    let [docker, image] = doctor::docker(&host, None, false, Duration::from_millis(300));
    assert_eq!(docker.found, format!("not answering at {host}: did not answer within 300 ms"));
    assert_eq!(docker.fix.as_deref(), Some("sudo systemctl restart docker"));
    assert_eq!(image.status, Status::Warn);
}

#[test]
fn a_workspace_that_picks_localstack_requires_its_venv() {
    let root = Root::empty();
    std::fs::write(root.path().join("workbench.toml"), "[aws]\nbackend = \"localstack\"\n").unwrap();
    let tools = tempfile::tempdir().unwrap();
    let (bin, cargo_home) = bare_toolchain(tools.path());
    let output = doctor(&root, &[], &bin, &cargo_home);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let text = stdout(&output);
    let expected = "FAIL  localstack-venv   required               no venv at .workbench/localstack-venv\n      fix: wb \
                    aws venv\n";
    assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    let docker = text.lines().find(|l| l.contains(" docker ")).unwrap();
    assert!(docker.contains("  --aws container  "), "docker stays optional: {docker}");
}
