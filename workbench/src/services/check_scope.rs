//! Which tests `wb check` runs under coverage: the workspace packages holding the changed files, plus the golden
//! output tests (`workbench-tests`) when a market, pipeline-core or the fixtures changed, plus the packages using
//! a changed shared crate (`localstack`, `workbench-diff`, ...); the whole workspace when framework code changed
//! (the affected analysis' `framework` kind: pipeline-core outside its stage modules, the registry, the root
//! manifest or lock file), when a changed file is outside every package and not known to be inert, when the
//! analysis could not tell (`unsure`), or with `--all-tests`. Line coverage is then measured over the packages in
//! scope only: the tests of one package also execute code of others, which would otherwise count as untested.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use workbench_affected::{Change, ChangeKind};

/// The package of the golden output tests (every market's outputs against `fixtures/golden`).
pub const GOLDEN_PACKAGE: &str = "workbench-tests";

/// pipeline-core's package.
const CORE_PACKAGE: &str = "pipeline-core";
/// The fixtures package (generator and committed data).
const FIXTURES_PACKAGE: &str = "fixtures";
/// The market registry's package (its changes are framework changes).
const REGISTRY_PACKAGE: &str = "markets";

/// One workspace member: its directory, package name and the members it depends on (any kind of dependency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Directory from the workspace root, e.g. `markets/au`.
    pub dir: String,
    /// Package name, e.g. `foobar-au`.
    pub name: String,
    /// Names of the workspace members it depends on (normal, dev and build dependencies).
    pub deps: BTreeSet<String>,
}

impl Member {
    /// Whether it is a market crate (under `markets/`, not the registry).
    fn is_market(&self) -> bool {
        self.dir.starts_with("markets/") && self.name != REGISTRY_PACKAGE
    }
}

/// The workspace members of the root `Cargo.toml` with their dependencies on each other.
pub fn members(root: &Path) -> Vec<Member> {
    let listed = workbench_coverage::summary::workspace_members(root);
    let names: BTreeSet<&str> = listed.iter().map(|(_, name)| name.as_str()).collect();
    listed
        .iter()
        .map(|(dir, name)| {
            let manifest = std::fs::read_to_string(root.join(dir).join("Cargo.toml"))
                .ok()
                .and_then(|t| t.parse::<toml::Table>().ok())
                .unwrap_or_default();
            let mut deps = BTreeSet::new();
            for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
                let Some(entries) = manifest.get(table).and_then(|t| t.as_table()) else { continue };
                for (key, value) in entries {
                    // A renamed dependency names its package in `package = "..."`.
                    let package = value.get("package").and_then(|p| p.as_str()).unwrap_or(key);
                    if names.contains(package) && package != name {
                        deps.insert(package.to_string());
                    }
                }
            }
            Member { dir: dir.clone(), name: name.clone(), deps }
        })
        .collect()
}

/// The tests chosen, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestScope {
    /// Every workspace member's tests run (`--workspace`).
    pub whole_workspace: bool,
    /// The packages whose tests run and over which line coverage is measured, in workspace order (every member
    /// when `whole_workspace`). Empty: no test to run.
    pub packages: Vec<String>,
    /// Why, one line each, e.g. `foobar-au: markets/au/src/normalize.rs changed`.
    pub reasons: Vec<String>,
}

impl TestScope {
    fn whole(members: &[Member], reason: String) -> TestScope {
        TestScope {
            whole_workspace: true,
            packages: members.iter().map(|m| m.name.clone()).collect(),
            reasons: vec![reason],
        }
    }
}

/// Files outside every package that no test reads: documentation and tool settings.
fn inert(path: &str) -> bool {
    path.ends_with(".md")
        || path.starts_with("docs/")
        || path.starts_with("LICENSE")
        || matches!(path, ".gitignore" | "justfile" | "rustfmt.toml" | "workbench.toml")
}

/// The member (deepest directory) holding `path`.
fn member_of<'a>(path: &str, members: &'a [Member]) -> Option<&'a Member> {
    members
        .iter()
        .filter(|m| m.dir == "." || path.starts_with(&format!("{}/", m.dir)))
        .max_by_key(|m| if m.dir == "." { 0 } else { m.dir.len() })
}

/// Chooses the tests for `changes` (`Err(why)` when the affected analysis failed: every test runs).
pub fn select(changes: Result<&[Change], &str>, members: &[Member], all_tests: bool) -> TestScope {
    if all_tests {
        return TestScope::whole(members, "--all-tests: every package's tests".to_string());
    }
    let changes = match changes {
        Ok(changes) => changes,
        Err(why) => return TestScope::whole(members, format!("unsure what changed ({why}): every package's tests")),
    };
    let mut chosen: BTreeMap<String, String> = BTreeMap::new();
    let mut golden = false;
    for change in changes {
        if change.kind == ChangeKind::Framework {
            return TestScope::whole(
                members,
                format!("{} is framework code every market runs: every package's tests", change.path),
            );
        }
        let Some(member) = member_of(&change.path, members) else {
            if inert(&change.path) {
                continue;
            }
            return TestScope::whole(
                members,
                format!("{} is outside every package (unsure what it affects): every package's tests", change.path),
            );
        };
        chosen.entry(member.name.clone()).or_insert_with(|| format!("{}: {} changed", member.name, change.path));
        if member.is_market() || member.name == CORE_PACKAGE || member.name == FIXTURES_PACKAGE {
            golden = true;
        }
    }
    if golden && members.iter().any(|m| m.name == GOLDEN_PACKAGE) {
        chosen.entry(GOLDEN_PACKAGE.to_string()).or_insert_with(|| {
            format!("{GOLDEN_PACKAGE}: golden outputs of every market (a market, pipeline-core or a fixture changed)")
        });
    }
    // Shared crates: the packages using a changed one run their tests too (transitively). Markets, pipeline-core
    // and the fixtures are covered by the golden tests instead.
    let mut queue: Vec<String> = chosen
        .keys()
        .filter(|name| {
            members.iter().any(|m| &m.name == *name && !m.is_market())
                && ![CORE_PACKAGE, FIXTURES_PACKAGE, GOLDEN_PACKAGE].contains(&name.as_str())
        })
        .cloned()
        .collect();
    while let Some(used) = queue.pop() {
        for user in members.iter().filter(|m| m.deps.contains(&used)) {
            if !chosen.contains_key(&user.name) {
                chosen.insert(user.name.clone(), format!("{}: uses {used}, which changed", user.name));
                queue.push(user.name.clone());
            }
        }
    }
    let order = |name: &str| members.iter().position(|m| m.name == name).unwrap_or(usize::MAX);
    let mut packages: Vec<String> = chosen.keys().cloned().collect();
    packages.sort_by_key(|p| order(p));
    let reasons = packages.iter().map(|p| chosen[p].clone()).collect();
    TestScope { whole_workspace: false, packages, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use workbench_affected::FileStatus;

    fn member(dir: &str, name: &str, deps: &[&str]) -> Member {
        Member { dir: dir.into(), name: name.into(), deps: deps.iter().map(|d| d.to_string()).collect() }
    }

    /// The real workspace's shape.
    fn workspace() -> Vec<Member> {
        vec![
            member("pipeline-core", "pipeline-core", &[]),
            member("markets/registry", "markets", &["pipeline-core", "foobar-au", "foobar-br"]),
            member("markets/au", "foobar-au", &["pipeline-core"]),
            member("markets/br", "foobar-br", &["pipeline-core"]),
            member("localstack", "localstack", &[]),
            member("fixtures", "fixtures", &[]),
            member("workbench", "workbench", &["pipeline-core", "markets", "localstack", "workbench-diff"]),
            member("workbench/diff", "workbench-diff", &["pipeline-core"]),
            member("tests", "workbench-tests", &["pipeline-core", "markets", "localstack", "fixtures"]),
        ]
    }

    fn change(path: &str, kind: ChangeKind) -> Change {
        Change {
            path: path.into(),
            status: FileStatus::Modified,
            kind,
            cells: BTreeMap::new(),
            reason: String::new(),
            summary: String::new(),
        }
    }

    fn market_code(path: &str, market: &str) -> Change {
        change(path, ChangeKind::MarketCode { market: market.into() })
    }

    #[test]
    fn a_market_change_tests_the_market_and_the_golden_outputs() {
        let scope = select(Ok(&[market_code("markets/au/src/lib.rs", "foobar-au")]), &workspace(), false);
        assert_eq!(
            scope,
            TestScope {
                whole_workspace: false,
                packages: vec!["foobar-au".into(), "workbench-tests".into()],
                reasons: vec![
                    "foobar-au: markets/au/src/lib.rs changed".into(),
                    "workbench-tests: golden outputs of every market (a market, pipeline-core or a fixture changed)"
                        .into(),
                ],
            }
        );
        let fixture = change("fixtures/data/foobar-au/orders.csv", ChangeKind::NoEffect);
        assert_eq!(select(Ok(&[fixture]), &workspace(), false).packages, ["fixtures", "workbench-tests"]);
        let stage =
            change("pipeline-core/src/stages/score.rs", ChangeKind::StageModule { stage: pipeline_core::Stage::Score });
        assert_eq!(select(Ok(&[stage]), &workspace(), false).packages, ["pipeline-core", "workbench-tests"]);
    }

    #[test]
    fn a_shared_crate_brings_the_packages_using_it() {
        let scope = select(Ok(&[change("workbench/diff/src/engine.rs", ChangeKind::NoEffect)]), &workspace(), false);
        assert_eq!(scope.packages, ["workbench", "workbench-diff"]);
        assert_eq!(scope.reasons[0], "workbench: uses workbench-diff, which changed");
        let scope = select(Ok(&[change("localstack/src/lib.rs", ChangeKind::NoEffect)]), &workspace(), false);
        assert_eq!(scope.packages, ["localstack", "workbench", "workbench-tests"]);
        // The workbench itself: its own tests only; documentation changes nothing.
        let changes = [change("workbench/src/kpi.rs", ChangeKind::NoEffect), change("docs/a.md", ChangeKind::NoEffect)];
        assert_eq!(select(Ok(&changes), &workspace(), false).packages, ["workbench"]);
        assert_eq!(select(Ok(&changes[1..]), &workspace(), false).packages, Vec::<String>::new());
    }

    #[test]
    fn framework_code_unknown_files_failed_analysis_and_all_tests_mean_the_whole_workspace() {
        let every: Vec<String> = workspace().into_iter().map(|m| m.name).collect();
        let cases = [
            (
                select(Ok(&[change("Cargo.lock", ChangeKind::Framework)]), &workspace(), false),
                "Cargo.lock is framework code every market runs: every package's tests",
            ),
            (
                select(Ok(&[change("build/tool.sh", ChangeKind::NoEffect)]), &workspace(), false),
                "build/tool.sh is outside every package (unsure what it affects): every package's tests",
            ),
            (
                select(Err("base branch `main` does not exist"), &workspace(), false),
                "unsure what changed (base branch `main` does not exist): every package's tests",
            ),
            (select(Ok(&[]), &workspace(), true), "--all-tests: every package's tests"),
        ];
        for (scope, reason) in cases {
            assert_eq!(
                scope,
                TestScope { whole_workspace: true, packages: every.clone(), reasons: vec![reason.into()] }
            );
        }
    }
}
