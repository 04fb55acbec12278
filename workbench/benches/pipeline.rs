//! Pipeline benchmark (`just bench`): one market on large raw fixtures (default 300 MB of CSV), through the real
//! `wb` binary and the embedded S3, in a scratch workspace so the repository's state is untouched.
//!
//! It runs `wb run` three times and prints the figures: a first run (loads the fixtures into S3 and computes),
//! a `--no-cache` run (every stage computed; the figure the 20 s target is about), and an unchanged re-run (every
//! stage from cache; the 2 s target), with per-stage durations and the peak memory of the runner and of `wb`.
//! Then it measures what the history and drift checks cost (issue 19, target at most 5 %): `PAIRS` more
//! `--no-cache` runs with the checks and as many without (`WB_NO_HISTORY_CHECKS`), interleaved so drift in the
//! machine's speed hits both alike, and prints both medians and the overhead.
//!
//! Usage: `cargo bench -p workbench --bench pipeline -- [--fixtures DIR] [--market ID]`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

const FULL_TARGET: Duration = Duration::from_secs(20);
const CACHED_TARGET: Duration = Duration::from_secs(2);
const MEMORY_TARGET: u64 = 4 << 30;
/// What the history and drift checks may add to a full run.
const QUALITY_OVERHEAD_TARGET: f64 = 0.05;
/// Interleaved pairs of full runs with and without those checks.
const PAIRS: usize = 3;

struct Measured {
    wall: Duration,
    stages: Vec<(String, u64, bool, u64)>,
    runner_rss: u64,
    wb_rss: u64,
    status: String,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut fixtures = root.join("fixtures/large");
    let mut market = "foobar-au".to_string();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--fixtures" => fixtures = PathBuf::from(args.next().expect("--fixtures DIR")),
            "--market" => market = args.next().expect("--market ID"),
            "--bench" => {}
            other => panic!("unknown argument {other}: use --fixtures DIR and --market ID"),
        }
    }
    let fixtures = if fixtures.is_absolute() { fixtures } else { root.join(fixtures) };
    let market_dir = fixtures.join(&market);
    if !market_dir.is_dir() {
        eprintln!(
            "no fixtures at {}: generate them with `cargo run --release -p fixtures -- generate --target-mb 300`",
            market_dir.display()
        );
        std::process::exit(2);
    }
    let raw_bytes: u64 = std::fs::read_dir(&market_dir)
        .expect("fixture dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();

    let scratch = tempfile::tempdir().expect("scratch workspace");
    std::fs::write(scratch.path().join("Cargo.toml"), "[workspace]\n").unwrap();
    std::fs::create_dir(scratch.path().join("markets")).unwrap();

    println!("pipeline benchmark: {market}, {:.0} MB of raw CSV, {} cores", raw_bytes as f64 / 1e6, cores());
    let first = run(scratch.path(), &fixtures, &market, &["--no-cache"]);
    report("first run (load fixtures into S3 + compute)", &first);
    let full = run(scratch.path(), &fixtures, &market, &["--no-cache"]);
    report("full run (--no-cache, fixtures already loaded)", &full);
    let cached = run(scratch.path(), &fixtures, &market, &[]);
    report("unchanged re-run (all stages cached)", &cached);

    // The history and drift checks: the runs above gave the market history and a drift baseline.
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..PAIRS {
        with.push(run(scratch.path(), &fixtures, &market, &["--no-cache"]).wall.as_secs_f64());
        without.push(run_with_env(scratch.path(), &fixtures, &market, &["--no-cache"], true).wall.as_secs_f64());
    }
    let (with, without) = (median(&mut with), median(&mut without));
    let overhead = with / without - 1.0;
    println!("\nhistory and drift checks, {PAIRS} interleaved pairs of --no-cache runs (median wall time):");
    println!("  with the checks     {with:>7.2} s");
    println!("  without (WB_NO_HISTORY_CHECKS=1) {without:>7.2} s");
    println!("  overhead            {:>+7.1} %", overhead * 100.0);

    println!();
    verdict("full run wall time", full.wall.as_secs_f64(), FULL_TARGET.as_secs_f64(), "s");
    verdict("cached re-run wall time", cached.wall.as_secs_f64(), CACHED_TARGET.as_secs_f64(), "s");
    verdict("history + drift checks overhead", overhead * 100.0, QUALITY_OVERHEAD_TARGET * 100.0, "%");
    let peak = first.runner_rss.max(full.runner_rss).max(first.wb_rss).max(full.wb_rss);
    verdict(
        "peak memory (largest process)",
        peak as f64 / (1 << 30) as f64,
        MEMORY_TARGET as f64 / (1 << 30) as f64,
        "GiB",
    );
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn run(root: &Path, fixtures: &Path, market: &str, extra: &[&str]) -> Measured {
    run_with_env(root, fixtures, market, extra, false)
}

fn run_with_env(root: &Path, fixtures: &Path, market: &str, extra: &[&str], no_history_checks: bool) -> Measured {
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_wb"));
    if no_history_checks {
        command.env("WB_NO_HISTORY_CHECKS", "1");
    }
    let output = command
        .current_dir(root)
        .args(["run", "--market", market, "--json", "--fixtures"])
        .arg(fixtures)
        .args(extra)
        .output()
        .expect("wb starts");
    let wall = started.elapsed();
    let mut measured = Measured { wall, stages: Vec::new(), runner_rss: 0, wb_rss: 0, status: String::new() };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else { continue };
        match event["event"].as_str() {
            Some("stage_finished") => {
                let r = &event["record"];
                measured.stages.push((
                    r["stage"].as_str().unwrap_or("?").to_string(),
                    r["duration_ms"].as_u64().unwrap_or(0),
                    r["cache_hit"].as_bool().unwrap_or(false),
                    r["rows"].as_u64().unwrap_or(0),
                ));
            }
            Some("resources") => measured.runner_rss = event["peak_rss_bytes"].as_u64().unwrap_or(0),
            Some("summary") => {
                measured.wb_rss = event["peak_rss_bytes"].as_u64().unwrap_or(0);
                measured.status = event["status"].as_str().unwrap_or("?").to_string();
            }
            _ => {}
        }
    }
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!("wb run failed with {} (status {})", output.status, measured.status);
    }
    measured
}

fn report(title: &str, m: &Measured) {
    println!("\n{title}: {:.2} s wall, status {}", m.wall.as_secs_f64(), m.status);
    for (stage, ms, hit, rows) in &m.stages {
        println!(
            "  {stage:<10} {:>8.2} s {:>10} rows{}",
            *ms as f64 / 1000.0,
            rows,
            if *hit { "  (cached)" } else { "" }
        );
    }
    println!(
        "  peak memory: runner {:.2} GiB, wb {:.2} GiB",
        m.runner_rss as f64 / (1u64 << 30) as f64,
        m.wb_rss as f64 / (1u64 << 30) as f64
    );
}

fn verdict(what: &str, value: f64, target: f64, unit: &str) {
    let met = if value <= target { "met" } else { "MISSED" };
    println!("{what:<32} {value:>7.2} {unit}   target <= {target} {unit}: {met}");
}
