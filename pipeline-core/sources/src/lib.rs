//! Build-script helper that embeds a crate's own source files into it.
//!
//! A stage's cache key must cover every source its code can reach (see `pipeline_core::sources`). Hand-kept lists
//! of `include_str!` miss files (a helper moved into a new module, `lib.rs`, `Cargo.toml`), so instead each crate
//! whose code runs inside a stage (pipeline-core and every market) calls [`embed`] from its `build.rs`. It writes
//! `$OUT_DIR/sources.rs`: a slice expression with one entry per file of the crate, each `include_bytes!`-ed, so the
//! compiled crate carries exactly the text it was compiled from, and cargo re-runs the script when any of them
//! changes.
//!
//! Which files: every file below the crate's folder except its top-level `tests/`, `benches/`, `examples/` and
//! `target/` folders and hidden entries (names starting with `.`): that code never runs inside a stage. Paths are relative to the workspace
//! root, with `/` separators, sorted.

use std::fs;
use std::path::{Path, PathBuf};

/// Folders of a crate that hold no code a stage can run.
const SKIPPED_DIRS: [&str; 4] = ["tests", "benches", "examples", "target"];

/// Writes `$OUT_DIR/sources.rs` for the crate being built: a `&[SourceFile]` expression where `SourceFile` is the
/// type at `type_path` (a struct with fields `path: &'static str` and `bytes: &'static [u8]`). Include it with
/// `include!(concat!(env!("OUT_DIR"), "/sources.rs"))`. Also sets `WORKSPACE_CRATE_DIR` (the crate's folder from the
/// workspace root, `/`-separated) for the crate's code. Panics (failing the build with the message) when the
/// crate's folder cannot be read.
pub fn embed(type_path: &str) {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let root = workspace_root(&manifest_dir);
    let files = crate_files(&manifest_dir);
    let mut code = String::from("&[\n");
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap_or(file);
        let path = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        code.push_str(&format!(
            "    {type_path} {{ path: {path:?}, bytes: include_bytes!({:?}) }},\n",
            file.to_string_lossy()
        ));
    }
    code.push(']');
    fs::write(out_dir.join("sources.rs"), code).expect("write $OUT_DIR/sources.rs");
    // The crate's folder from the workspace root (`markets/de`), for paths the crate names at compile time, such as
    // a market's hook override files (`pipeline_core::market!`).
    let crate_dir = manifest_dir.strip_prefix(&root).unwrap_or(&manifest_dir);
    let crate_dir = crate_dir.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
    println!("cargo:rustc-env=WORKSPACE_CRATE_DIR={crate_dir}");
    for entry in fs::read_dir(&manifest_dir).expect("read the crate folder") {
        let entry = entry.expect("read the crate folder");
        let name = entry.file_name().to_string_lossy().into_owned();
        if included(&name, true) {
            println!("cargo:rerun-if-changed={}", entry.path().display());
        }
    }
}

/// The folder holding the `Cargo.toml` with `[workspace]` above `dir` (or `dir` itself when there is none).
pub fn workspace_root(dir: &Path) -> PathBuf {
    let mut current = Some(dir);
    while let Some(candidate) = current {
        let manifest = candidate.join("Cargo.toml");
        if fs::read_to_string(&manifest).is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]")) {
            return candidate.to_path_buf();
        }
        current = candidate.parent();
    }
    dir.to_path_buf()
}

/// Every file of the crate at `dir` that [`embed`] includes, sorted by path.
pub fn crate_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect(dir, true, &mut files);
    files.sort();
    files
}

/// Whether an entry named `name` is embedded; `top` for entries directly in the crate's folder.
fn included(name: &str, top: bool) -> bool {
    let hidden = name.starts_with('.');
    let skipped = top && SKIPPED_DIRS.contains(&name);
    !hidden && !skipped
}

fn collect(dir: &Path, top: bool, files: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        let name = entry.file_name().to_string_lossy().into_owned();
        if !included(&name, top) {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().unwrap_or_else(|e| panic!("cannot stat {}: {e}", path.display()));
        if kind.is_dir() {
            collect(&path, false, files);
        } else if kind.is_file() {
            files.push(path);
        }
    }
}
