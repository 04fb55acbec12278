//! Two `wb` processes on one workspace share one embedded S3: the first owns `.workbench/s3`, the second attaches
//! to it (or waits and takes over), and neither corrupts the other's objects. Before, each process started its own
//! server over the same folder; their temporary files collided and a run read back another's bytes.

#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{AS_OF, Root, describe, stderr};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/golden")
}

/// Every file under `dir` whose name looks like a temporary file.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                pending.push(path);
            } else if name.contains(".tmp.") || name.ends_with(".part") {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn two_runs_started_together_share_one_store_and_both_export_the_golden_files() {
    let root = Root::with_fixtures(&markets::ids());
    if !root.market_fixtures("foobar-br").join("_manifest.json").is_file() {
        panic!("the committed fixtures are missing: run `cargo run -p fixtures -- generate`");
    }
    let first = root.wb().args(["run", "--all"]).spawn().unwrap();
    let second = root.wb().args(["run", "--all"]).spawn().unwrap();
    let (first, second) = (first.wait_with_output().unwrap(), second.wait_with_output().unwrap());
    for output in [&first, &second] {
        assert_eq!(output.status.code(), Some(0), "{}", describe(output));
    }
    // One of them owned the store; the other attached to it, or (if the first was already done) owned it after.
    let attached =
        [&first, &second].iter().filter(|o| stderr(o).contains("attached to the embedded S3 of pid")).count();
    assert!(attached <= 1, "{}\n{}", describe(&first), describe(&second));
    eprintln!("runs attached to the other's embedded S3: {attached}");

    for market in markets::ids() {
        let export = root.object_file("exports", &format!("{market}/{AS_OF}/recommendations.csv"));
        let golden = golden_dir().join(market).join("export/recommendations.csv");
        assert!(
            std::fs::read(&export).unwrap() == std::fs::read(&golden).unwrap(),
            "{} differs from {}",
            export.display(),
            golden.display()
        );
        for name in ["customers.csv", "orders.csv", "interactions.csv", "_manifest.json"] {
            let raw = std::fs::read(root.object_file("raw", &format!("{market}/{name}"))).unwrap();
            assert!(raw == std::fs::read(root.market_fixtures(market).join(name)).unwrap(), "raw {market}/{name}");
        }
    }
    let state = root.path().join(".workbench");
    assert_eq!(temp_files(&state.join("s3")), Vec::<PathBuf>::new());
    assert!(!state.join("s3-owner.json").exists(), "the owner removes its owner file when it stops");

    // A third run finds the store free, owns it, and serves every stage from the cache both left behind.
    let third = root.run(&["run", "--all"]);
    assert_eq!(third.status.code(), Some(0), "{}", describe(&third));
    assert!(!stderr(&third).contains("attached to"), "{}", describe(&third));
}

/// A runner script that waits until `gate` exists, then runs this `wb`'s own runner.
fn gated_runner(root: &Root, name: &str, gate: &Path) -> PathBuf {
    let script = root.path().join(name);
    workbench_testkit::write_executable(
        &script,
        &format!(
            "#!/bin/sh\nwhile [ ! -e '{}' ]; do sleep 0.05; done\nexec '{}' \"$@\"\n",
            gate.display(),
            env!("CARGO_BIN_EXE_wb")
        ),
    );
    script
}

/// Reads `stderr` line by line until one contains `needle`; returns the lines read.
fn read_until(stderr: &mut impl BufRead, needle: &str) -> String {
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.contains(needle) {
            return seen;
        }
        line.clear();
    }
    panic!("no line with {needle:?} in:\n{seen}");
}

#[test]
fn a_run_attaches_to_the_embedded_s3_another_run_owns_and_the_owner_waits_for_it() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let (owner_gate, attached_gate) = (root.path().join("owner-gate"), root.path().join("attached-gate"));
    let owner_runner = gated_runner(&root, "owner-runner.sh", &owner_gate);
    let attached_runner = gated_runner(&root, "attached-runner.sh", &attached_gate);
    let ingest = ["run", "--market", "foobar-au", "--stage", "ingest", "--runner"];

    // The owner starts the embedded S3 and records itself (mode 0600: the file holds the secret).
    let mut owner = root.wb().args(ingest).arg(&owner_runner).spawn().unwrap();
    let mut owner_err = BufReader::new(owner.stderr.take().unwrap());
    let owner_file = root.path().join(".workbench/s3-owner.json");
    let mut owner_out = BufReader::new(owner.stdout.take().unwrap());
    let mut said = String::new();
    while !said.contains("fixtures from") {
        assert!(owner_out.read_line(&mut said).unwrap() > 0, "the owner stopped early: {said}");
    }
    let mode = std::fs::metadata(&owner_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the owner file holds the secret");
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(&owner_file).unwrap()).unwrap();
    assert_eq!(state["pid"], owner.id());
    assert_eq!(state["by"], "wb run");

    // A second run cannot start a server over the locked folder: it attaches, and says so.
    let mut attached = root.wb().args(ingest).arg(&attached_runner).spawn().unwrap();
    let mut attached_err = BufReader::new(attached.stderr.take().unwrap());
    let note = read_until(&mut attached_err, "attached to");
    assert_eq!(
        note,
        format!(
            "attached to the embedded S3 of pid {} (wb run) at {}: it keeps serving until this process is done\n",
            state["pid"],
            state["endpoint"].as_str().unwrap()
        )
    );

    // The owner finishes first, but keeps serving until the attached run is done.
    std::fs::write(&owner_gate, "").unwrap();
    let waiting = read_until(&mut owner_err, "waiting for the processes attached");
    assert!(waiting.ends_with(&format!(
        "waiting for the processes attached to this embedded S3 to finish before stopping it (they read {})\n",
        owner_file.display()
    )));
    std::fs::write(&attached_gate, "").unwrap();
    let attached = attached.wait_with_output().unwrap();
    assert_eq!(attached.status.code(), Some(0), "{}", describe(&attached));
    assert_eq!(owner.wait().unwrap().code(), Some(0));
    assert!(!owner_file.exists(), "the owner removes its file when it stops");
    assert!(root.object_file("work", "foobar-au").is_dir());
}
