//! The affected analysis on real git repositories in temp dirs laid out like this workspace (the real `markets/`,
//! `pipeline-core/` sources and root `Cargo.toml` copied in, small fixture files at the real paths): one test per
//! rule, each changing files and checking the exact cells and reasons.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::Repository;
use pipeline_core::Stage;
use pipeline_core::Stage::*;
use workbench_affected::{AffectedError, ChangeKind, FileStatus, analyze};
use workbench_testkit::{append, branch, checkout, commit_all, copy_dir, init_repo, write};

const EVERY_STAGE: [Stage; 6] = [Ingest, Validate, Features, Score, Recommend, Export];

/// A temp repository on branch `main` with one commit holding a copy of the workspace's declarations.
struct Repo {
    dir: tempfile::TempDir,
    repo: Repository,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let ws = workspace();
        copy_dir(&ws.join("markets"), &root.join("markets"));
        copy_dir(&ws.join("pipeline-core/src"), &root.join("pipeline-core/src"));
        for file in ["pipeline-core/Cargo.toml", "pipeline-core/base.toml", "Cargo.toml"] {
            std::fs::copy(ws.join(file), root.join(file)).unwrap();
        }
        for market in markets::ids() {
            for file in ["customers.csv", "orders.csv", "interactions.csv"] {
                write(root, &format!("fixtures/data/{market}/{file}"), "id\n1\n");
            }
            write(root, &format!("fixtures/data/{market}/_manifest.json"), "{\"as_of\": \"2026-11-15\"}\n");
        }
        write(root, "Cargo.lock", "version = 4\n");
        write(root, "docs/architecture.md", "# Architecture\n");
        write(root, "workbench/src/run.rs", "// wb run\n");
        write(root, "localstack/src/lib.rs", "// backends\n");
        write(root, "fixtures/src/main.rs", "// generator\n");
        write(root, ".gitignore", "/target\n/.workbench\n");
        let repo = init_repo(root);
        let this = Repo { dir, repo };
        this.commit("initial");
        this
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Stages everything (additions, edits, deletions) and commits it on the current branch.
    fn commit(&self, message: &str) {
        commit_all(&self.repo, message);
    }

    /// Creates `name` at HEAD and checks it out.
    fn branch(&self, name: &str) {
        branch(&self.repo, name);
    }

    /// Checks out an existing branch, updating the working tree.
    fn checkout(&self, name: &str) {
        checkout(&self.repo, name);
    }

    fn write(&self, path: &str, text: &str) {
        write(self.root(), path, text);
    }

    fn append(&self, path: &str, text: &str) {
        append(self.root(), path, text);
    }

    fn replace(&self, path: &str, from: &str, to: &str) {
        let full = self.root().join(path);
        let content = std::fs::read_to_string(&full).unwrap();
        assert!(content.contains(from), "{path} does not contain {from:?}");
        std::fs::write(full, content.replacen(from, to, 1)).unwrap();
    }

    /// `path changed → …` summaries and the union of cells, against `main`.
    fn affected(&self) -> (Vec<String>, BTreeMap<String, BTreeSet<Stage>>) {
        let affected = analyze(self.root(), "main").unwrap();
        (affected.changes.iter().map(|c| c.summary.clone()).collect(), affected.cells)
    }

    /// The single change's reason.
    fn reason(&self) -> String {
        let affected = analyze(self.root(), "main").unwrap();
        assert_eq!(affected.changes.len(), 1, "{:#?}", affected.changes);
        affected.changes[0].reason.clone()
    }
}

fn cells(entries: &[(&str, &[Stage])]) -> BTreeMap<String, BTreeSet<Stage>> {
    entries.iter().map(|(m, stages)| (m.to_string(), stages.iter().copied().collect())).collect()
}

fn every_market(stages: &[Stage]) -> BTreeMap<String, BTreeSet<Stage>> {
    cells(&markets::ids().into_iter().map(|m| (m, stages)).collect::<Vec<_>>())
}

#[test]
fn no_change_affects_nothing() {
    let repo = Repo::new();
    let affected = analyze(repo.root(), "main").unwrap();
    assert!(affected.changes.is_empty());
    assert!(affected.is_empty());
    assert_eq!(affected.merge_base, repo.repo.head().unwrap().target().unwrap().to_string());
}

#[test]
fn a_hook_override_affects_its_market_from_the_first_stage_calling_the_hook() {
    let repo = Repo::new();
    repo.append("markets/de/src/eligible_channels.rs", "// tweak\n");
    let (summaries, got) = repo.affected();
    assert_eq!(summaries, ["markets/de/src/eligible_channels.rs changed → foobar-de: recommend, export"]);
    assert_eq!(got, cells(&[("foobar-de", &[Recommend, Export])]));
    assert_eq!(repo.reason(), "overrides hook eligible_channels of foobar-de, first used by stage recommend");

    let repo = Repo::new();
    repo.append("markets/br/src/export_format.rs", "// tweak\n");
    repo.append("markets/br/src/normalize.rs", "// tweak\n");
    let affected = analyze(repo.root(), "main").unwrap();
    assert_eq!(
        affected.changes.iter().map(|c| c.summary.as_str()).collect::<Vec<_>>(),
        [
            "markets/br/src/export_format.rs changed → foobar-br: export",
            "markets/br/src/normalize.rs changed → foobar-br: ingest, validate, features, score, recommend, export",
        ]
    );
    assert_eq!(
        affected.changes[1].kind,
        ChangeKind::HookOverride { market: "foobar-br".into(), hook: pipeline_core::Hook::Normalize }
    );
    assert_eq!(affected.cells, cells(&[("foobar-br", &EVERY_STAGE)]));
    assert_eq!(
        affected.reasons["foobar-br"],
        [
            "markets/br/src/export_format.rs changed: overrides hook export_format of foobar-br, first used by stage \
             export",
            "markets/br/src/normalize.rs changed: overrides hook normalize of foobar-br, first used by stage ingest",
        ]
    );
    assert_eq!(affected.last_stage("foobar-br"), Some(Export));
    assert_eq!(affected.last_stage("foobar-au"), None);
}

#[test]
fn market_code_that_overrides_no_hook_affects_every_stage_of_its_market() {
    let repo = Repo::new();
    repo.append("markets/au/src/lib.rs", "// tweak\n");
    let (summaries, got) = repo.affected();
    assert_eq!(
        summaries,
        ["markets/au/src/lib.rs changed → foobar-au: ingest, validate, features, score, recommend, export"]
    );
    assert_eq!(got, cells(&[("foobar-au", &EVERY_STAGE)]));
    assert_eq!(
        repo.reason(),
        "lib.rs of foobar-au overrides no hook, and any stage may use it: every stage may change"
    );

    // A new, untracked module is not (yet) a declared override: conservatively, every stage.
    let repo = Repo::new();
    repo.write("markets/br/src/schedule.rs", "pub fn schedule() {}\n");
    let affected = analyze(repo.root(), "main").unwrap();
    assert_eq!(affected.changes[0].status, FileStatus::Added);
    assert_eq!(
        affected.changes[0].summary,
        "markets/br/src/schedule.rs added → foobar-br: ingest, validate, features, score, recommend, export"
    );
}

#[test]
fn a_market_config_affects_its_market_from_the_first_stage_reading_a_changed_key() {
    let repo = Repo::new();
    repo.replace("markets/br/market.toml", "contact_share = 0.40", "contact_share = 0.45");
    let (summaries, got) = repo.affected();
    assert_eq!(summaries, ["markets/br/market.toml changed → foobar-br: recommend, export"]);
    assert_eq!(got, cells(&[("foobar-br", &[Recommend, Export])]));
    assert_eq!(repo.reason(), "market.toml of foobar-br: key `contact_share` changed, first read by stage recommend");

    let repo = Repo::new();
    repo.replace("markets/br/market.toml", "contact_share = 0.40", "contact_share = 0.45");
    repo.replace("markets/br/market.toml", "fx_to_usd = 0.18", "fx_to_usd = 0.19");
    assert_eq!(
        repo.reason(),
        "market.toml of foobar-br: keys `contact_share`, `fx_to_usd` changed, first read by stage features"
    );
    assert_eq!(repo.affected().1, cells(&[("foobar-br", &[Features, Score, Recommend, Export])]));

    // A nested key counts as its top-level table.
    let repo = Repo::new();
    repo.replace("markets/br/market.toml", "decimal_comma = true", "decimal_comma = false");
    assert_eq!(repo.reason(), "market.toml of foobar-br: key `raw` changed, first read by stage ingest");

    let repo = Repo::new();
    repo.replace("markets/br/market.toml", "currency = \"BRL\"", "currency = \"BRX\"");
    assert_eq!(repo.affected(), (vec!["markets/br/market.toml changed → nothing".to_string()], cells(&[])));
    assert_eq!(repo.reason(), "market.toml of foobar-br: key `currency` changed, read by no stage");

    let repo = Repo::new();
    repo.append("markets/br/market.toml", "# a comment\n");
    assert_eq!(repo.affected().1, cells(&[]));
    assert_eq!(repo.reason(), "market.toml of foobar-br changed but no value did (comments or layout)");

    let repo = Repo::new();
    repo.append("markets/br/market.toml", "contact_share = \n");
    assert_eq!(repo.affected().1, cells(&[("foobar-br", &EVERY_STAGE)]));
    assert!(repo.reason().starts_with("market.toml of foobar-br does not parse ("), "{}", repo.reason());
    assert!(repo.reason().ends_with("): every stage may change"), "{}", repo.reason());
}

#[test]
fn a_market_model_affects_its_market_from_the_first_stage_reading_the_model() {
    let repo = Repo::new();
    repo.replace("markets/jp/model.toml", "w_click = 0.90", "w_click = 0.95");
    let (summaries, got) = repo.affected();
    assert_eq!(summaries, ["markets/jp/model.toml changed → foobar-jp: score, recommend, export"]);
    assert_eq!(got, cells(&[("foobar-jp", &[Score, Recommend, Export])]));
    assert_eq!(repo.reason(), "model of foobar-jp, first read by stage score");

    let repo = Repo::new();
    repo.replace("markets/jp/model.toml", "w_click = 0.90", "w_click = 0.9");
    assert_eq!(repo.affected().1, cells(&[]));
    assert_eq!(repo.reason(), "model.toml of foobar-jp changed but no weight did (comments or layout)");
}

#[test]
fn a_base_stage_module_affects_that_stage_onwards_in_every_market() {
    let repo = Repo::new();
    repo.append("pipeline-core/src/stages/score.rs", "// tweak\n");
    let (summaries, got) = repo.affected();
    assert_eq!(summaries, ["pipeline-core/src/stages/score.rs changed → every market: score, recommend, export"]);
    assert_eq!(got, every_market(&[Score, Recommend, Export]));
    assert_eq!(repo.reason(), "base module of stage score, used by every market");

    let repo = Repo::new();
    repo.append("pipeline-core/src/stages/validate.rs", "// tweak\n");
    assert_eq!(repo.affected().1, every_market(&[Validate, Features, Score, Recommend, Export]));
}

#[test]
fn base_config_affects_every_market_from_the_first_stage_reading_a_changed_key() {
    let repo = Repo::new();
    repo.replace("pipeline-core/base.toml", "freshness_days = 14", "freshness_days = 21");
    let (summaries, got) = repo.affected();
    assert_eq!(
        summaries,
        ["pipeline-core/base.toml changed → every market: ingest, validate, features, score, recommend, export"]
    );
    assert_eq!(got, every_market(&EVERY_STAGE));
    assert_eq!(repo.reason(), "base config: key `checks` changed, first read by stage ingest, for every market");
}

#[test]
fn framework_and_shared_code_affect_everything() {
    for (path, reason) in [
        ("pipeline-core/src/engine.rs", "pipeline-core framework code: every stage of every market may change"),
        ("pipeline-core/src/hooks.rs", "pipeline-core framework code: every stage of every market may change"),
        ("markets/registry/src/lib.rs", "the market registry: every stage of every market may change"),
        (
            "Cargo.lock",
            "the workspace manifest or lock file: dependency versions may change every stage of every market",
        ),
    ] {
        let repo = Repo::new();
        repo.append(path, "\n");
        let affected = analyze(repo.root(), "main").unwrap();
        assert_eq!(affected.changes.len(), 1, "{path}");
        assert_eq!(
            affected.changes[0].summary,
            format!("{path} changed → every market: ingest, validate, features, score, recommend, export")
        );
        assert_eq!(affected.changes[0].kind, ChangeKind::Framework, "{path}");
        assert_eq!(affected.changes[0].reason, reason, "{path}");
        assert_eq!(affected.cells, every_market(&EVERY_STAGE), "{path}");
    }
}

#[test]
fn a_fixture_affects_its_market_from_the_first_stage_reading_it() {
    let repo = Repo::new();
    repo.append("fixtures/data/foobar-ca/orders.csv", "2\n");
    let (summaries, got) = repo.affected();
    assert_eq!(
        summaries,
        [
            "fixtures/data/foobar-ca/orders.csv changed → foobar-ca: ingest, validate, features, score, recommend, export"
        ]
    );
    assert_eq!(got, cells(&[("foobar-ca", &EVERY_STAGE)]));
    assert_eq!(repo.reason(), "raw orders.csv of foobar-ca, first read by stage ingest");

    let repo = Repo::new();
    repo.write("fixtures/data/foobar-ca/_manifest.json", "{\"as_of\": \"2026-11-22\"}\n");
    assert_eq!(repo.affected().1, cells(&[("foobar-ca", &[Validate, Features, Score, Recommend, Export])]));
    assert_eq!(repo.reason(), "as_of manifest of foobar-ca, first used by stage validate");

    let repo = Repo::new();
    repo.write("fixtures/data/foobar-zz/orders.csv", "id\n");
    assert_eq!(repo.affected().1, cells(&[]));
    assert_eq!(repo.reason(), "fixtures of `foobar-zz`, which is not a registered market");
}

#[test]
fn documentation_tests_and_the_workbench_affect_nothing() {
    for (path, reason) in [
        ("docs/architecture.md", "documentation does not affect stage outputs"),
        ("markets/README.md", "documentation does not affect stage outputs"),
        ("markets/br/tests/br.rs", "tests do not affect stage outputs"),
        ("workbench/src/run.rs", "workbench code does not affect stage outputs (it runs the stages)"),
        ("localstack/src/lib.rs", "local AWS backends do not affect stage outputs"),
        ("fixtures/src/main.rs", "the fixture generator and golden outputs do not affect stage outputs"),
        (".gitignore", "not an input of any stage"),
    ] {
        let repo = Repo::new();
        repo.append(path, "\n");
        let affected = analyze(repo.root(), "main").unwrap();
        assert_eq!(affected.changes.len(), 1, "{path}");
        assert_eq!(affected.changes[0].summary, format!("{path} changed → nothing"));
        assert_eq!(affected.changes[0].kind, ChangeKind::NoEffect);
        assert_eq!(affected.changes[0].reason, reason, "{path}");
        assert!(affected.is_empty(), "{path}");
    }
}

#[test]
fn a_crate_under_markets_that_is_not_registered_affects_nothing() {
    let repo = Repo::new();
    repo.write("markets/zz/Cargo.toml", "[package]\nname = \"foobar-zz\"\n");
    repo.write("markets/zz/src/lib.rs", "\n");
    let affected = analyze(repo.root(), "main").unwrap();
    assert!(affected.is_empty());
    assert_eq!(
        affected.changes[1].reason,
        "crate `foobar-zz` (markets/zz) is not a registered market, so no run uses it: add it to \
         markets/registry/Cargo.toml (`wb new-market` does)"
    );
}

#[test]
fn commits_since_the_merge_base_staged_and_untracked_changes_all_count_but_not_the_base_branch_own_commits() {
    let repo = Repo::new();
    repo.branch("feature");
    repo.replace("markets/jp/model.toml", "w_click = 0.90", "w_click = 0.95");
    repo.commit("retrain jp");
    // main moves on after the branch point: its changes are not this work's.
    repo.checkout("main");
    repo.append("pipeline-core/src/stages/export.rs", "// on main\n");
    repo.commit("main moves on");
    repo.checkout("feature");
    // A staged edit, an unstaged edit and an untracked file.
    repo.append("markets/de/src/eligible_channels.rs", "// staged\n");
    let mut index = repo.repo.index().unwrap();
    index.add_path(Path::new("markets/de/src/eligible_channels.rs")).unwrap();
    index.write().unwrap();
    repo.append("docs/architecture.md", "more\n");
    repo.write("fixtures/data/foobar-au/extra.csv", "x\n");
    std::fs::remove_file(repo.root().join("markets/br/src/export_format.rs")).unwrap();

    let affected = analyze(repo.root(), "main").unwrap();
    let summaries: Vec<&str> = affected.changes.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "docs/architecture.md changed → nothing",
            "fixtures/data/foobar-au/extra.csv added → foobar-au: ingest, validate, features, score, recommend, export",
            "markets/br/src/export_format.rs deleted → foobar-br: export",
            "markets/de/src/eligible_channels.rs changed → foobar-de: recommend, export",
            "markets/jp/model.toml changed → foobar-jp: score, recommend, export",
        ]
    );
    assert_eq!(
        affected.cells,
        cells(&[
            ("foobar-au", &EVERY_STAGE),
            ("foobar-br", &[Export]),
            ("foobar-de", &[Recommend, Export]),
            ("foobar-jp", &[Score, Recommend, Export]),
        ])
    );
}

#[test]
fn a_missing_base_branch_is_named_with_what_to_pass() {
    let repo = Repo::new();
    let err = analyze(repo.root(), "develop").unwrap_err();
    assert!(matches!(err, AffectedError::BaseNotFound { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "base branch `develop` does not exist in {} (its branches: main): pass --base <branch> naming the branch \
             this work started from, e.g. --base main",
            repo.root().display()
        )
    );
}

#[test]
fn outside_a_repository_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let err = analyze(dir.path(), "main").unwrap_err();
    assert!(matches!(err, AffectedError::NotARepository { .. }), "{err}");
    assert!(err.to_string().starts_with(&format!("{} is not inside a git repository (", dir.path().display())));
}

#[test]
fn every_stage_declares_the_module_its_source_comes_from() {
    for stage in EVERY_STAGE {
        let spec = stage.spec();
        let text = std::fs::read_to_string(workspace().join(spec.module)).unwrap();
        assert_eq!(text, spec.source, "{stage}: module {} is not the file its source is read from", spec.module);
    }
}
