//! Generates the registry from this crate's `Cargo.toml`: every `[dependencies]` entry but `pipeline-core` is a
//! market crate (declared with `pipeline_core::market!`), registered under its package name in the order listed.
//! So a market is registered by the one dependency line `wb new-market` adds, and no list of markets is kept by
//! hand. Writes `$OUT_DIR/registry.rs`: the `REGISTRY` slice and the `for_each_market!` macro.

use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=Cargo.toml");
    let text = fs::read_to_string(manifest.join("Cargo.toml")).expect("read markets/registry/Cargo.toml");
    let markets = market_dependencies(&text);
    assert!(!markets.is_empty(), "markets/registry/Cargo.toml lists no market crate under [dependencies]");

    let mut code = String::from("/// Every market, by id, in the order `markets/registry/Cargo.toml` lists them.\n");
    code.push_str("pub const REGISTRY: &[(&str, Loader)] = &[\n");
    for name in &markets {
        let krate = name.replace('-', "_");
        code.push_str(&format!("    ({krate}::ID, {krate}::load_market),\n"));
    }
    code.push_str("];\n\n");
    code.push_str(
        "/// Calls `$callback! { crate_name = \"market-id\", ... }` with every registered market, so a test suite can\n\
         /// declare one test per market (`markets::for_each_market!(my_tests);`) without listing them.\n\
         #[macro_export]\nmacro_rules! for_each_market {\n    ($callback:ident) => {\n        $callback! {\n",
    );
    for name in &markets {
        code.push_str(&format!("            {} = {name:?},\n", name.replace('-', "_")));
    }
    code.push_str("        }\n    };\n}\n");
    fs::write(out_dir.join("registry.rs"), code).expect("write $OUT_DIR/registry.rs");
}

/// Package names under `[dependencies]`, in file order, without `pipeline-core`: one `name.workspace = true` or
/// `name = { ... }` line each.
fn market_dependencies(manifest: &str) -> Vec<String> {
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if !in_dependencies || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split(['.', '=', ' ']).next().unwrap_or_default().trim();
        if !name.is_empty() && name != "pipeline-core" {
            names.push(name.to_string());
        }
    }
    names
}
