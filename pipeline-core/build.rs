//! Embeds every file of this crate (`src/sources.rs` hashes them into the stage cache keys) and re-runs when the
//! workspace's `Cargo.lock`, which the keys also hash, changes.

fn main() {
    workspace_sources::embed("crate::sources::SourceFile");
    println!("cargo:rerun-if-changed=../Cargo.lock");
}
