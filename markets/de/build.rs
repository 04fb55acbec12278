//! Embeds every file of this market's crate, so the stage cache keys hash exactly the code compiled in.

fn main() {
    workspace_sources::embed("pipeline_core::sources::SourceFile");
}
