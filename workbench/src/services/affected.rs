//! Which markets and stages a change touches (`workbench-affected`), grouped into the runs that redo them.

use std::collections::BTreeMap;

use pipeline_core::Stage;
use workbench_affected::Affected;

/// The affected markets of `order` grouped by their last affected stage, latest stage first: running each group
/// to its stage (upstream from the cache) computes exactly the affected cells. The stage is None when it is the
/// last stage of the pipeline (a run's default).
pub fn run_groups(affected: &Affected, order: &[&str]) -> Vec<(Option<Stage>, Vec<String>)> {
    let last = pipeline_core::engine::plan(None).last().copied();
    let mut groups: BTreeMap<Stage, Vec<String>> = BTreeMap::new();
    for market in order {
        if let Some(stage) = affected.last_stage(market) {
            groups.entry(stage).or_default().push(market.to_string());
        }
    }
    groups.into_iter().rev().map(|(stage, markets)| ((Some(stage) != last).then_some(stage), markets)).collect()
}
