//! Which markets and stages a change touches, and why.
//!
//! [`analyze`] lists the files changed since the merge base of `HEAD` with a base branch (commits, the index, the
//! working tree and untracked files, through git2) and maps each to the cells (market, stage) whose output it may
//! change, with a sentence saying why. The mapping reads only what the code declares about itself
//! ([`declarations`]): each stage's module, hooks, config keys and model use (`StageSpec`), each market's crate
//! directory and hook overrides (`Market::overrides`), so a new market, hook override or config key needs no edit
//! here. A change to a stage affects that stage and every stage that reads from it (`engine::plan`).
//!
//! The rules, in [`classify`]: a market's hook override → that market from the first stage using the hook; any
//! other code of a market crate → that market, every stage; a market's `market.toml` → that market from the first
//! stage reading a changed key; its `model.toml` → from the first stage reading the model; a fixture → that
//! market from the first stage reading the file; a base stage module → that stage onwards in every market;
//! `pipeline-core/base.toml` → every market from the first stage reading a changed key; the rest of
//! `pipeline-core`, the registry, the root `Cargo.toml` and `Cargo.lock` → everything; documentation, tests,
//! `workbench/`, `localstack/` and anything else → nothing (they do not change stage outputs).

pub mod changes;
pub mod classify;
pub mod declarations;
pub mod error;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use pipeline_core::Stage;
use serde::Serialize;

pub use changes::{ChangeSet, ChangedFile, FileStatus};
pub use classify::{Change, ChangeKind};
pub use declarations::Declarations;
pub use error::AffectedError;

/// The base branch `wb affected` compares with when none is given.
pub const DEFAULT_BASE: &str = "main";

/// Cells per market: the stages whose output a change may alter.
pub type Cells = BTreeMap<String, BTreeSet<Stage>>;

/// What a set of changes touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Affected {
    /// The base the changes are counted from, as given (`main`).
    pub base: String,
    /// The merge base of `HEAD` with it (full hash); empty when the changes did not come from git.
    pub merge_base: String,
    /// Every changed file, in path order, with what it touches and why.
    pub changes: Vec<Change>,
    /// The union of the changes' cells: market → stages.
    pub cells: Cells,
    /// Per affected market, one line per change that touches it: `path changed: reason`.
    pub reasons: BTreeMap<String, Vec<String>>,
}

impl Affected {
    /// Combines classified changes into cells and per-market reasons.
    pub fn from_changes(base: impl Into<String>, merge_base: impl Into<String>, changes: Vec<Change>) -> Self {
        let mut cells = Cells::new();
        let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for change in &changes {
            for (market, stages) in &change.cells {
                cells.entry(market.clone()).or_default().extend(stages.iter().copied());
                reasons.entry(market.clone()).or_default().push(format!(
                    "{} {}: {}",
                    change.path,
                    change.status.verb(),
                    change.reason
                ));
            }
        }
        Self { base: base.into(), merge_base: merge_base.into(), changes, cells, reasons }
    }

    /// Whether no cell is affected.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The last affected stage of `market` in execution order: running the market up to it (upstream from the
    /// cache) re-runs exactly its affected stages.
    pub fn last_stage(&self, market: &str) -> Option<Stage> {
        let stages = self.cells.get(market)?;
        pipeline_core::engine::plan(None).into_iter().rev().find(|s| stages.contains(s))
    }
}

/// The files changed in the repository holding `root` since the merge base of `HEAD` with `base`, classified.
pub fn analyze(root: &Path, base: &str) -> Result<Affected, AffectedError> {
    let declarations = Declarations::load(root)?;
    let set = changes::changed_files(root, base)?;
    let changes = set
        .files
        .iter()
        .map(|file| {
            let after = match file.status {
                FileStatus::Deleted => None,
                _ => std::fs::read(root.join(&file.path)).ok(),
            };
            classify::classify(&declarations, &file.path, file.status, file.before.as_deref(), after.as_deref())
        })
        .collect();
    Ok(Affected::from_changes(set.base, set.merge_base, changes))
}

/// The stages as people read them: their names in execution order, e.g. `recommend, export`.
pub fn stage_list(stages: &BTreeSet<Stage>) -> String {
    pipeline_core::engine::plan(None)
        .iter()
        .filter(|s| stages.contains(s))
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}
